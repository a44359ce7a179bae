"""The tamper-evident ledger: RFC 9162 vectors, append/verify, tamper detection with the first bad position,
proofs checked by merkle.py alone, personal-data refusal, and the CLI. No Spark."""

from __future__ import annotations

import base64
import json
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake.ledger import merkle
from creditlake.ledger.merkle import leaf_hash, node_hash
from creditlake.settings import Settings

MERKLE_PY = Path(merkle.__file__)

# Test vectors: transparency-dev/merkle testonly/constants.go, testonly/reference_test.go and
# proof/verify_test.go (the RFC 6962 vectors Google's trillian and certificate-transparency-go share).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
LEAF_HASHES = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
               "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"]
ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
HASHES = [leaf_hash(x) for x in LEAVES]
H = bytes.fromhex


# --- merkle.py against the vectors and the RFC's recursive definitions ---------------------------------------

def test_leaf_hashes_and_roots_match_the_vectors():
    assert [h.hex() for h in HASHES] == LEAF_HASHES
    for n in range(9):
        assert merkle.root(LEAVES[:n]).hex() == ROOTS[n]
        assert merkle.subtree_root(HASHES, 0, n).hex() == ROOTS[n]


@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_inclusion_vectors(index, size, path):
    assert [h.hex() for h in merkle.inclusion_proof(HASHES, index, size)] == path
    proof, root = [H(h) for h in path], H(ROOTS[size])
    assert merkle.verify_inclusion(HASHES[index], index, size, proof, root)
    # corruptions, as transparency-dev's verifier tests make them: each must fail
    bad = [(HASHES[index], index + 1, size, proof, root), (HASHES[index], index, size * 2, proof, root),
           (HASHES[index], index, size, proof, H(ROOTS[0])), (leaf_hash(b"wrong"), index, size, proof, root),
           (HASHES[index], index, size, proof + [root], root), (HASHES[index], index, size, [root] + proof, root)]
    if index:
        bad.append((HASHES[index], index - 1, size, proof, root))
    if size > 1:
        bad.append((HASHES[index], index, size // 2, proof, root))
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        bad.append((HASHES[index], index, size, flipped, root))
    if proof:
        bad.append((HASHES[index], index, size, proof[:-1], root))
    for args in bad:
        assert not merkle.verify_inclusion(*args), args[1:3]


@pytest.mark.parametrize("size1,size2,path", CONSISTENCY)
def test_consistency_vectors(size1, size2, path):
    assert [h.hex() for h in merkle.consistency_proof(HASHES, size1, size2)] == path
    proof, r1, r2 = [H(h) for h in path], H(ROOTS[size1]), H(ROOTS[size2])
    assert merkle.verify_consistency(size1, size2, r1, r2, proof)
    if not proof:
        return
    bad = [(size1 - 1, size2, r1, r2, proof), (size1 + 1, size2, r1, r2, proof), (size1 ^ 2, size2, r1, r2, proof),
           (size1, size2 * 2, r1, r2, proof), (size1, size2 // 2, r1, r2, proof), (size1, size2, r2, r1, proof),
           (size1, size2, r1, r2, []), (size1, size2, r1, r2, proof + [r1]), (size1, size2, r1, r2, [r2] + proof),
           (size1, size2, r1, r2, proof[:-1]), (size1, size2, r1, r2, [proof[0]] + proof)]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        bad.append((size1, size2, r1, r2, flipped))
    for args in bad:
        assert not merkle.verify_consistency(*args), args[:2]


def test_consistency_edge_cases():
    empty = merkle.EMPTY_ROOT
    assert merkle.verify_consistency(0, 0, empty, empty, [])
    assert merkle.verify_consistency(0, 5, empty, H(ROOTS[5]), [])
    assert not merkle.verify_consistency(1, 1, H(ROOTS[1]), H(ROOTS[2]), [])
    assert not merkle.verify_consistency(2, 1, H(ROOTS[2]), H(ROOTS[1]), [])
    assert not merkle.verify_consistency(0, 1, empty, empty, [empty])


def _ref_mth(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = merkle.split_point(len(hashes))
    return node_hash(_ref_mth(hashes[:k]), _ref_mth(hashes[k:]))


def _ref_path(m, hashes):
    if len(hashes) == 1:
        return []
    k = merkle.split_point(len(hashes))
    if m < k:
        return _ref_path(m, hashes[:k]) + [_ref_mth(hashes[k:])]
    return _ref_path(m - k, hashes[k:]) + [_ref_mth(hashes[:k])]


def _ref_subproof(m, hashes, b):
    n = len(hashes)
    if m == n:
        return [] if b else [_ref_mth(hashes)]
    k = merkle.split_point(n)
    if m <= k:
        return _ref_subproof(m, hashes[:k], b) + [_ref_mth(hashes[k:])]
    return _ref_subproof(m - k, hashes[k:], False) + [_ref_mth(hashes[:k])]


def test_iterative_algorithms_equal_the_rfc_recursion():
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(37)]
    for n in range(1, 38):
        root = _ref_mth(hashes[:n])
        assert merkle.root_from_leaf_hashes(hashes[:n]) == root
        for m in range(n):
            path = merkle.inclusion_proof(hashes, m, n)
            assert path == _ref_path(m, hashes[:n])
            assert merkle.verify_inclusion(hashes[m], m, n, path, root)
            assert not merkle.verify_inclusion(hashes[m], (m + 1) % n, n, path, root) or n == 1
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(hashes, m, n)
            assert proof == _ref_subproof(m, hashes[:n], True)
            assert merkle.verify_consistency(m, n, _ref_mth(hashes[:m]), root, proof)


def test_compact_range_state_is_logarithmic():
    cr = merkle.CompactRange()
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(5000)]
    cr.extend(hashes)
    assert len(cr.nodes) == bin(5000).count("1")
    assert [(a, b) for a, b, _ in cr.subtrees()] == [(0, 4096), (4096, 4608), (4608, 4864), (4864, 4992),
                                                     (4992, 5000)]
    assert cr.root() == _ref_mth(hashes)
    packed = merkle.PackedHashes(b"".join(hashes))
    assert packed[4999] == hashes[4999] and merkle.subtree_root(packed, 4096, 5000) == _ref_mth(hashes[4096:])


# --- the log --------------------------------------------------------------------------------------------------

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _events(n):
    kinds = [
        ("delivery_ingested", lambda i: {"source": "samr", "dataset": "registrations", "period": "2024-03",
                                         "delivery_id": f"d{i}", "sha256": SHA, "rows": 100 + i}),
        ("dataset_shared", lambda i: {"mart": "mart_enterprise_profile", "to_department": "市税务局",
                                      "purpose": "联合惩戒名单核对"}),
        ("published", lambda i: {"table": "gold.mart_x", "target": "duckdb", "rows": i, "checksum": SHA}),
        ("profile_lookup", lambda i: {"uscc": "91520102MA6DXXXX1A", "by": "p1_" + SHA, "purpose": "信用核查"}),
        ("penalty_shared", lambda i: {"case_id": f"GYSJ-2024-{i:04d}", "uscc": "91520102MA6DXXXX1A",
                                      "from_department": "市市场监管局", "to_departments": ["市税务局", "市人社局"],
                                      "deadline": "2024-06-30"}),
        ("discipline_action", lambda i: {"case_id": f"GYSJ-2024-{i:04d}", "department": "市税务局",
                                         "action": "限制申领发票", "time": "2024-05-02T10:00:00+08:00"}),
        ("report_issued", lambda i: {"month": "2024-03", "file": "reports/2024-03.pdf", "sha256": SHA}),
        ("report_mailed", lambda i: {"month": "2024-03", "sha256": SHA, "recipients": 2}),
        ("secret_query", lambda i: {"source": "pboc", "dataset": "loan_defaults", "month": "2024-03",
                                    "purpose": "信贷逾期核验", "question_sha256": SHA, "answer_sha256": SHA,
                                    "n_keys": 3, "n_positive": 1}),
    ]
    return [(kinds[i % len(kinds)][0], kinds[i % len(kinds)][1](i)) for i in range(n)]


@pytest.fixture
def home(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


def _build(settings, n=20, checkpoints=(8, 20)):
    from creditlake.ledger import append_events, write_checkpoint

    events, done = _events(n), 0
    for size in sorted(checkpoints):
        append_events(events[done:size], settings)
        write_checkpoint(settings)
        done = size
    append_events(events[done:], settings)


def _paths(settings):
    from creditlake.ledger.log import ledger_paths

    return ledger_paths(settings)


def _lines(settings):
    return _paths(settings).entries.read_bytes().splitlines()


def _write_lines(settings, lines):
    _paths(settings).entries.write_bytes(b"".join(line + b"\n" for line in lines))


def _verify(settings, **kw):
    from creditlake.ledger import verify_ledger

    return verify_ledger(settings, **kw)


def test_append_read_and_verify(home):
    from creditlake.ledger import KINDS, append_event, event_ids, read_entries
    from creditlake.ledger.log import canonical_json

    _build(home)
    first = read_entries(home)[0]
    assert [e.index for e in read_entries(home)] == list(range(20))
    assert {e.kind for e in read_entries(home)} == set(KINDS)
    assert len(set(event_ids(home))) == 20 and first.time.endswith("Z")
    assert _lines(home)[0] == first.line == canonical_json(first.as_dict()) and b": " not in first.line
    assert "市税务局".encode() in _lines(home)[1]  # UTF-8, not \\u escapes
    e = append_event("published", {"table": "t", "target": "postgres", "rows": 1, "checksum": "c"}, home)
    assert e.index == 20 and read_entries(home, kind="published")[-1] == e
    state = json.loads(_paths(home).state.read_text())
    assert state["size"] == 21 and len(state["frontier"]) == bin(21).count("1")
    result = _verify(home)
    assert result.ok, result.problems
    assert result.summary() == f"ledger ok: 21 entries, 2 checkpoints, root {state['root']}"
    assert _paths(home).leaves.stat().st_size == 21 * 32


def test_signing_key_is_private_and_checkpoint_is_a_c2sp_note(home):
    from cryptography.hazmat.primitives import serialization

    _build(home, n=8, checkpoints=(8,))
    key = home.keys / "ledger_ed25519.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert not str(home.keys).startswith(str(home.lake))
    doc = json.loads((_paths(home).checkpoints / "8.json").read_text())
    text, _, sig = doc["note"].rpartition("\n\n")
    lines = text.split("\n")
    assert lines[:3] == ["creditlake.local/ledger", "8", base64.b64encode(H(doc["root_hash"])).decode()]
    assert lines[3].startswith("time ")
    name, raw = sig.rstrip("\n").split(" ")[1:]
    raw = base64.b64decode(raw)
    pub = serialization.load_pem_public_key((home.keys / "ledger_ed25519.pub").read_bytes())
    assert name == "creditlake.local/ledger" and raw[:4].hex() == doc["key_id"]
    pub.verify(raw[4:], (text + "\n").encode())  # the signature covers exactly the note text
    assert merkle.CompactRange(8, [H(h) for h in doc["frontier"]]).root().hex() == doc["root_hash"]


def test_refuses_personal_data_in_the_clear(home):
    from creditlake.ledger import append_event, append_events

    lookup = {"uscc": "91520102MA6DXXXX1A", "purpose": "核查"}
    for by in ("52010219800101123X", "520102198001011234", "13812345678", "+86 13912345678", "法人13812345678",
               "联系人\n13812345678", "\x07520102198001011234"):
        with pytest.raises(ValueError, match="personal data") as err:
            append_event("profile_lookup", {**lookup, "by": by}, home)
        assert by not in str(err.value)  # the refusal never repeats the personal data
    with pytest.raises(ValueError, match="notes"):
        append_event("dataset_shared", {"dataset": "x", "to_department": "d", "purpose": "p",
                                        "notes": ["ok", {"contact": 15912345678}]}, home)
    with pytest.raises(ValueError, match=r"event 1 of the batch: .*resident ID"):
        append_events([("profile_lookup", {**lookup, "by": "analyst"}),
                       ("profile_lookup", {**lookup, "by": "analyst", "id": "520102199912311234"})], home)
    assert not _paths(home).entries.exists()  # an invalid batch writes nothing
    # digests, pseudonyms and credit codes are not people
    append_event("profile_lookup", {**lookup, "by": "p1_13812345678" + "a" * 53}, home)
    append_event("report_issued", {"month": "2024-03", "file": "r.pdf", "sha256": "1" * 18 + "a" * 46}, home)
    assert _verify(home).ok


def test_validates_kind_and_fields(home):
    from creditlake.ledger import append_event

    with pytest.raises(ValueError, match="unknown ledger event kind"):
        append_event("gossip", {}, home)
    with pytest.raises(ValueError, match="lacks .*delivery_id.*rows"):
        append_event("delivery_ingested", {"source": "s", "dataset": "d", "period": "2024-01", "sha256": SHA}, home)
    with pytest.raises(ValueError, match="'sha256' must be 64 lowercase hex"):
        append_event("report_issued", {"month": "2024-03", "file": "f", "sha256": "abc"}, home)
    with pytest.raises(ValueError, match=r"dataset \(or mart\)"):
        append_event("dataset_shared", {"to_department": "d", "purpose": "p"}, home)
    with pytest.raises(ValueError, match="to_departments"):
        append_event("penalty_shared", {"case_id": "c", "uscc": "91520102MA6DXXXX1A", "from_department": "a",
                                        "to_departments": [], "deadline": "2024-06-30"}, home)
    with pytest.raises(ValueError, match="JSON values"):
        append_event("published", {"table": "t", "target": "x", "rows": 1, "checksum": "c", "at": object()}, home)


# --- tampering: each detected, the first bad position named ---------------------------------------------------

def test_changed_byte_names_the_entry(home):
    _build(home)
    lines = _lines(home)
    assert lines[5].count(b'"target":"duckdb"') == 0 and b'"to_department"' in lines[1]
    lines[5] = lines[5].replace(b"2024-05-02T10", b"2024-05-03T10")  # one byte of a discipline action
    _write_lines(home, lines)
    result = _verify(home)
    assert not result.ok and (result.first.where, result.first.index) == ("entry", 5)
    assert "changed" in result.first.reason and result.summary().startswith("ledger FAILED at entry 5")


def test_deleted_entry_is_named(home):
    _build(home)
    lines = _lines(home)
    del lines[6]
    _write_lines(home, lines)
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 6) and "holds index 7" in first.reason


def test_inserted_entry_is_named(home):
    from creditlake.ledger.log import Entry

    _build(home)
    lines = _lines(home)
    forged = Entry(4, "00000000-0000-4000-8000-000000000000", "published", "2024-01-01T00:00:00.000000Z",
                   {"table": "t", "target": "x", "rows": 1, "checksum": "c"})
    lines.insert(4, forged.line)
    _write_lines(home, lines)
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 4)


def test_swapped_entries_are_named(home):
    _build(home)
    lines = _lines(home)
    lines[3], lines[7] = lines[7], lines[3]
    _write_lines(home, lines)
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 3) and "reordered" in first.reason


