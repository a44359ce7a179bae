"""The landing zone: find deliveries (source/dataset/period folders) and check each against its manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from creditlake.catalogue import Catalogue, Dataset
from creditlake.periods import parse_period

MANIFEST = "_manifest.json"


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
    """Check manifest, file, checksum, encoding, header and row count; raise DeliveryRejected with one reason."""
    manifest_path = delivery.folder / MANIFEST
    if not manifest_path.exists():
        raise DeliveryRejected(f"{delivery.folder}: no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entry = manifest["files"][0]
        name, declared, digest = entry["name"], int(entry["rows"]), entry["sha256"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DeliveryRejected(f"{manifest_path}: malformed manifest ({exc})") from None
    path = delivery.folder / name
    if not path.exists():
        raise DeliveryRejected(f"{path}: file named in the manifest is missing")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise DeliveryRejected(f"{path}: checksum mismatch (manifest {digest[:12]}…, file {actual[:12]}…)")
    try:
        text = data.decode(dataset.encoding)
    except UnicodeDecodeError as exc:
        raise DeliveryRejected(f"{path}: not valid {dataset.encoding} at byte {exc.start}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    expected = [c.name for c in dataset.columns]
    if header is None:
        raise DeliveryRejected(f"{path}: empty file (no header)")
    missing = [c for c in expected if c not in header]
    if missing:
        raise DeliveryRejected(f"{path}: row 1: missing columns {', '.join(missing)}")
    landed = sum(1 for _ in reader)
    if landed != declared:
        raise DeliveryRejected(f"{path}: manifest declares {declared} rows, file has {landed}")
    return CheckedDelivery(delivery, path, actual, declared, landed)
