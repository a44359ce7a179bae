"""Publishing to PostgreSQL works like the DuckDB default (a local server from Debian's packages), and the monthly
report read from PostgreSQL says exactly what the one read from DuckDB says."""

import os

import pytest

PG_URL = os.environ.get("CREDITLAKE_TEST_PG_URL", "postgresql://creditlake:creditlake@127.0.0.1:5432/creditlake_test")


@pytest.fixture(scope="module")
def pg_settings(settings):
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (scripts/setup.sh starts it): {exc}")
    return settings.model_copy(update={"serving_url": PG_URL})


def test_publish_to_postgres_then_read_back(pipeline_run, spark, pg_settings):
    from creditlake.serve.publish import SERVED_TABLES, publish, served_names
    from creditlake.serve.store import query

    counts = publish(spark, pg_settings)
    assert set(counts) == set(served_names())
    assert counts["mart_district_power_monthly"] == 30
    # Every served table arrives whole (lists as text, decimals, dates): same row counts as the lake.
    for qualified in SERVED_TABLES:
        layer, table = qualified.split(".", 1)
        assert query(pg_settings, f'SELECT count(*) AS n FROM "{table}"')[0]["n"] == spark.table(qualified).count()
    rows = query(pg_settings, "SELECT district_name, sum(power_kwh) AS kwh FROM mart_district_power_monthly "
                              "GROUP BY district_name ORDER BY district_name")
    expected = {r.district_name: r.kwh for r in spark.sql(
        "SELECT district_name, sum(power_kwh) AS kwh FROM gold.mart_district_power_monthly GROUP BY 1").collect()}
    assert {r["district_name"]: r["kwh"] for r in rows} == pytest.approx(expected)
    # Publishing again swaps the schema: still exactly one copy of every row.
    publish(spark, pg_settings)
    assert query(pg_settings, "SELECT count(*) AS n FROM mart_district_power_monthly")[0]["n"] == 30


def test_report_from_postgres_equals_the_report_from_duckdb(pipeline_run, spark, settings, pg_settings):
    """Same page, word for word and figure for figure, whichever store the report reads (types differ: PostgreSQL
    gives Decimal and date where DuckDB gives float and str); and the PDF renders from PostgreSQL."""
    from datetime import datetime

    from pypdf import PdfReader

    from conftest import SLICE
    from creditlake.report.monthly import build_report, fetch_store_data, render_html, render_monthly_report
    from creditlake.serve.publish import publish

    publish(spark, pg_settings)
    month, at = SLICE["end"], datetime(2024, 4, 1, 9, 0)
    html = {name: render_html(build_report(fetch_store_data(s, month)), generated_at=at)
            for name, s in (("duckdb", settings), ("postgresql", pg_settings))}
    assert html["postgresql"] == html["duckdb"]
    pdf = render_monthly_report(pg_settings, month, out=settings.home / "reports-pg" / f"report-{month}.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "失联企业" in text and "2024年3月" in text, text[:500]


def test_a_profile_from_postgres_equals_the_profile_from_duckdb(pipeline_run, spark, settings, pg_settings):
    """The profile service's store can be PostgreSQL: the same enterprise reads the same, class by class, record by
    record, in every role (the records are JSON either way; the summary's types may differ, so it is compared as
    text)."""
    from creditlake.catalogue import default_catalogue
    from creditlake.profile.lookup import Reader, enterprise_profile
    from creditlake.serve.publish import publish
    from creditlake.serve.store import StoreReader

    publish(spark, pg_settings)
    duck, pg = StoreReader(settings).query, StoreReader(pg_settings).query
    code = duck("SELECT enterprise_id FROM profile_records GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [])[0][
        "enterprise_id"]
    for role in ("public", "department", "regulator"):
        reader = Reader(role, "finance" if role == "department" else None)
        a = enterprise_profile(duck, default_catalogue(), code, reader)
        b = enterprise_profile(pg, default_catalogue(), code, reader)
        assert a.classes == b.classes and a.populated() > 0, role
        assert {k: str(v) for k, v in a.summary.items()} == {k: str(v) for k, v in b.summary.items()}, role


def test_readers_of_the_postgres_store_cannot_write(pg_settings):
    """The commands' one-shot queries and the profile service's long-lived reader (autocommit, where psycopg's own
    read_only flag never applies) both run in read-only sessions: a write is refused and leaves nothing."""
    import psycopg

    from creditlake.serve.store import PG_SCHEMA, StoreReader, query

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
    for name, read in (("one_shot", lambda sql: query(pg_settings, sql)), ("reader", StoreReader(pg_settings).query)):
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            read(f"CREATE TABLE write_probe_{name} (x integer)")
        assert read("SHOW search_path")[0]["search_path"] == PG_SCHEMA
    with psycopg.connect(PG_URL) as con:
        left = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'write_probe_%'")
        assert left.fetchone()[0] == 0
