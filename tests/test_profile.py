"""The enterprise profile from the catalogue: its definition, its records (tiny frames), lookups by role, and the
query service (FastAPI's test client on a small serving store): statuses, roles, purposes, the ledger."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import functions as F

from creditlake.catalogue import PROFILE_CATEGORIES, Catalogue, Source, load_catalogue
from creditlake.codes import is_valid_uscc, uscc_problem
from creditlake.profile.definition import ROLES, subclasses
from creditlake.profile.lookup import SUMMARY, BadCode, NotFound, Reader, definition, enterprise_profile
from creditlake.profile.records import COLUMNS, TABLE, profile_records
from creditlake.settings import reset_settings

CATALOGUE = load_catalogue()
A = "915201024JURQ2830J"
B = "91520103FQEFLCR610"


def test_the_catalogue_defines_at_least_200_subclasses_from_every_source():
    subs = [s for s in subclasses(CATALOGUE) if s.layer == "silver"]
    assert len(subs) >= 200
    assert {s.source for s in subs} == {s.code for s in CATALOGUE.sources}  # all 42 sources
    assert len({s.id for s in subs}) == len(subs)
    for s in subs:
        assert s.source_name and s.dataset_name and s.category in PROFILE_CATEGORIES, s.id
        assert s.columns, f"{s.id} shows no column"
        headings = [c.heading for c in s.columns]
        assert len(headings) == len(set(headings)), f"{s.id}: two columns read the same heading {headings}"
    lake = [f"{s.code}/{d.code}" for s, d in CATALOGUE.datasets() if d.residency == "lake" and d.profile is None]
    assert lake == [], "every dataset in the lake is in the profile"


def test_no_pseudonym_is_shown_and_derived_personal_values_are_for_the_regulator_only():
    for s in subclasses(CATALOGUE):
        if s.layer != "silver":
            continue
        dataset = CATALOGUE.dataset(s.source, s.dataset)
        lake = {c.name: c for c in dataset.lake_columns()}
        for c in s.columns:
            assert not lake[c.name].pseudonymise, (s.id, c.name)
            if lake[c.name].derived_sensitivity in ("personal", "secret") and lake[c.name].disclosure is None:
                assert c.disclosed_to == "regulator", (s.id, c.name)
        public = {c.name for c in s.columns if Reader("public").reads(c.disclosed_to, s.source)}
        assert all(lake[n].disclosed_to == "public" for n in public), s.id


def test_uscc_problems_name_the_gb_32100_rule():
    good = A
    assert is_valid_uscc(good) and uscc_problem(good) is None
    assert "18位" in uscc_problem(good[:-1])
    assert "不允许的字符“I”" in uscc_problem(good[:-2] + "I" + good[-1])
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert "第18位" in uscc_problem(wrong) and f"应为“{good[-1]}”" in uscc_problem(wrong)


# --- records: tiny frames ----------------------------------------------------------------------------------------

TINY = {
    "code": "tiny", "name_zh": "测试局", "name_en": "Test bureau", "kind": "department",
    "datasets": [
        {"code": "permits", "name_zh": "测试许可证", "name_en": "Permits", "cadence": "monthly", "key": "permit_no",
         "links_to_enterprise": "uscc", "unique": ["permit_no"],
         "profile": {"category": "licensing", "subclass": "测试许可", "split_by": "kind"},
         "columns": [
             {"name": "permit_no", "type": "string", "sensitivity": "public", "description": "许可证编号"},
             {"name": "uscc", "type": "string", "check": "uscc", "sensitivity": "public", "description": "统一社会信用代码"},
             {"name": "kind", "type": "string", "nullable": False, "allowed": ["甲类", "乙类"], "sensitivity": "public",
              "description": "许可类别"},
             {"name": "valid_until", "type": "date", "sensitivity": "public", "description": "有效期至"},
             {"name": "district_code", "type": "string", "codes": "gb2260_guiyang", "sensitivity": "public",
              "description": "所在区县"},
             {"name": "fee", "type": "decimal", "sensitivity": "internal", "description": "收费（元）"},
             {"name": "inspector", "type": "string", "sensitivity": "personal", "pseudonymise": True,
              "description": "经办人"},
         ]},
        {"code": "accounts", "name_zh": "测试账户", "name_en": "Accounts", "cadence": "monthly", "key": "account_no",
         "links_to_enterprise": "uscc", "unique": ["account_no"],
         "profile": {"category": "utilities"},
         "columns": [
             {"name": "account_no", "type": "string", "sensitivity": "internal", "description": "户号"},
             {"name": "uscc", "type": "string", "check": "uscc", "sensitivity": "public", "description": "统一社会信用代码"},
         ]},
        {"code": "use", "name_zh": "测试用量", "name_en": "Use", "cadence": "monthly", "key": "account_no",
         "links_via": {"dataset": "accounts", "column": "account_no"}, "unique": ["account_no", "period"],
         "profile": {"category": "utilities", "latest": 2},
         "columns": [
             {"name": "account_no", "type": "string", "sensitivity": "internal", "description": "户号"},
             {"name": "period", "type": "string", "sensitivity": "public", "description": "所属期"},
             {"name": "quantity", "type": "decimal", "sensitivity": "public", "description": "用量"},
         ]},
    ],
}


def _tiny() -> Catalogue:
    return Catalogue(sources=[Source.model_validate(TINY)])


def _frames(spark):
    permits = spark.createDataFrame([
        ("P1", A, "甲类", "2025-01-31", "520102", "10.50", "p1_x", "2024-01", 1),
        ("P1", A, "甲类", "2026-01-31", "520102", "12.00", "p1_x", "2024-02", 1),   # renewed: the newest wins
        ("P2", A, "乙类", "2025-06-30", None, None, None, "2024-01", 2),
        ("P3", B, "甲类", "2025-03-31", "520103", "1.00", None, "2024-01", 3),
    ], "permit_no string, uscc string, kind string, valid_until string, district_code string, fee string,"
       " inspector string, _period string, _row_number long")
    permits = permits.withColumn("valid_until", F.to_date("valid_until")).withColumn(
        "fee", F.col("fee").cast("decimal(18,2)"))
    accounts = spark.createDataFrame([("W1", A, "2024-01", 1), ("W1", A, "2024-02", 1)],
                                     "account_no string, uscc string, _period string, _row_number long")
    use = spark.createDataFrame([("W1", m, str(i), m, 1) for i, m in enumerate(["2024-01", "2024-02", "2024-03"])],
                                "account_no string, period string, quantity string, _period string, _row_number long")
    use = use.withColumn("quantity", F.col("quantity").cast("decimal(18,2)"))
    lost = spark.createDataFrame([(A, "2024-03", 82.345, "高", "水电归零", "待核查")],
                                 "enterprise_id string, as_of_month string, score double, priority string,"
                                 " reasons_text string, follow_up_status string")
    return {("silver", "tiny__permits"): permits, ("silver", "tiny__accounts"): accounts,
            ("silver", "tiny__use"): use, ("gold", "mart_lost_contact"): lost}


def _reader(frames):
    return lambda layer, table: frames.get((layer, table))


def test_records_newest_delivery_split_kinds_and_latest_flows(spark):
    frames = _frames(spark)
    got = profile_records(spark, _tiny(), _reader(frames))
    assert tuple(got.columns) == COLUMNS
    rows = {(r.enterprise_id, r.subclass_id, r.record_date): r for r in got.collect()}
    assert set(rows) == {
        (A, "tiny.permits.甲类", "2026-01-31"), (A, "tiny.permits.乙类", "2025-06-30"),
        (B, "tiny.permits.甲类", "2025-03-31"), (A, "tiny.accounts", "W1"),
        (A, "tiny.use", "2024-03"), (A, "tiny.use", "2024-02"),  # latest: 2 of 3 months
        (A, "analysis.lost_contact", "2024-03"),  # the regulator's analyses, from gold
    }
    lost = rows[(A, "analysis.lost_contact", "2024-03")]
    assert json.loads(lost.record)["score"] == 82.3 and lost.info_class == "监管分析"
    renewed = rows[(A, "tiny.permits.甲类", "2026-01-31")]
    assert renewed.info_subclass == "测试许可（甲类）" and renewed.info_class == "行政许可"
    assert renewed.source_name == "测试局" and renewed.class_order == 2
    assert json.loads(renewed.record) == {"permit_no": "P1", "kind": "甲类", "valid_until": "2026-01-31",
                                          "district_code": "南明区", "fee": 12.0}  # a GB/T 2260 code by its name
    assert renewed.content == "许可证编号：P1；许可类别：甲类；有效期至：2026-01-31；所在区县：南明区；收费（元）：12"
    assert "inspector" not in renewed.record and "p1_x" not in renewed.content  # a pseudonym is never shown
    assert rows[(A, "tiny.use", "2024-03")].enterprise_id == A  # reached through the account


def test_records_are_written_by_enterprise_one_enterprise_per_file_each_file_sorted(spark, tmp_path):
    """The publication loads the records in their files' order (serve.publish.EXPORTED_IN_KEY_ORDER): each file sorted
    by enterprise and every enterprise in one file, so a lookup reads one run of rows in each file."""
    import pyarrow.parquet as pq

    frames = _frames(spark)
    adaptive = spark.conf.get("spark.sql.adaptive.enabled")
    spark.conf.set("spark.sql.adaptive.enabled", "false")  # keep the shuffle's partitions: several files
    try:
        profile_records(spark, _tiny(), _reader(frames)).write.parquet(str(tmp_path / "records"))
    finally:
        spark.conf.set("spark.sql.adaptive.enabled", adaptive)
    owners: dict[str, str] = {}
    files = sorted((tmp_path / "records").glob("*.parquet"))
    for file in files:
        ids = pq.read_table(file, columns=["enterprise_id"]).column(0).to_pylist()
        assert ids == sorted(ids), file.name
        for e in ids:
            assert owners.setdefault(e, file.name) == file.name, f"{e} in two files"
    assert set(owners) == {A, B}


def test_a_dataset_not_delivered_yet_is_left_out_and_nothing_delivered_is_none(spark):
    frames = _frames(spark)
    only_permits = profile_records(spark, _tiny(), lambda layer, t: frames.get((layer, t)) if t == "tiny__permits"
                                   else None)
    assert {r.subclass_id for r in only_permits.collect()} == {"tiny.permits.甲类", "tiny.permits.乙类"}
    assert profile_records(spark, _tiny(), lambda layer, t: None) is None


def test_a_new_dataset_enters_the_profile_by_its_catalogue_entry_alone(tmp_path):
    folder = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR(), folder)
    (folder / "tiny.yaml").write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    grown = load_catalogue(folder)
    new = [s for s in subclasses(grown) if s.source == "tiny"]
    assert [s.id for s in new] == ["tiny.permits.甲类", "tiny.permits.乙类", "tiny.accounts", "tiny.use"]
    assert len(subclasses(grown)) == len(subclasses(CATALOGUE)) + 4


def CATALOGUE_DIR() -> Path:
    from creditlake.catalogue import CATALOGUE_DIR as folder

    return folder


# --- lookups and the service on a small serving store ------------------------------------------------------------

def _store(home: Path, spark) -> None:
    """A serving store with the tiny catalogue's records for A and B and the marts a lookup reads."""
    records = profile_records(spark, _tiny(), _reader(_frames(spark))).toPandas()
    path = home / "serving" / "creditlake.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.register("records", records)
        con.execute(f'CREATE TABLE "{TABLE}" AS SELECT * FROM records')
        cols = ", ".join(f"{col} {'DECIMAL(5,2)' if col == 'lost_contact_score' else 'VARCHAR'}"
                         for col, _, _ in SUMMARY)
        con.execute(f"CREATE TABLE mart_enterprise_profile (enterprise_id VARCHAR, {cols})")
        con.execute("INSERT INTO mart_enterprise_profile (enterprise_id, enterprise_name, status_zh, district_name,"
                    " industry_name, lost_contact_score, is_lost_contact) VALUES"
                    f" ('{A}', '贵阳甲有限公司', '存续', '云岩区', '批发和零售业', 0.82, '是'),"
                    f" ('{B}', '贵阳乙有限公司', '存续', '南明区', '制造业', 0.10, '否')")
        con.execute("CREATE TABLE mart_discipline_cases (case_id VARCHAR, trigger_department_name VARCHAR,"
                    " sanction VARCHAR, shared_on DATE, measure VARCHAR, basis VARCHAR, deadline DATE,"
                    " status VARCHAR, enterprise_id VARCHAR, restricting_department VARCHAR)")
        con.execute("INSERT INTO mart_discipline_cases VALUES ('黔市监罚〔2024〕1号', '市场监管局', '吊销营业执照',"
                    f" DATE '2024-03-05', '限制申请财政补助', '《失信惩戒备忘录》', DATE '2024-04-05', '待落实', '{A}',"
                    " 'finance')")


