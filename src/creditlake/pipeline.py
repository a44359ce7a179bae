"""The pipeline's stages, in order; `creditlake run` calls them in-process and each Airflow task calls one."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from creditlake.catalogue import default_catalogue
from creditlake.periods import month_range
from creditlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

STAGES = ("ingest", "silver", "secret_query", "quality", "gold", "publish", "report", "dashboards")

# The datasets the gold models read (dbt_project/models/staging): what the demo and the tests generate and run.
# `creditlake run` without --datasets takes every catalogued dataset it finds in the landing zone.
GOLD_INPUTS: tuple[str, ...] = (
    "samr/registrations", "samr/annual_reports", "samr/abnormal_list", "samr/inspections", "samr/complaints_12315",
    "samr/penalties", "samr/licences", "samr/mediation_cases", "post/returned_mail", "power/consumption",
    "water/accounts", "water/consumption", "gas/accounts", "gas/consumption", "bank/accounts",
    "bank/monthly_activity", "tax/filings", "tax/non_filing", "tax/invoices", "hrss/social_insurance",
    "court/judgments", "court/dishonest_debtors", "credit/red_black_list", "finance/subsidies",
    "procurement/bids_won", "housing/qualifications", "sci/high_tech_certificates", "ndrc/project_filings",
)

# Datasets kept at their source that gold asks about (creditlake.at_source): generated for the demo beside the
# landing zone, in the department's folder; never ingested.
AT_SOURCE_INPUTS: tuple[str, ...] = ("pboc/loan_defaults",)

STAGE_LOG = "stages.jsonl"  # home/logs/stages.jsonl: one line per stage call (benchmarks/airflow_overhead.py)


def timed_stage(fn):
    """Log a stage's own time and append it to home/logs/stages.jsonl: when, how long, how much of it was starting
    Spark, and (inside an Airflow task) the run and task, so Airflow's time per task can be set against the work."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        from creditlake import spark as spark_session

        bound = signature.bind_partial(*args, **kwargs).arguments
        settings = bound.get("settings") or get_settings()
        had_spark = spark_session.session_start_seconds is not None
        started_at, started, ok = datetime.now(timezone.utc), time.monotonic(), False
        try:
            result = fn(*args, **kwargs)
            ok = True
            return result
        finally:
            seconds = time.monotonic() - started
            spark_start = None if had_spark else spark_session.session_start_seconds
            log.info("stage %s: %.1f s%s", fn.__name__, seconds,
                     f" (Spark start {spark_start:.1f} s)" if spark_start is not None else "")
            record = {"stage": fn.__name__, "started": started_at.isoformat(), "seconds": round(seconds, 3),
                      "spark_start_s": None if spark_start is None else round(spark_start, 3), "ok": ok,
                      "pid": os.getpid(), "sources": bound.get("sources"), "layer": bound.get("layer"),
                      "dag_run_id": os.environ.get("AIRFLOW_CTX_DAG_RUN_ID"),
                      "task_id": os.environ.get("AIRFLOW_CTX_TASK_ID")}
            settings.logs.mkdir(parents=True, exist_ok=True)
            with (settings.logs / STAGE_LOG).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    return run


@timed_stage
def stage_ingest(landing: Path, periods: list[str], sources: list[str] | None = None,
                 settings: Settings | None = None, datasets: list[str] | None = None, on_dataset=None) -> list[dict]:
    """Landing -> bronze for the given months (and sources or source/dataset names); each delivery loaded is
    recorded in the ledger with its checksum."""
    from creditlake.ingest.run import as_dicts, ingest_bronze
    from creditlake.ledger import append_events
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    if not Path(landing).is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    results = ingest_bronze(get_spark(settings), settings, default_catalogue(), Path(landing), periods, sources,
                            datasets, on_dataset)
    append_events([("delivery_ingested", {
        **dict(zip(("source", "dataset", "period"), r.delivery.split("/"))),
        "delivery_id": r.delivery_id, "sha256": r.delivery_id, "rows": r.landed,
    }) for r in results if r.status == "loaded"], settings)
    return as_dicts(results)


@timed_stage
def stage_silver(periods: list[str], sources: list[str] | None = None, settings: Settings | None = None,
                 datasets: list[str] | None = None, on_dataset=None) -> list[dict]:
    """Bronze -> silver with quarantine, then the accounting of every delivery of the months."""
    from creditlake.conform.enterprises import build_enterprise_history
    from creditlake.conform.reference import write_reference_tables
    from creditlake.conform.silver import build_silver
    from creditlake.quality.accounting import build_accounting
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    spark = get_spark(settings)
    write_reference_tables(spark, settings)
    results = build_silver(spark, settings, default_catalogue(), periods, sources, datasets, on_dataset)
    build_enterprise_history(spark, settings)
    build_accounting(spark, settings, periods)
    return [asdict(r) for r in results]