def test_rollback_after_a_checkpoint_is_detected(home, tmp_path):
    from creditlake.ledger import append_events, write_checkpoint

    _build(home, n=15, checkpoints=(8,))
    backup = tmp_path / "backup"
    shutil.copytree(_paths(home).root, backup, ignore=shutil.ignore_patterns("checkpoints"))
    append_events(_events(20)[15:], home)
    write_checkpoint(home)
    external = tmp_path / "auditor-copy-20.json"  # what an auditor kept of checkpoint 20
    shutil.copy(_paths(home).checkpoints / "20.json", external)
    for name in ("entries.jsonl", "leaves.bin", "state.json"):  # roll every ledger file back to 15 entries
        shutil.copy(backup / name, _paths(home).root / name)
    result = _verify(home)
    assert (result.first.where, result.first.index) == ("entry", 15)
    assert "checkpoint 20" in result.first.reason and "rolled back" in result.first.reason
    with pytest.raises(RuntimeError, match="rolled back"):
        write_checkpoint(home)
    # deleting the later checkpoint too hides the rollback locally (documented limit) ...
    (_paths(home).checkpoints / "20.json").unlink()
    assert _verify(home).ok
    # ... but not from the auditor's copy
    result = _verify(home, checkpoint_file=external)
    assert (result.first.where, result.first.index) == ("entry", 15) and "checkpoint 20" in result.first.reason


