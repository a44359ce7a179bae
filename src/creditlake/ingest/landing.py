"""The landing zone: find deliveries (source/dataset/period folders) and check each against its manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from creditlake.catalogue import Catalogue, Dataset
from creditlake.ingest.quarantine import shorten
from creditlake.periods import parse_period

MANIFEST = "_manifest.json"
BOM = "\ufeff"

# One delivered data row: its 1-based number (header excluded; JSON Lines: the line) and its raw values by column.
Row = tuple[int, dict[str, str | None]]


class DeliveryRejected(Exception):
    """A whole delivery breaks the landing contract; the message is the one-line reason."""


@dataclass(frozen=True)
class Delivery:
    source: str
    dataset: str
    period: str
    folder: Path

    @property
    def key(self) -> str:
        return f"{self.source}/{self.dataset}/{self.period}"


@dataclass(frozen=True)
class CheckedDelivery:
    delivery: Delivery
    file: Path
    delivery_id: str  # SHA-256 of the file: a resent identical file is the same delivery
    declared_rows: int
    landed_rows: int
    header: tuple[str, ...] | None = None  # CSV: the column names in file order
    one_line_ending: bool = True  # CSV: every line ends alike (Spark's reader detects the ending from the first)
    # JSON Lines: for each blank line before a row, how many rows precede it (a row's number is its line's)
    blanks_after_rows: tuple[int, ...] = ()


def find_deliveries(landing: Path, catalogue: Catalogue, periods: list[str] | None = None) -> list[Delivery]:
    """Every delivery folder of a catalogued dataset, in a stable order (registrations first: others link to them)."""
    out = []
    for source, dataset in catalogue.datasets():
        base = landing / source.code / dataset.code
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            try:
                parse_period(folder.name)
            except ValueError:
                continue
            if periods is None or folder.name in periods:
                out.append(Delivery(source.code, dataset.code, folder.name, folder))
    spine = [d for d in out if (d.source, d.dataset) == ("samr", "registrations")]
    return spine + [d for d in out if d not in spine]


def check_delivery(delivery: Delivery, dataset: Dataset) -> CheckedDelivery:
    """Check manifest, file, checksum, encoding, structure, header and rows; raise DeliveryRejected with one reason."""
    manifest_path = delivery.folder / MANIFEST
    if not manifest_path.exists():
        raise DeliveryRejected(f"{delivery.folder}: no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entry = manifest["files"][0]
        name, declared, digest = entry["name"], int(entry["rows"]), entry["sha256"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DeliveryRejected(f"{manifest_path}: malformed manifest ({shorten(_one_line(str(exc)))})") from None
    path = delivery.folder / name
    if not path.exists():
        raise DeliveryRejected(f"{path}: file named in the manifest is missing")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise DeliveryRejected(f"{path}: checksum mismatch (manifest {digest[:12]}…, file {actual[:12]}…)")
    header, blanks = None, []
    if dataset.format == "csv":  # fields counted, not turned into rows: the check reads every file of a run
        header, records = _csv_checked(path, data, dataset)
        landed = sum(1 for _ in records)
    elif dataset.format == "jsonl":
        landed = 0
        for landed, (line, _) in enumerate(delivered_rows(path, dataset, data), 1):
            blanks += [landed - 1] * (line - landed - len(blanks))
    else:
        landed = sum(1 for _ in delivered_rows(path, dataset, data))
    if landed != declared:
        raise DeliveryRejected(f"{path}: manifest declares {declared} rows, file has {landed}")
    return CheckedDelivery(delivery, path, actual, declared, landed, header and tuple(header),
                           one_line_ending(data), tuple(blanks))


def one_line_ending(data: bytes) -> bool:
    """Whether every line of the file ends alike (all LF or all CRLF)."""
    return b"\r" not in data or data.count(b"\r") == data.count(b"\n") == data.count(b"\r\n")


def delivered_rows(path: Path, dataset: Dataset, data: bytes | None = None) -> Iterator[Row]:
    """The file's data rows in file order, read as its format says; DeliveryRejected on the first structural break."""
    return READERS[dataset.format](path, path.read_bytes() if data is None else data, dataset)


