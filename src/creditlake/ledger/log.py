"""The append-only event log: who shared, published or looked up what, as leaves of an RFC 9162 Merkle tree.

Why a ledger beside the lake: the regulator must be able to show, months later and to an outside party,
that a delivery was ingested with a given checksum, that a mart went to a department for a stated purpose,
or that a profile was looked up by a role, and that nobody quietly edited or removed such a record since.
Delta's transaction log records table versions, not those acts, and can be vacuumed; this log is tiny,
needs no Spark, and its integrity is checked by hashing alone (see verify.py and checkpoint.py).

Storage (under `settings.home / "ledger"`, outside the lake so lake maintenance never touches it):

    entries.jsonl   one entry per line: the canonical JSON of
                    {"event_id", "index", "kind", "record", "time"} (sorted keys, no spaces, UTF-8,
                    ensure_ascii=False). The line's bytes without the newline ARE the Merkle leaf.
    leaves.bin      the 32-byte leaf hash of each entry, written at append time: per-leaf commitments
                    that let `verify` name the exact entry that changed.
    state.json      tree size, byte length of entries.jsonl and the compact range ("frontier": the
                    O(log n) perfect-subtree roots), so an append costs O(log n) and never rescans.
    .lock           flock(2) target: one appender at a time across processes (Airflow tasks).
    checkpoints/    signed tree heads (checkpoint.py).

Records carry no personal data: identifiers of people enter as pseudonyms or roles; `append_event` refuses
a value that looks like a resident ID number or a mobile number in the clear.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from creditlake.ledger.merkle import HASH_SIZE, CompactRange, leaf_hash
from creditlake.settings import Settings, get_settings


# --- locations ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerPaths:
    root: Path

    @property
    def entries(self) -> Path:
        return self.root / "entries.jsonl"

    @property
    def leaves(self) -> Path:
        return self.root / "leaves.bin"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"


def ledger_paths(settings: Settings | None = None) -> LedgerPaths:
    return LedgerPaths((settings or get_settings()).home / "ledger")


@contextmanager
def ledger_lock(settings: Settings | None = None, exclusive: bool = True) -> Iterator[LedgerPaths]:
    """Hold flock(2) on the ledger's lock file: exclusive to append or sign, shared to take a snapshot.

    A separate lock file (not state.json, which is replaced by rename) so the lock survives state updates.
    """
    paths = ledger_paths(settings)
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield paths
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# --- canonical form -------------------------------------------------------------------------------------------

def canonical_json(obj: Any) -> bytes:
    """The one byte form of a JSON value: sorted keys, no spaces, UTF-8 without escapes, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@dataclass(frozen=True)
class Entry:
    """One logged event; its canonical JSON is a Merkle leaf."""

    index: int
    event_id: str
    kind: str
    time: str
    record: dict[str, Any] = field(hash=False)

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "index": self.index, "kind": self.kind, "record": self.record,
                "time": self.time}

    @property
    def line(self) -> bytes:
        """The leaf bytes: what entries.jsonl holds (without its newline) and what gets hashed."""
        return _entry_line(self.index, self.event_id, self.kind, self.time, canonical_json(self.record))

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.line)

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        d = json.loads(line)
        if not isinstance(d, dict) or set(d) != {"event_id", "index", "kind", "record", "time"}:
            raise ValueError("not a ledger entry: expected keys event_id, index, kind, record, time")
        return cls(index=d["index"], event_id=d["event_id"], kind=d["kind"], time=d["time"], record=d["record"])


def _entry_line(index: int, event_id: str, kind: str, time: str, record_json: bytes) -> bytes:
    """canonical_json of the entry, assembled from the record's canonical bytes (keys in sorted order)."""
    return b"".join((b'{"event_id":', canonical_json(event_id), b',"index":', str(index).encode(), b',"kind":',
                     canonical_json(kind), b',"record":', record_json, b',"time":', canonical_json(time), b"}"))


