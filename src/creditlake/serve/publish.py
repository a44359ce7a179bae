"""Publish gold tables to the serving store, atomically: a new DuckDB file swapped in, or a PostgreSQL schema swap."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from creditlake.lake import read_table
from creditlake.serve.store import PG_SCHEMA, backend, duckdb_path, pg_dsn
from creditlake.settings import Settings

log = logging.getLogger(__name__)

# What analysts, the report and the profile read: the gold marts, and the silver facts the dashboards and the
# report list row by row (the profile's own records: derived_tables). The serving store holds exactly these and the
# derived tables, under their bare names. No pseudonym columns.
SERVED_TABLES: tuple[str, ...] = (
    "gold.mart_district_power_monthly",
    "gold.mart_enterprise_activity_monthly",
    "gold.mart_region_indicators_monthly",
    "gold.mart_region_development_monthly",
    "gold.mart_cohort_survival",
    "gold.mart_lost_contact",
    "gold.mart_annual_report_reminders",
    "gold.mart_annual_report_filing_weekly",
    "gold.mart_warnings",
    "gold.mart_enterprise_profile",
    "gold.mart_discipline_cases",
    "gold.mart_action_timeliness",
    "gold.mart_officer_integrity",
    "silver.fct_grants",
    "silver.fct_complaints",
    "silver.fct_mediation_cases",
    "ops.accounting",
)
# Served columns where not all of a table's: the delivery accounting without file paths and timestamps, so that the
# same deliveries always serve the same table (a rerun, a backfill, the cluster run). The report's 数据报送情况.
SERVED_COLUMNS: dict[str, tuple[str, ...]] = {
    "ops.accounting": ("period", "source", "dataset", "status", "declared", "landed", "loaded", "quarantined"),
}


# Served tables read by one enterprise at a time (a profile lookup): the DuckDB file keeps their rows in this
# column's order (its zone maps then skip all but a row group or two), PostgreSQL indexes it.
LOOKUP_KEYS: dict[str, str] = {"profile_records": "enterprise_id", "mart_enterprise_profile": "enterprise_id"}
# Of those, the ones exported already sorted by their key within each file (profile_records: its last window sorts
# each partition by enterprise): DuckDB keeps the files' order (a few sorted runs, a lookup reads a row group of
# each) instead of sorting millions of wide rows again (~180 s and 11 GB at 100k enterprises x 24 months).
EXPORTED_IN_KEY_ORDER: frozenset[str] = frozenset({"profile_records"})


DERIVED_TABLES: tuple[str, ...] = ("profile_records",)  # served, computed at publication (derived_tables)


def served_names() -> list[str]:
    """Every table the serving store holds, by its bare name."""
    return [t.split(".", 1)[1] for t in SERVED_TABLES] + list(DERIVED_TABLES)


def derived_tables(spark, settings: Settings) -> dict:
    """Served tables computed at publication from the lake, not stored in it: the enterprise profile's records
    (creditlake.profile.records), one pass over the profiled silver tables and the analyses' marts."""
    from creditlake.catalogue import default_catalogue
    from creditlake.profile.records import TABLE, profile_records

    records = profile_records(spark, default_catalogue(),
                              lambda layer, table: read_table(spark, layer, table, settings))
    return {} if records is None else {TABLE: records}


def servable(df):
    """Pure: the frame as the serving store takes it: lists as text joined by '；', no pseudonym columns."""
    from pyspark.sql import functions as F, types as T

    cols = []
    for field in df.schema.fields:
        if field.name.endswith("_pseudonym"):
            continue
        if isinstance(field.dataType, T.ArrayType):
            cols.append(F.concat_ws("；", F.col(field.name)).alias(field.name))
        else:
            cols.append(F.col(field.name))
    return df.select(*cols)


