"""`creditlake backfill`: a real Airflow backfill (scheduler, LocalExecutor, metadata DB) over months the
pipeline already ran converges to the same gold: every served table's checksum is unchanged."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from creditlake.serve.publish import SERVED_TABLES
from creditlake.serve.store import table_checksum


def _served_checksums(settings) -> dict[str, str]:
    return {t.split(".", 1)[1]: table_checksum(settings, t.split(".", 1)[1]) for t in SERVED_TABLES}


def test_two_month_backfill_converges_to_the_same_gold(pipeline_run, settings, landing):
    """Also proves other processes (the scheduler's task processes) see the lake and rebuild gold identically."""
    from conftest import AIRFLOW_DB

    from creditlake import airflow_services

    if not AIRFLOW_DB:
        pytest.skip("PostgreSQL is not running (bash scripts/test.sh starts it): the scheduler needs it")

    before = _served_checksums(settings)
    # A deadline every backfill run misses (30 s after it is queued): Airflow's deadline alert must record both.
    env = {**os.environ, "CREDITLAKE_HOME": str(settings.home), "CREDITLAKE_RUN_DEADLINE_MINUTES": "0.5"}
    try:
        res = subprocess.run([sys.executable, "-m", "creditlake.cli", "backfill", "--start", "2024-02", "--end",
                              "2024-03", "--sources", "samr", "--landing", str(landing[0])],
                             env=env, capture_output=True, text=True, timeout=1500)
    finally:
        airflow_services.stop(settings)
    assert res.returncode == 0, res.stderr[-4000:]
    summary = [line for line in res.stdout.splitlines() if line.startswith("2024-")]
    assert [line.split()[:2] for line in summary] == [["2024-02", "success"], ["2024-03", "success"]], res.stdout
    # The runs are Airflow's own backfill runs, in its metadata database.
    from creditlake.airflow_runner import apply_env

    apply_env(settings)
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        kinds = session.scalars(select(DagRun.run_type).where(DagRun.dag_id == "creditlake_monthly")).all()
    assert sum(k == "backfill" for k in kinds) == 2
    assert _served_checksums(settings) == before
    # Each run missed its deadline and the executor ran the callback, which says which run and since when.
    import json

    late = [json.loads(line) for line in (settings.logs / "deadlines.jsonl").read_text().splitlines()]
    assert {(r["dag_id"], r["run_type"]) for r in late} == {("creditlake_monthly", "backfill")}
    assert len({r["run_id"] for r in late}) == 2, late
