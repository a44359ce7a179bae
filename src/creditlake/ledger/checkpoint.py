"""Signed checkpoints: the ledger's tree size and root, signed with Ed25519 in the C2SP tlog-checkpoint format.

Why sign: the hashes alone prove that the entries match leaves.bin, but whoever can edit the entries can
rewrite leaves.bin too. A checkpoint commits to the whole log at a size with a key kept outside the lake;
anyone holding the public key can later check that the log still has that root at that size (nothing
changed) and still has at least that many entries (no rollback), with merkle.py and the public key only.

Format (c2sp.org/tlog-checkpoint on c2sp.org/signed-note, so Go's golang.org/x/mod/sumdb/note and
transparency-dev tooling can read it). The signed note text is, each line ending in a newline:

    creditlake.local/ledger                      origin = key name
    1234                                         tree size, decimal
    3q2+7w...=                                   base64 (RFC 4648 §4) of the 32-byte root hash
    time 2025-01-31T23:59:59.000000Z             one extension line: the signing time, so it is signed too

then a blank line and the signature line

    — creditlake.local/ledger <base64(key id (4 bytes) || Ed25519 signature (64 bytes) over the note text)>

with key id = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. The note text signed is every
byte before the blank line, final newline included.

On disk, `home/ledger/checkpoints/<tree_size>.json` holds the note plus unsigned conveniences that are
self-authenticating: tree_size/root_hash (must equal the note's), the frontier (the perfect-subtree roots
of the tree, which must fold to the signed root: verify uses them to localise a rewritten entry) and a
consistency proof from the previous checkpoint (which must verify against both signed roots).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from creditlake.ledger.log import LedgerPaths, ledger_lock, ledger_paths, read_state, utc_now, write_atomic
from creditlake.ledger.merkle import (CompactRange, PackedHashes, consistency_proof,
                                      root_from_leaf_hashes, verify_consistency)
from creditlake.settings import Settings, get_settings

ORIGIN = "creditlake.local/ledger"
KEY_FILE = "ledger_ed25519.key"
PUB_FILE = "ledger_ed25519.pub"
_ED25519 = b"\x01"  # signed-note signature type byte for Ed25519


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose signature or contents do not hold."""


# --- keys -----------------------------------------------------------------------------------------------------

def key_paths(settings: Settings | None = None) -> tuple[Path, Path]:
    keys = (settings or get_settings()).keys
    return keys / KEY_FILE, keys / PUB_FILE


def ensure_signing_key(settings: Settings | None = None) -> Path:
    """Create the Ed25519 key pair on first use; return the private key's path.

    The private key (PKCS#8 PEM) is created with mode 0600 and published atomically with link(2), so two
    processes starting at once agree on one key; the public key beside it is derived and safe to share.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key_file, pub_file = key_paths(settings)
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = key_file.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass  # another process won the race: its key is the key
        finally:
            tmp.unlink()
    if not pub_file.exists():
        write_atomic(pub_file, _public_pem(_load_private(key_file)))
    return key_file


def _load_private(key_file: Path):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(key_file.read_bytes(), password=None)


def _public_pem(private_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def _private_key(settings: Settings | None):
    return _load_private(ensure_signing_key(settings))


def public_key_pem(settings: Settings | None = None) -> bytes:
    """The public key (SubjectPublicKeyInfo PEM): what auditors keep to check checkpoints.

    Derived from the private key (created on first use), so a replaced .pub file cannot mislead the export.
    """
    key_file, pub_file = key_paths(settings)
    if pub_file.exists() and not key_file.exists():  # a verifier-only copy of the ledger folder
        return pub_file.read_bytes()
    return _public_pem(_private_key(settings))


def load_public_key(source: bytes | str | Path | None = None, settings: Settings | None = None):
    """An Ed25519 public key from PEM bytes or a PEM file; by default the ledger's own .pub file.

    Returns None when there is no key at all (then no checkpoint can be trusted).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if source is None:
        key_file, pub_file = key_paths(settings)
        if pub_file.exists():
            source = pub_file
        elif key_file.exists():
            source = public_key_pem(settings)
        else:
            return None
    pem = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the ledger's public key must be an Ed25519 key")
    return key


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key, name: str = ORIGIN) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4], as c2sp.org/signed-note recommends."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + _raw(public_key)).digest()[:4]


