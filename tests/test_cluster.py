"""The same pipeline, unchanged, on a real Spark standalone cluster (a master and two workers started from the
pyspark wheel on 127.0.0.1) gives the same gold as the `local[2]` run of the slice through Airflow.

The cluster run is `creditlake run` in a subprocess with its own CREDITLAKE_HOME and CREDITLAKE_SPARK_MASTER:
this test process already holds the run's one SparkSession (local). It shares the slice's landing zone and
pseudonymisation key, so equal inputs must give equal tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake import cluster
from creditlake.serve.publish import SERVED_TABLES, served_names
from creditlake.serve.store import table_checksum
from creditlake.settings import Settings


def _delta_checksums(spark, gold: Path) -> dict[str, tuple[int, int]]:
    """Per gold Delta table: (rows, sum of 64-bit row hashes) — independent of row order and file layout.

    Doubles are hashed to 9 decimals: a sum or mean of doubles may differ in its last bit when the partial sums
    arrive in another order (two executors instead of one JVM); every other type is hashed exactly."""
    sums = {}
    for table in sorted(p for p in gold.iterdir() if (p / "_delta_log").is_dir()):
        df = spark.read.format("delta").load(str(table))
        floats = {f.name for f in df.schema.fields if f.dataType.typeName() in ("double", "float")}
        cols = [f"round(`{c}`, 9)" if c in floats else f"`{c}`" for c in sorted(df.columns)]
        row = df.selectExpr("count(*) AS n",
                            f"coalesce(sum(xxhash64({', '.join(cols)}) % 1000000007), 0) AS h").first()
        sums[table.name] = (row.n, row.h)
    return sums


@pytest.fixture(scope="module")
def cluster_run(pipeline_run, settings, landing, tmp_path_factory):
    """The slice through `creditlake run` on a standalone master with two 1-core, 1 GB workers."""
    from conftest import SLICE

    base = tmp_path_factory.mktemp("cluster")
    home, folder = base / "home", base / "spark-cluster"
    running = cluster.start(folder, workers=2, cores=1, memory="1g")
    try:
        env = {**os.environ, "CREDITLAKE_HOME": str(home), "CREDITLAKE_SPARK_MASTER": running.master_url,
               "CREDITLAKE_PSEUDONYM_KEY_FILE": str(settings.key_file), "PYSPARK_PYTHON": sys.executable}
        env.pop("CREDITLAKE_SERVING_URL", None)
        res = subprocess.run([sys.executable, "-m", "creditlake.cli", "run", "--landing", str(landing[0]),
                              "--start", SLICE["start"], "--end", SLICE["end"]],
                             env=env, capture_output=True, text=True, timeout=3600)
        apps = {w.name: sorted(p.name for p in w.glob("app-*")) for w in sorted(folder.glob("worker-*")) if w.is_dir()}
    finally:
        cluster.stop(folder)
    assert res.returncode == 0, res.stderr[-4000:]
    return Settings(home=home, pseudonym_key_file=settings.key_file, serving_url=None), apps


def test_cluster_run_used_both_workers(cluster_run):
    """Executors of the run's application ran on both workers (the work was not done by the driver alone)."""
    _, apps = cluster_run
    assert len(apps) == 2
    assert all(len(found) == 1 for found in apps.values()), apps


def test_cluster_gold_equals_local_gold(cluster_run, settings, spark):
    cluster_settings, _ = cluster_run
    local = _delta_checksums(spark, settings.lake / "gold")
    remote = _delta_checksums(spark, cluster_settings.lake / "gold")
    assert local.keys() == remote.keys()
    assert len(local) >= len([t for t in SERVED_TABLES if t.startswith("gold.")])
    assert {t: n for t, (n, _) in local.items()} == {t: n for t, (n, _) in remote.items()}
    assert local == remote


def test_cluster_served_tables_equal_local(cluster_run, settings):
    cluster_settings, _ = cluster_run
    for table in served_names():
        assert table_checksum(cluster_settings, table) == table_checksum(settings, table), table
