"""The pipeline's stages, in order; `creditlake run` calls them in-process and each Airflow task calls one."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from creditlake.catalogue import default_catalogue
from creditlake.periods import month_range
from creditlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

STAGES = ("ingest", "silver", "quality", "gold", "publish", "report")


def stage_ingest(landing: Path, periods: list[str], sources: list[str] | None = None,
                 settings: Settings | None = None) -> list[dict]:
    """Landing -> bronze for the given months (and sources)."""
    from creditlake.ingest.run import as_dicts, ingest_bronze
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    if not Path(landing).is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    return as_dicts(ingest_bronze(get_spark(settings), settings, default_catalogue(), Path(landing), periods, sources))


def stage_silver(periods: list[str], sources: list[str] | None = None, settings: Settings | None = None) -> list[dict]:
    """Bronze -> silver with quarantine, then the accounting of every delivery."""
    from creditlake.conform.enterprises import build_enterprise_history
    from creditlake.conform.reference import write_reference_tables
    from creditlake.conform.silver import build_silver
    from creditlake.quality.accounting import build_accounting
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    spark = get_spark(settings)
    write_reference_tables(spark, settings)
    results = build_silver(spark, settings, default_catalogue(), periods, sources)
    build_enterprise_history(spark, settings)
    build_accounting(spark, settings, default_catalogue())
    return [asdict(r) for r in results]


def stage_quality(periods: list[str], settings: Settings | None = None) -> list[dict]:
    """Great Expectations suites on the silver months just built; raises QualityError on a failure."""
    from creditlake.quality.expectations import check_silver
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    return [asdict(r) for r in check_silver(get_spark(settings), settings, default_catalogue(), periods)]


def stage_gold(settings: Settings | None = None) -> dict:
    """dbt build: staging, intermediate and marts on Delta, with every model's tests."""
    from creditlake.dbt import run_dbt
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    return asdict(run_dbt(get_spark(settings), settings, "build"))


def stage_publish(settings: Settings | None = None) -> dict:
    """Gold -> serving store (atomic swap)."""
    from creditlake.serve.publish import publish
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    return publish(get_spark(settings), settings)


def stage_report(month: str, settings: Settings | None = None) -> str:
    """The policy makers' monthly PDF for `month`, from the serving store."""
    from creditlake.report.monthly import render_monthly_report

    settings = settings or get_settings()
    return str(render_monthly_report(settings, month))


def run_all(landing: Path, start: str, end: str, settings: Settings | None = None, on_stage=None) -> dict:
    """Every stage in order for the months [start, end]; the report is for `end`."""
    settings = settings or get_settings()
    periods = month_range(start, end)
    steps = [
        ("ingest", lambda: stage_ingest(landing, periods, settings=settings)),
        ("silver", lambda: stage_silver(periods, settings=settings)),
        ("quality", lambda: stage_quality(periods, settings=settings)),
        ("gold", lambda: stage_gold(settings)),
        ("publish", lambda: stage_publish(settings)),
        ("report", lambda: stage_report(end, settings)),
    ]
    summary = {}
    for name, step in steps:
        if on_stage:
            on_stage(name)
        summary[name] = step()
        log.info("stage %s done", name)
    return summary
