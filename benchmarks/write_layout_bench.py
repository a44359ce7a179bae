"""Delta file layout: a month-partitioned table written with and without optimized writes, as bronze and silver are.

    uv run python benchmarks/write_layout_bench.py [--rows 200000 1000000] [--months 24] [--runs 3]

For each size, in one SparkSession (the lake's settings: local[2], shuffle partitions): write a table of `rows`
rows over `months` partitions from 4 input partitions (the shape of a multi-month silver write), replace one month
(`replaceWhere`, the shape of a monthly rerun), then read it back (a full aggregate and a one-month filter). Once
with `spark.databricks.delta.optimizeWrite.enabled=false`, once with `true`. DuckDB writes the same rows as
month-partitioned Parquet (COPY ... PARTITION_BY) as the reference. Prints medians of `--runs`, the files written
and the Spark/DuckDB ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def spark_case(spark, path: Path, rows: int, months: int, optimize: bool) -> dict:
    spark.conf.set("spark.databricks.delta.optimizeWrite.enabled", str(optimize).lower())
    df = spark.range(0, rows, numPartitions=4).selectExpr(
        "id", f"format_string('2023-%02d', cast(id % {months} as int) + 1) AS _period",
        "md5(cast(id AS string)) AS record_hash", "cast(id % 997 AS double) AS amount")
    shutil.rmtree(path, ignore_errors=True)
    t = time.monotonic()
    df.write.format("delta").mode("overwrite").partitionBy("_period").save(str(path))
    write_s = time.monotonic() - t
    t = time.monotonic()
    df.where("_period = '2023-01'").write.format("delta").mode("overwrite") \
        .option("replaceWhere", "_period = '2023-01'").save(str(path))
    replace_s = time.monotonic() - t
    t = time.monotonic()
    table = spark.read.format("delta").load(str(path))
    table.groupBy("_period").agg({"amount": "sum"}).collect()
    table.where("_period = '2023-02'").agg({"amount": "sum"}).collect()
    read_s = time.monotonic() - t
    files = sum(1 for _ in path.rglob("*.parquet"))
    live = len(spark.read.format("delta").load(str(path)).inputFiles())
    return {"write_s": write_s, "replace_s": replace_s, "read_s": read_s, "files": files, "live_files": live}


def duckdb_case(path: Path, rows: int, months: int) -> float:
    import duckdb

    shutil.rmtree(path, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    t = time.monotonic()
    con.execute(f"""COPY (SELECT id, printf('2023-%02d', CAST(id % {months} AS INT) + 1) AS _period,
                                md5(CAST(id AS VARCHAR)) AS record_hash, CAST(id % 997 AS DOUBLE) AS amount
                         FROM range({rows}) t(id))
                    TO '{path}' (FORMAT parquet, PARTITION_BY (_period))""")
    return time.monotonic() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="creditlake-layout-bench-"))
    os.environ.setdefault("CREDITLAKE_HOME", str(work / "home"))
    from creditlake.settings import get_settings
    from creditlake.spark import get_spark

    spark = get_spark(get_settings())
    print(f"{'rows':>9} {'optimized':>9} | {'write s':>7} {'replace s':>9} {'read s':>6} | {'files':>5} "
          f"{'live':>5} | {'duckdb s':>8} {'write/duckdb':>12}", flush=True)
    for rows in args.rows:
        duck = statistics.median(duckdb_case(work / "duck", rows, args.months) for _ in range(args.runs))
        for optimize in (False, True):
            runs = [spark_case(spark, work / f"t-{optimize}", rows, args.months, optimize) for _ in range(args.runs)]
            m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{rows:>9,} {str(optimize):>9} | {m['write_s']:>7.1f} {m['replace_s']:>9.1f} {m['read_s']:>6.1f} | "
                  f"{m['files']:>5.0f} {m['live_files']:>5.0f} | {duck:>8.2f} {m['write_s'] / duck:>12.1f}", flush=True)
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
