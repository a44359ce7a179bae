"""The one SparkSession factory: Delta Lake, jars from Ivy, and a catalog rebuilt from the lake's folders."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from creditlake import jars
from creditlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Schemas (databases) of the lake; each is a folder under settings.lake, each table a Delta folder in it.
LAYERS: tuple[str, ...] = ("bronze", "silver", "gold", "ops")
REGISTER_THREADS = 4
# Seconds the process's SparkSession took to start (JVM, jars, catalog registration); None until one started.
session_start_seconds: float | None = None


def get_spark(settings: Settings | None = None, app_name: str = "creditlake"):
    """Return the process's SparkSession, creating it on first use.

    The catalog is Spark's in-memory one, filled at start from the lake's layout (layer/table folders
    holding a _delta_log): every process (CLI, Airflow task, dbt, ad-hoc SQL) sees the same tables
    and no metastore lock stops two of them running at once (see docs/architecture.md).
    """
    import time

    from pyspark.sql import SparkSession

    global session_start_seconds
    settings = settings or get_settings()
    active = SparkSession.getActiveSession()
    if active is not None:
        register_lake_tables(active, settings)
        return active
    started = time.monotonic()

    settings.spark_work.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    # Bind to loopback: no interface of this machine needs to see the driver in local mode.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(settings.lake / "warehouse"))
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.local.dir", str(settings.spark_work))
        .config("spark.ui.showConsoleProgress", "false")
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j.configurationFile={Path(__file__).with_name('log4j2.properties')} "
            f"-Dcreditlake.logs={settings.logs}",
        )
        # GB18030 deliveries are read by Spark's CSV reader, which takes only the standard charsets without it.
        .config("spark.sql.legacy.javaCharsets", "true")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        # Delta keeps every table's log and snapshot (its Catalyst plans) in a cache of up to 10,000 tables for an
        # hour: a run touches ~300 tables, which held ~600 MB of a 2 GB driver until gold ran out of memory
        # (docs/performance.md). A few dozen cover the tables one stage reads side by side.
        .config("spark.databricks.delta.delta.log.cacheSize", "32")
        # Spark's UI store keeps every SQL execution's plan graph; a run has thousands. Keep the recent ones.
        .config("spark.sql.ui.retainedExecutions", "50")
        .config("spark.ui.retainedJobs", "200")
        .config("spark.ui.retainedStages", "200")
        .config("spark.ui.retainedTasks", "2000")
        .config("spark.databricks.delta.optimizeWrite.enabled", str(settings.delta_optimize_write).lower())
    )
    for key, value in jars.spark_conf(settings).items():
        builder = builder.config(key, value)
    with _jvm_stdout_to_stderr():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    jars.remember_resolution(spark, settings)
    register_lake_tables(spark, settings)
    session_start_seconds = time.monotonic() - started
    return spark


@contextmanager
def _jvm_stdout_to_stderr():
    """The JVM inherits file descriptor 1 when it starts: point it at stderr, so Ivy's and Spark's chatter never
    mixes with a command's output (`--json` must print JSON only)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def for_each_concurrently(fn, items: list, threads: int) -> list:
    """`fn(item)` for every item, `threads` at a time in threads of this process (sharing its SparkSession, whose
    scheduler runs their jobs side by side); the results in the items' order. An error is raised once every
    started call has ended, so no Delta commit is cut off half-way."""
    from concurrent.futures import ThreadPoolExecutor

    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dataset") as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [f.result() for f in futures]


def is_delta_table(path: Path) -> bool:
    """Whether `path` holds a Delta table with at least one commit. A table another process is creating has its
    _delta_log folder before its first commit lands; until then it is not a table (to register, read or append to)."""
    log_dir = path / "_delta_log"
    return log_dir.is_dir() and any(p.name.endswith(".json") or ".checkpoint" in p.name for p in log_dir.iterdir())


def table_path(layer: str, table: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.lake / layer / table


def register_lake_tables(spark, settings: Settings) -> None:
    """Create one database per layer and register every Delta table found under it.

    Registering a table reads its Delta log in the driver; every process that starts Spark (each Airflow task,
    each CLI command) registers the whole lake, so the tables are registered from a few threads at once
    (96 tables of the slice lake: 8.6-9.5 s one by one, 5.3-6.9 s from 4 threads, on the 2-core box)."""
    from concurrent.futures import ThreadPoolExecutor

    statements = []
    for layer in LAYERS:
        folder = settings.lake / layer
        folder.mkdir(parents=True, exist_ok=True)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer} LOCATION '{folder}'")
        known = {row.tableName for row in spark.sql(f"SHOW TABLES IN {layer}").collect()}
        statements += [f"CREATE TABLE IF NOT EXISTS {layer}.{table_dir.name} USING delta LOCATION '{table_dir}'"
                       for table_dir in sorted(folder.iterdir())
                       if table_dir.name not in known and is_delta_table(table_dir)]
    with ThreadPoolExecutor(max_workers=REGISTER_THREADS, thread_name_prefix="register") as pool:
        list(pool.map(spark.sql, statements))  # list(): the first error, if any, is raised here
