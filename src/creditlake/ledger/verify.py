"""Check the whole ledger, and produce proofs that third parties check with merkle.py alone.

`verify_ledger` answers "is this the log we signed, unchanged and not rolled back?" and, when not, names the
FIRST bad position. How it finds that position, cheapest evidence first:

1. Entry by entry: each line must parse, carry `index` equal to its position (no gap, duplicate or
   reordering) and an event id not seen before, and hash to the leaf hash recorded in leaves.bin at append
   time. The first entry failing any of these is named exactly.
2. Checkpoints: each signature must verify with the public key (the ledger's own .pub, or one the auditor
   supplies), its frontier must fold to its signed root, and its consistency proof from the previous
   checkpoint must verify against both signed roots (so deleting or replacing a checkpoint shows). A
   checkpoint larger than the log is a rollback: the first missing entry is named.
3. Roots: the root recomputed from the entries at each checkpoint's size must equal the signed root. When
   it does not (someone rewrote an entry AND leaves.bin to match), the divergence is located among
   authenticated subtree roots: if leaves.bin still reproduces the signed root, it is trusted and the first
   entry whose hash differs from it is named exactly; otherwise every checkpoint's frontier (perfect-subtree
   roots, authenticated because they fold to a signed root) is compared with the same subtrees recomputed
   from the entries. A matching subtree proves its entries intact, a differing one contains a changed entry,
   so the first changed entry lies between the end of the intact prefix and the end of the first differing
   subtree; the result names that range (a single entry when checkpoints are dense enough).

Every leaf is rehashed (O(n)); the Merkle root is built with a compact range (O(log n) memory).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditlake.ledger.checkpoint import (Checkpoint, CheckpointError, checkpoint_files, load_public_key,
                                          open_checkpoint, read_checkpoint_file, read_leaf_hashes)
from creditlake.ledger.log import find_entry, ledger_lock, ledger_paths, read_state
from creditlake.ledger.merkle import (HASH_SIZE, CompactRange, PackedHashes, checkpoint_body, consistency_proof,
                                      inclusion_proof, root_from_leaf_hashes, subtree_root, verify_consistency,
                                      verify_inclusion)
from creditlake.settings import Settings, get_settings


_CHANGED = "changed since it was appended"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at an entry index or at a checkpoint (named by its tree size)."""

    where: str  # "entry" or "checkpoint"
    index: int
    reason: str

    def __str__(self) -> str:
        return f"{self.where} {self.index}: {self.reason}"


