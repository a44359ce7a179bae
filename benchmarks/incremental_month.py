"""One new month on a lake that holds the months before it: seconds and Spark jobs per stage, and the jobs by kind.

    uv run python benchmarks/incremental_month.py --enterprises 3000 --start 2023-01 --end 2024-12
    uv run python benchmarks/incremental_month.py --enterprises 3000 --start 2023-01 --end 2024-12 --repeat 3

`pipeline_bench.py` gives the incremental month's total against the full run; this script says where it goes.
It generates a landing zone of every dataset and builds a lake of every month but the last (both once, kept under
`--work`, reused by the next invocation with the same arguments), then, `--repeat` times, copies that lake and runs
bronze, silver, quality and gold of the last month on the copy in one fresh process with one SparkSession, as
`creditlake run` does. Each Spark job is named by its description (Delta names its own: "Delta: Compute snapshot
for version: N"; the others by call site: "collect at silver.py"), read from the Spark UI's REST API while the run
goes (the UI keeps only the latest jobs). Prints, per stage, the median seconds, the jobs, and the kinds of job
that cost most (count and summed seconds). Progress goes to stderr; `--json` saves everything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from pipeline_bench import progress, spark_process

STAGES = ("bronze", "silver", "quality", "gold")

# The lake before the last month, built once: every stage of months[:-1], untimed.
BASE_RUN = r"""
from pathlib import Path
from creditlake import pipeline
from creditlake.periods import month_range
from creditlake.settings import get_settings
landing, start, end = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = get_settings()
before = month_range(start, end)[:-1]
pipeline.stage_ingest(landing, before, settings=settings)
pipeline.stage_silver(before, settings=settings)
pipeline.stage_quality(before, settings=settings)
pipeline.stage_gold(settings)
"""

# The last month, stage by stage, with every job's description, start and end polled from the UI's REST API.
MONTH_RUN = r"""
import json, re, sys, threading, time, urllib.request
from datetime import datetime
from pathlib import Path
from creditlake import pipeline
from creditlake.settings import get_settings
from creditlake.spark import get_spark
landing, month, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
settings = get_settings()
spark = get_spark(settings)
sc = spark.sparkContext
url = sc.uiWebUrl.rstrip("/") + f"/api/v1/applications/{sc.applicationId}/jobs"
seen, stop = {}, threading.Event()

def poll():
    try:
        for j in json.load(urllib.request.urlopen(url, timeout=10)):
            seen[j["jobId"]] = (j.get("description") or j.get("name") or "", j.get("submissionTime"),
                                j.get("completionTime"))
    except OSError:
        pass

def poller():
    while not stop.wait(2.0):
        poll()

threading.Thread(target=poller, daemon=True).start()

def kind(text):
    first = text.split("\n")[0].split("<br/>")[0]
    first = re.sub(r"\S*/([^/\s]+\.(py|scala|java)):\d+", r"\1", first)  # a call site: file name, no line
    return re.sub(r"\d+", "N", first)[:90]

def when(stamp):
    return datetime.strptime(stamp.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()

runs = {"bronze": lambda: pipeline.stage_ingest(landing, [month], settings=settings),
        "silver": lambda: pipeline.stage_silver([month], settings=settings),
        "quality": lambda: pipeline.stage_quality([month], settings=settings),
        "gold": lambda: pipeline.stage_gold(settings, recompute_from=month)}
figures, bounds = {}, []
for stage, run in runs.items():
    started = time.time()
    run()
    bounds.append((stage, started, time.time()))
    figures[stage] = {"seconds": bounds[-1][2] - started}
    print(f"      {stage:<8} {figures[stage]['seconds']:7.1f} s", file=sys.stderr, flush=True)
stop.set()
poll()
for stage, start, end in bounds:
    kinds = {}
    for text, submitted, completed in seen.values():
        t = when(submitted) if submitted else None
        if t is not None and start <= t <= end:
            k = kinds.setdefault(kind(text), [0, 0.0])
            k[0] += 1
            k[1] += (when(completed) - t) if completed else 0.0
    figures[stage]["jobs"] = sum(n for n, _ in kinds.values())
    figures[stage]["kinds"] = kinds
out.write_text(json.dumps(figures))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=3000, help="enterprises in the landing zone")
    parser.add_argument("--start", default="2023-01", help="first month (YYYY-MM)")
    parser.add_argument("--end", default="2024-12", help="the new month (YYYY-MM); the lake holds the ones before")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the month (each on a fresh copy)")
    parser.add_argument("--kinds", type=int, default=8, help="kinds of job listed per stage")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the landing zone and the base lake are kept (default: /tmp/creditlake-incremental-"
                             "<enterprises>-<start>-<end>)")
    parser.add_argument("--json", type=Path, default=None, help="save the figures of every run here")
    args = parser.parse_args(argv)
    from creditlake.generate import generate_landing
    from creditlake.periods import month_range

    months = month_range(args.start, args.end)
    if len(months) < 2:
        parser.error("--start..--end must span two months at least: the lake holds the ones before the last")
    work = args.work or Path(f"/tmp/creditlake-incremental-{args.enterprises}-{args.start}-{args.end}")
    landing, base, key = work / "landing", work / "base", work / "pseudonym.key"
    work.mkdir(parents=True, exist_ok=True)
    if not (landing / ".complete").is_file():
        progress(f"generating {args.enterprises:,} enterprises x {len(months)} months into {landing}")
        shutil.rmtree(landing, ignore_errors=True)
        generate_landing(landing, args.enterprises, args.start, args.end, seed=11, fault_rate=0.01)
        (landing / ".complete").write_text("")
    if not (base / ".complete").is_file():
        progress(f"building the lake of {months[0]}..{months[-2]} in {base} (once)")
        shutil.rmtree(base, ignore_errors=True)
        spark_process(BASE_RUN, [str(landing), args.start, args.end], base, key, "base lake")
        (base / ".complete").write_text("")
    runs = []
    for i in range(args.repeat):
        progress(f"month {months[-1]}, run {i + 1}/{args.repeat}")
        home, out = work / "run", work / "run.json"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base, home, symlinks=True)
        started = time.monotonic()
        spark_process(MONTH_RUN, [str(landing), months[-1], str(out)], home, key, "month")
        runs.append(json.loads(out.read_text()))
        progress(f"      run {i + 1}: {time.monotonic() - started:.1f} s with the session's start")
    print(f"\nOne new month ({months[-1]}) on a {len(months) - 1}-month lake of {args.enterprises:,} enterprises, "
          f"median of {len(runs)} run(s); jobs and their kinds from the last run\n")
    print(f"| stage | s | Spark jobs | kinds of job (count, summed s) |\n|---|---:|---:|---|")
    total = 0.0
    for stage in STAGES:
        seconds = statistics.median(r[stage]["seconds"] for r in runs)
        total += seconds
        last = runs[-1][stage]
        top = sorted(last["kinds"].items(), key=lambda kv: -kv[1][1])[:args.kinds]
        listed = "; ".join(f"{name} ({n}, {s:.0f} s)" for name, (n, s) in top)
        print(f"| {stage} | {seconds:.1f} | {last['jobs']:,} | {listed} |")
    print(f"| **month** | **{total:.1f}** | {sum(runs[-1][s]['jobs'] for s in STAGES):,} | |")
    if args.json:
        args.json.write_text(json.dumps({"enterprises": args.enterprises, "months": months, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