def test_truncated_entries_file_is_detected(home):
    from creditlake.ledger import append_event

    _build(home)
    _write_lines(home, _lines(home)[:17])
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 17) and "missing" in first.reason
    with pytest.raises(RuntimeError, match="shorter than its recorded state"):
        append_event("published", {"table": "t", "target": "x", "rows": 1, "checksum": "c"}, home)


def test_forged_checkpoint_signature_is_named(home):
    _build(home)
    path = _paths(home).checkpoints / "8.json"
    doc = json.loads(path.read_text())
    text, _, sig = doc["note"].rpartition("\n\n")
    dash, name, b64 = sig.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 1
    doc["note"] = f"{text}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"
    path.write_text(json.dumps(doc))
    result = _verify(home)
    assert (result.first.where, result.first.index) == ("checkpoint", 8)
    assert "signature" in result.first.reason and "invalid" in result.first.reason


def test_rewritten_history_resigned_with_another_key_fails_against_the_pinned_key(home, tmp_path):
    from creditlake.ledger import public_key_pem, write_checkpoint

    _build(home, n=8, checkpoints=(8,))
    pinned = public_key_pem(home)  # what the auditor was given at setup
    lines = _lines(home)
    lines[2] = lines[2].replace("市税务局".encode(), "市财政局".encode())
    _write_lines(home, lines)
    (_paths(home).leaves).write_bytes(b"".join(leaf_hash(x) for x in lines))
    state = json.loads(_paths(home).state.read_text())
    cr = merkle.CompactRange()
    cr.extend(leaf_hash(x) for x in lines)
    state.update(entries_bytes=_paths(home).entries.stat().st_size, frontier=[h.hex() for h in cr.nodes])
    _paths(home).state.write_text(json.dumps(state))
    shutil.rmtree(_paths(home).checkpoints)
    shutil.rmtree(home.keys)  # the forger makes a key of their own and signs the rewritten log
    write_checkpoint(home)
    assert _verify(home).ok  # consistent with itself and its own new key ...
    result = _verify(home, public_key=pinned)  # ... but not with the key the auditor pinned
    assert (result.first.where, result.first.index) == ("checkpoint", 8) and "no signature" in result.first.reason


