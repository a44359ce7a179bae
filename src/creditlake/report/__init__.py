"""Reports for policy makers, rendered from the serving store to PDF."""