@pytest.fixture
def home(tmp_path, monkeypatch, spark):
    monkeypatch.setenv("CREDITLAKE_HOME", str(tmp_path))
    monkeypatch.delenv("CREDITLAKE_SERVING_URL", raising=False)
    reset_settings()
    _store(tmp_path, spark)
    yield tmp_path
    reset_settings()


def _query(home: Path):
    from creditlake.serve.store import StoreReader
    from creditlake.settings import get_settings

    return StoreReader(get_settings()).query


def test_each_role_reads_its_columns(home):
    query = _query(home)
    public = enterprise_profile(query, _tiny(), A, Reader("public"))
    regulator = enterprise_profile(query, _tiny(), A, Reader("regulator"))
    own = enterprise_profile(query, _tiny(), A, Reader("department", "tiny"))

    def headings(p, sub_id):
        return list(next(s["records"][0] for c in p.classes for s in c["subclasses"] if s["id"] == sub_id))

    assert headings(public, "tiny.permits.甲类") == ["许可证编号", "许可类别", "有效期至", "所在区县"]
    assert "收费（元）" in headings(regulator, "tiny.permits.甲类")
    assert "收费（元）" in headings(own, "tiny.permits.甲类")  # its own data, whole
    public_definition = {s["id"]: s["columns"] for c in definition(_tiny(), Reader("public")) for s in c["subclasses"]}
    assert public_definition["tiny.permits.甲类"] == ["许可证编号", "许可类别", "有效期至", "所在区县"]
    assert "tiny.accounts" not in public_definition
    assert "失联评分" not in public.summary and float(regulator.summary["失联评分"]) == 0.82
    assert all(c["code"] != "analysis" for c in public.classes)  # the regulator's analyses are not public
    assert any(s["id"] == "analysis.lost_contact" for c in regulator.classes for s in c["subclasses"])
    # tiny.accounts has no public column (its account number is internal): the public does not see it at all
    assert public.populated() == 3 and public.subclass_count() == 3


