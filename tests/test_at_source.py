"""Use without copying: secret columns never land, and a dataset kept at source answers keyed questions with flags.

Protocol and catalogue tests are pure Python; the bronze/silver transforms run on tiny frames; one integration
test ingests a small landing zone, asks the bank, and scans every file the lake wrote for the secret values.
"""

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from creditlake.at_source.protocol import ProtocolError, build_question, canonical, check_answer, sha256
from creditlake.at_source.responder import answer
from creditlake.catalogue import Source, band_labels, load_catalogue

A, B, C, D = "91520102MA6DXXXX1A", "91520103MA6DYYYY2B", "91520111MA6DZZZZ3C", "91520115MA6DWWWW4D"
NONCE = bytes(range(32))
ROWS = [  # the bank's rows: A in trouble, B sound, C briefly overdue, D not asked about
    {"uscc": A, "period": "2024-03", "loan_balance": "7654321.09", "overdue_balance": "5000000.01",
     "max_days_past_due": "121", "non_performing": "true"},
    {"uscc": B, "period": "2024-03", "loan_balance": "123456.78", "overdue_balance": "0.00",
     "max_days_past_due": "0", "non_performing": "false"},
    {"uscc": C, "period": "2024-03", "loan_balance": "222333.44", "overdue_balance": "1234.56",
     "max_days_past_due": "12", "non_performing": "false"},
    {"uscc": D, "period": "2024-03", "loan_balance": "999888.77", "overdue_balance": "999888.77",
     "max_days_past_due": "400", "non_performing": "true"},
]


def _question(usccs=(A, B, C), nonce=NONCE):
    return build_question(usccs, "pboc", "loan_defaults", "2024-03", "测试", nonce=nonce,
                          asked_at="2024-04-01T00:00:00+00:00")


def test_answer_holds_the_right_flags_and_nothing_but_flags():
    q = _question()
    data = answer(q.data, ROWS)
    a = check_answer(q, data)
    by_uscc = {q.usccs_by_key[k]: v for k, v in a["positive"].items()}
    assert by_uscc == {A: [True, True, True], C: [True, False, False]}  # B all false, D never asked
    assert a["n_keys"] == 3 and a["flags"] == ["has_overdue_loan", "overdue_over_90_days", "non_performing"]
    text = data.decode()
    assert "." not in text  # no amount of any kind
    numbers = [v for v in json.loads(text).values() if isinstance(v, int) and not isinstance(v, bool)]
    assert numbers == [3]  # n_keys, the question's own size: no day count, no row count
    for row in ROWS:
        assert row["uscc"] not in text  # the answer names pseudonyms only
    assert q.data.count(b"q1_") == 3 and not any(u.encode() in q.data for u in (A, B, C))


def test_hashes_are_stable_and_questions_unlinkable():
    q1, q2 = _question(), _question()
    assert q1.data == q2.data and q1.sha256 == q2.sha256 == sha256(canonical(q1.body))
    assert answer(q1.data, ROWS) == answer(q2.data, list(reversed(ROWS)))  # row order changes nothing
    other = _question(nonce=bytes(32))
    assert not set(other.body["keys"]) & set(q1.body["keys"])  # a fresh key: no pseudonym in common
    assert _question().body["keys"] == sorted(_question().body["keys"])


@pytest.mark.parametrize("tamper, why", [
    (lambda a: {**a, "loan_balance": {"x": "1"}}, "exactly the fields"),
    (lambda a: {**a, "positive": {**a["positive"], "q1_" + "0" * 64: [True, False, False]}}, "not asked"),
    (lambda a: {**a, "positive": {k: ["7654321.09", True, True] for k in a["positive"]}}, "booleans"),
    (lambda a: {**a, "question_sha256": "0" * 64}, "not about this question"),
])
def test_the_lake_refuses_an_answer_that_carries_more(tamper, why):
    q = _question()
    good = json.loads(answer(q.data, ROWS))
    with pytest.raises(ProtocolError, match=why):
        check_answer(q, canonical(tamper(good)))
    with pytest.raises(ProtocolError, match="canonical"):
        check_answer(q, json.dumps(good).encode())


def test_the_department_refuses_a_malformed_question():
    q = _question().body
    for bad in ({**q, "keys": [A]}, {**q, "keys": list(reversed(q["keys"]))}, {**q, "extra": 1},
                {**q, "nonce": "00"}):
        with pytest.raises(ValueError, match="question refused"):
            answer(canonical(bad), ROWS)


