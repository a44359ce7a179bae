"""Serving store: gold tables copied into one SQL database (DuckDB file by default, PostgreSQL in production)."""