def _rewrite_entry_and_leaves(settings, index):
    """An attacker who edits entry `index` and recomputes leaves.bin so the two agree again."""
    lines = _lines(settings)
    lines[index] = lines[index].replace(b'"record":{', b'"record":{"amended":true,')
    _write_lines(settings, lines)
    _paths(settings).leaves.write_bytes(b"".join(leaf_hash(x) for x in lines))


def test_rewritten_leaves_file_is_localised_by_checkpoint_subtrees(home):
    _build(home)  # checkpoints 8 (frontier [0,8)) and 20 ([0,16), [16,20))
    _rewrite_entry_and_leaves(home, 2)
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 0) and "entries 0..7" in first.reason


def test_dense_checkpoints_localise_a_rewrite_to_one_entry(home, tmp_path):
    _build(home, n=20, checkpoints=(4, 5, 6, 8, 20))
    _rewrite_entry_and_leaves(home, 5)
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 5) and "subtree" in first.reason


def test_damaged_leaves_file_is_told_apart_from_a_changed_entry(home):
    _build(home)
    blob = bytearray(_paths(home).leaves.read_bytes())
    blob[32 * 9] ^= 0xFF
    _paths(home).leaves.write_bytes(bytes(blob))
    first = _verify(home).first
    assert (first.where, first.index) == ("entry", 9) and "leaves.bin is damaged" in first.reason


