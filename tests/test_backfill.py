"""`creditlake backfill`: a real Airflow backfill (scheduler, LocalExecutor, metadata DB) over months the
pipeline already ran converges to the same gold: every served table's checksum is unchanged, even when the
scheduler (with the task it was running) and the command are killed half-way and the command is run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from creditlake.serve.publish import served_names
from creditlake.serve.store import table_checksum


def _served_checksums(settings) -> dict[str, str]:
    return {table: table_checksum(settings, table) for table in served_names()}


def _running_task(run_type: str = "backfill") -> tuple[str, str] | None:
    """(run id, task id) of a task instance of a backfill run that is running now, or None."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.execute(
            select(TaskInstance.run_id, TaskInstance.task_id).join(DagRun, DagRun.run_id == TaskInstance.run_id)
            .where(TaskInstance.dag_id == "creditlake_monthly", DagRun.run_type == run_type,
                   TaskInstance.state == "running")).first()
    return tuple(row) if row else None


def test_two_month_backfill_killed_half_way_converges_to_the_same_gold(pipeline_run, settings, landing):
    """Also proves other processes (the scheduler's task processes) see the lake and rebuild gold identically."""
    from conftest import AIRFLOW_DB

    from creditlake import airflow_services

    if not AIRFLOW_DB:
        pytest.skip("PostgreSQL is not running (bash scripts/test.sh starts it): the scheduler needs it")

    before = _served_checksums(settings)
    # A deadline every backfill run misses (3 s after it is queued; a month with nothing new still runs its five
    # task processes, well over that): Airflow's deadline alert must record both.
    env = {**os.environ, "CREDITLAKE_HOME": str(settings.home), "CREDITLAKE_RUN_DEADLINE_MINUTES": "0.05"}
    command = [sys.executable, "-m", "creditlake.cli", "backfill", "--start", "2024-02", "--end", "2024-03",
               "--sources", "samr", "--landing", str(landing[0])]
    try:
        # 1. Kill the scheduler (and the task it runs) and the command while the first month builds silver.
        out = settings.logs / "backfill-killed.out"
        first = subprocess.Popen(command, env=env, stdout=out.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        while (task := _running_task()) is None or task[1] != "silver":
            assert first.poll() is None, out.read_text()[-4000:]
            assert time.monotonic() < deadline, "silver of the first backfill month never started"
            time.sleep(0.5)
        # Killed at once: silver is at work (a client of the test home's Spark service, no JVM to start) and may take
        # under a second; after a 0.5 s wait it had ended, with nothing left running, in a full-suite run here.
        scheduler = airflow_services.running(settings, "scheduler")
        assert scheduler is not None
        import psutil

        psutil.wait_procs(airflow_services.signal_tree(scheduler, signal.SIGKILL), timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = _running_task()  # what the dead scheduler was running is left marked as running: silver, or the
        assert killed is not None  # task after it when silver (2 s at this size) ended before the kill landed

        # 2. The same command again: it resumes the unfinished backfill, and the new scheduler retries the task.
        res = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    finally:
        airflow_services.stop(settings)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    assert "resumed" in res.stdout + res.stderr
    summary = [line for line in res.stdout.splitlines() if line.startswith("2024-")]
    assert [line.split()[:2] for line in summary] == [["2024-02", "success"], ["2024-03", "success"]], res.stdout
    # The runs are Airflow's own backfill runs (one per month, not one more for the rerun), in its metadata DB.
    from creditlake.airflow_runner import apply_env

    apply_env(settings)
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        kinds = session.scalars(select(DagRun.run_type).where(DagRun.dag_id == "creditlake_monthly")).all()
        killed_tries = session.scalars(
            select(TaskInstance.try_number).where(TaskInstance.run_id == killed[0],
                                                  TaskInstance.task_id == killed[1])).all()
    assert sum(k == "backfill" for k in kinds) == 2
    assert max(killed_tries) >= 2, (killed, killed_tries)  # the killed task ran again
    assert _served_checksums(settings) == before
    # Each run missed its deadline and the executor ran the callback, which says which run and since when.
    import json

    # (The unpaused DAG's latest scheduled month, with no deliveries, may be late too: only backfill runs count.)
    late = [json.loads(line) for line in (settings.logs / "deadlines.jsonl").read_text().splitlines()]
    assert {r["dag_id"] for r in late} == {"creditlake_monthly"}
    assert len({r["run_id"] for r in late if r["run_type"] == "backfill"}) == 2, late
