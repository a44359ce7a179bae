"""What a DAG run works on: its months from the run's params or its data interval (kept out of the DAG files)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from creditlake.periods import month_range
from creditlake.settings import get_settings

LAKE_TZ = "Asia/Shanghai"
# Airflow Assets the DAGs share: a finished upstream task updates one, and DAGs scheduled on it run.
SILVER_ASSET, GOLD_ASSET, SERVING_ASSET = "creditlake://silver", "creditlake://gold", "creditlake://serving"


def default_args() -> dict:
    """Every task's defaults, in every DAG: owner, retries with exponential back-off, a timeout and the failure
    callback that records why."""
    return {
        "owner": "creditlake",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": [record_failure],
    }


def run_window(params: dict, data_interval_start: datetime | None) -> tuple[Path, list[str]]:
    """(landing folder, months) for a run: params `start`/`end` win; else the month of the data interval."""
    landing = Path(params.get("landing") or get_settings().landing)
    start, end = params.get("start"), params.get("end")
    if not (start and end):
        if data_interval_start is None:
            raise ValueError("a run needs params start and end, or a data interval")
        start = end = local_month(data_interval_start)
    return landing, month_range(start, end)


def local_month(moment: datetime) -> str:
    """YYYY-MM of `moment` in the lake's time zone: Airflow hands intervals in UTC, and 1 February 00:00 in
    Guiyang is still 31 January in UTC."""
    import pendulum

    local = pendulum.instance(moment).in_timezone(LAKE_TZ)
    return f"{local.year:04d}-{local.month:02d}"


def sources_delivered(landing: Path, periods: list[str], only: list[str] | None = None) -> list[str]:
    """The catalogued sources with at least one delivery in `periods` (what the DAG maps ingestion over)."""
    from creditlake.catalogue import default_catalogue
    from creditlake.ingest.landing import find_deliveries

    found = sorted({d.source for d in find_deliveries(landing, default_catalogue(), periods)})
    return [s for s in found if not only or s in only]


def _append_log_line(name: str, record: dict) -> None:
    """One JSON line, stamped with the time, appended to home/logs/<name>."""
    import json
    from datetime import datetime, timezone

    settings = get_settings()
    settings.logs.mkdir(parents=True, exist_ok=True)
    with (settings.logs / name).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"time": datetime.now(timezone.utc).isoformat(), **record},
                            ensure_ascii=False, default=str) + "\n")


def record_failure(context) -> None:
    """Airflow failure callback: one JSON line per failed task (what, when, why) in home/logs/failures.jsonl."""
    ti = context.get("task_instance")
    _append_log_line("failures.jsonl", {
        "dag_id": getattr(ti, "dag_id", None), "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None), "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None), "error": str(context.get("exception"))[:2000]})


def record_deadline_missed(context: dict | None = None, **kwargs) -> None:
    """Airflow deadline-alert callback (run by the executor): one JSON line per run still going at its deadline,
    in home/logs/deadlines.jsonl, so the engineer on duty sees which month is late and since when."""
    context = context or {}
    run = context.get("dag_run") or {}
    _append_log_line("deadlines.jsonl", {
        "dag_id": run.get("dag_id"), "run_id": run.get("dag_run_id") or run.get("run_id"),
        "run_type": run.get("run_type"), "queued_at": run.get("queued_at"), "state": run.get("state"),
        "deadline": str((context.get("deadline") or {}).get("deadline_time")), "conf": run.get("conf")})
