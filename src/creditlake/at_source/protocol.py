"""The secret-query messages: canonical JSON question and answer, their hashes and the checks each side applies.

Pure Python (no Spark): the department's responder imports this module and nothing of the lake's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

PROTOCOL = "creditlake-secret-query/1"
KEY_PREFIX = "q1_"  # pseudonyms of one question: HMAC-SHA256(question nonce, USCC), hex
_KEY = re.compile(r"q1_[0-9a-f]{64}")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
QUESTION_FIELDS = {"protocol", "source", "dataset", "month", "purpose", "asked_at", "nonce", "keys"}
ANSWER_FIELDS = {"protocol", "question_sha256", "source", "dataset", "month", "flags", "n_keys", "positive"}


class ProtocolError(ValueError):
    """A message breaks the protocol; the message says how (never echoing a key or a value)."""


def canonical(obj) -> bytes:
    """The one byte form both sides hash: sorted keys, no spaces, UTF-8 without escapes (as the ledger's)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def question_key(nonce: bytes, uscc: str) -> str:
    """The pseudonym of one enterprise in one question."""
    return KEY_PREFIX + hmac.new(nonce, uscc.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Question:
    body: dict          # what is sent
    usccs_by_key: dict  # pseudonym -> USCC: stays with the lake, never sent

    @property
    def data(self) -> bytes:
        return canonical(self.body)

    @property
    def sha256(self) -> str:
        return sha256(self.data)


def build_question(usccs: Iterable[str], source: str, dataset: str, month: str, purpose: str,
                   nonce: bytes | None = None, asked_at: str | None = None) -> Question:
    """A question about `usccs` for `month`: a fresh 32-byte nonce keys the pseudonyms, so two questions share no
    pseudonym and none can be joined with the lake's own (p1_) pseudonyms; the keys are sorted, so their order
    says nothing about the enterprises."""
    nonce = nonce or secrets.token_bytes(32)
    by_key = {question_key(nonce, u): u for u in set(usccs)}
    body = {"protocol": PROTOCOL, "source": source, "dataset": dataset, "month": month, "purpose": purpose,
            "asked_at": asked_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "nonce": nonce.hex(), "keys": sorted(by_key)}
    check_question(body)
    return Question(body, by_key)


def check_question(q) -> dict:
    """The responder's check of what it received: exactly the question's fields, well formed."""
    if not isinstance(q, dict) or set(q) != QUESTION_FIELDS:
        raise ProtocolError(f"a question has exactly the fields {', '.join(sorted(QUESTION_FIELDS))}")
    if q["protocol"] != PROTOCOL:
        raise ProtocolError(f"unknown protocol {q['protocol']!r}; this side speaks {PROTOCOL}")
    if not (isinstance(q["month"], str) and _MONTH.fullmatch(q["month"])):
        raise ProtocolError("month must be YYYY-MM")
    if not (isinstance(q["nonce"], str) and re.fullmatch(r"[0-9a-f]{64}", q["nonce"])):
        raise ProtocolError("nonce must be 32 bytes, hex")
    for name in ("source", "dataset", "purpose"):
        if not (isinstance(q[name], str) and q[name].strip()):
            raise ProtocolError(f"{name} must be a non-empty string")
    keys = q["keys"]
    if not isinstance(keys, list) or not all(isinstance(k, str) and _KEY.fullmatch(k) for k in keys):
        raise ProtocolError(f"keys must be a list of {KEY_PREFIX} pseudonyms (HMAC-SHA256, hex)")
    if keys != sorted(set(keys)):
        raise ProtocolError("keys must be sorted and distinct")
    return q


def build_answer(question: dict, question_data: bytes, flags: tuple[str, ...],
                 positive: dict[str, list[bool]]) -> dict:
    """The answer: for each asked pseudonym with at least one flag set, its flags in `flags` order; any other
    asked pseudonym has every flag false. Nothing else: no amounts, no rows, no counts beyond the question's."""
    return {"protocol": PROTOCOL, "question_sha256": sha256(question_data), "source": question["source"],
            "dataset": question["dataset"], "month": question["month"], "flags": list(flags),
            "n_keys": len(question["keys"]), "positive": {k: positive[k] for k in sorted(positive)}}


def check_answer(question: Question, data: bytes) -> dict:
    """The lake's check of what came back: canonical JSON of exactly the answer's fields, about this question,
    only pseudonyms it asked about, only booleans. Anything more is refused before it is stored."""
    try:
        a = json.loads(data)
    except ValueError:
        raise ProtocolError("the answer is not JSON") from None
    if canonical(a) != data:
        raise ProtocolError("the answer is not in canonical form (its hash would not be reproducible)")
    if not isinstance(a, dict) or set(a) != ANSWER_FIELDS:
        raise ProtocolError(f"an answer has exactly the fields {', '.join(sorted(ANSWER_FIELDS))}")
    q = question.body
    expected = {"protocol": PROTOCOL, "question_sha256": question.sha256, "source": q["source"],
                "dataset": q["dataset"], "month": q["month"], "n_keys": len(q["keys"])}
    wrong = [k for k, v in expected.items() if a[k] != v]
    if wrong:
        raise ProtocolError(f"the answer is not about this question ({', '.join(wrong)} differ)")
    flags = a["flags"]
    if not (isinstance(flags, list) and flags and all(isinstance(f, str) and f for f in flags)):
        raise ProtocolError("flags must be a non-empty list of flag names")
    positive = a["positive"]
    if not isinstance(positive, dict):
        raise ProtocolError("positive must map pseudonyms to flags")
    for key, values in positive.items():
        if key not in question.usccs_by_key:
            raise ProtocolError("the answer names a pseudonym that was not asked about")
        if not (isinstance(values, list) and len(values) == len(flags) and all(v is True or v is False
                                                                                for v in values) and any(values)):
            raise ProtocolError(f"each positive pseudonym carries {len(flags)} booleans, at least one true")
    return a