def _reject(path: Path, where: str, what: str) -> DeliveryRejected:
    return DeliveryRejected(f"{path}: {where}: {_one_line(what)}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def decode(path: Path, data: bytes, encoding: str) -> str:
    """The file's text in its declared encoding, without a leading byte-order mark; the line of the first bad byte."""
    if encoding == "gb18030" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # GB18030 decodes almost any byte pairs, so UTF-8 text would pass as mojibake: refuse it by name.
            line = data.count(b"\n", 0, re.search(rb"[\x80-\xff]", data).start()) + 1
            raise _reject(path, f"line {line}", "the file is UTF-8, not the declared gb18030")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _reject(path, f"line {line}", f"not valid {encoding} (byte {exc.start})") from None
    return text.removeprefix(BOM)


def _check_header(path: Path, where: str, header: list[str], dataset: Dataset) -> None:
    expected = [c.name for c in dataset.columns]
    missing = [c.name for c in dataset.columns if c.name not in header and not c.optional]
    if missing:
        raise _reject(path, where, f"missing columns {', '.join(missing)}")
    twice = [c for c in expected if header.count(c) > 1]
    if twice:
        raise _reject(path, where, f"columns named more than once: {', '.join(twice)}")


# CSV -----------------------------------------------------------------------------------------------------------

def csv_records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of every record, blank lines skipped as Spark skips them; quoting is strict."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    end = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise _reject(path, f"line {end + 1}", "truncated: a quoted field is never closed") from None
            raise _reject(path, f"line {end + 1}", f"malformed CSV ({exc})") from None
        start, end = end + 1, reader.line_num
        if fields:
            yield start, fields


def _csv_checked(path: Path, data: bytes, dataset: Dataset) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The checked header, and the data records (row number, fields), each checked as it is read."""
    text = decode(path, data, dataset.encoding)
    records = csv_records(path, text)
    line, header = next(records, (1, None))
    if header is None:
        raise DeliveryRejected(f"{path}: empty file (no header)")
    if len(header) == 1 and (sep := next((s for s in (";", "\t") if s in header[0]), None)):
        raise _reject(path, f"line {line}", f"wrong delimiter: the header is one field holding {sep!r}, "
                                            "fields must be separated by ','")
    _check_header(path, f"line {line}", header, dataset)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, (line, fields) in enumerate(records, 1):
            if len(fields) != len(header):
                if len(fields) < len(header) and not text.endswith(("\n", "\r")) and next(records, None) is None:
                    raise _reject(path, f"line {line}", f"truncated: the last line is cut ({len(fields)} of "
                                                        f"{len(header)} fields and no final newline)")
                raise _reject(path, f"row {number} (line {line})",
                              f"{len(fields)} fields where the header has {len(header)}")
            yield number, fields

    return header, rows()


def _csv_rows(path: Path, data: bytes, dataset: Dataset) -> Iterator[Row]:
    header, records = _csv_checked(path, data, dataset)
    for number, fields in records:
        yield number, {name: value or None for name, value in zip(header, fields)}


# JSON Lines ----------------------------------------------------------------------------------------------------

def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _json_text(value) -> str | None:
    """A JSON scalar as delivered: strings as they are, numbers as written (parsed as text), true/false, null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    raise TypeError(f"a JSON {'object' if isinstance(value, dict) else 'array'}")


def _jsonl_rows(path: Path, data: bytes, dataset: Dataset) -> Iterator[Row]:
    text = decode(path, data, dataset.encoding)
    names = [c.name for c in dataset.columns]
    lines = text.split("\n")
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_int=str, parse_float=str, parse_constant=_no_constant)
        except ValueError as exc:
            if number == len(lines):  # no final newline after it
                raise _reject(path, f"line {number}", "truncated: the last line is not complete JSON") from None
            detail = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise _reject(path, f"line {number}", f"not valid JSON ({detail})") from None
        if not isinstance(obj, dict):
            raise _reject(path, f"line {number}", "not a JSON object")
        row = {}
        for name in names:
            if name in obj:
                try:
                    row[name] = _json_text(obj[name])
                except TypeError as exc:
                    raise _reject(path, f"line {number}", f"{name} is {exc}, not a string, number, boolean "
                                                          "or null") from None
        seen.update(row)
        yield number, row
    missing = [c.name for c in dataset.columns if c.name not in seen and not c.optional]
    if seen and missing:  # an empty delivery (no rows) has no keys to miss
        raise DeliveryRejected(f"{path}: missing columns {', '.join(missing)} (on no line)")


