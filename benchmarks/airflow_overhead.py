"""What a backfill costs per month through Airflow, and how much of each task is Airflow rather than the work.

    uv run python benchmarks/airflow_overhead.py                        # demo size: 500 enterprises, 2024-01..03
    uv run python benchmarks/airflow_overhead.py --enterprises 1000 --start 2024-01 --end 2024-06 --json out.json
    uv run python benchmarks/airflow_overhead.py --in-process       # each task starts its own Spark (the before)

Generates the demo's landing zone (the datasets the gold models read, at the demo's seed and fault rate) in a fresh
CREDITLAKE_HOME, runs `creditlake backfill --start --end` (a real Airflow backfill: scheduler, DAG processor,
LocalExecutor, the metadata database under the home), then reads back, for every task instance of the backfill's
runs, Airflow's own record (queued, started, ended) and the stage's own time, which every `creditlake.pipeline`
stage appends to home/logs/stages.jsonl with the run and task it ran in. Per task:

- task s: Airflow's duration of the task instance (start to end, as the UI shows it);
- work s: the pipeline function the task calls, timed inside the task process; of which Spark start s is the
  process's SparkSession start, paid once per task process: a client of the home's Spark service (which
  `backfill` starts), or with `--in-process` a JVM with the jars and the lake's tables registered in it;
- Airflow overhead s: task s minus work s, split into before the work (the task runner parsing the DAG file,
  rendering, the context) and after it (XCom push, callbacks, the state update);
- queue s: queued to started (the executor picking the task up and the supervisor starting the task process);
- gap s: the task queued after its upstream task ended (the scheduler noticing and queueing it).

Per month: the run's wall time (first task queued to last task ended) and the sums. Figures are medians over
the months (and over a mapped task's instances). Progress goes to stderr, tables to stdout. `--from-home` reads
the figures back from a home kept by an earlier run (`--keep`) without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


IN_PROCESS = False  # --in-process: no Spark service, each task starts its own Spark


def creditlake(home: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "CREDITLAKE_HOME": str(home), "CREDITLAKE_SPARK_SERVICE": str(not IN_PROCESS).lower()}
    return subprocess.run([sys.executable, "-m", "creditlake.cli", *args], env=env, check=True, text=True,
                          stdout=subprocess.PIPE if capture else sys.stderr, stderr=sys.stderr)


def task_instances(home: Path) -> list[dict]:
    """Every task instance of the monthly DAG's backfill runs, from Airflow's metadata database."""
    os.environ["CREDITLAKE_HOME"] = str(home)
    from creditlake.airflow_runner import apply_env
    from creditlake.settings import get_settings

    apply_env(get_settings())
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(DagRun.run_id, DagRun.logical_date, TaskInstance.task_id, TaskInstance.rendered_map_index,
                   TaskInstance.state, TaskInstance.try_number, TaskInstance.queued_dttm, TaskInstance.start_date,
                   TaskInstance.end_date, TaskInstance.duration)
            .join(TaskInstance, (TaskInstance.run_id == DagRun.run_id) & (TaskInstance.dag_id == DagRun.dag_id))
            .where(DagRun.dag_id == "creditlake_monthly", DagRun.run_type == "backfill")).all()
    return [r._asdict() for r in rows]


def stage_records(home: Path) -> list[dict]:
    path = home / "logs" / "stages.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def join(tis: list[dict], stages: list[dict]) -> list[dict]:
    """Each task instance with the stage call it wrapped (same run, task and, for the mapped ingest, source)."""
    from creditlake.orchestration import local_month

    from datetime import datetime, timedelta

    out = []
    for ti in tis:
        calls = [s for s in stages if s["dag_run_id"] == ti["run_id"] and s["task_id"] == ti["task_id"]
                 and (ti["task_id"] != "ingest" or (s["sources"] or [None])[0] == ti["rendered_map_index"])]
        call = calls[-1] if calls else None  # a retried task: its last try is the one Airflow's row describes
        task_s = ti["duration"]
        work_s = call["seconds"] if call else None
        pre_s = post_s = None
        if call and ti["start_date"] and ti["end_date"]:
            work_start = datetime.fromisoformat(call["started"])
            pre_s = (work_start - ti["start_date"]).total_seconds()
            post_s = (ti["end_date"] - (work_start + timedelta(seconds=work_s))).total_seconds()
        out.append({
            "month": local_month(ti["logical_date"]), "task": ti["task_id"], "source": ti["rendered_map_index"],
            "state": str(ti["state"]), "try": ti["try_number"], "task_s": task_s, "work_s": work_s,
            "spark_start_s": call["spark_start_s"] if call else None,
            "overhead_s": task_s - work_s if task_s is not None and work_s is not None else None,
            "pre_s": pre_s, "post_s": post_s,
            "queue_s": (ti["start_date"] - ti["queued_dttm"]).total_seconds()
            if ti["start_date"] and ti["queued_dttm"] else None,

            "queued": ti["queued_dttm"], "start": ti["start_date"], "end": ti["end_date"],
            "work_start": datetime.fromisoformat(call["started"]) if call else None,
        })
    return out


def med(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


UPSTREAM = {"ingest": "plan", "silver": "ingest", "secret_query": "silver", "quality": "secret_query",
            "gold.staging": "quality", "gold.facts": "gold.staging", "gold.intermediate": "gold.facts",
            "gold.marts": "gold.intermediate", "publish": "gold.marts", "report": "publish", "dashboards": "publish"}


def gaps(rows: list[dict], task: str) -> list[float]:
    """Per month: the task's first instance queued after its upstream task's last instance ended."""
    out = []
    for month in sorted({r["month"] for r in rows}):
        mine = [r["queued"] for r in rows if r["month"] == month and r["task"] == task and r["queued"]]
        ups = [r["end"] for r in rows if r["month"] == month and r["task"] == UPSTREAM.get(task) and r["end"]]
        if mine and ups:
            out.append((min(mine) - max(ups)).total_seconds())
    return out


def busy_seconds(rows: list[dict]) -> float:
    """Length of the union of the work intervals: the time some stage function was running."""
    from datetime import timedelta

    spans = sorted((r["work_start"], r["work_start"] + timedelta(seconds=r["work_s"]))
                   for r in rows if r["work_start"] is not None)
    total, current = 0.0, None
    for start, end in spans:
        if current and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current:
            total += (current[1] - current[0]).total_seconds()
        current = (start, end)
    return total + ((current[1] - current[0]).total_seconds() if current else 0.0)


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table: the first column left-aligned, the figures right-aligned."""
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def report(rows: list[dict], backfill_s: float, months: list[str]) -> dict:
    order = ["plan", *UPSTREAM]
    per_task = {}
    for task in order:
        mine = [r for r in rows if r["task"] == task]
        if mine:
            per_task[task] = {k: med(r[k] for r in mine) for k in ("task_s", "work_s", "spark_start_s", "overhead_s",
                                                                 "pre_s", "post_s", "queue_s")}
            per_task[task].update(gap_s=med(gaps(rows, task)), instances=len(mine))
    print("\n## Per task (median over months; ingest: over every source's instance)\n")
    print_table(["task", "instances", "task s", "work s", "of which Spark start s", "Airflow overhead s",
                 "before work s", "after work s", "queue s", "gap s"],
                [[task, str(f["instances"]), fmt(f["task_s"]), fmt(f["work_s"]), fmt(f["spark_start_s"]),
                  *(fmt(f[k], 2) for k in ("overhead_s", "pre_s", "post_s", "queue_s", "gap_s"))]
                 for task, f in per_task.items()])
    overheads = [r["overhead_s"] for r in rows if r["overhead_s"] is not None]
    print(f"\nAirflow overhead per task, all {len(overheads)} task instances with a stage record: median "
          f"{fmt(med(overheads), 2)} s, min {fmt(min(overheads, default=None), 2)} s, "
          f"max {fmt(max(overheads, default=None), 2)} s")
    chain = [(r["overhead_s"] or 0) + (r["queue_s"] or 0) + (per_task[r["task"]]["gap_s"] or 0)
             for r in rows if r["overhead_s"] is not None and r["task"] != "ingest"]
    print(f"Tasks of the chain after ingest, with the queue and the scheduler's gap before each: median "
          f"{fmt(med(chain), 2)} s per task")

    per_month = {}
    for month in months:
        mine = [r for r in rows if r["month"] == month]
        if mine:
            wall = (max(r["end"] for r in mine if r["end"]) - min(r["queued"] for r in mine if r["queued"])
                    ).total_seconds()
            sums = {k: sum(r[k] or 0 for r in mine) for k in ("task_s", "work_s", "spark_start_s", "overhead_s")}
            per_month[month] = {"tasks": len(mine), "wall_s": wall, "idle_s": wall - busy_seconds(mine), **sums}
    print("\n## Per month\n")
    print_table(["month", "tasks", "wall s (first queued to last ended)", "Σ task s", "Σ work s", "Σ Spark start s",
                 "Σ Airflow overhead s", "no stage working s"],
                [[month, str(m["tasks"]), *(fmt(m[k]) for k in ("wall_s", "task_s", "work_s", "spark_start_s",
                                                                 "overhead_s", "idle_s"))]
                 for month, m in per_month.items()])
    walls = [m["wall_s"] for m in per_month.values()]
    print(f"\nBackfill of {len(months)} months: {backfill_s:,.1f} s for the command (services start included); "
          f"median per month {fmt(med(walls))} s (min {fmt(min(walls, default=None))}, "
          f"max {fmt(max(walls, default=None))})")
    return {"per_task": per_task, "per_month": per_month, "backfill_s": backfill_s,
            "median_month_s": med(walls), "median_overhead_s": med(overheads)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=500, help="enterprises (default 500, the demo's)")
    parser.add_argument("--start", default="2024-01", help="first month (default 2024-01)")
    parser.add_argument("--end", default="2024-03", help="last month (default 2024-03)")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the home (lake, Airflow DB, logs)")
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    parser.add_argument("--in-process", action="store_true",
                        help="every task starts its own Spark (CREDITLAKE_SPARK_SERVICE=false): the cost the "
                             "service removes")
    parser.add_argument("--from-home", type=Path, default=None,
                        help="only read the figures of a home kept by an earlier run (--keep): no new run")
    args = parser.parse_args()
    global IN_PROCESS  # noqa: PLW0603  (read by creditlake())
    IN_PROCESS = args.in_process

    from creditlake.periods import month_range
    from creditlake.pipeline import AT_SOURCE_INPUTS, GOLD_INPUTS

    months = month_range(args.start, args.end)
    if args.from_home:
        rows = join(task_instances(args.from_home), stage_records(args.from_home))
        print(f"# Airflow overhead (read back from {args.from_home})")
        report(rows, float("nan"), months)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="airflow-overhead-"))
    home = work / "home"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    try:
        note(f"generating {args.enterprises} enterprises, {args.start}..{args.end} -> {home / 'landing'}")
        only = [arg for name in (*GOLD_INPUTS, *AT_SOURCE_INPUTS) for arg in ("--only", name)]
        creditlake(home, "generate", "--landing", str(home / "landing"), "--enterprises", str(args.enterprises),
                   "--start", args.start, "--end", args.end, "--seed", "42", "--fault-rate", "0.005", *only,
                   capture=True)
        note(f"creditlake backfill --start {args.start} --end {args.end} (Airflow services start on demand)")
        started = time.monotonic()
        try:
            creditlake(home, "backfill", "--start", args.start, "--end", args.end, "--landing", str(home / "landing"))
        finally:
            backfill_s = time.monotonic() - started
            creditlake(home, "airflow", "stop")
            creditlake(home, "spark", "stop")  # `backfill` started the home's Spark service
        rows = join(task_instances(home), stage_records(home))
        print(f"# Airflow overhead: {args.enterprises} enterprises, {args.start}..{args.end}, "
              f"Spark {'in each task process' if IN_PROCESS else 'service'}, "
              f"parallelism {os.environ.get('CREDITLAKE_AIRFLOW_PARALLELISM', '2 (default)')}")
        figures = report(rows, backfill_s, months)
        if args.json:
            args.json.write_text(json.dumps({"args": vars(args), **figures, "rows": rows}, default=str, indent=1))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