def release_delivery(delivery: str, landing: Path | None = None, settings: Settings | None = None) -> dict:
    """Re-ingest a rejected delivery once its department has re-sent it: check the landing folder against the
    contract again, then land it in bronze and silver (which drops its quarantine folder) and account for it.

    `delivery` is "source/dataset/YYYY-MM"; `landing` the landing zone's root (default: where it was rejected
    from). A delivery still breaking the contract raises ValueError with the reason; nothing is written."""
    from creditlake.ingest.landing import Delivery, DeliveryRejected, check_delivery
    from creditlake.ingest.quarantine import read_record

    settings = settings or get_settings()
    parts = delivery.strip("/").split("/")
    if len(parts) != 3:
        raise ValueError(f"交付应写作 来源/数据集/YYYY-MM，而不是 {delivery!r}")
    source, code, period = parts
    dataset = default_catalogue().dataset(source, code)
    month_range(period, period)
    record = read_record(settings, source, code, period)
    if landing is None:
        if record is None:
            raise ValueError(f"{delivery} 不在隔离区（没有被拒收的记录）；请用 --landing 指明落地区")
        landing = Path(record["landing"]).parents[2]
    folder = Path(landing) / source / code / period
    if not folder.is_dir():
        raise FileNotFoundError(f"落地区没有 {folder}：部门尚未重新报送")
    try:
        check_delivery(Delivery(source, code, period, folder), dataset)
    except DeliveryRejected as exc:
        raise ValueError(f"{delivery} 仍不符合落地契约，未放行：{exc}") from None
    from creditlake.conform.silver import ENTERPRISE_SPINE

    name = f"{source}/{code}"
    bronze = stage_ingest(Path(landing), [period], settings=settings, datasets=[name])
    # The spine released: the month's rows of every dataset that links to it are checked against it again.
    silver = stage_silver([period], settings=settings,
                          datasets=None if (source, code) == ENTERPRISE_SPINE else [name])
    return {"delivery": delivery, "was_rejected": record is not None, "bronze": bronze, "silver": silver}


@timed_stage
def stage_secret_queries(periods: list[str], settings: Settings | None = None, sources: list[str] | None = None,
                         purpose: str | None = None) -> list[dict]:
    """Ask every dataset kept at its source (residency: at_source) about the months: a question of keyed
    pseudonyms of the enterprises in silver, derived flags back into silver, both hashes in the ledger
    (docs/secret-queries.md). A month the department holds no data for is skipped, and said so."""
    from creditlake.at_source.query import DEFAULT_PURPOSE, ask, at_source_datasets
    from creditlake.at_source.responder import NoDataHeld
    from creditlake.lake import read_table
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    asked = [(source, dataset) for source, dataset in at_source_datasets(default_catalogue())
             if not sources or source in sources]
    if not asked:  # e.g. a backfill of --sources samr: nothing to ask, no Spark to start
        return []
    spark = get_spark(settings)
    if read_table(spark, "silver", "samr__registrations", settings) is None:
        log.warning("secret queries skipped: no enterprises in silver.samr__registrations yet")
        return []
    out = []
    for source, dataset in asked:
        for month in periods:
            try:
                out.append({"status": "answered", **ask(spark, settings, source, dataset, month,
                                                        purpose or DEFAULT_PURPOSE)})
            except NoDataHeld as exc:
                log.warning("secret query skipped: %s", exc)
                out.append({"status": "no_data", "source": source, "dataset": dataset, "month": month,
                            "reason": str(exc)})
    return out


@timed_stage
def stage_quality(periods: list[str], settings: Settings | None = None,
                  sources: list[str] | None = None) -> list[dict]:
    """Great Expectations suites on the silver months just built; raises QualityError on a failure."""
    from creditlake.quality.expectations import check_silver
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    return [asdict(r) for r in check_silver(get_spark(settings), settings, default_catalogue(), periods, sources)]


@timed_stage
def stage_gold(settings: Settings | None = None, recompute_from: str | None = None, layer: str | None = None) -> dict:
    """dbt build: seeds, staging, silver facts, intermediate and marts on Delta, with every model's tests; or only
    one `layer` of creditlake.dbt.LAYERS (the monthly DAG's gold tasks), after the views it reads.

    `recompute_from` (YYYY-MM, the run's first month): incremental gold models recompute that month and every
    later one and keep the earlier months (dbt macro incremental_from); None rebuilds every month."""
    import json

    from creditlake.dbt import build_layers
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    extra = ["--vars", json.dumps({"recompute_from": recompute_from})] if recompute_from else []
    return asdict(build_layers(get_spark(settings), settings, [layer] if layer else None, extra))


