"""A run killed with SIGKILL half-way, then run again, ends with the same tables as a clean run."""

import hashlib
import os
import signal
import subprocess
import sys
import time

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


def test_sigkill_half_way_then_rerun_converges(spark, tmp_path):
    landing = tmp_path / "landing"
    generate_landing(landing, 120, "2024-01", "2024-02", seed=11, fault_rate=0.03,
                     only=["samr/registrations", "power/consumption"])
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert _ingest(clean, landing).wait(timeout=600) == 0

    # Kill the second home's run as soon as its first silver commit lands: bronze done, silver half-way.
    proc = _ingest(killed, landing, start_new_session=True)
    first_silver = killed / "lake" / "silver" / "samr__registrations" / "_delta_log"
    deadline = time.monotonic() + 600
    while not first_silver.is_dir() or not any(first_silver.glob("*.json")):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "lake" / "ops" / "accounting").exists()  # it really died before the end

    assert _ingest(killed, landing).wait(timeout=600) == 0
    clean_sums = _checksums(spark, clean)
    assert {"bronze.samr__registrations", "silver.power__consumption", "ops.quarantine"} <= set(clean_sums)
    assert _checksums(spark, killed) == clean_sums