def test_bad_and_unknown_codes(home):
    with pytest.raises(BadCode, match="第18位"):
        enterprise_profile(_query(home), _tiny(), A[:-1] + "0")
    with pytest.raises(NotFound):
        enterprise_profile(_query(home), _tiny(), "915201023F0WTCDK3F")


@pytest.fixture
def client(home):
    from fastapi.testclient import TestClient

    from creditlake.profile.api import create_app
    from creditlake.profile.tokens import issue
    from creditlake.settings import get_settings

    settings = get_settings()
    tokens = {"public": issue(settings, "门户网站", "public"),
              "tiny": issue(settings, "测试局业务系统", "department", "tiny", ["行政许可审查"], _tiny()),
              "finance": issue(settings, "财政局补贴系统", "department", "finance", ["财政资金审核"], CATALOGUE),
              "regulator": issue(settings, "市场监管局信用科", "regulator")}
    app = create_app(settings, _tiny())
    with TestClient(app) as c:
        yield c, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


def test_the_service_answers_by_role_with_chinese_labels(client):
    c, auth = client
    public = c.get(f"/enterprises/{A}", headers=auth["public"])
    assert public.status_code == 200 and public.headers["content-type"].startswith("application/json")
    body = public.json()
    assert body["summary"]["企业名称"] == "贵阳甲有限公司" and "失联评分" not in body["summary"]
    permits = next(s for cls in body["classes"] for s in cls["subclasses"] if s["id"] == "tiny.permits.甲类")
    assert permits["records"] == [{"许可证编号": "P1", "许可类别": "甲类", "有效期至": "2026-01-31", "所在区县": "南明区"}]
    assert permits["source"] == "测试局" and permits["dataset"] == "测试许可证"
    assert "贵阳甲有限公司" in public.text  # Chinese as characters, not \u escapes
    score = c.get(f"/enterprises/{A}", headers=auth["regulator"]).json()["summary"]["失联评分"]
    assert score == 0.82  # a number, not the text FastAPI's encoder would make of a decimal
    regulator = c.get(f"/enterprises/{A}", headers=auth["regulator"]).json()
    permits = next(s for cls in regulator["classes"] for s in cls["subclasses"] if s["id"] == "tiny.permits.甲类")
    assert permits["records"][0]["收费（元）"] == 12.0
    one = c.get(f"/enterprises/{A}/classes/行政许可", headers=auth["public"]).json()
    assert [cls["code"] for cls in one["classes"]] == ["licensing"]
    assert c.get(f"/enterprises/{A}/classes/licensing", headers=auth["public"]).json() == one
    found = c.get("/enterprises", params={"name": "贵阳甲"}, headers=auth["public"]).json()
    assert [e["统一社会信用代码"] for e in found["enterprises"]] == [A]
    assert "/enterprises/{uscc}" in c.get("/openapi.json").json()["paths"]
    listed = c.get("/classes", headers=auth["public"]).json()
    assert listed["subclasses"] == 3 and listed["role_name"] == "社会公众"


