"""Write one delivery in the format the catalogue declares (CSV in UTF-8 or GB18030, JSON Lines, Excel) with its manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from creditlake.catalogue import Dataset

EXTENSION = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}


def delivery_folder(landing: Path, source: str, dataset: str, period: str) -> Path:
    return landing / source / dataset / period


def file_name(source: str, dataset: Dataset, period: str) -> str:
    return f"{source}__{dataset.code}__{period}.{EXTENSION[dataset.format]}"


def encode_csv(columns: list[str], rows: list[list[str | None]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().encode(encoding)


def encode_jsonl(columns: list[str], rows: list[list[str | None]]) -> bytes:
    lines = [json.dumps(dict(zip(columns, row)), ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def _cell(value: str | None, kind: str):
    """Excel cells as a department's export has them: numbers as numbers, dates as dates, the rest as text."""
    if value is None:
        return None
    try:
        if kind == "int":
            return int(value)
        if kind == "decimal":
            return float(Decimal(value))
        if kind == "date":
            return date.fromisoformat(value)
    except (ValueError, ArithmeticError):
        pass  # a planted fault stays text, as a clerk's typo would
    return value


def encode_xlsx(columns: list[str], rows: list[list[str | None]], types: list[str]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(columns)
    for row in rows:
        ws.append([_cell(v, t) for v, t in zip(row, types)])
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the creation time into the zip: normalise it, so the same seed gives the same bytes.
    return _normalise_zip(buf.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2000-01-01T00:00:00Z", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, content)
    return out.getvalue()


def encode(dataset: Dataset, columns: list[str], rows: list[list[str | None]]) -> bytes:
    if dataset.format == "jsonl":
        return encode_jsonl(columns, rows)
    if dataset.format == "xlsx":
        types = {c.name: c.type for c in dataset.columns}
        return encode_xlsx(columns, rows, [types.get(c, "string") for c in columns])
    return encode_csv(columns, rows, dataset.encoding)


def write_delivery(folder: Path, name: str, data: bytes, source: str, dataset: Dataset, period: str, rows: int,
                   manifest_data: bytes | None = None) -> Path:
    """Write the file and its manifest; `manifest_data` lets a planted fault declare other bytes than it writes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    manifest = {
        "source": source, "dataset": dataset.code, "period": period, "format": dataset.format,
        "encoding": dataset.encoding if dataset.format == "csv" else "utf-8",
        "files": [{"name": name, "rows": rows,
                   "sha256": hashlib.sha256(manifest_data if manifest_data is not None else data).hexdigest()}],
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return folder / name
