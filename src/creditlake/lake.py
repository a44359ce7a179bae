"""Writing Delta tables of the lake: one function, idempotent by the slice of the table it replaces."""

from __future__ import annotations

import random
import time

from creditlake.settings import Settings, get_settings
from creditlake.spark import is_delta_table, table_path


# Parallel Airflow tasks (one per source) write the shared ops tables at once; Delta lets one commit win and the
# other retry. Slices never overlap, so a retry rewrites exactly its own rows.
CONFLICT_RETRIES = 5


def _is_conflict(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return any(k in text for k in ("ConcurrentAppend", "ConcurrentDeleteRead", "ConcurrentDeleteDelete",
                                   "ConcurrentTransaction", "ProtocolChanged", "MetadataChanged",
                                   "DELTA_CONCURRENT"))


def sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def replace_slice(
    df,
    layer: str,
    table: str,
    where: dict[str, str | list[str]],
    partition_by: list[str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Atomically replace the rows of `layer.table` matching `where` (column = value, or IN a list) with `df`.

    One Delta commit: a rerun of the same slice rewrites the same rows, so reruns never duplicate,
    and a write killed half-way leaves the previous version, which the next run replaces.
    """
    settings = settings or get_settings()
    path = table_path(layer, table, settings)
    predicate = " AND ".join(_condition(col, val) for col, val in where.items())
    for attempt in range(CONFLICT_RETRIES + 1):
        writer = df.write.format("delta").option("mergeSchema", "true")
        if is_delta_table(path):
            writer = writer.mode("overwrite").option("replaceWhere", predicate)
        else:
            writer = writer.mode("overwrite")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
        try:
            writer.save(str(path))
            break
        except Exception as exc:  # Delta's optimistic concurrency: another task committed first; try again
            if attempt == CONFLICT_RETRIES or not _is_conflict(exc):
                raise
            time.sleep(random.uniform(0.5, 2.0) * (attempt + 1))
    spark = df.sparkSession
    spark.sql(f"CREATE TABLE IF NOT EXISTS {layer}.{table} USING delta LOCATION '{path}'")


def _condition(col: str, value: str | list[str]) -> str:
    if isinstance(value, str):
        return f"{col} = {sql_literal(value)}"
    if not value:
        raise ValueError(f"empty list of values for {col}")
    return f"{col} IN ({', '.join(sql_literal(v) for v in value)})"


def read_table(spark, layer: str, table: str, settings: Settings | None = None):
    """The current version of a lake table, or None when it does not exist yet."""
    path = table_path(layer, table, settings or get_settings())
    if not is_delta_table(path):
        return None
    return spark.read.format("delta").load(str(path))
