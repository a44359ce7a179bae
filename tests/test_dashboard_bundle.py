"""The dashboards are code: the YAML bundle in dashboards/ is what creditlake.superset.bundle generates."""

from creditlake.superset.bundle import stale_files


def test_dashboard_bundle_is_in_sync_with_its_spec():
    assert stale_files() == [], "run `uv run python -m creditlake.superset.bundle` to regenerate dashboards/"


def test_the_imported_bundle_has_every_placeholder_filled_from_the_serving_store(tmp_path):
    """build_bundle (what Superset imports) leaves no placeholder of creditlake.superset.bundle: the serving URI and
    schema, and each `${LATEST:table.column}` as max(column) of the served table; before anything is served, the
    month filters start empty instead."""
    import re
    import zipfile

    import duckdb

    from creditlake.settings import Settings
    from creditlake.superset import bundle, manage

    committed = "\n".join(p.read_text(encoding="utf-8") for p in bundle.BUNDLE_DIR.rglob("*.yaml"))
    latest = sorted(set(manage._LATEST.findall(committed)))
    assert ("mart_warnings", "month") in latest  # the pattern and the placeholder agree

    def built(settings) -> str:
        dest = manage.build_bundle(settings, tmp_path / "bundle.zip")
        with zipfile.ZipFile(dest) as zf:
            return "\n".join(zf.read(name).decode("utf-8") for name in zf.namelist())

    settings = Settings(home=tmp_path / "home", serving_url=f"duckdb:///{tmp_path / 'serving.duckdb'}")
    with duckdb.connect(str(tmp_path / "serving.duckdb")) as con:
        for table, column in latest:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM (VALUES ('2024-02'), ('2024-03')) AS t({column})")
    text = built(settings)
    assert not re.search(r"\$\{[A-Z_]+[:}]", text), re.search(r".{60}\$\{[A-Z_]+[:}].{60}", text)
    assert "2024-03" in text and "access_mode=read_only" in text

    empty = Settings(home=tmp_path / "empty", serving_url=f"duckdb:///{tmp_path / 'none.duckdb'}")
    assert "LATEST:" not in built(empty)
