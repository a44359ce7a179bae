"""The enterprise profile (企业全景画像): its definition from the catalogue, its records, lookups and the query service."""
