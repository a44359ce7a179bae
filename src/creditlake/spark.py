"""The one SparkSession factory: Delta Lake, jars from Ivy, and a catalog rebuilt from the lake's folders."""

from __future__ import annotations

import logging
import os
import sys
import warnings
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


def session_conf(settings: Settings) -> dict[str, str]:
    """The Spark options of the lake's sessions, in-process or in the home's service (creditlake.spark_service)."""
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(settings.lake / "warehouse"),
        "spark.sql.session.timeZone": "Asia/Shanghai",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.local.dir": str(settings.spark_work),
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions":
            f"-Dlog4j.configurationFile={Path(__file__).with_name('log4j2.properties')} "
            f"-Dcreditlake.logs={settings.logs}",
        # GB18030 deliveries are read by Spark's CSV reader, which takes only the standard charsets without it.
        "spark.sql.legacy.javaCharsets": "true",
        "spark.databricks.delta.snapshotPartitions": "2",
        # Delta keeps every table's log and snapshot (its Catalyst plans) in a cache of up to 10,000 tables for an
        # hour: a run touches ~300 tables, which held ~600 MB of a 2 GB driver until gold ran out of memory
        # (docs/performance.md). A few dozen cover the tables one stage reads side by side.
        "spark.databricks.delta.delta.log.cacheSize": "32",
        # Spark's UI store keeps every SQL execution's plan graph; a run has thousands. Keep the recent ones.
        "spark.sql.ui.retainedExecutions": "50",
        "spark.ui.retainedJobs": "200",
        "spark.ui.retainedStages": "200",
        "spark.ui.retainedTasks": "2000",
        "spark.databricks.delta.optimizeWrite.enabled": str(settings.delta_optimize_write).lower(),
        **jars.spark_conf(settings),
    }


# What pyspark puts in the environment of a Connect client (and its children inherit). Spark's launcher reads
# SPARK_REMOTE too and then builds a client's class path, without Spark SQL: a JVM started from such an environment
# (in-process Spark, the service, a standalone cluster's daemons and executors) must not see them.
CONNECT_CLIENT_ENV = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")


def without_connect_client_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in CONNECT_CLIENT_ENV}


# Options a client sets on its own session of the home's service (the service may have started with other ones).
SESSION_OPTIONS = ("spark.sql.shuffle.partitions", "spark.databricks.delta.optimizeWrite.enabled")
_session = None  # this process's session (in-process or on the service)


def get_spark(settings: Settings | None = None, app_name: str = "creditlake"):
    """Return the process's SparkSession, creating it on first use.

    While the home's Spark service runs (`creditlake spark start`), the session is a Spark Connect client of it: no
    JVM starts in this process and the catalog is the service's. Otherwise Spark starts in this process, with a
    catalog filled from the lake's layout (layer/table folders holding a _delta_log). Either way every process
    (CLI, Airflow task, dbt, ad-hoc SQL) sees the same tables and no metastore lock stops two of them running at
    once (see docs/architecture.md).
    """
    global _session
    settings = settings or get_settings()
    if _session is not None and _usable(_session, settings):
        register_lake_tables(_session, settings)
        return _session
    from creditlake import spark_service

    wanted = spark_service.read(settings)
    if wanted is not None:
        _session = _connect(spark_service.start(settings), settings)
    else:
        _session = _start_in_process(settings, app_name)
    register_lake_tables(_session, settings)
    return _session


def is_connect(spark) -> bool:
    """Whether `spark` is a client of a Spark Connect service (no JVM in this process)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _usable(spark, settings: Settings) -> bool:
    """An in-process session stays until its context stops; a client only while its service is the home's."""
    if not is_connect(spark):
        return spark._sc._jsc is not None
    from creditlake import spark_service

    service = spark_service.running(settings)
    return service is not None and os.environ.get("SPARK_REMOTE") == service.url


