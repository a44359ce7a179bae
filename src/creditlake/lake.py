"""Writing Delta tables of the lake: one function, idempotent by the slice of the table it replaces."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from pathlib import Path

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
    where: dict[str, str | list[str]] | list[dict[str, str | list[str]]],
    partition_by: list[str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Atomically replace the rows of `layer.table` matching `where` (column = value, or IN a list; a list of such
    conditions: rows matching any of them) with `df`.

    One Delta commit: a rerun of the same slice rewrites the same rows, so reruns never duplicate,
    and a write killed half-way leaves the previous version, which the next run replaces.
    """
    settings = settings or get_settings()
    path = table_path(layer, table, settings)
    conditions = where if isinstance(where, list) else [where]
    if not conditions:
        raise ValueError(f"no slice of {layer}.{table} to replace")
    predicate = " OR ".join(f"({' AND '.join(_condition(col, val) for col, val in w.items())})" for w in conditions)
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


def table_version(layer: str, table: str, settings: Settings | None = None) -> int | None:
    """The latest committed version of a lake table, read from its log's file names (no Spark); None when the
    table does not exist yet."""
    log_dir = table_path(layer, table, settings or get_settings()) / "_delta_log"
    if not log_dir.is_dir():
        return None
    versions = [int(p.name.split(".")[0]) for p in log_dir.iterdir()
                if p.name.endswith(".json") and p.name.split(".")[0].isdigit()]
    return max(versions, default=None)


# What each derived table was last built from (input table versions, the code and catalogue it ran with, the
# months it covered), written after its last commit: a step whose inputs are unchanged is skipped.
BUILT_FROM = "_built_from"


def _built_from_path(name: str, settings: Settings) -> Path:
    return settings.lake / "ops" / BUILT_FROM / f"{name}.json"


def built_from(name: str, settings: Settings | None = None) -> dict | None:
    path = _built_from_path(name, settings or get_settings())
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_built_from(name: str, inputs: dict, settings: Settings | None = None) -> None:
    """Remember what `name` was just built from (atomically: a run killed here rebuilds it next time)."""
    path = _built_from_path(name, settings or get_settings())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(inputs, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def is_built_from(name: str, inputs: dict, periods: list[str] | None = None,
                  settings: Settings | None = None) -> bool:
    """Whether `name` was last built from exactly `inputs` and, when given, already covers `periods`."""
    last = built_from(name, settings)
    if last is None or {k: last.get(k) for k in inputs} != inputs:
        return False
    return periods is None or set(periods) <= set(last.get("periods", []))


def code_fingerprint(*modules) -> str:
    """A hash of modules' source: a derived table built by other code is not up to date."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]
