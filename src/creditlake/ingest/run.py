"""Ingest deliveries into bronze: check each against the contract, quarantine the bad, skip the already loaded."""

from __future__ import annotations

import json
import logging
from functools import reduce
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from creditlake.catalogue import Catalogue, Dataset, table_name
from creditlake.ingest.bronze import (
    read_delivery,
    with_lineage,
    with_personal_flags,
    with_pseudonyms,
    with_secrets_derived,
)
from creditlake.ingest.landing import MANIFEST, Delivery, DeliveryRejected, check_delivery, find_deliveries
from creditlake.ingest.quarantine import forget_rejected, keep_rejected
from creditlake.lake import read_table, replace_slice
from creditlake.pseudonymise import load_key
from creditlake.settings import Settings

log = logging.getLogger(__name__)
DELIVERIES = "deliveries"  # ops.deliveries: one row per (source, dataset, period), the latest attempt


@dataclass
class IngestResult:
    delivery: str
    status: str  # loaded | skipped | rejected | held_at_source
    landed: int
    reason: str | None = None
    delivery_id: str | None = None  # SHA-256 of the delivered file


def _loaded_ids(spark, settings: Settings) -> set[tuple[str, str, str, str]]:
    """(source, dataset, period, delivery id) of every delivery loaded so far: read once per run."""
    log_df = read_table(spark, "ops", DELIVERIES, settings)
    if log_df is None:
        return set()
    rows = log_df.where(log_df.status == "loaded").select("source", "dataset", "period", "delivery_id").collect()
    return {tuple(r) for r in rows}


LOG_SCHEMA = ("source string, dataset string, period string, delivery_id string, file string, declared bigint, "
              "landed bigint, status string, reason string, recorded_at timestamp")


def _record(spark, settings: Settings, source: str, dataset: str, entries: list[dict]) -> None:
    """Replace the log rows of these deliveries (one commit per dataset)."""
    if not entries:
        return
    now = datetime.now(timezone.utc)
    fields = [f.split()[0] for f in LOG_SCHEMA.split(", ")]
    rows = [tuple({"source": source, "dataset": dataset, "recorded_at": now, **e}.get(f) for f in fields)
            for e in entries]
    replace_slice(spark.createDataFrame(rows, LOG_SCHEMA), "ops", DELIVERIES,
                  {"source": source, "dataset": dataset, "period": sorted({e["period"] for e in entries})},
                  settings=settings)


HELD = ("held at source: {name} stays with the department (residency: at_source); the lake neither reads nor "
        "copies it and asks it questions instead (creditlake secret-query)")


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
                  periods: list[str] | None = None, sources: list[str] | None = None,
                  datasets: list[str] | None = None, on_dataset=None) -> list[IngestResult]:
    """Land every delivery of the given periods (and sources) in bronze; one bad delivery stops nothing else.

    One Delta commit per dataset for all its new months (the bronze slice first, then the delivery log), so a
    run killed between the two rewrites the same slice next time: bronze never holds a delivery twice.
    `datasets` narrows to "source/dataset" names; `on_dataset(name)` reports progress.
    """
    key = load_key(settings)
    loaded = _loaded_ids(spark, settings)
    results = []
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for d in find_deliveries(landing, catalogue, periods):
        if (sources and d.source not in sources) or (datasets and f"{d.source}/{d.dataset}" not in datasets):
            continue
        groups.setdefault((d.source, d.dataset), []).append(d)
    for (source, code), deliveries in groups.items():
        if on_dataset:
            on_dataset(f"{source}/{code}")
        dataset = catalogue.dataset(source, code)
        frames, entries = [], []
        if dataset.residency == "at_source":  # never opened: logged as held, with nothing landed
            reason = HELD.format(name=f"{source}/{code}")
            log.warning("%s: %s", ", ".join(d.key for d in deliveries), reason)
            for d in deliveries:
                entries.append({"period": d.period, "delivery_id": None, "file": d.key, "declared": None,
                                "landed": 0, "status": "held_at_source", "reason": reason})
                results.append(IngestResult(d.key, "held_at_source", 0, reason))
            _record(spark, settings, source, code, entries)
            continue
        for d in deliveries:
            try:
                checked = check_delivery(d, dataset)
            except DeliveryRejected as exc:
                reason = str(exc)
                log.error("rejected delivery %s: %s", d.key, reason)
                keep_rejected(settings, d, dataset, reason, key)
                declared, landed = _rejected_counts(d.folder)
                entries.append({"period": d.period, "delivery_id": None, "file": d.key, "declared": declared,
                                "landed": landed, "status": "rejected", "reason": reason})
                results.append(IngestResult(d.key, "rejected", landed, reason))
                continue
            if (d.source, d.dataset, d.period, checked.delivery_id) in loaded:
                results.append(IngestResult(d.key, "skipped", checked.landed_rows, "already loaded"))
                continue
            frames.append(
                read_delivery(spark, checked, dataset)
                .transform(lambda x: with_secrets_derived(x, dataset))
                .transform(lambda x, c=checked: with_personal_flags(x, dataset, c.delivery.period))
                .transform(lambda x: with_pseudonyms(x, dataset, key))
                .transform(lambda x, c=checked: with_lineage(x, c, dataset))
            )
            entries.append({"period": d.period, "delivery_id": checked.delivery_id,
                            "file": f"{d.key}/{checked.file.name}", "declared": checked.declared_rows,
                            "landed": checked.landed_rows, "status": "loaded", "reason": None})
            results.append(IngestResult(d.key, "loaded", checked.landed_rows, delivery_id=checked.delivery_id))
        if frames:
            new_periods = sorted({e["period"] for e in entries if e["status"] == "loaded"})
            replace_slice(reduce(lambda a, b: a.unionByName(b), frames), "bronze", table_name(source, code),
                          {"_period": new_periods}, partition_by=["_period"], settings=settings)
        _record(spark, settings, source, code, entries)
        for e in entries:  # after the log's commit: a run killed before it rejects (and keeps) the same again
            if e["status"] == "loaded":
                forget_rejected(settings, source, code, e["period"])
        log.info("bronze %s/%s: %d deliveries loaded", source, code, len(frames))
    return results


def as_dicts(results: list[IngestResult]) -> list[dict]:
    return [asdict(r) for r in results]