def test_catalogue_marks_data_kept_at_source_and_bands_secret_numbers():
    cat = load_catalogue()
    assert cat.dataset("pboc", "loan_defaults").residency == "at_source"
    tax = cat.dataset("tax", "non_filing")
    lake = [c.name for c in tax.lake_columns()]
    assert "arrears_amount" not in lake and "arrears_amount_band" in lake
    assert band_labels([10000, 100000]) == ["<10000", "[10000,100000)", ">=100000"]
    for _, d in cat.datasets():  # no secret column lands under its own name
        assert not {c.name for c in d.secret_columns} & {c.name for c in d.lake_columns()}
    raw = {"code": "x", "name_zh": "x", "name_en": "x", "kind": "department", "datasets": [{
        "code": "d", "name_zh": "d", "name_en": "d", "key": "k", "unique": ["k"],
        "columns": [{"name": "k", "type": "string", "sensitivity": "secret"}]}]}
    with pytest.raises(ValueError, match="cannot be secret"):
        Source.model_validate(raw)


def test_secret_values_are_dropped_at_bronze_and_checked_without_their_value(spark):
    from creditlake.conform.rules import with_rule_violations
    from creditlake.ingest.bronze import with_secrets_derived

    tax = load_catalogue().dataset("tax", "non_filing")
    cols = [c.name for c in tax.columns]
    base = {"uscc": "91350100M000100Y43", "action": "认定", "action_date": "2024-03-05", "months_not_filed": "3", "legal_rep_name": "p1_x"}
    rows = [{**base, "arrears_amount": v} for v in ("54321.98", "2500000.17", "12ab", "-5.00", None)]
    df = spark.createDataFrame([tuple(r[c] for c in cols) for r in rows], ", ".join(f"{c} string" for c in cols))
    bronze = with_secrets_derived(df, tax)
    assert "arrears_amount" not in bronze.columns
    got = [(r.arrears_amount_band, r._secret_rule) for r in bronze.collect()]
    assert got == [("[10000,100000)", None), (">=1000000", None), (None, "type:arrears_amount"),
                   (None, "range:arrears_amount"), (None, None)]
    checked = with_rule_violations(bronze, tax).collect()
    assert [(r._rule, r._rule_column, r._rule_value) for r in checked] == [
        (None, None, None), (None, None, None), ("type", "arrears_amount", None), ("range", "arrears_amount", None),
        (None, None, None)]
    with pytest.raises(ValueError, match="_secret_rule"):
        with_rule_violations(df, tax)  # bronze read around the door is refused, not trusted


# --- integration: a small landing zone, ingested, then asked ------------------------------------------------

MONTHS = ("2024-01", "2024-02")
ONLY = ["samr/registrations", "bank/accounts", "bank/monthly_activity", "tax/non_filing", "pboc/loan_defaults"]
STEPS = """
from pathlib import Path
from creditlake.pipeline import stage_ingest, stage_silver, stage_secret_queries
import json, sys
periods = ["2024-01", "2024-02"]
bronze = stage_ingest(Path(sys.argv[1]), periods)
stage_silver(periods)
print(json.dumps({"bronze": bronze, "asked": stage_secret_queries(periods)}))
"""


def _number(text: str) -> bool:
    try:
        return Decimal(text) != 0
    except InvalidOperation:
        return False


def _secret_values(folder: Path, cat) -> set[str]:
    """Every delivered value of a secret decimal column long enough to be unique (planted markers)."""
    from creditlake.ingest.landing import delivered_rows

    out = set()
    for source, dataset in cat.datasets():
        secret = [c.name for c in dataset.secret_columns if c.type == "decimal"]
        for f in sorted((folder / source.code / dataset.code).glob("*/*.*")) if secret else []:
            if not f.name.startswith("_"):
                out |= {v for _, row in delivered_rows(f, dataset) for c in secret
                        if (v := row.get(c)) and len(v) >= 7 and _number(v)}
    return out


def _scan(root: Path, values: set[str]) -> list[str]:
    """Files under `root` holding a secret value: raw bytes (logs, JSON, Delta logs) and decoded Parquet."""
    import pyarrow.parquet as pq

    numbers = {Decimal(v) for v in values}
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(v.encode() in data for v in values):
            hits.append(str(path))
        elif path.suffix == ".parquet":
            table = pq.read_table(path, partitioning=None)  # this file alone, no partition discovery
            for name, column in zip(table.column_names, table.columns):
                for cell in column.to_pylist():
                    if cell is None or isinstance(cell, bool):
                        continue
                    text = str(cell)
                    try:
                        found = Decimal(text) in numbers
                    except InvalidOperation:
                        found = any(v in text for v in values)
                    if found:
                        hits.append(f"{path} ({name} = {text})")
                        break
    return hits


