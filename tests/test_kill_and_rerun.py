"""A run killed with SIGKILL half-way, then run again, ends with the same tables as a clean run."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from creditlake.generate import generate_landing

def _env(home):
    # One pseudonymisation key for both homes (it lives outside the lake), so both lakes can be compared.
    return {**os.environ, "CREDITLAKE_HOME": str(home),
            "CREDITLAKE_PSEUDONYM_KEY_FILE": str(home.parent / "pseudonym.key")}


def _ingest(home, landing, **kw):
    return subprocess.Popen([sys.executable, "-m", "creditlake.cli", "ingest", "--landing", str(landing)],
                            env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def _checksums(spark, home) -> dict:
    """Checksum of every Delta table under home/lake (read by path; times of ingestion left out)."""
    out = {}
    for log in sorted((home / "lake").glob("*/*/_delta_log")):
        df = spark.read.format("delta").load(str(log.parent))
        drop = [c for c in df.columns if c in ("_ingested_at", "ingested_at", "recorded_at")]
        rows = sorted(str(tuple(r)) for r in df.drop(*drop).collect())
        out[f"{log.parent.parent.name}.{log.parent.name}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A landing zone and a home that ingested it in one clean run (Spark in the run's own process)."""
    work = tmp_path_factory.mktemp("kill")
    landing = work / "landing"
    generate_landing(landing, 120, "2024-01", "2024-02", seed=11, fault_rate=0.03,
                     only=["samr/registrations", "power/consumption"])
    assert _ingest(work / "clean", landing).wait(timeout=600) == 0
    return landing, work / "clean"


def _wait_for_first_silver_commit(home, proc) -> None:
    """Until bronze is done and silver half-way: the first silver commit of the run has landed."""
    first_silver = home / "lake" / "silver" / "samr__registrations" / "_delta_log"
    deadline = time.monotonic() + 600
    while not first_silver.is_dir() or not any(first_silver.glob("*.json")):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _assert_same_tables(spark, home, clean_home) -> None:
    clean_sums = _checksums(spark, clean_home)
    assert {"bronze.samr__registrations", "silver.power__consumption", "ops.quarantine"} <= set(clean_sums)
    assert _checksums(spark, home) == clean_sums


def test_sigkill_half_way_then_rerun_converges(spark, clean):
    landing, clean_home = clean
    killed = landing.parent / "killed"
    proc = _ingest(killed, landing, start_new_session=True)
    _wait_for_first_silver_commit(killed, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "lake" / "ops" / "accounting").exists()  # it really died before the end

    assert _ingest(killed, landing).wait(timeout=600) == 0
    _assert_same_tables(spark, killed, clean_home)


def test_spark_service_killed_half_way_is_restarted_and_the_rerun_converges(spark, clean):
    """The home's Spark service dies under a run (SIGKILL): the run fails within seconds, not after the client's
    ten minutes of retries; the next run starts the service again and ends with the tables of a clean run."""
    landing, clean_home = clean
    home = landing.parent / "service"
    cli = [sys.executable, "-m", "creditlake.cli", "spark"]
    subprocess.run([*cli, "start"], env=_env(home), check=True, capture_output=True, timeout=300)
    try:
        first = json.loads((home / "spark" / "service.json").read_text())
        proc = _ingest(home, landing)
        _wait_for_first_silver_commit(home, proc)
        os.killpg(first["pid"], signal.SIGKILL)
        killed_at = time.monotonic()
        assert proc.wait(timeout=120) != 0
        assert time.monotonic() - killed_at < 60
        assert not (home / "lake" / "ops" / "accounting").exists()

        assert _ingest(home, landing).wait(timeout=600) == 0
        second = json.loads((home / "spark" / "service.json").read_text())
        assert second["pid"] != first["pid"]  # started again by the rerun
        _assert_same_tables(spark, home, clean_home)
    finally:
        subprocess.run([*cli, "stop"], env=_env(home), timeout=120)