def test_the_service_says_what_is_wrong_with_the_right_status(client):
    c, auth = client
    assert c.get(f"/enterprises/{A}").status_code == 401
    assert c.get(f"/enterprises/{A}", headers={"Authorization": "Bearer cl_nonsense"}).status_code == 401
    bad = c.get(f"/enterprises/{A[:-1]}0", headers=auth["public"])
    assert bad.status_code == 400 and "第18位" in bad.json()["detail"] and "\n" not in bad.json()["detail"]
    assert c.get("/enterprises/915201023F0WTCDK3F", headers=auth["public"]).status_code == 404
    assert c.get(f"/enterprises/{A}/classes/星座运势", headers=auth["public"]).status_code == 404
    assert c.get(f"/enterprises/{A}/restrictions", headers=auth["public"]).status_code == 403
    # A department looks only for its token's purposes, and asks only of its own restrictions.
    assert c.get(f"/enterprises/{A}", headers=auth["tiny"]).status_code == 400
    assert c.get(f"/enterprises/{A}", params={"purpose": "好奇"}, headers=auth["tiny"]).status_code == 403
    assert c.get(f"/enterprises/{A}", params={"purpose": "行政许可审查"}, headers=auth["tiny"]).status_code == 200
    other = c.get(f"/enterprises/{A}/restrictions", params={"department": "sci", "purpose": "财政资金审核"},
                  headers=auth["finance"])
    assert other.status_code == 403
    mine = c.get(f"/enterprises/{A}/restrictions", params={"purpose": "财政资金审核"}, headers=auth["finance"])
    assert mine.status_code == 200 and mine.json()["restricted"] is True
    assert mine.json()["grounds"][0]["case_id"] == "黔市监罚〔2024〕1号"
    assert c.get("/nowhere", headers=auth["public"]).json()["detail"].startswith("没有这个查询地址")
    assert c.post(f"/enterprises/{A}", headers=auth["public"]).status_code == 405
    short = c.get("/enterprises", params={"name": "贵"}, headers=auth["public"])
    assert short.status_code == 400 and short.json()["detail"].startswith("请求参数有误")


