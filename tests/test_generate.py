"""The generator is deterministic and follows the landing contract."""

import hashlib
import json

from creditlake.codes import GUIYANG_DIVISIONS, is_valid_uscc
from creditlake.generate import generate_landing


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tmp_path):
    a = generate_landing(tmp_path / "a" / "landing", 80, "2024-01", "2024-02", seed=5, fault_rate=0.05)
    b = generate_landing(tmp_path / "b" / "landing", 80, "2024-01", "2024-02", seed=5, fault_rate=0.05)
    assert a["rows"] == b["rows"]
    assert _digest(tmp_path / "a" / "landing") == _digest(tmp_path / "b" / "landing")
    c = generate_landing(tmp_path / "c" / "landing", 80, "2024-01", "2024-02", seed=6)
    assert _digest(tmp_path / "c" / "landing") != _digest(tmp_path / "a" / "landing")


def test_deliveries_have_manifests_and_valid_codes(tmp_path):
    landing = tmp_path / "landing"
    generate_landing(landing, 100, "2024-01", "2024-01", seed=1)
    manifest = json.loads((landing / "samr" / "registrations" / "2024-01" / "_manifest.json").read_text())
    data = (landing / "samr" / "registrations" / "2024-01" / manifest["files"][0]["name"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == manifest["files"][0]["sha256"]
    lines = data.decode("utf-8").splitlines()
    assert len(lines) - 1 == manifest["files"][0]["rows"]
    rows = [line.split(",") for line in lines[1:]]
    assert all(is_valid_uscc(r[0]) for r in rows)
    assert {r[4] for r in rows} <= set(GUIYANG_DIVISIONS)
    # Planted truth lives beside the landing zone, never inside it.
    assert (tmp_path / "landing.truth" / "truth.json").exists()
    assert not list(landing.rglob("truth.json"))
