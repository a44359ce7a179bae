"""What the lake keeps of what it rejects, and how an engineer sees and releases it.

A rejected delivery is never copied in the clear: the landing zone is the department's, and a copy under the
home would put every legal representative's ID number outside its access rules and retention. What is kept, in
`quarantine/deliveries/<source>/<dataset>/<period>/`:

- `_rejected.json`: the landing folder, each file's name, size and SHA-256, the one-line reason and the sender's
  manifest (when it parses);
- `rows.csv`, where the rows parse (a checksum or row-count fault, the rows before a truncation): the catalogue's
  columns of those rows with every pseudonymised column replaced by its keyed pseudonym, exactly as bronze writes
  it, and the columns the catalogue does not list left out. A dataset with secret columns keeps no rows at all.

Rejected rows of loaded deliveries are in `ops.quarantine` (pseudonyms already). Values shown in messages, logs and
listings are cut to VALUE_LIMIT characters.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from creditlake.catalogue import Dataset
from creditlake.pseudonymise import pseudonym
from creditlake.settings import Settings

RECORD = "_rejected.json"
ROWS = "rows.csv"
VALUE_LIMIT = 80  # characters of a value shown in a message, a log line or a listing


def shorten(text: str | None, limit: int = VALUE_LIMIT) -> str | None:
    """A value as messages show it: at most `limit` characters, then an ellipsis and the full length."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}…（共 {len(text)} 字符）"


def shortened(column, limit: int = VALUE_LIMIT):
    """Spark: the same as shorten(), for a string column."""
    from pyspark.sql import functions as F

    n = F.char_length(column)
    return F.when(n > limit, F.concat(F.substring(column, 1, limit), F.lit("…（共 "), n.cast("string"),
                                      F.lit(" 字符）"))).otherwise(column)


