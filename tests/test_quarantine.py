"""Quarantine without exposure: a delivery rejected as a whole leaves no clear personal value under the home;
`creditlake quarantine` lists rejected deliveries and rows, `quarantine release` re-ingests a re-sent delivery;
values are cut in messages and logs."""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake.ingest.quarantine import VALUE_LIMIT, shorten

PERSONAL = {"samr/registrations": ["legal_rep_id_no", "contact_phone", "approving_officer"],
            "bank/accounts": ["account_no"], "samr/complaints_12315": ["complainant_phone"]}
CLEAN = {"samr/registrations": "2024-01", "bank/accounts": "2024-01", "samr/complaints_12315": "2024-02"}
FAULTS = ["checksum", "row_count", "encoding", "delimiter", "missing_column", "truncated"]
HUGE = "长" * 100_000

# One process (one JVM) for every step, through the real command line.
STEPS = r"""
import json, shutil, sys
from pathlib import Path
from typer.testing import CliRunner
from creditlake import cli

cli._setup_logging()
runner = CliRunner()

def call(*args):
    r = runner.invoke(cli.app, list(args))
    error = None if r.exception is None or isinstance(r.exception, SystemExit) else repr(r.exception)
    return {"code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr, "error": error}

landing, resent = Path(sys.argv[1]), Path(sys.argv[2])
out = {"ingest": call("ingest", "--landing", str(landing)), "before": call("quarantine", "--json", "--rows", "5"),
       "table": call("quarantine")}
out["still_bad"] = call("quarantine", "release", "samr/registrations/2024-04")
target = landing / "samr" / "registrations" / "2024-03"
shutil.rmtree(target)
shutil.copytree(resent, target)
out["release"] = call("quarantine", "release", "samr/registrations/2024-03")
out["after"] = call("quarantine", "--json", "--rows", "0")
out["accounting"] = call("accounting", "--json", "--period", "2024-03")
print(json.dumps(out, ensure_ascii=False))
"""


def _manifest(folder: Path, name: str, data: bytes, rows: int, override: dict) -> None:
    source, dataset, period = folder.parts[-3:]
    entry = {"name": name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest(), **override}
    manifest = {"source": source, "dataset": dataset, "period": period, "files": [entry]}
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _deliver(landing: Path, key: str, period: str, data: bytes, suffix: str, rows: int,
             override: dict | None = None) -> Path:
    folder = landing / key / period
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    name = f"{key.replace('/', '__')}__{period}.{suffix}"
    (folder / name).write_bytes(data)
    _manifest(folder, name, data, rows, override or {})
    return folder


