"""Bronze and silver throughput at several sizes, with DuckDB reading the same landing files as the reference.

    uv run python benchmarks/ingest_bench.py [--sizes 1000 4000 16000] [--months 3] [--runs 3]

For each size: generate a landing zone of the ingestion-heavy datasets (registrations, power, tax filings as CSV;
12315 complaints as JSON Lines), then, in a fresh CREDITLAKE_HOME per run, time `stage_ingest` (landing ->
bronze) and `stage_silver` (rules, duplicates, links, quarantine, accounting) in one SparkSession; and time
DuckDB doing the comparable work on the same files (read, type, check codes and the USCC pattern, split good and
bad rows, write Parquet). Prints medians of `--runs`, rows/s and the Spark/DuckDB ratio, plus peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATASETS = ["samr/registrations", "power/consumption", "tax/filings", "samr/complaints_12315"]

SPARK_RUN = r"""
import json, sys, time
from pathlib import Path
from creditlake.pipeline import stage_ingest, stage_silver
from creditlake.spark import get_spark
landing, periods = Path(sys.argv[1]), sys.argv[2].split(",")
get_spark()
t0 = time.monotonic(); bronze = stage_ingest(landing, periods, datasets=%r); t1 = time.monotonic()
silver = stage_silver(periods, datasets=%r); t2 = time.monotonic()
print(json.dumps({"bronze_s": t1 - t0, "silver_s": t2 - t1, "rows": sum(r["landed"] for r in bronze)}))
""" % (DATASETS, DATASETS)


def _as_utf8(path: Path, folder: Path) -> Path:
    """The delivery file itself if its manifest declares UTF-8, else a UTF-8 copy in `folder`."""
    manifest = json.loads((path.parent / "_manifest.json").read_text(encoding="utf-8"))
    encoding = manifest.get("encoding", "utf-8")
    if encoding.lower().replace("-", "") == "utf8":
        return path
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    target.write_text(path.read_text(encoding=encoding), encoding="utf-8")
    return target


def duckdb_reference(landing: Path, out: Path) -> tuple[float, int]:
    """DuckDB on the same files: read, type, check, split good/bad, write Parquet. Returns (seconds, rows)."""
    import duckdb

    from creditlake.codes import GUIYANG_DIVISIONS, INDUSTRY_SECTIONS

    con = duckdb.connect()
    divisions = ", ".join(f"'{c}'" for c in GUIYANG_DIVISIONS)
    sections = ", ".join(f"'{c}'" for c in INDUSTRY_SECTIONS)
    uscc = "regexp_full_match(uscc, '[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}')"
    checks = {
        "samr/registrations": ("read_csv({f}, all_varchar=true, header=true)",
                               f"{uscc} AND district_code IN ({divisions}) AND industry_code IN ({sections}) "
                               "AND try_cast(event_date AS DATE) IS NOT NULL"),
        "power/consumption": ("read_csv({f}, all_varchar=true, header=true)",
                              f"{uscc} AND try_cast(kwh AS DECIMAL(20,4)) >= 0"),
        "tax/filings": ("read_csv({f}, all_varchar=true, header=true)",
                        f"{uscc} AND try_cast(declared_amount AS DECIMAL(20,4)) >= 0"),
        "samr/complaints_12315": ("read_json({f}, format='newline_delimited', columns={{complaint_id: 'VARCHAR', "
                                  "uscc: 'VARCHAR', received_on: 'VARCHAR', category: 'VARCHAR'}})",
                                  f"{uscc} AND try_cast(received_on AS DATE) IS NOT NULL"),
    }
    start, rows = time.monotonic(), 0
    for name, (reader, good) in checks.items():
        files = sorted(p for p in (landing / name).glob("*/*") if p.suffix in (".csv", ".jsonl"))
        if not files:
            continue
        # Departments deliver in their declared encoding (tax: GB18030); DuckDB reads UTF-8 only without the
        # `encodings` extension, which this offline box cannot download: transcode first, inside the timing.
        readable = [_as_utf8(f, out / "_utf8" / name) for f in files]
        source = reader.format(f="[" + ", ".join(f"'{f}'" for f in readable) + "]")
        table = name.replace("/", "__")
        con.execute(f"CREATE OR REPLACE TABLE t AS SELECT *, ({good}) AS ok FROM {source}")
        rows += con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.execute(f"COPY (SELECT * EXCLUDE ok FROM t WHERE ok) TO '{out / table}.parquet' (FORMAT parquet)")
        con.execute(f"COPY (SELECT * FROM t WHERE NOT ok OR ok IS NULL) TO '{out / table}.bad.parquet' (FORMAT parquet)")
    return time.monotonic() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from creditlake.generate import generate_landing
    from creditlake.periods import month_range

    periods = month_range("2024-01", f"2024-{args.months:02d}")
    print(f"{'size':>7} {'rows':>9} | {'bronze s':>8} {'rows/s':>8} | {'silver s':>8} {'rows/s':>8} | "
          f"{'duckdb s':>8} {'rows/s':>9} | {'spark/duckdb':>12}", flush=True)
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"creditlake-bench-{size}-"))
        generate_landing(work / "landing", size, periods[0], periods[-1], seed=3, fault_rate=0.01, only=DATASETS)
        spark_runs, duck_runs = [], []
        for run in range(args.runs):
            home = work / f"home{run}"
            env = {**os.environ, "CREDITLAKE_HOME": str(home),
                   "CREDITLAKE_PSEUDONYM_KEY_FILE": str(work / "pseudonym.key")}
            res = subprocess.run([sys.executable, "-c", SPARK_RUN, str(work / "landing"), ",".join(periods)],
                                 env=env, capture_output=True, text=True)
            if res.returncode != 0:
                raise SystemExit(res.stderr[-2000:])
            spark_runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            out = work / f"duck{run}"
            out.mkdir()
            duck_runs.append(duckdb_reference(work / "landing", out))
        rows = spark_runs[0]["rows"]
        bronze = statistics.median(r["bronze_s"] for r in spark_runs)
        silver = statistics.median(r["silver_s"] for r in spark_runs)
        duck = statistics.median(d[0] for d in duck_runs)
        print(f"{size:>7} {rows:>9} | {bronze:8.1f} {rows / bronze:8.0f} | {silver:8.1f} {rows / silver:8.0f} | "
              f"{duck:8.2f} {rows / duck:9.0f} | {(bronze + silver) / duck:12.1f}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of a Spark driver process (Python side): {peak:.0f} MB")


if __name__ == "__main__":
    main()
