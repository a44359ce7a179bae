"""Bronze -> silver: typed columns, the catalogue's rules per row, rejects to quarantine with their reason."""