def test_deleted_middle_checkpoint_is_named(home):
    _build(home, n=20, checkpoints=(4, 8, 20))
    (_paths(home).checkpoints / "8.json").unlink()
    first = _verify(home).first
    assert (first.where, first.index) == ("checkpoint", 20) and "8, which is missing" in first.reason


def test_interrupted_appends_are_recovered(home):
    from creditlake.ledger import append_event
    from creditlake.ledger.log import Entry

    _build(home, n=10, checkpoints=(8,))
    with open(_paths(home).entries, "ab") as fh:  # a crash after writing the entry, before leaves and state
        fh.write(Entry(10, "11111111-1111-4111-8111-111111111111", "published", "2024-01-01T00:00:00.000000Z",
                       {"table": "t", "target": "x", "rows": 1, "checksum": "c"}).line + b"\n")
        fh.write(b'{"event_id":"torn')  # and a crash half-way through the next one
    assert _verify(home).first.index == 10
    e = append_event("published", {"table": "t", "target": "x", "rows": 2, "checksum": "c"}, home)
    assert e.index == 11
    result = _verify(home)
    assert result.ok and result.entries == 12, result.problems


def _append_many(home: str, worker: int) -> None:
    from creditlake.ledger import append_events

    settings = Settings(home=Path(home))
    for batch in range(10):
        append_events([("published", {"table": f"w{worker}", "target": "x", "rows": batch * 10 + i,
                                      "checksum": "c"}) for i in range(10)], settings)


