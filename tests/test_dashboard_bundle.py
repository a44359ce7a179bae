"""The dashboards are code: the YAML bundle in dashboards/ is what creditlake.superset.bundle generates."""

from creditlake.superset.bundle import stale_files


def test_dashboard_bundle_is_in_sync_with_its_spec():
    assert stale_files() == [], "run `uv run python -m creditlake.superset.bundle` to regenerate dashboards/"
