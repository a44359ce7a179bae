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

# The gold tables analysts and reports read; the serving store holds exactly these.
SERVED_TABLES: tuple[str, ...] = ("mart_district_power_monthly",)


def export_gold(spark, settings: Settings, tables: tuple[str, ...] = SERVED_TABLES) -> dict[str, Path]:
    """Write the current version of each gold table as Parquet under home/serving/export/<run>/."""
    run_dir = settings.home / "serving" / "export" / uuid.uuid4().hex[:12]
    out = {}
    for table in tables:
        df = read_table(spark, "gold", table, settings)
        if df is None:
            raise FileNotFoundError(f"gold table {table} does not exist: run the gold stage first")
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
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet(?)', [str(path / "*.parquet")])
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
            names = ", ".join(f'"{n}"' for n in data.schema.names)
            with con.cursor().copy(f'COPY {staging}."{table}" ({names}) FROM STDIN') as copy:
                for batch in data.to_batches():
                    for row in zip(*(c.to_pylist() for c in batch.columns)):
                        copy.write_row(row)
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
    finally:
        shutil.rmtree(next(iter(exports.values())).parent, ignore_errors=True)
    log.info("published %s to %s", counts, backend(settings.serving))
    return counts
