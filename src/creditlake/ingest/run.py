"""Ingest deliveries into bronze: check each against the contract, quarantine the bad, skip the already loaded."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from creditlake.catalogue import Catalogue, table_name
from creditlake.ingest.bronze import read_delivery, with_lineage, with_pseudonyms
from creditlake.ingest.landing import MANIFEST, Delivery, DeliveryRejected, check_delivery, find_deliveries
from creditlake.lake import read_table, replace_slice
from creditlake.pseudonymise import load_key
from creditlake.settings import Settings

log = logging.getLogger(__name__)
DELIVERIES = "deliveries"  # ops.deliveries: one row per (source, dataset, period), the latest attempt


@dataclass
class IngestResult:
    delivery: str
    status: str  # loaded | skipped | rejected
    landed: int
    reason: str | None = None


def _already_loaded(spark, settings: Settings, d: Delivery, delivery_id: str) -> bool:
    log_df = read_table(spark, "ops", DELIVERIES, settings)
    if log_df is None:
        return False
    hit = log_df.where(
        (log_df.source == d.source) & (log_df.dataset == d.dataset) & (log_df.period == d.period)
        & (log_df.delivery_id == delivery_id) & (log_df.status == "loaded")
    )
    return not hit.isEmpty()


def _record(spark, settings: Settings, d: Delivery, **fields) -> None:
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("source", T.StringType()), T.StructField("dataset", T.StringType()),
        T.StructField("period", T.StringType()), T.StructField("delivery_id", T.StringType()),
        T.StructField("file", T.StringType()), T.StructField("declared", T.LongType()),
        T.StructField("landed", T.LongType()), T.StructField("status", T.StringType()),
        T.StructField("reason", T.StringType()), T.StructField("recorded_at", T.TimestampType()),
    ])
    row = {"source": d.source, "dataset": d.dataset, "period": d.period, "recorded_at": datetime.now(timezone.utc)}
    row.update(fields)
    df = spark.createDataFrame([tuple(row.get(f.name) for f in schema.fields)], schema)
    replace_slice(df, "ops", DELIVERIES, {"source": d.source, "dataset": d.dataset, "period": d.period},
                  settings=settings)


def _quarantine_files(settings: Settings, d: Delivery, reason: str) -> Path:
    """Copy the rejected delivery, untouched, to the quarantine folder with its reason (landing is never changed)."""
    target = settings.home / "quarantine" / "deliveries" / d.source / d.dataset / d.period
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(d.folder, target)
    (target / "_rejected.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _rejected_counts(folder: Path) -> tuple[int | None, int]:
    """(declared, landed) of a rejected delivery, so accounting still balances: the sender's own count when the
    manifest can be read (the file itself cannot be trusted), else the file's lines after the header."""
    try:
        declared = int(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"][0]["rows"])
        return declared, declared
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith("_")]
        return None, sum(max(sum(1 for _ in p.open("rb")) - 1, 0) for p in files)


def ingest_bronze(spark, settings: Settings, catalogue: Catalogue, landing: Path,
                  periods: list[str] | None = None, sources: list[str] | None = None) -> list[IngestResult]:
    """Land every delivery of the given periods (and sources) in bronze; one bad delivery stops nothing else."""
    key = load_key(settings)
    results = []
    for d in find_deliveries(landing, catalogue, periods):
        if sources and d.source not in sources:
            continue
        dataset = catalogue.dataset(d.source, d.dataset)
        try:
            checked = check_delivery(d, dataset)
        except DeliveryRejected as exc:
            reason = str(exc)
            log.error("rejected delivery %s: %s", d.key, reason)
            _quarantine_files(settings, d, reason)
            declared, landed = _rejected_counts(d.folder)
            _record(spark, settings, d, delivery_id=None, file=d.key, declared=declared, landed=landed,
                    status="rejected", reason=reason)
            results.append(IngestResult(d.key, "rejected", landed, reason))
            continue
        if _already_loaded(spark, settings, d, checked.delivery_id):
            results.append(IngestResult(d.key, "skipped", checked.landed_rows, "already loaded"))
            continue
        df = (
            read_delivery(spark, checked, dataset)
            .transform(lambda x: with_pseudonyms(x, dataset, key))
            .transform(lambda x: with_lineage(x, checked, dataset))
        )
        replace_slice(df, "bronze", table_name(d.source, d.dataset), {"_period": d.period}, partition_by=["_period"],
                      settings=settings)
        _record(spark, settings, d, delivery_id=checked.delivery_id, file=f"{d.key}/{checked.file.name}",
                declared=checked.declared_rows, landed=checked.landed_rows, status="loaded", reason=None)
        results.append(IngestResult(d.key, "loaded", checked.landed_rows))
        log.info("bronze %s: %d rows", d.key, checked.landed_rows)
    return results


def as_dicts(results: list[IngestResult]) -> list[dict]:
    return [asdict(r) for r in results]