def test_concurrent_appenders_do_not_interleave(home):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(home.home), w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    result = _verify(home)
    assert result.ok and result.entries == 200, result.problems


# --- proofs for third parties ---------------------------------------------------------------------------------

def test_proof_verifies_with_merkle_py_alone(home, tmp_path):
    from creditlake.ledger import append_events, consistency, prove, read_entries, write_checkpoint

    _build(home)
    uncovered = append_events(_events(1), home)[0]  # entry 20: after the latest checkpoint (20)
    with pytest.raises(ValueError, match="not covered by a signed checkpoint"):
        prove(uncovered.event_id, home)
    write_checkpoint(home)
    target = read_entries(home)[13]
    proof = prove(target.event_id, home)
    assert proof["leaf_index"] == 13 and proof["tree_size"] == 21
    # in-process: only merkle.py functions
    assert merkle.verify_inclusion(merkle.leaf_hash(proof["entry"].encode()), 13, 21,
                                   [H(h) for h in proof["audit_path"]], H(proof["root_hash"]))
    # out of process: a copy of merkle.py alone, in isolated mode (no creditlake on the path)
    alone = tmp_path / "auditor"
    alone.mkdir()
    shutil.copy(MERKLE_PY, alone / "merkle.py")
    (alone / "proof.json").write_text(json.dumps(proof, ensure_ascii=False))
    res = subprocess.run([sys.executable, "-I", "merkle.py", "inclusion", "proof.json"], cwd=alone,
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("OK: entry 13"), res.stderr
    forged = dict(proof, entry=proof["entry"].replace('"record":{', '"record":{"amended":true,'))
    (alone / "forged.json").write_text(json.dumps(forged, ensure_ascii=False))
    res = subprocess.run([sys.executable, "-I", "merkle.py", "inclusion", "forged.json"], cwd=alone,
                         capture_output=True, text=True)
    assert res.returncode == 1 and "FAIL" in res.stderr
    (alone / "consistency.json").write_text(json.dumps(consistency(8, 21, home)))
    res = subprocess.run([sys.executable, "-I", "merkle.py", "consistency", "consistency.json"], cwd=alone,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    append_events(_events(3), home)  # proofs stay anchored to the latest signed checkpoint
    assert prove(target.event_id, home)["tree_size"] == 21


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_checkpoint_signature_verifies_with_openssl(home, tmp_path):
    from creditlake.ledger import public_key_pem

    _build(home, n=8, checkpoints=(8,))
    note = json.loads((_paths(home).checkpoints / "8.json").read_text())["note"]
    text, _, sig = note.rpartition("\n\n")
    (tmp_path / "body.txt").write_text(text + "\n")
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(sig.split(" ")[2])[4:])
    (tmp_path / "pub.pem").write_bytes(public_key_pem(home))
    res = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in",
                          "body.txt", "-sigfile", "sig.bin"], cwd=tmp_path, capture_output=True, text=True)
    if "rawin" in res.stderr and "unknown" in res.stderr.lower():
        pytest.skip("openssl without -rawin (before 3.0)")
    assert res.returncode == 0 and "Verified Successfully" in res.stdout, res.stdout + res.stderr


# --- CLI ------------------------------------------------------------------------------------------------------

@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    from creditlake.settings import get_settings, reset_settings

    monkeypatch.setenv("CREDITLAKE_HOME", str(tmp_path / "cli-home"))
    reset_settings()
    yield get_settings()
    reset_settings()


@pytest.mark.parametrize("cmd", [[], ["verify"], ["prove"], ["checkpoint"], ["export-key"], ["show"],
                                 ["consistency"]], ids=lambda c: " ".join(c) or "root")
def test_cli_help(cmd):
    from typer.testing import CliRunner

    from creditlake.ledger.cli import app

    res = CliRunner().invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output


