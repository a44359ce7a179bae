"""Superset, run from its own environment (.venv-superset), configured and fed dashboards from code in this repo."""