# --- what may be logged ---------------------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns what is wrong, or None


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "a non-empty string"


def _count(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else "a whole number >= 0"


def _sha256(v: Any) -> str | None:
    return None if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) else "64 lowercase hex digits (SHA-256)"


def _month(v: Any) -> str | None:
    return None if isinstance(v, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v) else "a month, YYYY-MM"


def _uscc(v: Any) -> str | None:
    ok = isinstance(v, str) and re.fullmatch(r"[0-9ABCDEFGHJKLMNPQRTUWXY]{18}", v)
    return None if ok else "an 18-character unified social credit code"


def _date(v: Any) -> str | None:
    try:
        date.fromisoformat(v)
        return None if isinstance(v, str) and len(v) == 10 else "a date, YYYY-MM-DD"
    except (TypeError, ValueError):
        return "a date, YYYY-MM-DD"


def _datetime(v: Any) -> str | None:
    try:
        datetime.fromisoformat(v)
        return None
    except (TypeError, ValueError):
        return "an ISO 8601 date or time, e.g. 2024-05-01T09:30:00+08:00"


def _departments(v: Any) -> str | None:
    ok = isinstance(v, list) and v and all(isinstance(d, str) and d.strip() for d in v)
    return None if ok else "a non-empty list of department names"


# kind -> required field -> check. Other fields are allowed (and scanned for personal data like these).
KINDS: dict[str, dict[str, Check]] = {
    "delivery_ingested": {"source": _text, "dataset": _text, "period": _month, "delivery_id": _text,
                          "sha256": _sha256, "rows": _count},
    "dataset_shared": {"to_department": _text, "purpose": _text},  # plus `dataset` or `mart`
    "published": {"table": _text, "target": _text, "rows": _count, "checksum": _text},
    "profile_lookup": {"uscc": _uscc, "by": _text, "purpose": _text},
    "penalty_shared": {"case_id": _text, "uscc": _uscc, "from_department": _text,
                       "to_departments": _departments, "deadline": _date},
    "discipline_action": {"case_id": _text, "department": _text, "action": _text, "time": _datetime},
    "report_issued": {"month": _month, "file": _text, "sha256": _sha256},
    "report_mailed": {"month": _month, "sha256": _sha256, "recipients": _count},
    "secret_query": {"source": _text, "dataset": _text, "month": _month, "purpose": _text,
                     "question_sha256": _sha256, "answer_sha256": _sha256, "n_keys": _count, "n_positive": _count},
}

# A resident ID number (GB 11643): region (first digit 1-8), birth date 18xx-20xx, sequence, check digit; and a
# mainland mobile number. Bounded by non-alphanumerics, so a digit run inside a hex digest, a credit code or a
# pseudonym (all unbroken alphanumeric runs) never matches.
_ID_BODY = r"[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
_MOBILE_BODY = r"(?:\+?86[- ]?)?1[3-9]\d{9}"
_START, _END = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_LOOKS_PERSONAL = [(re.compile(_START + _ID_BODY + _END, re.ASCII), "a resident ID number (居民身份证号)"),
                   (re.compile(_START + _MOBILE_BODY + _END, re.ASCII), "a mobile phone number (手机号)")]
# Both at once over canonical JSON text, where a value may also follow a JSON escape (\n, \u0007 ...);
# the leading lookahead makes the engine skip non-candidate positions cheaply.
_IN_TEXT = re.compile(r"(?=[1-8+])(?:(?<![0-9A-Za-z])|(?<=\\[nrtbf])|(?<=\\u[0-9a-fA-F]{4}))"
                      f"(?:{_ID_BODY}|{_MOBILE_BODY}){_END}", re.ASCII)