def test_every_lookup_is_in_the_ledger_which_verifies(client):
    from creditlake.ledger import read_entries
    from creditlake.ledger.verify import verify_ledger
    from creditlake.settings import get_settings

    c, auth = client
    c.get(f"/enterprises/{A}", headers=auth["public"])
    c.get(f"/enterprises/{A}/classes/licensing", params={"purpose": "行政许可审查"}, headers=auth["tiny"])
    c.get(f"/enterprises/{A}/restrictions", params={"purpose": "财政资金审核"}, headers=auth["finance"])
    c.get(f"/enterprises/{A}", params={"purpose": "好奇"}, headers=auth["tiny"])  # refused: not a lookup
    entries = [e.record for e in read_entries(get_settings(), kind="profile_lookup")]
    assert [(e["role"], e["purpose"]) for e in entries] == [
        ("public", "公开信息查询"), ("department", "行政许可审查"), ("department", "联合惩戒核查：财政资金审核")]
    assert entries[1]["classes"] == ["licensing"] and entries[0]["uscc"] == A
    assert all(e["by"].startswith("p1_") and "测试局" not in json.dumps(e, ensure_ascii=False) for e in entries)
    assert verify_ledger(get_settings()).ok


def test_api_start_serves_over_http_and_stops(home, monkeypatch):
    """The real service: `creditlake api start` runs uvicorn detached; it answers on 127.0.0.1 and stops."""
    import socket
    import subprocess
    import sys
    import urllib.request

    from creditlake.profile import service
    from creditlake.profile.tokens import issue
    from creditlake.settings import get_settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CREDITLAKE_API_PORT", str(port))
    reset_settings()
    settings = get_settings()
    token = issue(settings, "门户网站", "public")
    cli = [sys.executable, "-m", "creditlake.cli", "api"]
    started = subprocess.run([*cli, "start"], capture_output=True, text=True, timeout=120)
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}/enterprises/" in started.stdout
        request = urllib.request.Request(f"http://127.0.0.1:{port}/enterprises/{A}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            body = json.loads(resp.read())
        assert body["summary"]["企业名称"] == "贵阳甲有限公司" and body["role"] == "public"
        assert "pid" in subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=60).stdout
        assert subprocess.run([*cli, "start"], capture_output=True, text=True, timeout=60).returncode == 0  # idempotent
    finally:
        stopped = subprocess.run([*cli, "stop"], capture_output=True, text=True, timeout=60)
    assert stopped.stdout.strip() == "stopped" and service.running(settings) is None