def verifier_key(public_key, name: str = ORIGIN) -> str:
    """The key in signed-note verifier form `name+hexid+base64(0x01||key)` (for Go's note.NewVerifier)."""
    return f"{name}+{key_id(public_key, name).hex()}+{base64.b64encode(_ED25519 + _raw(public_key)).decode()}"


# --- notes ----------------------------------------------------------------------------------------------------

def note_text(tree_size: int, root_hash: bytes, time: str, origin: str = ORIGIN) -> str:
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\ntime {time}\n"


def sign_note(text: str, private_key, name: str = ORIGIN) -> str:
    """The signed note: text, blank line, one signature line."""
    sig = key_id(private_key.public_key(), name) + private_key.sign(text.encode("utf-8"))
    return f"{text}\n\u2014 {name} {base64.b64encode(sig).decode()}\n"


@dataclass(frozen=True)
class SignedHead:
    origin: str
    tree_size: int
    root_hash: bytes
    time: str | None


def open_note(note: str, public_key, name: str = ORIGIN) -> SignedHead:
    """Check the note's signature by `public_key` and return what it signs; CheckpointError otherwise.

    As signed-note requires, signatures by other keys are ignored, and at least one by ours must verify.
    """
    from cryptography.exceptions import InvalidSignature

    text, sep, sig_block = note.rpartition("\n\n")
    if not sep or not sig_block.endswith("\n"):
        raise CheckpointError("not a signed note (no blank line before the signature lines)")
    text += "\n"
    want_id = key_id(public_key, name)
    verified = False
    for line in sig_block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise CheckpointError("malformed signature line")
        try:
            sig = base64.b64decode(parts[2], validate=True)
        except ValueError:
            raise CheckpointError("signature line is not base64") from None
        if parts[1] != name or sig[:4] != want_id:
            continue  # another key's signature (a witness, a rotated key): not ours to judge
        try:
            public_key.verify(sig[4:], text.encode("utf-8"))
            verified = True
        except InvalidSignature:
            raise CheckpointError(f"signature by {name} (key id {want_id.hex()}) is invalid") from None
    if not verified:
        raise CheckpointError(f"no signature by {name} (key id {want_id.hex()})")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[1].isdigit() or (len(lines[1]) > 1 and lines[1][0] == "0"):
        raise CheckpointError("signed text is not a checkpoint (origin, tree size, root hash)")
    try:
        root_hash = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise CheckpointError("root hash line is not base64") from None
    if len(root_hash) != 32:
        raise CheckpointError("root hash is not 32 bytes")
    time = next((x[5:] for x in lines[3:] if x.startswith("time ")), None)
    return SignedHead(lines[0], int(lines[1]), root_hash, time)


# --- checkpoint files -----------------------------------------------------------------------------------------

def checkpoint_files(settings: Settings | None = None) -> list[Path]:
    """Checkpoint files, smallest tree first."""
    folder = ledger_paths(settings).checkpoints
    files = [p for p in folder.glob("*.json") if p.stem.isdigit()] if folder.exists() else []
    return sorted(files, key=lambda p: int(p.stem))