def test_cli_commands(cli_home):
    from typer.testing import CliRunner

    from creditlake.ledger import read_entries
    from creditlake.ledger.cli import app

    runner = CliRunner()
    _build(cli_home, n=12, checkpoints=(8,))
    res = runner.invoke(app, ["verify"])
    assert res.exit_code == 0 and "ledger ok: 12 entries, 1 checkpoints, root" in res.stdout
    assert runner.invoke(app, ["checkpoint"]).exit_code == 0
    event = read_entries(cli_home)[3].event_id
    res = runner.invoke(app, ["prove", event, "--json"])
    assert res.exit_code == 0
    assert merkle.check_inclusion_json(json.loads(res.stdout)).startswith("OK: entry 3 is in the tree of 12")
    res = runner.invoke(app, ["prove", event])
    assert res.exit_code == 0 and "audit path" in res.stdout
    res = runner.invoke(app, ["show", "--kind", "published", "--limit", "1", "--json"])
    last_published = max(i for i, (kind, _) in enumerate(_events(12)) if kind == "published")
    assert res.exit_code == 0 and json.loads(res.stdout)["index"] == last_published
    assert "BEGIN PUBLIC KEY" in runner.invoke(app, ["export-key"]).stdout
    assert runner.invoke(app, ["export-key", "--vkey"]).stdout.startswith("creditlake.local/ledger+")
    res = runner.invoke(app, ["consistency", "8", "--json"])
    assert res.exit_code == 0 and merkle.check_consistency_json(json.loads(res.stdout)).startswith("OK")
    # user errors: one red line, exit 2
    for args in (["prove", "no-such-event"], ["show", "--kind", "gossip"], ["verify", "--checkpoint", "nope.json"]):
        res = runner.invoke(app, args)
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:"), (args, res.output)
    # a tampered ledger: exit 1, one line naming the first bad position
    lines = _lines(cli_home)
    lines[4] = lines[4].replace(b"2024-06-30", b"2024-07-31")
    _write_lines(cli_home, lines)
    res = runner.invoke(app, ["verify"])
    err = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.exit_code == 1 and len(err) == 1 and "FAILED at entry 4" in err[0]
    res = runner.invoke(app, ["verify", "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["first_bad"]["index"] == 4


def test_two_views_of_one_size_are_named(home, tmp_path):
    from creditlake.ledger import append_events, write_checkpoint

    _build(home, n=8, checkpoints=(8,))
    fork = Settings(home=tmp_path / "fork")  # the same key signing a different log of the same size
    shutil.copytree(home.keys, fork.keys)
    append_events(_events(9)[1:], fork)
    other = write_checkpoint(fork)
    problems = [str(p) for p in _verify(home, checkpoint_file=other).problems]
    assert any(p.startswith("checkpoint 8:") and "two views" in p for p in problems), problems


def test_group_commit_writes_every_caller_s_event_once_in_few_batches(home):
    """Threads appending through one GroupCommit: each gets its own entry back, every event is in the ledger once,
    fewer appends than events (the batches), and the ledger verifies; a bad event fails alone."""
    import threading
    import time
    from unittest import mock

    from creditlake.ledger import read_entries
    from creditlake.ledger import group_commit

    commit = group_commit.GroupCommit(home)
    calls, real = [], group_commit.append_events

    def counted(events, settings):
        calls.append(len(events))
        time.sleep(0.02)  # a slow disk: the others queue meanwhile
        return real(events, settings)

    got: dict[int, int] = {}
    with mock.patch.object(group_commit, "append_events", counted):
        def one(i: int) -> None:
            got[i] = commit.append("profile_lookup", {"uscc": "91520102MA6DXXXX1A", "by": f"p1_{i:064x}",
                                                      "purpose": "信用核查"}).index
        threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with pytest.raises(ValueError, match="personal data"):
            commit.append("profile_lookup", {"uscc": "91520102MA6DXXXX1A", "by": "13812345678", "purpose": "x"})
    entries = read_entries(home, kind="profile_lookup")
    assert sorted(got.values()) == list(range(40)) and len(entries) == 40
    assert {e.record["by"] for e in entries} == {f"p1_{i:064x}" for i in range(40)}
    assert sum(calls[:-2]) == 40 and len(calls) - 2 < 40  # the bad one: its batch, then alone
    assert _verify(home).ok