def _personal_data(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, what it looks like) for every string, number or key that looks like clear personal data."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _personal_data(k, f"{path}(key)")
            yield from _personal_data(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _personal_data(v, f"{path}[{i}]")
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        for pattern, what in _LOOKS_PERSONAL:
            if pattern.search(str(value)):
                yield path, what


def _validated(kind: str, record: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The checked JSON copy of `record` and its canonical bytes (see validate_record)."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger event kind {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(record, Mapping):
        raise ValueError(f"ledger record for {kind!r} must be a mapping of field -> value")
    try:
        text = canonical_json(dict(record))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ledger record for {kind!r} must hold only JSON values (str, int, float, bool, None, "
                         f"list, dict): {exc}") from None
    # One regex pass over the canonical text; only a hit pays for the walk that names the field.
    if _IN_TEXT.search(text.decode("utf-8")):
        for path, what in _personal_data(record, ""):
            raise ValueError(f"ledger record for {kind!r}: field {path!r} looks like {what} in the clear; "
                             "personal data never enters the ledger (log a pseudonym from creditlake.pseudonymise "
                             "or a role)")
    copy = json.loads(text)
    missing = [f for f in KINDS[kind] if f not in copy]
    if kind == "dataset_shared" and not ({"dataset", "mart"} & set(copy)):
        missing.insert(0, "dataset (or mart)")
    if missing:
        raise ValueError(f"ledger record for {kind!r} lacks {', '.join(missing)}")
    for name, check in KINDS[kind].items():
        wrong = check(copy[name])
        if wrong:
            raise ValueError(f"ledger record for {kind!r}: field {name!r} must be {wrong}")
    for name in ("dataset", "mart"):
        if name in copy and _text(copy[name]):
            raise ValueError(f"ledger record for {kind!r}: field {name!r} must be a non-empty string")
    return copy, text


def validate_record(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON copy of `record` after checking its kind's required fields and that it holds no personal data.

    Errors name the field but never echo its value: the value may be the very personal data refused.
    """
    return _validated(kind, record)[0]


# --- state and crash recovery ---------------------------------------------------------------------------------

@dataclass
class State:
    size: int
    entries_bytes: int
    frontier: CompactRange

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "size": self.size, "entries_bytes": self.entries_bytes,
                "frontier": [h.hex() for h in self.frontier.nodes], "root": self.frontier.root().hex()}


def read_state(paths: LedgerPaths) -> State:
    """The persisted state; an empty ledger when there is none yet (and no entries either)."""
    if not paths.state.exists():
        if paths.entries.exists() and paths.entries.stat().st_size:
            raise RuntimeError(f"{paths.state} is missing but {paths.entries} holds entries; run "
                               "`creditlake ledger verify` and restore the ledger folder from a backup")
        return State(0, 0, CompactRange())
    d = json.loads(paths.state.read_text(encoding="utf-8"))
    return State(d["size"], d["entries_bytes"], CompactRange(d["size"], [bytes.fromhex(h) for h in d["frontier"]]))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file, fsync and rename: readers see the old or the new file, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _recover(paths: LedgerPaths, state: State) -> State:
    """Bring files and state together after an append that died between its writes (we hold the lock).

    Writes go entries -> leaves -> state, so a crash leaves entries and leaves.bin at most one batch ahead of
    state.json: complete entry lines are rolled forward (their leaf hashes recomputed), a torn last line is
    cut. Files SHORTER than the state mean truncation or rollback: never repaired here, only reported.
    """
    entries_size, leaves_size = _size(paths.entries), _size(paths.leaves)
    if entries_size < state.entries_bytes or leaves_size < state.size * HASH_SIZE:
        raise RuntimeError(f"the ledger in {paths.root} is shorter than its recorded state (truncated or rolled "
                           "back?); refusing to append: run `creditlake ledger verify`")
    if leaves_size > state.size * HASH_SIZE:
        os.truncate(paths.leaves, state.size * HASH_SIZE)
    if entries_size == state.entries_bytes:
        return state
    with open(paths.entries, "rb") as fh:
        fh.seek(state.entries_bytes)
        tail = fh.read()
    complete = tail[:tail.rfind(b"\n") + 1]
    hashes = []
    for offset, line in enumerate(complete.splitlines()):
        try:
            entry = Entry.from_line(line)
        except ValueError:
            entry = None
        if entry is None or entry.index != state.size + offset or entry.line != line:
            raise RuntimeError(f"unexpected bytes after entry {state.size - 1} in {paths.entries}; refusing to "
                               "append: run `creditlake ledger verify`")
        hashes.append(leaf_hash(line))
    if len(complete) < len(tail):  # a torn line from an interrupted write: it was never acknowledged
        os.truncate(paths.entries, state.entries_bytes + len(complete))
    if hashes:
        _append(paths.leaves, b"".join(hashes))
        state.frontier.extend(hashes)
    state = State(state.size + len(hashes), state.entries_bytes + len(complete), state.frontier)
    write_atomic(paths.state, json.dumps(state.to_json()).encode())
    return state


# --- the public API -------------------------------------------------------------------------------------------

def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append_events(events: Iterable[tuple[str, Mapping[str, Any]]], settings: Settings | None = None) -> list[Entry]:
    """Append a batch of (kind, record) events atomically: all are validated first, then written with one
    fsync per file. Returns the entries with their index, event id and time.

    Cost: O(batch + log n); the frontier in state.json spares any rescan of the log.
    """
    batch = []
    for pos, (kind, record) in enumerate(events):
        try:
            batch.append((kind, *_validated(kind, record)))
        except ValueError as exc:
            raise ValueError(f"event {pos} of the batch: {exc}") from None
    if not batch:
        return []
    with ledger_lock(settings, exclusive=True) as paths:
        state = _recover(paths, read_state(paths))
        now = utc_now()
        entries, lines = [], []
        for i, (kind, record, record_json) in enumerate(batch):
            entry = Entry(state.size + i, str(uuid.uuid4()), kind, now, record)
            entries.append(entry)
            lines.append(_entry_line(entry.index, entry.event_id, kind, now, record_json))
        hashes = [leaf_hash(line) for line in lines]
        blob = b"\n".join(lines) + b"\n"
        frontier = state.frontier.copy()
        frontier.extend(hashes)
        _append(paths.entries, blob)
        _append(paths.leaves, b"".join(hashes))
        new = State(state.size + len(entries), state.entries_bytes + len(blob), frontier)
        write_atomic(paths.state, json.dumps(new.to_json()).encode())
    return entries


def append_event(kind: str, record: Mapping[str, Any], settings: Settings | None = None) -> Entry:
    """Append one event, e.g. `append_event("delivery_ingested", {"source": ..., "rows": 1200, ...})`."""
    return append_events([(kind, record)], settings)[0]


def iter_entries(settings: Settings | None = None) -> Iterator[Entry]:
    """Entries in log order, streamed (the log may hold millions)."""
    path = ledger_paths(settings).entries
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for raw in fh:  # binary iteration splits on b"\n" only, never on U+2028 inside a string
            yield Entry.from_line(raw.rstrip(b"\n"))


def read_entries(settings: Settings | None = None, kind: str | None = None) -> list[Entry]:
    """All entries (optionally of one kind), in log order."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown ledger event kind {kind!r}; known: {', '.join(KINDS)}")
    return [e for e in iter_entries(settings) if kind is None or e.kind == kind]


def event_ids(settings: Settings | None = None) -> list[str]:
    """Event ids in log order."""
    return [e.event_id for e in iter_entries(settings)]


def find_entry(event_id: str, settings: Settings | None = None) -> Entry:
    """The entry with this event id; KeyError when there is none."""
    path = ledger_paths(settings).entries
    needle = canonical_json(event_id)
    if path.exists():
        with open(path, "rb") as fh:
            for raw in fh:
                if needle in raw:  # cheap byte test first; parse only candidate lines
                    entry = Entry.from_line(raw.rstrip(b"\n"))
                    if entry.event_id == event_id:
                        return entry
    raise KeyError(f"no ledger entry with event id {event_id!r}")
