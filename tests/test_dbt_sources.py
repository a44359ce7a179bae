"""dbt's sources are generated from the catalogue: a stale file would let dbt and ingestion disagree."""

from creditlake.catalogue import load_catalogue
from creditlake.dbt_sources import SOURCES_FILE, render


def test_dbt_sources_are_in_sync_with_the_catalogue():
    assert SOURCES_FILE.read_text(encoding="utf-8") == render(load_catalogue()), (
        "run `uv run python -m creditlake.dbt_sources` to regenerate dbt_project/models/staging/_silver__sources.yml")
