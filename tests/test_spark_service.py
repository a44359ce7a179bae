"""The home's Spark service: commands and Airflow's task processes are clients of one long-lived Spark."""

import json
import os
import subprocess
import sys
import time

from creditlake import spark_service
from creditlake.settings import Settings

from conftest import SLICE


def _cli(*args, home=None, timeout=120):
    env = {**os.environ, **({"CREDITLAKE_HOME": str(home)} if home else {})}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "creditlake.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return done, time.monotonic() - started


def test_a_read_only_command_is_a_client_of_the_homes_service(pipeline_run, spark, settings):
    service = spark_service.running(settings)
    assert service is not None and service.url.startswith("sc://127.0.0.1:")
    status, _ = _cli("spark", "status", "--json")
    assert status.returncode == 0, status.stderr
    figures = json.loads(status.stdout)
    assert figures["url"] == service.url and figures["sessions"] >= 1 and figures["memory_mib"] > 100

    accounting, took = _cli("accounting", "--json", "--period", SLICE["start"])
    assert accounting.returncode == 0, accounting.stderr
    rows = json.loads(accounting.stdout)
    assert rows and all(r["period"] == SLICE["start"] for r in rows)
    # No JVM starts in the command (in-process Spark took 6.5-38 s here); the figure is in docs/performance.md.
    assert took < 15, f"accounting took {took:.1f} s"


def test_two_homes_never_share_a_service(spark, settings, tmp_path):
    other = Settings(home=tmp_path / "other")
    assert spark_service.running(other) is None
    status, _ = _cli("spark", "status", home=other.home)
    assert status.returncode == 1 and "creditlake spark start" in status.stderr
    assert len(status.stderr.strip().splitlines()) == 1  # one line, no stack trace

    started, _ = _cli("spark", "start", home=other.home, timeout=300)
    try:
        assert started.returncode == 0, started.stderr
        theirs, ours = spark_service.running(other), spark_service.running(settings)
        assert theirs is not None and theirs.url == started.stdout.strip()
        assert (theirs.url, theirs.pid) != (ours.url, ours.pid)
        again, _ = _cli("spark", "start", home=other.home)  # idempotent
        assert again.stdout.strip() == theirs.url
    finally:
        stopped, _ = _cli("spark", "stop", home=other.home)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped"
    assert spark_service.running(other) is None and spark_service.running(settings) is not None
