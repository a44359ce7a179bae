"""End-to-end tests: they start real services (Superset, PostgreSQL) and drive them with headless Chromium."""
