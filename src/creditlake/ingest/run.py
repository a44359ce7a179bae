"""Ingest deliveries into bronze: check each against the contract, quarantine the bad, skip the already loaded."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from creditlake.catalogue import Catalogue, table_name
from creditlake.ingest.bronze import (
    read_deliveries,
    with_lineage,
    with_personal_flags,
    with_pseudonyms,
    with_secrets_derived,
)
from creditlake.ingest.landing import MANIFEST, Delivery, DeliveryRejected, check_deliveries, find_deliveries
from creditlake.ingest.quarantine import forget_rejected, keep_rejected
from creditlake.lake import read_table, replace_slice
from creditlake.pseudonymise import load_key
from creditlake.settings import Settings
from creditlake.spark import for_each_concurrently

log = logging.getLogger(__name__)
DELIVERIES = "deliveries"  # ops.deliveries: one row per (source, dataset, period), the latest attempt


@dataclass
class IngestResult:
    delivery: str
    status: str  # loaded | skipped | rejected | held_at_source
    landed: int
    reason: str | None = None
    delivery_id: str | None = None  # SHA-256 of the delivered file


LOGGED = ("delivery_id", "file", "declared", "landed", "status", "reason")


def _logged(spark, settings: Settings) -> dict[tuple[str, str, str], dict]:
    """The delivery log as it stands, read once per run: (source, dataset, period) -> its LOGGED fields."""
    log_df = read_table(spark, "ops", DELIVERIES, settings)
    if log_df is None:
        return {}
    return {(r.source, r.dataset, r.period): {f: r[f] for f in LOGGED}
            for r in log_df.select("source", "dataset", "period", *LOGGED).collect()}


LOG_SCHEMA = ("source string, dataset string, period string, delivery_id string, file string, declared bigint, "
              "landed bigint, status string, reason string, recorded_at timestamp")


def _record(spark, settings: Settings, entries: list[dict]) -> None:
    """Replace the log rows of these deliveries: one commit for the run."""
    if not entries:
        return
    now = datetime.now(timezone.utc)
    fields = [f.split()[0] for f in LOG_SCHEMA.split(", ")]
    rows = [tuple({"recorded_at": now, **e}.get(f) for f in fields) for e in entries]
    slices: dict[tuple[str, str], list[str]] = {}
    for e in entries:
        slices.setdefault((e["source"], e["dataset"]), []).append(e["period"])
    replace_slice(spark.createDataFrame(rows, LOG_SCHEMA), "ops", DELIVERIES,
                  [{"source": s, "dataset": d, "period": sorted(p)} for (s, d), p in slices.items()],
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

    Every delivery is checked first (in parallel processes when the run is large); then each dataset's new
    deliveries are read in one Spark read and written in one Delta commit (`settings.dataset_threads` datasets at
    a time), and the delivery log gets one commit for the whole run, last. A run killed before that commit
    rewrites the same bronze slices next time (they are replaced by period), so bronze never holds a delivery
    twice. `datasets` narrows to "source/dataset" names; `on_dataset(name)` reports progress.
    """
    key = load_key(settings)
    logged = _logged(spark, settings)
    results, entries, writes = [], [], []
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for d in find_deliveries(landing, catalogue, periods):
        if (sources and d.source not in sources) or (datasets and f"{d.source}/{d.dataset}" not in datasets):
            continue
        groups.setdefault((d.source, d.dataset), []).append(d)
    to_check = [(d, catalogue.dataset(*sd)) for sd, ds in groups.items() for d in ds
                if catalogue.dataset(*sd).residency != "at_source"]
    checks = dict(zip((d.key for d, _ in to_check), check_deliveries(to_check)))
    for (source, code), deliveries in groups.items():
        if on_dataset:
            on_dataset(f"{source}/{code}")
        dataset = catalogue.dataset(source, code)
        if dataset.residency == "at_source":  # never opened: logged as held, with nothing landed
            reason = HELD.format(name=f"{source}/{code}")
            log.warning("%s: %s", ", ".join(d.key for d in deliveries), reason)
            for d in deliveries:
                entries.append(_entry(d, None, None, None, 0, "held_at_source", reason))
                results.append(IngestResult(d.key, "held_at_source", 0, reason))
            continue

        new = []
        for d in deliveries:
            checked = checks[d.key]
            if isinstance(checked, DeliveryRejected):
                reason = str(checked)
                log.error("rejected delivery %s: %s", d.key, reason)
                declared, landed = _rejected_counts(d.folder)
                keep_rejected(settings, d, dataset, reason, key)
                entries.append(_entry(d, None, d.key, declared, landed, "rejected", reason))
                results.append(IngestResult(d.key, "rejected", landed, reason))
            elif _already_loaded(checked, logged):
                results.append(IngestResult(d.key, "skipped", checked.landed_rows, "already loaded"))
            else:
                new.append(checked)
                entries.append(_entry(d, checked.delivery_id, f"{d.key}/{checked.file.name}", checked.declared_rows,
                                      checked.landed_rows, "loaded", None))
                results.append(IngestResult(d.key, "loaded", checked.landed_rows, delivery_id=checked.delivery_id))
        if new:
            writes.append((source, code, dataset, new))

    def write(item) -> None:
        source, code, dataset, new = item
        frame = (
            read_deliveries(spark, new, dataset)
            .transform(lambda x: with_secrets_derived(x, dataset))
            .transform(lambda x: with_personal_flags(x, dataset))
            .transform(lambda x: with_pseudonyms(x, dataset, key))
            .transform(lambda x: with_lineage(x, new, dataset))
        )
        replace_slice(frame, "bronze", table_name(source, code), {"_period": [c.delivery.period for c in new]},
                      partition_by=["_period"], settings=settings)
        log.info("bronze %s/%s: %d deliveries loaded", source, code, len(new))

    for_each_concurrently(write, writes, settings.dataset_threads)
    entries = [e for e in entries if not _unchanged(e, logged)]  # the same rejection again: nothing to write
    _record(spark, settings, entries)
    for e in entries:  # after the log's commit: a run killed before it rejects (and keeps) the same again
        if e["status"] == "loaded":
            forget_rejected(settings, e["source"], e["dataset"], e["period"])
    return results


def _unchanged(entry: dict, logged: dict) -> bool:
    return logged.get((entry["source"], entry["dataset"], entry["period"])) == {f: entry[f] for f in LOGGED}


def _already_loaded(checked, logged: dict) -> bool:
    d = checked.delivery
    last = logged.get((d.source, d.dataset, d.period), {})
    return last.get("status") == "loaded" and last.get("delivery_id") == checked.delivery_id


def _entry(d: Delivery, delivery_id, file, declared, landed, status: str, reason) -> dict:
    return {"source": d.source, "dataset": d.dataset, "period": d.period, "delivery_id": delivery_id, "file": file,
            "declared": declared, "landed": landed, "status": status, "reason": reason}


def as_dicts(results: list[IngestResult]) -> list[dict]:
    return [asdict(r) for r in results]