def test_secret_rows_appear_nowhere_in_the_lake_only_flags(spark, tmp_path):
    from creditlake.generate import generate_landing
    from creditlake.ledger import read_entries
    from creditlake.settings import Settings

    home, landing = tmp_path / "home", tmp_path / "landing"
    settings = Settings(home=home)
    cat = load_catalogue()
    generate_landing(landing, 120, *MONTHS, seed=9, fault_rate=0.05, only=ONLY, at_source=settings.at_source)
    held = settings.at_source / "pboc" / "loan_defaults"
    assert (held / "2024-02" / "_manifest.json").exists() and not (landing / "pboc").exists()
    # A misdelivery: the bank's file turns up in the landing zone. It must be left there, unread.
    stray = landing / "pboc" / "loan_defaults" / "2024-01"
    stray.parent.mkdir(parents=True)
    shutil.copytree(held / "2024-01", stray)

    env = {**os.environ, "CREDITLAKE_HOME": str(home)}
    res = subprocess.run([sys.executable, "-c", STEPS, str(landing)], env=env, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    run = json.loads(res.stdout.strip().splitlines()[-1])
    assert [r["status"] for r in run["bronze"] if r["delivery"].startswith("pboc/")] == ["held_at_source"]
    assert [(r["status"], r["month"]) for r in run["asked"]] == [("answered", m) for m in MONTHS]

    # 1. No secret value under the lake, the quarantine, the exchanges kept for audit, the ledger or the logs.
    secrets = _secret_values(settings.at_source, cat) | _secret_values(landing, cat)
    assert len(secrets) > 100
    for root in (settings.lake, home / "quarantine", settings.exchanges, home / "ledger", settings.logs):
        assert not _scan(root, secrets) if root.exists() else True, root

    # ... and the scan does find them where they are (it can fail): the bank's rows in a Delta table.
    control = tmp_path / "control"
    values = sorted(secrets)[:5]
    spark.createDataFrame([(Decimal(v),) for v in values], "v decimal(20,4)").write.format("delta").save(str(control))
    assert _scan(control, secrets)

    # 2. Held, not landed: accounting says so, and the invariant holds for every ingested delivery.
    acc = {r["delivery"]: r.asDict() for r in
           spark.read.format("delta").load(str(settings.lake / "ops" / "accounting")).collect()}
    assert acc["pboc/loan_defaults/2024-01"]["status"] == "held_at_source"
    assert all(r["landed"] == r["loaded"] + r["quarantined"] for r in acc.values())
    assert not (home / "quarantine" / "deliveries" / "pboc").exists()
    quarantine = spark.read.format("delta").load(str(settings.lake / "ops" / "quarantine"))
    secret_cols = [c.name for _, d in cat.datasets() for c in d.secret_columns]
    truth = json.loads((tmp_path / "landing.truth" / "truth.json").read_text())
    planted = [f for f in truth["faults"] if f["column"] in secret_cols]
    assert planted  # bad secret values are caught with their rule, and kept without their value
    caught = {(r.file, r.row_number): (r.rule, r.value) for r in quarantine.collect()}
    for f in planted:
        assert caught[(f["file"], f["row"])] == (f["rule"], None), f
    assert quarantine.where(quarantine.column.isin(secret_cols) & quarantine.value.isNotNull()).count() == 0

    # 3. The flags are there, right, for every enterprise and month.
    flags = spark.read.format("delta").load(str(settings.lake / "silver" / "pboc__loan_default_flags")).collect()
    known = {r.uscc for r in spark.read.format("delta").load(str(settings.lake / "silver" / "samr__registrations"))
             .select("uscc").distinct().collect()}
    assert {(r.uscc, r.month) for r in flags} == {(u, m) for u in known for m in MONTHS}
    from creditlake.ingest.landing import delivered_rows

    spec = cat.dataset("pboc", "loan_defaults")
    expected = {}
    for m in MONTHS:
        for _, row in delivered_rows(next((held / m).glob("*.csv")), spec):
            days = int(row["max_days_past_due"])
            expected[(row["uscc"], m)] = (Decimal(row["overdue_balance"]) > 0 or days > 0, days > 90,
                                          row["non_performing"] == "true")
    got = {(r.uscc, r.month): (r.has_overdue_loan, r.overdue_over_90_days, r.non_performing) for r in flags}
    assert {k: v for k, v in got.items() if any(v)} == {k: v for k, v in expected.items() if any(v) and k[0] in known}
    assert truth["loans_in_trouble"]
    for uscc, m in truth["loans_in_trouble"]:  # firms in trouble have overdue loans
        assert got[(uscc, m)][0], (uscc, m)

    # 4. Both hashes of each exchange are in the ledger, match the kept bytes, and the ledger verifies.
    events = read_entries(settings, kind="secret_query")
    assert [e.record["month"] for e in events] == list(MONTHS)
    for e in events:
        assert {r.answer_sha256 for r in flags if r.month == e.record["month"]} == {e.record["answer_sha256"]}
    for args in (["secret-query", "--verify"], ["ledger", "verify"]):
        res = subprocess.run([sys.executable, "-m", "creditlake.cli", *args], env=env, capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
    answer_file = next(settings.exchanges.rglob("answer.json"))
    answer_file.write_bytes(answer_file.read_bytes().replace(b"true", b"false", 1))
    res = subprocess.run([sys.executable, "-m", "creditlake.cli", "secret-query", "--verify"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "not in the ledger" in res.stderr