def export_gold(spark, settings: Settings, tables: tuple[str, ...] = SERVED_TABLES) -> dict[str, Path]:
    """Write the current version of each served table (`layer.table`) as Parquet under home/serving/export/<run>/."""
    run_dir = settings.home / "serving" / "export" / uuid.uuid4().hex[:12]
    out = {}
    for qualified in tables:
        layer, table = qualified.split(".", 1) if "." in qualified else ("gold", qualified)
        df = read_table(spark, layer, table, settings)
        if df is None:
            raise FileNotFoundError(f"{layer} table {table} does not exist: run the gold stage first")
        if qualified in SERVED_COLUMNS:
            df = df.select(*SERVED_COLUMNS[qualified])
        path = run_dir / table
        servable(df).write.mode("overwrite").option("compression", "zstd").parquet(str(path))
        out[table] = path
    for table, df in derived_tables(spark, settings).items():
        path = run_dir / table
        df.write.mode("overwrite").option("compression", "zstd").parquet(str(path))
        out[table] = path
    return out


def _publish_duckdb(url: str, exports: dict[str, Path]) -> dict[str, int]:
    import duckdb

    target = duckdb_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    counts = {}
    with duckdb.connect(str(tmp)) as con:
        for table, path in exports.items():
            ordered = table in LOOKUP_KEYS and table not in EXPORTED_IN_KEY_ORDER
            order = f' ORDER BY "{LOOKUP_KEYS[table]}"' if ordered else ""
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet(?){order}', [str(path / "*.parquet")])
            counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        con.execute("CHECKPOINT")
    # Readers (Superset, the report) open the file per query: they see the old file or the new, never half.
    os.replace(tmp, target)
    return counts


_PG_TYPES = {"int64": "bigint", "int32": "integer", "double": "double precision", "float": "real",
             "date32[day]": "date", "bool": "boolean", "string": "text", "large_string": "text"}


def _pg_type(arrow_type) -> str:
    text = str(arrow_type)
    if text.startswith("decimal"):
        return "numeric"
    if text.startswith("timestamp"):
        return "timestamptz"
    return _PG_TYPES.get(text, "text")


def copy_arrow(con, target: str, data) -> None:
    """COPY an Arrow table into `target` as CSV, in blocks of rows: millions of rows in seconds (row by row through
    Python took minutes)."""
    import io

    import pyarrow.csv as pacsv

    names = ", ".join(f'"{n}"' for n in data.schema.names)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with con.cursor().copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)") as copy:
        for batch in data.to_batches(max_chunksize=100_000):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())


def _publish_postgres(url: str, exports: dict[str, Path]) -> dict[str, int]:
    import psycopg
    import pyarrow.parquet as pq

    staging = f"{PG_SCHEMA}__staging"
    counts = {}
    with psycopg.connect(pg_dsn(url)) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {staging} CASCADE")
        con.execute(f"CREATE SCHEMA {staging}")
        for table, path in exports.items():
            data = pq.read_table(str(path))
            cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in data.schema)
            con.execute(f'CREATE TABLE {staging}."{table}" ({cols})')
            copy_arrow(con, f'{staging}."{table}"', data)
            if table in LOOKUP_KEYS:
                con.execute(f'CREATE INDEX ON {staging}."{table}" ("{LOOKUP_KEYS[table]}")')
            counts[table] = data.num_rows
        # One transaction: readers see the old schema until the commit, then the new one.
        con.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        con.execute(f"ALTER SCHEMA {staging} RENAME TO {PG_SCHEMA}")
    return counts


def publish(spark, settings: Settings, tables: tuple[str, ...] = SERVED_TABLES) -> dict[str, int]:
    """Copy the gold tables to the serving store behind settings.serving; return rows per table."""
    exports = export_gold(spark, settings, tables)
    try:
        url = settings.serving
        counts = _publish_duckdb(url, exports) if backend(url) == "duckdb" else _publish_postgres(url, exports)
        settings.published_marker.parent.mkdir(parents=True, exist_ok=True)
        settings.published_marker.touch()  # a new version of the store: Superset's cached chart data is stale
    finally:
        shutil.rmtree(next(iter(exports.values())).parent, ignore_errors=True)
    log.info("published %s to %s", counts, backend(settings.serving))
    return counts