def read_checkpoint_file(path: Path) -> dict:
    """A checkpoint document: our JSON, or a bare signed note kept by a third party (only `note` then)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("note"), str):
            raise CheckpointError(f"{path}: not a ledger checkpoint (no signed note)")
        return doc
    return {"note": text}


def read_leaf_hashes(paths: LedgerPaths, size: int) -> PackedHashes:
    """The first `size` leaf hashes from leaves.bin (RuntimeError if it holds fewer)."""
    with open(paths.leaves, "rb") if paths.leaves.exists() else open(os.devnull, "rb") as fh:
        blob = fh.read(size * 32)
    if len(blob) != size * 32:
        raise RuntimeError(f"{paths.leaves} holds fewer than {size} leaf hashes; run `creditlake ledger verify`")
    return PackedHashes(blob)


def write_checkpoint(settings: Settings | None = None) -> Path:
    """Sign the ledger's current tree head into checkpoints/<tree_size>.json; return its path.

    Refuses (RuntimeError) to sign a tree that does not extend the latest checkpoint: a log must never sign
    two inconsistent views. Idempotent: with no new entry since the latest checkpoint, returns that one.
    Cost: O(n) hashes, to check leaves.bin against the state and build the consistency proof.
    """
    settings = settings or get_settings()
    key = _private_key(settings)
    with ledger_lock(settings, exclusive=True) as paths:
        state = read_state(paths)
        leaves = read_leaf_hashes(paths, state.size)
        root = state.frontier.root()
        if root_from_leaf_hashes(leaves) != root:
            raise RuntimeError("leaves.bin does not match the ledger state; run `creditlake ledger verify`")
        previous = checkpoint_files(settings)
        consistency = None
        if previous:
            last = read_checkpoint_file(previous[-1])
            head = open_note(last["note"], key.public_key())
            if head.tree_size > state.size:
                raise RuntimeError(f"checkpoint {head.tree_size} is ahead of the log ({state.size} entries): the "
                                   "log was rolled back; run `creditlake ledger verify`")
            if head.tree_size == state.size and head.root_hash == root:
                return previous[-1]
            proof = consistency_proof(leaves, head.tree_size, state.size)
            if not verify_consistency(head.tree_size, state.size, head.root_hash, root, proof):
                raise RuntimeError(f"the log no longer extends checkpoint {head.tree_size}; refusing to sign: "
                                   "run `creditlake ledger verify`")
            consistency = {"tree_size": head.tree_size, "proof": [h.hex() for h in proof]}
        time = utc_now()
        note = sign_note(note_text(state.size, root, time), key)
        doc = {"origin": ORIGIN, "tree_size": state.size, "root_hash": root.hex(), "time": time,
               "key_name": ORIGIN, "key_id": key_id(key.public_key()).hex(), "note": note,
               "frontier": [h.hex() for h in state.frontier.nodes], "consistency_from": consistency}
        paths.checkpoints.mkdir(parents=True, exist_ok=True)
        path = paths.checkpoints / f"{state.size}.json"
        write_atomic(path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature verified, with its self-authenticating extras checked."""

    path: Path
    tree_size: int
    root_hash: bytes
    time: str | None
    note: str
    frontier: CompactRange | None          # None when absent or not folding to the signed root
    consistency_from: tuple[int, list[bytes]] | None


def open_checkpoint(path: Path, public_key) -> Checkpoint:
    """Read and check one checkpoint file against `public_key`; CheckpointError names what is wrong."""
    try:
        doc = read_checkpoint_file(path)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"unreadable: {exc}") from None
    head = open_note(doc["note"], public_key)
    if head.origin != ORIGIN:
        raise CheckpointError(f"origin {head.origin!r} is not this ledger's ({ORIGIN})")
    if "tree_size" in doc and (doc["tree_size"] != head.tree_size or doc.get("root_hash") != head.root_hash.hex()):
        raise CheckpointError("tree_size/root_hash in the file differ from the signed note")
    if Path(path).stem.isdigit() and Path(path).parent.name == "checkpoints" and int(Path(path).stem) != head.tree_size:
        raise CheckpointError(f"file name says {Path(path).stem} but the note signs size {head.tree_size}")
    frontier = None
    if doc.get("frontier") is not None:
        try:
            frontier = CompactRange(head.tree_size, [bytes.fromhex(h) for h in doc["frontier"]])
        except ValueError:
            raise CheckpointError("frontier is malformed") from None
        if frontier.root() != head.root_hash:
            raise CheckpointError("frontier does not fold to the signed root")
    consistency = None
    if doc.get("consistency_from"):
        c = doc["consistency_from"]
        consistency = (int(c["tree_size"]), [bytes.fromhex(h) for h in c["proof"]])
    return Checkpoint(Path(path), head.tree_size, head.root_hash, head.time, doc["note"], frontier, consistency)