@dataclass
class VerifyResult:
    entries: int
    checkpoints: int
    root_hash: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The first bad position: the lowest entry index, else the smallest checkpoint."""
        ranked = sorted(self.problems, key=lambda p: (p.where != "entry", p.index))
        return ranked[0] if ranked else None

    def summary(self) -> str:
        if self.ok:
            return f"ledger ok: {self.entries} entries, {self.checkpoints} checkpoints, root {self.root_hash}"
        return f"ledger FAILED at {self.first}"

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints, "root_hash": self.root_hash,
                "first_bad": None if first is None else {"where": first.where, "index": first.index,
                                                         "reason": first.reason},
                "problems": [str(p) for p in sorted(self.problems, key=lambda p: (p.where != "entry", p.index))]}


def _lines(path: Path, limit: int):
    """Lines of `path` within its first `limit` bytes (the snapshot), newline kept so a torn line shows."""
    if not path.exists():
        return
    seen = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if seen + len(raw) > limit:
                raw = raw[:limit - seen]
            if raw:
                yield raw
            seen += len(raw)
            if seen >= limit:
                return


def _size_label(path: Path) -> int:
    """The tree size a checkpoint file claims (unverified; only to name it in a problem), else -1."""
    try:
        return checkpoint_body(read_checkpoint_file(path)["note"])[1]
    except (OSError, ValueError, KeyError):
        return int(path.stem) if path.stem.isdigit() else -1


def _open_checkpoints(files: list[Path], external: Path | None, key, problems: list[Problem]) -> list[Checkpoint]:
    """The checkpoints whose signature holds, plus problems for the others and for broken chains."""
    trusted, internal = [], []
    for path in files + ([Path(external)] if external else []):
        if key is None:
            problems.append(Problem("checkpoint", _size_label(path), f"{path.name}: no public key to check its "
                                    "signature (keys/ledger_ed25519.pub is missing; pass --public-key)"))
            continue
        try:
            cp = open_checkpoint(path, key)
        except CheckpointError as exc:
            problems.append(Problem("checkpoint", _size_label(path), f"{path.name}: {exc}"))
            continue
        trusted.append(cp)
        if path != external:
            internal.append(cp)
    by_size = {cp.tree_size: cp for cp in internal}
    known = {_size_label(p) for p in files}
    for pos, cp in enumerate(internal):
        if cp.consistency_from is None:
            if any(size < cp.tree_size for size in known):
                problems.append(Problem("checkpoint", cp.tree_size, "has no consistency proof from the "
                                        "checkpoint before it"))
            continue
        prev_size, proof = cp.consistency_from
        prev = by_size.get(prev_size)
        if prev is None:
            if prev_size not in known:
                problems.append(Problem("checkpoint", cp.tree_size, f"proves consistency from checkpoint "
                                        f"{prev_size}, which is missing (deleted?)"))
        elif not verify_consistency(prev_size, cp.tree_size, prev.root_hash, cp.root_hash, proof):
            problems.append(Problem("checkpoint", cp.tree_size, f"is not consistent with checkpoint {prev_size}: "
                                    "the log was rewritten between them"))
    if external:
        for cp in trusted:
            twin = by_size.get(cp.tree_size)
            if cp.path == Path(external) and twin is not None and twin.root_hash != cp.root_hash:
                problems.append(Problem("checkpoint", cp.tree_size, f"{Path(external).name} and {twin.path.name} "
                                        "sign different roots for one size: two views of the log"))
    return trusted


def _locate(cp: Checkpoint, good_prefix: int, recomputed: PackedHashes, recorded: PackedHashes,
            trusted: list[Checkpoint]) -> Problem:
    """Name the first changed entry below checkpoint `cp`, whose signed root the entries no longer give."""
    s = cp.tree_size
    if len(recorded) >= s and root_from_leaf_hashes(recorded[:s]) == cp.root_hash:
        # leaves.bin is authenticated by the signed root: the first entry differing from it is the culprit.
        for i in range(good_prefix, s):
            if recomputed[i] != recorded[i]:
                return Problem("entry", i, f"changed since checkpoint {s} was signed (its hash differs from "
                                           "the leaf hash that checkpoint commits to)")
    intact: list[tuple[int, int]] = [(0, good_prefix)]
    hi = s
    for other in trusted:
        if other.frontier is None or other.tree_size > len(recomputed):
            continue
        for a, b, h in other.frontier.subtrees():
            if b <= good_prefix or a >= hi:
                continue
            if subtree_root(recomputed, a, b) == h:
                intact.append((a, b))
            else:
                hi = min(hi, b)
    lo = 0
    for a, b in sorted(intact):  # extend the intact prefix through contiguous intact subtrees
        if a <= lo:
            lo = max(lo, b)
    lo = min(lo, hi - 1)
    if hi - lo == 1:
        return Problem("entry", lo, f"changed: the subtree holding it differs from the one signed in "
                                    f"checkpoint {s}, and leaves.bin was rewritten to match")
    return Problem("entry", lo, f"the first changed entry lies in entries {lo}..{hi - 1}: their subtree root "
                                f"differs from the one signed in checkpoint {s}, and leaves.bin was rewritten "
                                "to match, so no finer commitment names it")


def verify_ledger(settings: Settings | None = None, checkpoint_file: Path | str | None = None,
                  public_key: bytes | str | Path | None = None) -> VerifyResult:
    """Recompute every leaf and the root, check every checkpoint; the result names the first bad position.

    `checkpoint_file`: a checkpoint kept outside the ledger folder (by an auditor), checked like the others:
    the defence against a rollback that also deleted the later checkpoints. `public_key`: PEM bytes or file
    to trust instead of the ledger's own keys/ledger_ed25519.pub.
    """
    settings = settings or get_settings()
    paths = ledger_paths(settings)
    with ledger_lock(settings, exclusive=False):  # a consistent snapshot; the files are append-only beyond it
        entries_limit = paths.entries.stat().st_size if paths.entries.exists() else 0
        leaves_blob = paths.leaves.read_bytes() if paths.leaves.exists() else b""
        try:
            state = read_state(paths)
        except (RuntimeError, ValueError, KeyError) as exc:
            state, state_error = None, str(exc)
        files = checkpoint_files(settings)
    problems: list[Problem] = []
    trusted = _open_checkpoints(files, Path(checkpoint_file) if checkpoint_file else None,
                                load_public_key(public_key, settings), problems)

    recorded = PackedHashes(leaves_blob[:len(leaves_blob) // HASH_SIZE * HASH_SIZE])
    wanted = sorted({cp.tree_size for cp in trusted})
    roots: dict[int, bytes] = {}
    cr, recomputed, seen = CompactRange(), bytearray(), set()
    entry_problem: Problem | None = None
    n = 0
    for raw in _lines(paths.entries, entries_limit):
        while wanted and wanted[0] == n:
            roots[wanted.pop(0)] = cr.root()
        line = raw[:-1] if raw.endswith(b"\n") else raw
        h = hashlib.sha256(b"\x00" + line).digest()
        recomputed += h
        cr.append(h)
        if entry_problem is None:
            entry_problem = _check_entry(n, raw, line, h, leaves_blob, seen)
        n += 1
    while wanted and wanted[0] == n:
        roots[wanted.pop(0)] = cr.root()
    recomputed_hashes = PackedHashes(recomputed)

    if entry_problem is not None:
        if entry_problem.reason.startswith(_CHANGED):
            vouching = [cp for cp in trusted if entry_problem.index < cp.tree_size and roots.get(cp.tree_size) ==
                        cp.root_hash]
            if vouching:
                entry_problem = Problem("entry", entry_problem.index, "leaves.bin is damaged here; the entry "
                                        f"itself matches signed checkpoint {vouching[0].tree_size}")
        problems.append(entry_problem)
    if len(leaves_blob) % HASH_SIZE:
        problems.append(Problem("entry", len(recorded), "leaves.bin ends in a torn hash"))
    if len(recorded) > n:
        problems.append(Problem("entry", n, f"missing: leaves.bin records {len(recorded)} entries but the log "
                                            f"has {n} (truncated?)"))
    elif len(recorded) < n:
        problems.append(Problem("entry", len(recorded), "is not in leaves.bin (written outside the ledger API, or "
                                                        "an interrupted append that the next append completes)"))
    if state is None:
        problems.append(Problem("entry", 0, f"state.json unreadable: {state_error}"))
    elif state.size > n:
        problems.append(Problem("entry", n, f"missing: state.json records {state.size} entries but the log has "
                                            f"{n} (truncated?)"))

    good_prefix, located = 0, False
    for cp in sorted(trusted, key=lambda c: c.tree_size):
        if cp.tree_size > n:
            problems.append(Problem("entry", n, f"missing: checkpoint {cp.tree_size} ({cp.path.name}, signed "
                                                f"{cp.time}) covers {cp.tree_size} entries but the log has only "
                                                f"{n}: rolled back or truncated"))
        elif roots[cp.tree_size] == cp.root_hash:
            if not located:
                good_prefix = max(good_prefix, cp.tree_size)
        elif not located:
            problems.append(_locate(cp, good_prefix, recomputed_hashes, recorded, trusted))
            located = True
    return VerifyResult(n, len(files) + (1 if checkpoint_file else 0), cr.root().hex(), problems)


def _check_entry(i: int, raw: bytes, line: bytes, h: bytes, leaves: bytes, seen: set[str]) -> Problem | None:
    """What is wrong with entry `i` on its own (None if nothing); `seen` collects event ids."""
    if not raw.endswith(b"\n"):
        return Problem("entry", i, "torn last line (an interrupted append; the next append removes it)")
    try:
        d = json.loads(line)
        ok = isinstance(d, dict) and set(d) == {"event_id", "index", "kind", "record", "time"}
    except ValueError:
        ok = False
    if not ok:
        return Problem("entry", i, "is not a ledger entry (unparseable or wrong keys)")
    if d["index"] != i:
        return Problem("entry", i, f"holds index {d['index']}, expected {i}: entries were deleted, inserted or "
                                   "reordered")
    if d["event_id"] in seen:
        return Problem("entry", i, f"repeats event id {d['event_id']} of an earlier entry")
    seen.add(d["event_id"])
    if leaves[i * HASH_SIZE:(i + 1) * HASH_SIZE] not in (h, b""):
        return Problem("entry", i, _CHANGED + ": its hash differs from the leaf hash in leaves.bin")
    return None


# --- proofs ---------------------------------------------------------------------------------------------------

def _latest_checkpoint(settings: Settings) -> Checkpoint | None:
    files = checkpoint_files(settings)
    if not files:
        return None
    key = load_public_key(None, settings)
    if key is None:
        raise RuntimeError("the ledger has checkpoints but no public key; restore keys/ledger_ed25519.pub")
    return open_checkpoint(files[-1], key)


def prove(event_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """An inclusion proof of one event in the latest signed checkpoint, checkable with merkle.py alone.

    Raises KeyError for an unknown event id, ValueError when no checkpoint covers the entry yet, and
    RuntimeError when the ledger does not match its checkpoint (run verify).
    """
    settings = settings or get_settings()
    entry = find_entry(event_id, settings)
    cp = _latest_checkpoint(settings)
    if cp is None or cp.tree_size <= entry.index:
        raise ValueError(f"entry {entry.index} is not covered by a signed checkpoint yet: run "
                         "`creditlake ledger checkpoint` first")
    with ledger_lock(settings, exclusive=False) as paths:
        leaves = read_leaf_hashes(paths, cp.tree_size)
    leaf = entry.leaf_hash
    path = inclusion_proof(leaves, entry.index, cp.tree_size)
    if not verify_inclusion(leaf, entry.index, cp.tree_size, path, cp.root_hash):
        raise RuntimeError(f"entry {entry.index} does not verify against checkpoint {cp.tree_size}: run "
                           "`creditlake ledger verify`")
    return {"format": "creditlake-ledger-inclusion-proof/v1", "event_id": entry.event_id, "kind": entry.kind,
            "leaf_index": entry.index, "tree_size": cp.tree_size, "entry": entry.line.decode("utf-8"),
            "leaf_hash": leaf.hex(), "audit_path": [h.hex() for h in path], "root_hash": cp.root_hash.hex(),
            "checkpoint": cp.note}


def consistency(old_size: int, new_size: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """A consistency proof that the log at `new_size` (default: now) extends the log at `old_size`.

    Roots come from leaves.bin; where a checkpoint exists at either size its signed note is attached and
    must agree (RuntimeError otherwise).
    """
    settings = settings or get_settings()
    with ledger_lock(settings, exclusive=False) as paths:
        size = read_state(paths).size
        new_size = size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= size:
            raise ValueError(f"sizes must satisfy 0 <= old ({old_size}) <= new ({new_size}) <= {size} entries")
        leaves = read_leaf_hashes(paths, new_size)
    old_root, new_root = root_from_leaf_hashes(leaves[:old_size]), root_from_leaf_hashes(leaves)
    doc: dict[str, Any] = {"format": "creditlake-ledger-consistency-proof/v1", "old_size": old_size,
                           "new_size": new_size, "old_root": old_root.hex(), "new_root": new_root.hex(),
                           "proof": [h.hex() for h in consistency_proof(leaves, old_size, new_size)]}
    key = None
    for label, size_, root in (("old", old_size, old_root), ("new", new_size, new_root)):
        path = ledger_paths(settings).checkpoints / f"{size_}.json"
        if path.exists():
            key = key or load_public_key(None, settings)
            cp = open_checkpoint(path, key)
            if cp.root_hash != root:
                raise RuntimeError(f"leaves.bin disagrees with checkpoint {size_}: run `creditlake ledger verify`")
            doc[f"{label}_checkpoint"] = cp.note
    return doc
