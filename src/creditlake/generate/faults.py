"""Planted faults: rows that break one named rule of the pipeline, and deliveries that break the landing contract."""

from __future__ import annotations

import random

from creditlake.catalogue import Dataset
from creditlake.codes import USCC_ALPHABET

ROW_RULES = ("uscc_check", "code_list", "allowed_values", "range", "type", "required", "duplicate")
DELIVERY_FAULTS = ("missing_column", "broken_encoding", "truncated", "checksum_mismatch", "row_count_mismatch")


def _candidates(dataset: Dataset, rule: str) -> list[str]:
    cols = dataset.columns
    if rule == "uscc_check":
        return [c.name for c in cols if c.check == "uscc" and c.name == "uscc"]
    if rule == "code_list":
        return [c.name for c in cols if c.codes]
    if rule == "allowed_values":
        return [c.name for c in cols if c.allowed]
    if rule == "range":
        return [c.name for c in cols if c.type in ("int", "decimal") and c.min is not None and float(c.min) >= 0]
    if rule == "type":
        return [c.name for c in cols if c.type == "date"]
    if rule == "required":
        return [c.name for c in cols if not c.nullable]
    return [dataset.unique[0]]  # duplicate: any dataset can repeat a row


def corrupt(row: list[str | None], columns: list[str], dataset: Dataset, rng: random.Random) -> tuple[str, str, list] | None:
    """Break one rule in a copy of `row`; return (rule, column, new row), or None if no rule applies."""
    rules = [r for r in ROW_RULES if _candidates(dataset, r)]
    if not rules:
        return None
    rule = rng.choice(rules)
    column = rng.choice(_candidates(dataset, rule))
    i = columns.index(column)
    new = list(row)
    value = new[i] or ""
    if rule == "uscc_check" and len(value) == 18:
        new[i] = value[:-1] + rng.choice([c for c in USCC_ALPHABET if c != value[-1]])
    elif rule == "code_list":
        new[i] = "529999" if value.isdigit() else "Z"
    elif rule == "allowed_values":
        new[i] = "未知状态"
    elif rule == "range":
        new[i] = "-" + (value.lstrip("-") or "1") if value not in ("0", "0.0", "0.00") else "-1"
    elif rule == "type":
        new[i] = "2023-02-30"
    elif rule == "required":
        new[i] = None
    elif rule == "duplicate":
        return rule, ",".join(dataset.unique), new
    else:
        return None
    return rule, column, new


def corrupt_delivery(kind: str, data: bytes, columns: list[str], rows: list[list[str | None]],
                     encode) -> tuple[bytes, bytes | None, int | None]:
    """(bytes written, bytes the manifest describes or None for the same, declared rows or None for the real count)."""
    if kind == "missing_column":
        return encode(columns[1:], [r[1:] for r in rows]), None, None
    if kind == "broken_encoding":
        # A GB18030 export sent as UTF-8: the first Chinese character makes the file undecodable.
        broken = data.decode("utf-8", errors="replace").encode("gb18030", errors="replace")
        if broken == data:  # all ASCII: put one GB18030 character (中) where UTF-8 cannot read it
            broken = data.replace(b"\n", b"\n\xd6\xd0", 1)
        return broken, None, None
    if kind == "truncated":
        return data[: max(len(data) * 2 // 3, 1)], data, None
    if kind == "checksum_mismatch":
        return data, data + b"\n", None
    if kind == "row_count_mismatch":
        return data, None, len(rows) + 7
    raise ValueError(kind)
