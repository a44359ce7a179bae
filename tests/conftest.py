"""Shared fixtures: one CREDITLAKE_HOME and one SparkSession per test run, and one pipeline run through Airflow."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from pathlib import Path

import pytest

# One home for the whole run, set before anything reads the settings (Spark binds its catalog to it).
_HOME = Path(tempfile.mkdtemp(prefix="creditlake-test-"))
os.environ["CREDITLAKE_HOME"] = str(_HOME)
os.environ.setdefault("CREDITLAKE_SHUFFLE_PARTITIONS", "2")
os.environ.pop("CREDITLAKE_SERVING_URL", None)
# The slice runs through dag.test(), which Airflow 3.3 cannot combine with a deadline alert; the backfill test
# sets its own deadline for the scheduler it starts.
os.environ["CREDITLAKE_RUN_DEADLINE_MINUTES"] = "0"

from creditlake.pipeline import GOLD_INPUTS  # noqa: E402  (after the environment is set)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Never a Superset already running on 8088 (the demo's): a server of this test run only.
os.environ["CREDITLAKE_SUPERSET_PORT"] = str(_free_port())
os.environ["CREDITLAKE_AIRFLOW_PORT"] = str(_free_port())


def _airflow_database() -> str | None:
    """A fresh PostgreSQL database for this run's Airflow metadata (scheduler and backfills need more than
    SQLite); scripts/postgres.sh gives the creditlake role CREATEDB. None when PostgreSQL is not running
    (`bash scripts/test.sh` starts it): Airflow then uses SQLite and the backfill test says why it skips."""
    import psycopg

    name = f"creditlake_airflow_{_HOME.name.rsplit('-', 1)[-1].lower()}"
    try:
        with psycopg.connect("postgresql://creditlake:creditlake@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=5) as con:
            con.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return f"postgresql+psycopg://creditlake:creditlake@127.0.0.1:5432/{name}"


AIRFLOW_DB = _airflow_database()
if AIRFLOW_DB:
    os.environ["CREDITLAKE_AIRFLOW_DB_URL"] = AIRFLOW_DB
# Airflow reads its configuration once, at first import: point it at this home before any test imports it.
from creditlake.airflow_runner import apply_env  # noqa: E402

apply_env()

# py4j logs from __del__ at interpreter exit, after pytest closed its streams.
logging.getLogger("py4j").setLevel(logging.WARNING)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
# The tests' landing zone: every dataset the gold models read, small enough for 2 cores.
SLICE = {"enterprises": 300, "start": "2024-01", "end": "2024-03", "seed": 7, "fault_rate": 0.02,
         "only": list(GOLD_INPUTS)}


@pytest.fixture(scope="session")
def settings():
    from creditlake.settings import get_settings, reset_settings

    reset_settings()
    return get_settings()


@pytest.fixture(scope="session")
def spark(settings):
    """A client of the test home's Spark service, which the run starts (as `airflow start` and `demo` do) and
    stops: the tests, Airflow's task processes and the commands they run share one JVM and one catalog."""
    from creditlake import spark_service
    from creditlake.spark import get_spark

    spark_service.start(settings)
    try:
        yield get_spark(settings, app_name="creditlake-tests")
    finally:
        spark_service.stop(settings)


@pytest.fixture(scope="session")
def landing(settings):
    from creditlake.generate import generate_landing

    path = settings.home / "landing"
    summary = generate_landing(path, SLICE["enterprises"], SLICE["start"], SLICE["end"], SLICE["seed"],
                               SLICE["fault_rate"], only=SLICE["only"])
    return path, summary


@pytest.fixture(scope="session")
def airflow_db(settings):
    from creditlake.airflow_runner import migrate_db

    migrate_db(settings)


@pytest.fixture(scope="session")
def pipeline_run(spark, settings, landing, airflow_db):
    """The slice, run once through Airflow's dag.test(): every later test reads what it left in the lake."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    dag = bag.get_dag("creditlake_monthly")
    run = dag.test(run_conf={"landing": str(landing[0]), "start": SLICE["start"], "end": SLICE["end"]})
    return run


def pytest_sessionfinish(session, exitstatus):
    """Drop this run's Airflow metadata database (PostgreSQL 13+: FORCE closes what the run left connected)."""
    if not AIRFLOW_DB:
        return
    import sys

    import psycopg

    if "airflow.settings" in sys.modules:  # close this process's own pool first: no error from it at exit
        sys.modules["airflow.settings"].dispose_orm()
    name = AIRFLOW_DB.rsplit("/", 1)[-1]
    try:
        with psycopg.connect("postgresql://creditlake:creditlake@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=5) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        pass  # a leftover database is harmless: the next run creates its own