def folder(settings: Settings, source: str, dataset: str, period: str) -> Path:
    return settings.home / "quarantine" / "deliveries" / source / dataset / period


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(delivery_folder: Path):
    from creditlake.ingest.landing import MANIFEST

    try:
        manifest = json.loads((delivery_folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _data_file(delivery_folder: Path, manifest) -> Path | None:
    """The file the manifest names, or the folder's only data file."""
    try:
        named = delivery_folder / Path(manifest["files"][0]["name"]).name
        if named.is_file():
            return named
    except (TypeError, KeyError, IndexError, AttributeError):
        pass
    files = [p for p in delivery_folder.iterdir() if p.is_file() and not p.name.startswith("_")]
    return files[0] if len(files) == 1 else None


def _parsed_prefix(path: Path, dataset: Dataset) -> list[tuple[int, dict]]:
    """The rows the landing reader yields before the delivery's first structural break (all, for a checksum or
    row-count fault; none, for an encoding, delimiter or header fault)."""
    from creditlake.ingest.landing import DeliveryRejected, delivered_rows

    rows = []
    try:
        for row in delivered_rows(path, dataset):
            rows.append(row)
    except DeliveryRejected:
        pass
    except Exception:  # noqa: BLE001 - a file broken beyond the reader's checks keeps no rows, never a crash
        return []
    return rows


def _write_rows(target: Path, rows: list[tuple[int, dict]], dataset: Dataset, key: bytes) -> None:
    columns = [c for c in dataset.columns if c.sensitivity != "secret"]
    with (target / ROWS).open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["_row_number", *[c.name for c in columns]])
        for number, values in rows:
            cells = []
            for c in columns:
                value = values.get(c.name)
                if c.pseudonymise and value is not None:
                    value = pseudonym(value, key) if value.strip(" ") else None
                cells.append(value)
            out.writerow([number, *cells])


def keep_rejected(settings: Settings, delivery, dataset: Dataset, reason: str, key: bytes) -> Path:
    """Record a rejected delivery in the quarantine (never a clear copy); return its folder. The same files
    rejected again for the same reason leave the record as it is."""
    target = folder(settings, delivery.source, delivery.dataset, delivery.period)
    manifest = _manifest(delivery.folder)
    files = sorted(p for p in delivery.folder.iterdir() if p.is_file() and not p.name.startswith("_"))
    record = {
        "delivery": delivery.key,
        "landing": str(delivery.folder),
        "reason": reason,
        "files": [{"name": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files],
        "manifest": manifest,
        "rows_kept": None,
        "rejected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    last = read_record(settings, delivery.source, delivery.dataset, delivery.period)
    same = ("delivery", "landing", "reason", "files", "manifest")
    if last is not None and all(last.get(k) == record[k] for k in same):
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    data = _data_file(delivery.folder, manifest)
    if dataset.secret_columns:
        record["note"] = "含保密字段的数据集：不保留任何行，原始交付留在报送部门的落地区"
    elif data is not None:
        rows = _parsed_prefix(data, dataset)
        if rows:
            _write_rows(target, rows, dataset, key)
            record["rows_kept"] = len(rows)
    (target / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


def forget_rejected(settings: Settings, source: str, dataset: str, period: str) -> None:
    """The delivery of that period has been loaded since: its rejected attempt is history (ops.deliveries keeps
    the latest attempt only), so its quarantine folder goes."""
    target = folder(settings, source, dataset, period)
    if target.exists():
        shutil.rmtree(target)


def read_record(settings: Settings, source: str, dataset: str, period: str) -> dict | None:
    path = folder(settings, source, dataset, period) / RECORD
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# Chinese names of the rules a row or a delivery is quarantined under (listings, reports).
RULE_LABELS = {
    "required": "必填项为空",
    "type": "类型不符",
    "uscc_check": "统一社会信用代码校验位错误",
    "code_list": "不在代码表内",
    "allowed_values": "不在允许取值内",
    "pattern": "格式不符",
    "range": "超出取值范围",
    "duplicate": "同批重复",
    "resent": "重复报送",
    "unknown_enterprise": "未登记企业",
    "delivery_rejected": "整批拒收",
}


def rejected_deliveries(spark, settings: Settings, period: str | None = None, source: str | None = None,
                        dataset: str | None = None) -> list[dict]:
    """Every delivery whose latest attempt was rejected, with what the quarantine kept of it."""
    from creditlake.lake import read_table

    log = read_table(spark, "ops", "deliveries", settings)
    if log is None:
        return []
    log = log.where(_filters(log, period, source, dataset) & (log.status == "rejected"))
    out = []
    for r in log.orderBy("period", "source", "dataset").collect():
        record = read_record(settings, r.source, r.dataset, r.period) or {}
        out.append({
            "delivery": f"{r.source}/{r.dataset}/{r.period}", "source": r.source, "dataset": r.dataset,
            "period": r.period, "reason": r.reason, "declared": r.declared, "landed": r.landed,
            "landing": record.get("landing"), "files": record.get("files", []),
            "rows_kept": record.get("rows_kept"),
            "rows_file": str(folder(settings, r.source, r.dataset, r.period) / ROWS)
            if record.get("rows_kept") else None,
            "recorded_at": r.recorded_at,
        })
    return out


def quarantined_rows(spark, settings: Settings, period: str | None = None, source: str | None = None,
                     dataset: str | None = None, limit: int = 50) -> tuple[int, list[dict]]:
    """(how many, the first `limit`) quarantined rows of loaded deliveries: file, row, rule, column, value (cut)."""
    from pyspark.sql import functions as F

    from creditlake.lake import read_table

    q = read_table(spark, "ops", "quarantine", settings)
    if q is None:
        return 0, []
    q = q.where(_filters(q, period, source, dataset))
    total = q.count()
    rows = (q.orderBy("period", "source", "dataset", "row_number").limit(limit)
            .select("source", "dataset", "period", "file", "row_number", "rule", "column",
                    shortened(F.col("value")).alias("value"), F.char_length("value").alias("value_length"))
            .collect())
    return total, [r.asDict() for r in rows]


def _filters(df, period, source, dataset):
    from pyspark.sql import functions as F

    cond = F.lit(True)
    for name, value in (("period", period), ("source", source), ("dataset", dataset)):
        if value:
            cond = cond & (F.col(name) == value)
    return cond