def _csv_records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _csv_bytes(records: list[list[str]], delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(records)
    return buf.getvalue().encode("utf-8")


def _faulty(kind: str, data: bytes, fmt: str) -> tuple[bytes, dict] | None:
    """The delivery's bytes with one whole-delivery fault, and what its (restated) manifest says differently."""
    if kind == "checksum":
        return data, {"sha256": hashlib.sha256(data + b"\n").hexdigest()}
    if kind == "row_count":
        return data, {"rows": _rows(data, fmt) + 7}
    if kind == "encoding":  # a GB18030 export sent as the catalogue's UTF-8
        return data.decode("utf-8").encode("gb18030"), {}
    if kind == "truncated":
        return data[: len(data) * 2 // 3], {}
    if kind == "delimiter":
        return (_csv_bytes(_csv_records(data), ";"), {}) if fmt == "csv" else None
    if kind == "missing_column":
        if fmt == "csv":
            return _csv_bytes([r[1:] for r in _csv_records(data)]), {}
        objects = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        first = next(iter(objects[0]))
        return "".join(json.dumps({k: v for k, v in o.items() if k != first}, ensure_ascii=False) + "\n"
                       for o in objects).encode("utf-8"), {}
    raise ValueError(kind)


def _rows(data: bytes, fmt: str) -> int:
    if fmt == "csv":
        return len(_csv_records(data)) - 1
    return sum(1 for line in data.decode("utf-8").splitlines() if line.strip())


def _clear_values(landing: Path) -> set[str]:
    """Every clear personal value in the clean deliveries: ID numbers, phones, officers' and bank account numbers."""
    values = set()
    for key, columns in PERSONAL.items():
        (path,) = (landing / key / CLEAN[key]).glob("*.*[vl]")
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        values |= {r[c] for r in rows for c in columns if r.get(c) and len(r[c]) >= 8}
    return values


def _scan(root: Path, values: set[str]) -> list[str]:
    """Files under `root` holding any of `values`: raw bytes, and Parquet decoded (its pages are compressed)."""
    import pyarrow.parquet as pq

    pattern = re.compile("|".join(sorted(map(re.escape, values))))
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            parquet = pq.ParquetFile(path)
            groups = [parquet.read_row_group(i).to_pylist() for i in range(parquet.num_row_groups)]
            text = json.dumps(groups, ensure_ascii=False, default=str)
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        if pattern.search(text):
            hits.append(str(path))
    return hits


def test_shorten_cuts_long_values_and_says_how_long():
    assert shorten("短") == "短" and shorten(None) is None
    cut = shorten(HUGE)
    assert cut.startswith("长" * VALUE_LIMIT + "…") and "100000" in cut and len(cut) < VALUE_LIMIT + 20


def test_delivery_summary_counts_and_cuts_a_huge_value(spark):
    from creditlake.conform.silver import delivery_summary

    rows = [("2024-01", "a/b/2024-01/f.csv", 7, "type", "approved_on", HUGE),
            ("2024-01", "a/b/2024-01/f.csv", 3, "required", "name", None),
            ("2024-01", "a/b/2024-01/f.csv", 1, None, None, None),
            ("2024-01", "a/b/2024-01/f.csv", 2, None, None, None)]
    df = spark.createDataFrame(rows, "_period string, _file string, _row_number long, _rule string, "
                                     "_rule_column string, _rule_value string")
    got = {r._rule: (r.n, [x.line for x in r.first]) for r in delivery_summary(df).collect()}
    assert got[None] == (2, [])
    assert got["required"] == (1, ["a/b/2024-01/f.csv: row 3: required (name = null)"])
    (line,) = got["type"][1]
    assert line.startswith("a/b/2024-01/f.csv: row 7: type (approved_on = 长长") and got["type"][0] == 1
    assert "共 100000 字符" in line and len(line) < 200


def test_rejected_deliveries_keep_no_clear_personal_value(tmp_path):
    from creditlake.generate import generate_landing
    from creditlake.pseudonymise import pseudonym

    clean, landing, home = tmp_path / "clean", tmp_path / "landing", tmp_path / "home"
    generate_landing(clean, 150, "2024-01", "2024-02", seed=11, only=list(PERSONAL))
    secrets = _clear_values(clean)
    assert len(secrets) > 300
    shutil.copytree(clean, landing)
    # A huge value in one row of a loaded delivery: quarantined (type), and cut wherever it is shown.
    (path,) = (landing / "bank/accounts/2024-01").glob("*.csv")
    records = _csv_records(path.read_bytes())
    extra = dict(zip(records[0], records[1]), account_no="6222020000000000001", opened_on=HUGE)
    data = path.read_bytes() + _csv_bytes([[extra[c] for c in records[0]]])
    _deliver(landing, "bank/accounts", "2024-01", data, "csv", len(records))
    # Every whole-delivery fault, on deliveries full of ID numbers, phones and bank account numbers.
    planted = {}
    for key, period in CLEAN.items():
        (path,) = (clean / key / period).glob("*.*[vl]")
        fmt = path.suffix.lstrip(".")
        for i, kind in enumerate(FAULTS):
            faulty = _faulty(kind, path.read_bytes(), fmt)
            if faulty is not None:
                month = f"2024-{i + 3:02d}"
                _deliver(landing, key, month, faulty[0], fmt, _rows(path.read_bytes(), fmt), faulty[1])
                planted[f"{key}/{month}"] = kind
    resent = tmp_path / "resent"
    data = next((clean / "samr/registrations/2024-01").glob("*.csv")).read_bytes()
    _deliver(resent, "samr/registrations", "2024-03", data, "csv", _rows(data, "csv"))

    env = {**os.environ, "CREDITLAKE_HOME": str(home)}
    env.pop("CREDITLAKE_SERVING_URL", None)
    res = subprocess.run([sys.executable, "-c", STEPS, str(landing), str(resent / "samr/registrations/2024-03")],
                         env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for step in ("ingest", "before", "table", "release", "after", "accounting"):
        assert out[step]["code"] == 0 and out[step]["error"] is None, (step, out[step])

    # 1. Nothing under the home holds a clear value; the same scan finds them in the landing zone.
    assert not _scan(home, secrets)
    assert _scan(landing, secrets)

    # 2. Each rejected delivery is listed with its reason and what was kept; rows that parse are pseudonymised.
    before = json.loads(out["before"]["stdout"])
    listed = {d["delivery"]: d for d in before["deliveries"]}
    assert set(listed) == set(planted)
    key = (home / "keys" / "pseudonym.key").read_text().strip()
    records = _csv_records(next((clean / "samr/registrations/2024-01").glob("*.csv")).read_bytes())
    first = next(dict(zip(records[0], r)) for r in records[1:] if r[records[0].index("legal_rep_id_no")])
    for name, d in listed.items():
        landed = next(p for p in (landing / name).iterdir() if not p.name.startswith("_"))
        assert d["files"] == [{"name": landed.name, "bytes": landed.stat().st_size,
                               "sha256": hashlib.sha256(landed.read_bytes()).hexdigest()}], name
        assert d["reason"] and "\n" not in d["reason"] and d["landing"] == str(landing / name)
        if planted[name] in ("checksum", "row_count"):
            assert d["rows_kept"] == d["declared"] - (7 if planted[name] == "row_count" else 0), name
        if planted[name] in ("encoding", "delimiter") or (planted[name], landed.suffix) == ("missing_column", ".csv"):
            assert d["rows_kept"] is None, name  # nothing parses (JSON Lines lines parse, the key is missing on all)
    kept = (home / "quarantine/deliveries/samr/registrations/2024-04/rows.csv").read_text(encoding="utf-8")
    assert pseudonym(first["legal_rep_id_no"], bytes.fromhex(key)) in kept and first["uscc"] in kept
    assert "quarantine release" in out["table"]["stdout"] and "拒收的交付" in out["table"]["stdout"]

    # 3. The huge value: quarantined whole, shown cut in the ingest's messages, the log and the listing.
    (row,) = [r for r in before["rows"] if r["column"] == "opened_on"]
    assert row["rule"] == "type" and row["value_length"] == 100_000 and len(row["value"]) < 120
    shown = out["ingest"]["stdout"] + out["ingest"]["stderr"]
    assert "共 100000 字符" in shown
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (home / "logs").rglob("*") if p.is_file())
    for text in (shown, logs, res.stderr):
        assert "长" * (VALUE_LIMIT + 1) not in text

    # 4. Release: refused while the delivery still breaks the contract; once re-sent, loaded and gone from the list.
    assert out["still_bad"]["code"] != 0 and "仍不符合落地契约" in out["still_bad"]["error"]
    assert "已放行" in out["release"]["stdout"]
    after = {d["delivery"] for d in json.loads(out["after"]["stdout"])["deliveries"]}
    assert after == set(planted) - {"samr/registrations/2024-03"}
    assert not (home / "quarantine/deliveries/samr/registrations/2024-03").exists()
    accounted = {r["delivery"]: r for r in json.loads(out["accounting"]["stdout"])}
    released = accounted["samr/registrations/2024-03"]
    assert released["status"] == "loaded" and released["loaded"] + released["quarantined"] == released["landed"] > 0


def test_malformed_manifest_message_is_cut(tmp_path):
    from creditlake.catalogue import default_catalogue
    from creditlake.ingest.landing import Delivery, DeliveryRejected, check_delivery

    folder = tmp_path / "samr/registrations/2024-01"
    folder.mkdir(parents=True)
    (folder / "_manifest.json").write_text(json.dumps({"files": [{"name": "x.csv", "rows": HUGE, "sha256": "0"}]}),
                                           encoding="utf-8")
    with pytest.raises(DeliveryRejected) as err:
        check_delivery(Delivery("samr", "registrations", "2024-01", folder),
                       default_catalogue().dataset("samr", "registrations"))
    assert "malformed manifest" in str(err.value) and len(str(err.value)) < 400
