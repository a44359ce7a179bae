"""Airflow's environment for this lake (home, DAG folder, metadata DB under CREDITLAKE_HOME) and ways to run DAGs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from creditlake.settings import REPO_ROOT, Settings, get_settings

DAGS_FOLDER = REPO_ROOT / "dags"


def airflow_env(settings: Settings | None = None) -> dict[str, str]:
    """Environment variables that point Airflow at this lake's home; nothing outside CREDITLAKE_HOME is touched."""
    settings = settings or get_settings()
    home = settings.airflow
    db = settings.airflow_db_url or f"sqlite:///{home / 'airflow.db'}"
    extra = {}
    if db.startswith("postgresql+psycopg://"):
        extra["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = db  # psycopg 3 is async too: no asyncpg needed
    return {
        **extra,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.logs / "airflow"),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "CREDITLAKE_HOME": str(settings.home),
    }


def apply_env(settings: Settings | None = None) -> None:
    """Set Airflow's environment in this process (before airflow is imported)."""
    os.environ.update(airflow_env(settings))


def _airflow(*args: str, settings: Settings | None = None, log_name: str = "airflow-cli.log",
             on_line: Callable[[str], None] | None = None, extra_env: dict[str, str] | None = None) -> None:
    """Run the Airflow CLI with this lake's environment; its output goes to a log file (and to `on_line`)."""
    settings = settings or get_settings()
    env = {**os.environ, **airflow_env(settings), **(extra_env or {})}
    settings.airflow.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    log = settings.logs / log_name
    exe = Path(sys.executable).with_name("airflow")
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.Popen([str(exe), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace")
        for line in proc.stdout:
            fh.write(line)
            if on_line:
                on_line(line)
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"`airflow {' '.join(args[:2])}` failed (exit {proc.returncode}); see {log}")


def migrate_db(settings: Settings | None = None) -> None:
    """Create or upgrade Airflow's metadata database (idempotent)."""
    _airflow("db", "migrate", settings=settings)


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")


def run_dag_test(dag_id: str, conf: dict, settings: Settings | None = None,
             on_task: Callable[[str], None] | None = None) -> None:
    """Run one DAG run to completion through Airflow (`airflow dags test`): recorded in the metadata DB.

    `on_task` is called with each task id as Airflow starts it, so long runs can show progress.
    """
    migrate_db(settings)

    def watch(line: str) -> None:
        m = _TASK_START.search(line)
        if m and on_task:
            on_task(m.group(1))

    # Airflow 3.3's `dags test` fails on a DAG with a deadline alert ('dict' object has no attribute 'hex' in
    # DagRun.update_state): a test run is watched anyway, so it runs without one.
    _airflow("dags", "test", dag_id, "--conf", json.dumps(conf), settings=settings, log_name=f"dag-{dag_id}.log",
             on_line=watch, extra_env={"CREDITLAKE_RUN_DEADLINE_MINUTES": "0"})