# Excel ---------------------------------------------------------------------------------------------------------

_FIXED_DECIMALS = re.compile(r"[#,0]*\.(0+)[^%Ee]*")  # 0.00, #,##0.00_), 0.00"元"; not 0.00% or 0.00E+00


def cell_text(value, number_format: str | None = None) -> str | None:
    """A cell as a person reads it: dates YYYY-MM-DD, date-times ISO, integers without .0, decimals as shown."""
    number_format = number_format or "General"
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0) and "h" not in number_format.lower():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        fixed = _FIXED_DECIMALS.fullmatch(number_format.split(";")[0])
        if fixed:
            return f"{value:.{len(fixed.group(1))}f}"
        if isinstance(value, int) or value.is_integer():
            return str(int(value))
        return format(value, ".15g")  # Excel shows at most 15 significant digits
    return str(value)


def _xlsx_rows(path: Path, data: bytes, dataset: Dataset) -> Iterator[Row]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and workbook errors: anything that is not a readable workbook
        raise _reject(path, "workbook", f"not a readable xlsx file ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored used range: read every row and cell there is
        rows = sheet.iter_rows()
        header = [cell_text(c.value, c.number_format) or "" for c in next(rows, ())]
        while header and not header[-1]:
            header.pop()
        _check_header(path, f"sheet {sheet.title!r} row 1", header, dataset)
        blank: list[Row] = []  # empty rows are data rows only when a non-empty row follows them
        for number, cells in enumerate(rows, 1):
            values = [cell_text(c.value, c.number_format) for c in cells]
            if not any(v is not None for v in values):
                blank.append((number, dict.fromkeys(header)))
                continue
            beyond = next((i for i in range(len(header), len(values)) if values[i] is not None), None)
            if beyond is not None:
                raise _reject(path, f"row {number} (sheet row {number + 1})",
                              f"a value in column {get_column_letter(beyond + 1)}, beyond the header")
            yield from blank
            blank.clear()
            yield number, dict(zip(header, values + [None] * (len(header) - len(values))))
    finally:
        book.close()


READERS = {"csv": _csv_rows, "jsonl": _jsonl_rows, "xlsx": _xlsx_rows}


PARALLEL_CHECK_BYTES = 16 << 20  # below this many bytes a run's deliveries are checked in this process


def check_deliveries(pairs: list[tuple[Delivery, Dataset]], workers: int | None = None
                     ) -> list[CheckedDelivery | DeliveryRejected]:
    """Check many deliveries, in parallel processes when they are large enough to pay for starting them (the
    checks read every byte and parse every record in Python); each result is a CheckedDelivery or the rejection."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    workers = workers or os.cpu_count() or 1
    size = sum(p.stat().st_size for d, _ in pairs for p in d.folder.iterdir() if p.is_file())
    if workers > 1 and len(pairs) > 1 and size >= PARALLEL_CHECK_BYTES:
        # fork: a spawned worker would import the caller's main module again (a script starting Spark would start
        # it once per worker). The workers only read files and parse them; no lock of the gateway's threads is used.
        try:
            with ProcessPoolExecutor(min(workers, len(pairs)), mp_context=get_context("fork")) as pool:
                return list(pool.map(_check_or_reason, pairs, chunksize=max(1, len(pairs) // (8 * workers))))
        except (BrokenProcessPool, OSError) as exc:  # no processes to be had here: check in this one
            logging.getLogger(__name__).warning("checking deliveries in this process: no worker processes (%s)",
                                                exc)
    return [_check_or_reason(p) for p in pairs]


def _check_or_reason(pair: tuple[Delivery, Dataset]) -> CheckedDelivery | DeliveryRejected:
    try:
        return check_delivery(*pair)
    except DeliveryRejected as exc:
        return exc