@timed_stage
def stage_publish(settings: Settings | None = None) -> dict:
    """Gold -> serving store (atomic swap), each table's rows and checksum in the ledger; then the mediation index
    from the silver mediation cases."""
    from creditlake.ledger import append_events
    from creditlake.serve.publish import publish
    from creditlake.serve.store import backend, table_checksum
    from creditlake.spark import get_spark

    settings = settings or get_settings()
    spark = get_spark(settings)
    counts = publish(spark, settings)
    target = backend(settings.serving)
    append_events([("published", {"table": table, "target": target, "rows": rows,
                                  "checksum": table_checksum(settings, table)}) for table, rows in counts.items()],
                  settings)
    share_sanctions(settings)
    build_mediation_index(spark, settings)
    return counts


def share_sanctions(settings: Settings) -> int:
    """Each sanction is shared, once, with every department that must restrict: one ledger event per case."""
    from creditlake.analytics.discipline import penalty_share_events
    from creditlake.ledger import append_events, read_entries

    already = {e.record["case_id"] for e in read_entries(settings, kind="penalty_shared")}
    events = penalty_share_events(settings, already)
    append_events(events, settings)
    return len(events)


def build_mediation_index(spark, settings: Settings) -> int:
    """Index the silver mediation cases for `creditlake mediate`; 0 when no case has been delivered yet."""
    from creditlake.lake import read_table
    from creditlake.mediation import build_index_from_rows
    from creditlake.mediation.corpus import CASE_COLUMNS

    cases = read_table(spark, "silver", "samr__mediation_cases", settings)
    if cases is None:
        return 0
    rows = [r.asDict() for r in cases.select(*[c for c in CASE_COLUMNS if c in cases.columns]).toLocalIterator()]
    if not rows:
        return 0
    build_index_from_rows(rows, path=settings.home / "mediation" / "index.pkl")
    return len(rows)


@timed_stage
def stage_report(month: str, settings: Settings | None = None) -> str:
    """The policy makers' monthly PDF for `month`, from the serving store, mailed to the report's recipients (when
    an SMTP server is set); its checksum and the mailing go in the ledger, and a signed checkpoint closes the run."""
    import hashlib

    from creditlake.ledger import append_event, write_checkpoint
    from creditlake.report.delivery import send_report
    from creditlake.report.monthly import render_monthly_report

    settings = settings or get_settings()
    path = render_monthly_report(settings, month)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    append_event("report_issued", {"month": month, "file": Path(path).name, "sha256": digest}, settings)
    delivery = send_report(settings, month, path)
    log.info("report %s: %s", month, delivery.reason)
    if delivery.sent:
        append_event("report_mailed", {"month": month, "sha256": digest, "recipients": len(delivery.recipients)},
                     settings)
    write_checkpoint(settings)
    return str(path)


@timed_stage
def stage_dashboards(settings: Settings | None = None) -> dict:
    """Bring the Superset dashboards up to the publication (filter defaults move to the latest month); nothing
    when Superset is not set up for this home."""
    from creditlake.superset.manage import refresh_dashboards

    return {"refreshed": refresh_dashboards(settings or get_settings())}


@timed_stage
def audit_ledger(settings: Settings | None = None) -> dict:
    """Recompute the whole ledger from storage and check every signed checkpoint (what a third party would do);
    raise naming the first bad position. Run after each publication by the DAG creditlake_ledger_audit."""
    from creditlake.ledger.verify import verify_ledger

    result = verify_ledger(settings or get_settings())
    if not result.ok:
        raise RuntimeError(result.summary())
    log.info(result.summary())
    return result.to_dict()


def run_all(landing: Path, start: str, end: str, settings: Settings | None = None, on_stage=None,
            datasets: list[str] | None = None) -> dict:
    """Every stage in order for the months [start, end]; the report is for `end`."""
    settings = settings or get_settings()
    periods = month_range(start, end)
    steps = [
        ("ingest", lambda: stage_ingest(landing, periods, settings=settings, datasets=datasets)),
        ("silver", lambda: stage_silver(periods, settings=settings, datasets=datasets)),
        ("secret_query", lambda: stage_secret_queries(periods, settings=settings)),
        ("quality", lambda: stage_quality(periods, settings=settings)),
        ("gold", lambda: stage_gold(settings, recompute_from=periods[0])),
        ("publish", lambda: stage_publish(settings)),
        ("report", lambda: stage_report(end, settings)),
        ("dashboards", lambda: stage_dashboards(settings)),
    ]
    summary = {}
    for name, step in steps:
        if on_stage:
            on_stage(name)
        summary[name] = step()
        log.info("stage %s done", name)
    return summary