def _connect(service, settings: Settings):
    """A Connect session on the home's service. SPARK_REMOTE names it for dbt-spark, which asks pyspark's builder
    for a session on every statement, and for child processes of this one."""
    import atexit
    import time

    from pyspark.sql import SparkSession

    global session_start_seconds
    if service.master != settings.spark_master:
        from creditlake.spark_service import ServiceError

        raise ServiceError(f"本库的 Spark 服务运行于 {service.master}, 而非 {settings.spark_master} "
                           f"(the home's Spark service runs on {service.master}): `creditlake spark stop` first")
    started = time.monotonic()
    if _session is not None and is_connect(_session):  # its service is gone: do not wait on it to say goodbye
        _session.release_session_on_close = False
        _release(_session)
    os.environ["SPARK_REMOTE"] = service.url
    # dbt-spark asks the builder for Hive support on every statement; the service's catalog is fixed at its start.
    warnings.filterwarnings("ignore", message="Failed to set spark.sql.catalogImplementation")
    spark = SparkSession.builder.remote(service.url).getOrCreate()
    # The client's default retries wait up to 10 minutes for a service that went away; ours is restarted by the next
    # process instead, so a task whose service died fails within seconds and its retry finds the new one.
    from pyspark.sql.connect.client.retries import DefaultPolicy

    spark.client.set_retry_policies([DefaultPolicy(max_retries=4, max_backoff=2000)])
    conf = session_conf(settings)
    for key in SESSION_OPTIONS:
        spark.conf.set(key, conf[key])
    jars.remember_resolution(spark, settings)
    atexit.register(_release, spark, service.port)
    session_start_seconds = time.monotonic() - started
    return spark


def _release(spark, port: int | None = None) -> None:
    """Close this process's session on the service (its temporary views and settings) as the process ends."""
    from creditlake.cluster import listening

    if port is not None and not listening(port):  # the service is gone, and the session with it
        spark.release_session_on_close = False
    try:
        spark.stop()
    except Exception:  # noqa: BLE001  (the service may be gone; nothing is left to release then)
        pass


def _start_in_process(settings: Settings, app_name: str):
    import time

    from pyspark.sql import SparkSession

    global session_start_seconds
    # A parent process's client mode must not leak into this one (another home, or a stopped service).
    for name in CONNECT_CLIENT_ENV:
        os.environ.pop(name, None)
    started = time.monotonic()
    settings.spark_work.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    # Bind to loopback: no interface of this machine needs to see the driver in local mode.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    with _jvm_stdout_to_stderr():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    jars.remember_resolution(spark, settings)
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
    """Create one database per layer and register every Delta table found under it that is not registered yet.

    Registering a table reads its Delta log in the driver; every process that starts Spark (each Airflow task,
    each CLI command) registers the whole lake, so the tables are registered from a few threads at once
    (96 tables of the slice lake: 8.6-9.5 s one by one, 5.3-6.9 s from 4 threads, on the 2-core box).

    A client of the home's service asks the service only when the lake holds a table that no client has registered
    in this service yet (a file beside the service's state lists what was): the service's catalog lives as long as
    the service, and the catalog's 8 round trips were 0.28 s of a 2 s read-only command."""
    from concurrent.futures import ThreadPoolExecutor

    found = {layer: [d for d in sorted((settings.lake / layer).iterdir()) if is_delta_table(d)]
             if (settings.lake / layer).is_dir() else [] for layer in LAYERS}
    names = sorted(f"{layer}.{d.name}" for layer, dirs in found.items() for d in dirs)
    marker = _registered_marker(spark, settings)
    registered = _registered(marker) if marker is not None else None
    if registered is not None and set(names) <= registered:  # the list's databases were made with it
        return
    statements = []
    for layer in LAYERS:
        folder = settings.lake / layer
        folder.mkdir(parents=True, exist_ok=True)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer} LOCATION '{folder}'")
        known = {row.tableName for row in spark.sql(f"SHOW TABLES IN {layer}").collect()}
        statements += [f"CREATE TABLE IF NOT EXISTS {layer}.{table_dir.name} USING delta LOCATION '{table_dir}'"
                       for table_dir in found[layer] if table_dir.name not in known]
    with ThreadPoolExecutor(max_workers=REGISTER_THREADS, thread_name_prefix="register") as pool:
        list(pool.map(spark.sql, statements))  # list(): the first error, if any, is raised here
    if marker is not None:
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(names) + "\n", encoding="utf-8")
        os.replace(tmp, marker)
        for old in marker.parent.glob("registered-*.txt"):  # a stopped service's list
            if old != marker:
                old.unlink(missing_ok=True)


def _registered_marker(spark, settings: Settings) -> Path | None:
    """The file listing the tables registered in the home's service, named after the service's process (a service
    started again has an empty catalog, and another file); None for an in-process session."""
    if not is_connect(spark):
        return None
    from creditlake import spark_service

    service = spark_service.read(settings)
    if service is None or os.environ.get("SPARK_REMOTE") != service.url:
        return None
    return spark_service.state_file(settings).with_name(f"registered-{service.pid}-{service.port}.txt")


def _registered(marker: Path) -> set[str] | None:
    """The tables on the list, or None before a client made it."""
    try:
        return set(marker.read_text(encoding="utf-8").split())
    except OSError:
        return None
