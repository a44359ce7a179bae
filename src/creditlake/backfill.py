"""`creditlake backfill`: a real Airflow backfill of the monthly DAG over a range of months, watched to the end.

The backfill is created in Airflow's metadata database (the runs appear in the UI under Browse > Backfills), one
DAG run per month in order, run by Airflow's scheduler with the LocalExecutor. Backfilling months that already
ran reprocesses them (reprocess behaviour "completed"); every stage replaces its own slice, so the gold tables
end identical (tests/test_backfill.py compares checksums).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from creditlake.orchestration import local_month
from creditlake.periods import month_range, parse_period
from creditlake.settings import Settings

DAG_ID = "creditlake_monthly"
FINISHED = ("success", "failed")


@dataclass
class MonthRun:
    month: str
    run_id: str | None
    state: str
    tasks_done: int
    tasks_total: int
    seconds: float | None
    note: str | None = None


def _month_start(month: str) -> datetime:
    import pendulum

    y, m = parse_period(month)
    return pendulum.datetime(y, m, 1, tz="Asia/Shanghai")


def create(settings: Settings, start: str, end: str, landing: Path | None = None,
           sources: list[str] | None = None) -> tuple[int, bool]:
    """Create the backfill in Airflow (the DAG serialized first); return its id and whether it was resumed.

    An unfinished backfill of the same months and parameters (its command or scheduler was killed) is resumed,
    not refused: the scheduler finishes its runs and resets the tasks the killed scheduler left running. An
    unfinished backfill of other months or parameters is refused with one line naming it."""
    from creditlake.airflow_runner import _airflow

    month_range(start, end)  # validates the months and their order
    _airflow("dags", "reserialize", settings=settings)
    # The scheduler queues no task of a paused DAG, backfill runs included. Unpaused, the DAG also gets its latest
    # scheduled month: a month without deliveries skips every task (plan finds no source) and ends successful.
    _airflow("dags", "unpause", DAG_ID, settings=settings)
    from airflow.models.backfill import AlreadyRunningBackfill, ReprocessBehavior, _create_backfill

    conf = {"landing": str(landing) if landing else None, "sources": sources or None}
    try:
        backfill = _create_backfill(
            dag_id=DAG_ID, from_date=_month_start(start), to_date=_month_start(end), max_active_runs=1,
            reverse=False, dag_run_conf=conf, triggering_user_name="creditlake",
            reprocess_behavior=ReprocessBehavior.COMPLETED,
        )
    except AlreadyRunningBackfill:
        running = unfinished()
        if running and running.from_date == _month_start(start) and running.to_date == _month_start(end) \
                and running.dag_run_conf == conf:
            _resume(running.id)
            return running.id, True
        what = (f"backfill {running.id} of {local_month(running.from_date)}..{local_month(running.to_date)}"
                if running else "another backfill")
        raise RuntimeError(f"{what} of {DAG_ID} is still running: wait for it to finish, rerun it with the same "
                           "months and options to resume it, or cancel it in the Airflow UI (Browse > Backfills)"
                           ) from None
    return backfill.id, False


def unfinished():
    """The backfill of the monthly DAG not completed yet, or None (Airflow allows one at a time per DAG)."""
    from sqlalchemy import select

    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.scalars(select(Backfill).where(Backfill.dag_id == DAG_ID, Backfill.completed_at.is_(None))
                                .order_by(Backfill.id.desc())).first()
        if found is not None:
            session.expunge(found)
        return found


def _resume(backfill_id: int) -> None:
    """Unpause a backfill (Ctrl-C or the UI may have paused it): the scheduler creates its remaining runs."""
    from sqlalchemy import update

    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    with create_session() as session:
        session.execute(update(Backfill).where(Backfill.id == backfill_id).values(is_paused=False))


def status(backfill_id: int) -> list[MonthRun]:
    """One entry per month of the backfill, from the metadata database."""
    from sqlalchemy import func, select

    from airflow.models.backfill import BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    out = []
    with create_session() as session:
        rows = session.execute(
            select(BackfillDagRun, DagRun).outerjoin(DagRun, DagRun.id == BackfillDagRun.dag_run_id)
            .where(BackfillDagRun.backfill_id == backfill_id).order_by(BackfillDagRun.sort_ordinal)).all()
        for link, run in rows:
            month = local_month(link.logical_date) if link.logical_date else "?"
            if run is None:
                out.append(MonthRun(month, None, "skipped", 0, 0, None, link.exception_reason))
                continue
            counts = dict(session.execute(
                select(TaskInstance.state, func.count()).where(TaskInstance.dag_id == run.dag_id,
                                                               TaskInstance.run_id == run.run_id)
                .group_by(TaskInstance.state)).all())
            done = sum(n for s, n in counts.items() if s in ("success", "skipped", "failed", "upstream_failed"))
            seconds = (run.end_date - run.start_date).total_seconds() if run.end_date and run.start_date else None
            out.append(MonthRun(month, run.run_id, str(run.state), done, sum(counts.values()), seconds))
    return out


def watch(backfill_id: int, on_change: Callable[[list[MonthRun]], None] | None = None, poll: float = 3.0,
          timeout: float = 6 * 3600) -> list[MonthRun]:
    """Poll until every month has finished (or was skipped); `on_change` sees each new state."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        runs = status(backfill_id)
        key = [(r.state, r.tasks_done, r.tasks_total) for r in runs]
        if key != last and on_change:
            on_change(runs)
        last = key
        if runs and all(r.state in (*FINISHED, "skipped") for r in runs):
            return runs
        if time.monotonic() > deadline:
            raise RuntimeError(f"backfill {backfill_id} did not finish in {timeout:.0f} s")
        time.sleep(poll)


def cancel(backfill_id: int) -> None:
    """Stop a backfill as Airflow's API does: pause it, fail its queued runs, mark it completed."""
    from sqlalchemy import select, update

    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState
    from airflow.utils.session import create_session

    with create_session() as session:
        b = session.scalars(select(Backfill).where(Backfill.id == backfill_id)).one_or_none()
        if b is None or b.completed_at is not None:
            return
        b.is_paused = True
        session.commit()
        session.execute(update(DagRun).where(
            DagRun.id.in_(select(BackfillDagRun.dag_run_id).where(BackfillDagRun.backfill_id == b.id)),
            DagRun.state == DagRunState.QUEUED).values(state=DagRunState.FAILED)
            .execution_options(synchronize_session=False))
        session.commit()
        session.refresh(b)
        b.completed_at = timezone.utcnow()
