"""Cluster entry point: run one pipeline stage (or all) against any Spark master, through the package's functions.

    CREDITLAKE_SPARK_MASTER=spark://127.0.0.1:7077 uv run python spark_jobs/run_stage.py silver \
        --start 2024-01 --end 2024-06

The driver runs in the repository's .venv; the session is the one `creditlake.spark.get_spark()` builds
(Delta and jars from the Ivy cache, the lake's catalog), so a cluster run executes the same code as local[2].
Under spark-submit, pass the coordinates of creditlake.jars.PACKAGES with --packages: the JVM then exists
before the builder's options are read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from creditlake import pipeline
from creditlake.periods import month_range
from creditlake.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=[*pipeline.STAGES, "all"])
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--landing", type=Path, default=None, help="landing folder (ingest/all)")
    args = parser.parse_args(argv)
    landing = args.landing or get_settings().landing
    periods = month_range(args.start, args.end)
    stages = {
        "ingest": lambda: pipeline.stage_ingest(landing, periods),
        "silver": lambda: pipeline.stage_silver(periods),
        "secret_query": lambda: pipeline.stage_secret_queries(periods),
        "quality": lambda: pipeline.stage_quality(periods),
        "gold": lambda: pipeline.stage_gold(recompute_from=periods[0]),
        "publish": lambda: pipeline.stage_publish(),
        "report": lambda: pipeline.stage_report(periods[-1]),
        "all": lambda: pipeline.run_all(landing, args.start, args.end),
    }
    print(json.dumps(stages[args.stage](), ensure_ascii=False, default=str, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
