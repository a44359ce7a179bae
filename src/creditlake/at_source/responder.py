"""The department's side: answer a question from the rows it keeps, with derived flags only.

It runs where the data is (here: a folder under settings.at_source laid out like a landing zone, one delivery per
month with its manifest). It reads its own rows, keys each row's USCC with the question's nonce, and for the
asked pseudonyms computes the flags of its dataset. What leaves: the answer's bytes (protocol.build_answer).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from creditlake.at_source.protocol import build_answer, canonical, check_question, question_key, sha256

log = logging.getLogger(__name__)

RawRow = Mapping[str, str | None]


def _decimal(value: str | None) -> Decimal:
    return Decimal((value or "").strip())


def loan_flags(row: RawRow) -> list[bool]:
    """pboc/loan_defaults: has an overdue loan; overdue beyond 90 days; holds a non-performing loan."""
    days = int((row.get("max_days_past_due") or "").strip())
    overdue = _decimal(row.get("overdue_balance")) > 0 or days > 0
    npl = (row.get("non_performing") or "").strip().lower()
    if npl not in ("true", "false"):
        raise ValueError("non_performing is not true or false")
    return [overdue, days > 90, npl == "true"]


# (source, dataset) -> (flag names, function of one raw row). A new at-source dataset adds its line here.
FLAGGERS: dict[tuple[str, str], tuple[tuple[str, ...], Callable[[RawRow], list[bool]]]] = {
    ("pboc", "loan_defaults"): (("has_overdue_loan", "overdue_over_90_days", "non_performing"), loan_flags),
}


class NoDataHeld(LookupError):
    """The department holds no data for the month asked about."""


def answer(question_data: bytes, rows: Iterable[RawRow], key_column: str = "uscc") -> bytes:
    """Pure: the answer's canonical bytes to `question_data` from the department's `rows` (raw strings)."""
    try:
        q = check_question(json.loads(question_data))
    except ValueError as exc:
        raise ValueError(f"question refused: {exc}") from None
    names, flagger = FLAGGERS[(q["source"], q["dataset"])]
    nonce = bytes.fromhex(q["nonce"])
    asked = set(q["keys"])
    positive: dict[str, list[bool]] = {}
    unusable = 0
    for row in rows:
        uscc = row.get(key_column)
        if not uscc:
            unusable += 1
            continue
        key = question_key(nonce, uscc)
        if key not in asked:
            continue
        try:
            flags = flagger(row)
        except (ValueError, InvalidOperation, TypeError):
            unusable += 1  # the department's problem to fix; the count stays on its side
            continue
        if any(flags):
            prior = positive.get(key, [False] * len(names))
            positive[key] = [a or b for a, b in zip(prior, flags)]
    if unusable:
        log.warning("%s/%s %s: %d rows unusable at source", q["source"], q["dataset"], q["month"], unusable)
    return canonical(build_answer(q, question_data, names, positive))


def held_rows(at_source: Path, source: str, dataset: str, month: str) -> Iterable[RawRow]:
    """The department's rows of one month: its delivery folder, checked against its manifest like any delivery."""
    from creditlake.catalogue import default_catalogue
    from creditlake.ingest.landing import Delivery, DeliveryRejected, check_delivery, delivered_rows

    spec = default_catalogue().dataset(source, dataset)
    folder = at_source / source / dataset / month
    if not folder.is_dir():
        raise NoDataHeld(f"{source}/{dataset} holds no data for {month} (no folder {folder})")
    try:
        checked = check_delivery(Delivery(source, dataset, month, folder), spec)
    except DeliveryRejected as exc:
        raise RuntimeError(f"{source}/{dataset} {month} at source is unreadable: {exc}") from None
    return (values for _, values in delivered_rows(checked.file, spec))


def respond(question_data: bytes, at_source: Path) -> bytes:
    """The department's endpoint: the answer to `question_data`, logged on its own side (hashes and counts only)."""
    q = json.loads(question_data)
    source, dataset = q.get("source"), q.get("dataset")
    if (source, dataset) not in FLAGGERS:
        raise ValueError(f"question refused: no responder for {source}/{dataset} "
                         f"(known: {', '.join('/'.join(k) for k in FLAGGERS)})")
    data = answer(question_data, held_rows(at_source, source, dataset, q.get("month")))
    record = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "month": q["month"],
              "purpose": q["purpose"], "question_sha256": sha256(question_data), "answer_sha256": sha256(data),
              "n_keys": len(q["keys"]), "n_positive": len(json.loads(data)["positive"])}
    answered = at_source / source / dataset / "_answered.jsonl"
    with answered.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return data
