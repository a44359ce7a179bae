"""Publishing to PostgreSQL works like the DuckDB default (a local server from Debian's packages)."""

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
    from creditlake.serve.publish import SERVED_TABLES, publish
    from creditlake.serve.store import query

    counts = publish(spark, pg_settings)
    assert set(counts) == {t.split(".", 1)[1] for t in SERVED_TABLES}
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
