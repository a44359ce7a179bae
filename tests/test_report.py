"""Tests of the monthly PDF report: the figures, the Chinese sentences, and what the PDF really contains.

The store is a real DuckDB file holding tiny versions of the gold marts the report reads (only the columns it
reads); every expected figure below is worked out by hand from the rows here.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.report.figures import (
    Comparison,
    Indicator,
    activity_indicators,
    bar_chart,
    build_figures,
    change_phrase,
    counted_indicator,
    describe_change,
    development_indicator,
    contributions,
    delivery_summary,
    district_rows,
    driver,
    fmt_change,
    fmt_delta,
    fmt_int,
    fmt_value,
    industry_rows,
    lost_contact_summary,
    paired_bar_chart,
    pct_change,
    reason_category,
    registration_indicators,
    shift_month,
    usual_volumes,
    warning_summary,
)
from creditlake.catalogue import load_catalogue
from creditlake.report.monthly import (
    SHANGHAI,
    build_report,
    expected_deliveries,
    fetch_store_data,
    render_html,
    render_monthly_report,
)
from creditlake.settings import get_settings, reset_settings

# --- the tiny store -----------------------------------------------------------------------------

# mart_region_indicators_monthly: (month, district, name, section, section name, stock, new, dereg, net, operating, capital)
REGION = [
    ("2023-06", "520102", "南明区", "C", "制造业", 80, 4, 2, 2, 70, 100.0),
    ("2023-06", "520103", "云岩区", "F", "批发和零售业", 100, 6, 1, 5, 90, 200.0),
    ("2024-05", "520102", "南明区", "C", "制造业", 90, 5, 1, 4, 80, 300.0),
    ("2024-05", "520103", "云岩区", "F", "批发和零售业", 110, 5, 2, 3, 100, 100.0),
    ("2024-06", "520102", "南明区", "A", "农、林、牧、渔业", 0, 0, 0, 0, 0, 0.0),
    ("2024-06", "520102", "南明区", "C", "制造业", 95, 8, 3, 5, 85, 500.0),
    ("2024-06", "520103", "云岩区", "F", "批发和零售业", 115, 7, 2, 5, 104, 250.5),
]
# mart_region_development_monthly: (month, district, name, index, activity rate, index change on last month)
DEVELOPMENT = [
    ("2023-06", "520102", "南明区", 70.0, 0.875, None),
    ("2023-06", "520103", "云岩区", 70.0, 0.9, None),
    ("2024-05", "520102", "南明区", 60.0, 0.888889, None),
    ("2024-05", "520103", "云岩区", 66.0, 0.909091, None),
    ("2024-06", "520102", "南明区", 60.25, 0.894737, 0.25),
    ("2024-06", "520103", "云岩区", 70.0, 0.904348, 4.0),
]
# mart_enterprise_activity_monthly: (month, enterprise, district, band, index); no rows for 2023-06.
ACTIVITY = [
    ("2024-05", "E1", "520102", "active", 80.0), ("2024-05", "E2", "520103", "active", 80.0),
    ("2024-05", "E3", "520103", "normal", 60.0), ("2024-05", "E4", "520102", "low", 20.0),
    ("2024-06", "E1", "520102", "active", 90.0), ("2024-06", "E2", "520103", "normal", 50.0),
    ("2024-06", "E3", "520103", "low", 20.0), ("2024-06", "E4", "520102", "dormant", 10.0),
]
LISTED = "已因“通过登记的住所或者经营场所无法联系”列入经营异常名录"
MAIL = "寄往住所的邮件被退回{n}次（查无此单位、原址无人或迁移新址不明）"
# mart_lost_contact: (enterprise, district, name, priority, reasons, follow-up, as of)
LOST = [
    ("E4", "520102", "南明区", "高", f"{LISTED}；{MAIL.format(n=2)}；近两个月未进行纳税申报", "已列入经营异常名录",
     "2024-06"),
    ("E5", "520102", "南明区", "中", f"{MAIL.format(n=1)}；未报送上一年度年度报告", "待核查", "2024-06"),
    ("E6", "520103", "云岩区", "低", "近两个月未进行纳税申报", "待核查", "2024-06"),
]
# mart_warnings: (month, type, type in Chinese, enterprise, district, name, section, severity, evidence)
WARNINGS = [
    ("2023-06", "utility_collapse", "用电量骤降", "E1", "520102", "南明区", "C", "中", "当月用电100千瓦时"),
    ("2023-06", "complaint_surge", "投诉激增", "E2", "520103", "云岩区", "F", "中", "当月投诉2件"),
    ("2023-09", "shell_cluster", "疑似集中注册空壳企业", "E7", "520103", "云岩区", "F", "高", "同一住所"),
    ("2024-05", "complaint_surge", "投诉激增", "E2", "520103", "云岩区", "F", "中", "当月投诉3件"),
    ("2024-06", "utility_collapse", "用电量骤降", "E1", "520102", "南明区", "C", "高", "当月用电0千瓦时，前三个月平均5000千瓦时"),
    ("2024-06", "complaint_surge", "投诉激增", "E2", "520103", "云岩区", "F", "中", "当月投诉4件，同行业其他企业当月被投诉比例5.0%"),
    ("2024-06", "area_complaint_surge", "区域行业投诉激增", None, "520103", "云岩区", "F", "中", "当月投诉9件，其他月份平均1.0件"),
]
PROFILE = [("E1", "贵州甲制造有限公司"), ("E2", "贵阳乙商贸有限公司")]
# fct_complaints: (id, enterprise, month, category); none in 2023-06 (a month of the lake: counted 0).
COMPLAINTS = [
    ("K1", "E2", "2024-05", "价格收费"), ("K2", "E2", "2024-05", "食品安全"),
    ("K3", "E2", "2024-06", "食品安全"), ("K4", "E2", "2024-06", "食品安全"),
    ("K5", "E1", "2024-06", "食品安全"), ("K6", "E1", "2024-06", "价格收费"),
]
# fct_mediation_cases: (case, closed on, outcome)
MEDIATION = [
    ("M1", "2024-05-20", "调解成功"),
    ("M2", "2024-06-03", "调解成功"), ("M3", "2024-06-15", "调解成功"), ("M4", "2024-06-30", "调解不成"),
    ("M5", "2024-07-01", "调解成功"),
]
# mart_discipline_cases: (discipline id, case, shared on, status)
DISCIPLINE = [
    ("D1", "P0", "2024-05-10", "期限内授予（待核查）"),
    ("D2", "P1", "2024-06-12", "限制中"), ("D3", "P1", "2024-06-12", "违规授予（逾期）"),
]
# mart_district_power_monthly: (month, code, name, enterprises, with_power, kWh)
POWER = [
    ("2023-06", "520102", "南明区", 1000, 600, 900_000.0),
    ("2023-06", "520103", "云岩区", 1800, 900, 600_000.0),
    ("2024-05", "520102", "南明区", 1000, 700, 800_000.0),
    ("2024-05", "520103", "云岩区", 2000, 1100, 400_000.0),
    ("2024-05", "520111", "花溪区", 500, 200, 0.0),
    ("2024-06", "520102", "南明区", 1000, 600, 1_000_000.0),
    ("2024-06", "520103", "云岩区", 2000, 1000, 234_567.2),
    ("2024-06", "520111", "花溪区", 500, 200, 0.0),
]

# accounting (served ops.accounting): every delivery the contract expects in 2024-05; in 2024-06 the power bureau's
# consumption never arrived and the 12315 complaints were refused whole. Each loaded delivery: 9 rows in, 1 quarantined;
# but the tax filings, 100 rows in May, came with 30 in June (a thin delivery).
EXPECTED, NAMES = expected_deliveries(load_catalogue())
MISSING, REFUSED, THIN = ("power", "consumption"), ("samr", "complaints_12315"), ("tax", "filings")


def _loaded(period: str, key: tuple[str, str]) -> int:
    if key == THIN:
        return 99 if period == "2024-05" else 29
    return 0 if (period, key) == ("2024-06", REFUSED) else 9


ACCOUNTING = [("2024-05", s, d, "loaded", 10, 10, _loaded("2024-05", (s, d)), 1) for s, d in EXPECTED] + [
    ("2024-06", s, d, "rejected" if (s, d) == REFUSED else "loaded", 10, 10, _loaded("2024-06", (s, d)),
     10 if (s, d) == REFUSED else 1) for s, d in EXPECTED if (s, d) != MISSING]

DDL = {
    "mart_region_indicators_monthly": (
        "month VARCHAR, district_code VARCHAR, district_name VARCHAR, industry_code VARCHAR, industry_name VARCHAR,"
        " stock BIGINT, new_registrations BIGINT, deregistrations BIGINT, net_growth BIGINT, operating BIGINT,"
        " new_capital_10k_cny DOUBLE"),
    "mart_region_development_monthly": (
        "month VARCHAR, district_code VARCHAR, district_name VARCHAR, development_index DOUBLE, activity_rate DOUBLE,"
        " development_index_mom_change DOUBLE"),
    "mart_enterprise_activity_monthly": (
        "month VARCHAR, enterprise_id VARCHAR, district_code VARCHAR, band VARCHAR, activity_index DOUBLE"),
    "mart_lost_contact": (
        "enterprise_id VARCHAR, district_code VARCHAR, district_name VARCHAR, priority VARCHAR, reasons_text VARCHAR,"
        " follow_up_status VARCHAR, as_of_month VARCHAR"),
    "mart_warnings": (
        "month VARCHAR, warning_type VARCHAR, warning_type_zh VARCHAR, enterprise_id VARCHAR, district_code VARCHAR,"
        " district_name VARCHAR, industry_code VARCHAR, severity VARCHAR, evidence VARCHAR"),
    "mart_enterprise_profile": "enterprise_id VARCHAR, enterprise_name VARCHAR",
    "fct_complaints": "complaint_id VARCHAR, enterprise_id VARCHAR, month VARCHAR, category VARCHAR",
    "fct_mediation_cases": "case_id VARCHAR, closed_on DATE, outcome VARCHAR",
    "mart_discipline_cases": "discipline_id VARCHAR, case_id VARCHAR, shared_on DATE, status VARCHAR",
    "mart_district_power_monthly": (
        "month VARCHAR, district_code VARCHAR, district_name VARCHAR, enterprises BIGINT,"
        " enterprises_with_power BIGINT, power_kwh DOUBLE"),
    "accounting": ("period VARCHAR, source VARCHAR, dataset VARCHAR, status VARCHAR, declared BIGINT, landed BIGINT,"
                   " loaded BIGINT, quarantined BIGINT"),
}
ROWS = {
    "mart_region_indicators_monthly": REGION, "mart_region_development_monthly": DEVELOPMENT,
    "mart_enterprise_activity_monthly": ACTIVITY, "mart_lost_contact": LOST, "mart_warnings": WARNINGS,
    "mart_enterprise_profile": PROFILE, "fct_complaints": COMPLAINTS, "fct_mediation_cases": MEDIATION,
    "mart_discipline_cases": DISCIPLINE, "mart_district_power_monthly": POWER, "accounting": ACCOUNTING,
}


def write_store(home: Path, rows: dict[str, list[tuple]] = ROWS) -> Path:
    """A serving DuckDB file under `home` holding the given tables (name -> rows) and nothing else."""
    path = home / "serving" / "creditlake.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for table, table_rows in rows.items():
            con.execute(f"CREATE TABLE {table} ({DDL[table]})")
            if table_rows:
                marks = ", ".join("?" * len(table_rows[0]))
                names = ", ".join(c.split()[0] for c in DDL[table].split(",")[: len(table_rows[0])])
                con.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", table_rows)
    return path


def dicts(table: str, rows: list[tuple] | None = None) -> list[dict]:
    keys = [c.split()[0] for c in DDL[table].split(",")]
    return [dict(zip(keys, r)) for r in (ROWS[table] if rows is None else rows)]


def use_home(monkeypatch, home: Path) -> None:
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    monkeypatch.delenv("CREDITLAKE_SERVING_URL", raising=False)
    reset_settings()


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def flat(text: str) -> str:
    """The text without white space: the layout breaks lines anywhere, and a break can swallow a space."""
    return re.sub(r"\s+", "", text)


def states(text: str, expected: str) -> bool:
    """True if the PDF text says `expected`, white space aside."""
    return flat(expected) in flat(text)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A CREDITLAKE_HOME with the full tiny store; settings restored afterwards."""
    home = tmp_path_factory.mktemp("home")
    write_store(home)
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        yield home
    reset_settings()


@pytest.fixture(scope="module")
def june(home) -> Path:
    return render_monthly_report(get_settings(), "2024-06")


@pytest.fixture(scope="module")
def june_text(june) -> str:
    return pdf_text(june)


@pytest.fixture()
def bare_home(tmp_path, monkeypatch):
    """A fresh home for a store built in the test; settings restored afterwards."""
    use_home(monkeypatch, tmp_path)
    yield tmp_path
    reset_settings()


# --- pure helpers -------------------------------------------------------------------------------


def test_pct_change():
    assert pct_change(110, 100) == pytest.approx(0.10)
    assert pct_change(90, 100) == pytest.approx(-0.10)
    assert pct_change(100, 100) == 0
    assert pct_change(5, 0) is None
    assert pct_change(5, None) is None
    assert pct_change(None, 5) is None
    assert pct_change(0, 5) == -1


def test_describe_change():
    assert describe_change("用电量较上月", 0.032) == "用电量较上月增长 3.2%"
    assert describe_change("用电量较上月", -0.1) == "用电量较上月下降 10.0%"
    assert describe_change("用电量较上月", 0.0) == "用电量较上月持平"
    # Rounds to 0.0: the report must not claim '增长 0.0%'.
    assert describe_change("用电量较上月", 0.0004) == "用电量较上月持平"
    assert describe_change("用电量较上年同期", None) == "用电量较上年同期无可比数据"
    assert describe_change("x", 0.0225) == "x增长 2.3%"


def test_formatting():
    assert fmt_int(1_234_567.2) == "1,234,567"
    assert fmt_int(2.5) == "3"  # half-up (四舍五入), where Python's round() would give 2
    assert fmt_change(-0.4135) == "-41.4%"
    assert fmt_change(0.0) == "持平" and fmt_change(None) == "—"
    assert fmt_value("count", 12345, "户") == "12,345 户"
    assert fmt_value("amount", 2698.45, "万元") == "2,698.5 万元"
    assert fmt_value("rate", 0.9387) == "93.9%"
    assert fmt_value("index", 65.125) == "65.1"
    assert fmt_value("signed", -7, "户") == "-7 户"
    assert fmt_value("count", None) == "—"


def test_fmt_delta():
    assert fmt_delta("count", 15, 10) == "+50.0%"
    assert fmt_delta("count", 3, 0) == "—"  # no base for a percentage
    assert fmt_delta("count", 0, 0) == "持平"
    assert fmt_delta("rate", 0.5, 0.75) == "-25.0个百分点"
    assert fmt_delta("rate", 0.5, 0.5004) == "持平"
    assert fmt_delta("index", 65.125, 63.0) == "+2.1"
    assert fmt_delta("signed", 10, 7) == "+3"
    assert fmt_delta("signed", -2, 3) == "-5"
    assert fmt_delta("count", 5, None) == "—"


def test_change_phrase():
    assert change_phrase("count", 123, 109.5, "上月") == "较上月增加 12.3%"
    assert change_phrase("count", 90, 100, "上年同期") == "较上年同期减少 10.0%"
    assert change_phrase("count", 100, 100, "上月") == "与上月持平"
    assert change_phrase("count", 4, 0, "上年同期") == "上年同期为 0"
    assert change_phrase("amount", 0, 0, "上月") == "与上月持平"
    assert change_phrase("rate", 0.939, 0.944, "上月") == "较上月下降 0.5 个百分点"
    assert change_phrase("index", 71.7, 65.6, "上月") == "较上月上升 6.1 点"
    assert change_phrase("signed", 13, 6, "上月", "户") == "比上月多 7 户"
    assert change_phrase("signed", -2, 3, "上年同期", "户") == "比上年同期少 5 户"
    assert change_phrase("signed", 4, 4, "上月", "户") == "与上月持平"


def test_shift_month():
    assert shift_month("2024-06", -1) == "2024-05"
    assert shift_month("2024-01", -1) == "2023-12"
    assert shift_month("2024-06", -12) == "2023-06"
    assert shift_month("2023-12", 1) == "2024-01"


# --- figures and sentences ----------------------------------------------------------------------


def test_registration_sentences_month_on_month_and_year_on_year():
    comparison = Comparison("2024-06", tuple(registration_indicators("2024-06", dicts("mart_region_indicators_monthly"))))
    assert comparison.notes == []
    assert comparison.sentences == [
        "存续企业 210 户，较上月增加 5.0%，较上年同期增加 16.7%。",
        "新设企业 15 户，较上月增加 50.0%，较上年同期增加 50.0%。",
        "注销企业 5 户，较上月增加 66.7%，较上年同期增加 66.7%。",
        "净增企业 10 户，比上月多 3 户，比上年同期多 3 户。",
        "新设企业注册资本 750.5 万元，较上月增加 87.6%，较上年同期增加 150.2%。",
    ]
    first = comparison.rows()[0]
    assert first == {"label": "存续企业（户）", "current": "210", "previous": "200", "mom": "+5.0%",
                     "year_ago": "180", "yoy": "+16.7%"}


def test_missing_previous_year_is_said_plainly():
    rows = [r for r in dicts("mart_region_indicators_monthly") if r["month"] != "2023-06"]
    comparison = Comparison("2024-06", tuple(registration_indicators("2024-06", rows)))
    assert comparison.no_year_ago and not comparison.no_previous
    assert comparison.notes == ["数据湖中没有上年同期（2023年6月）的数据，本期不作同比。"]
    assert comparison.sentences[1] == "新设企业 15 户，较上月增加 50.0%。"
    assert {r["yoy"] for r in comparison.rows()} == {"—"}
    assert {r["year_ago"] for r in comparison.rows()} == {"—"}


def test_first_month_of_the_lake_has_no_comparison():
    rows = [r for r in dicts("mart_region_indicators_monthly") if r["month"] == "2024-05"]
    comparison = Comparison("2024-05", tuple(registration_indicators("2024-05", rows)))
    assert comparison.notes == ["数据湖中没有上月（2024年4月）的数据，本期不作环比。",
                                "数据湖中没有上年同期（2023年5月）的数据，本期不作同比。"]
    assert comparison.sentences[0] == "存续企业 200 户。"


def test_activity_indicators():
    inds = activity_indicators("2024-06", [
        {"month": r[0], "band": r[3], "enterprises": 1, "index_sum": r[4]} for r in ACTIVITY])
    assert [(i.label, i.current, i.previous, i.year_ago) for i in inds] == [
        ("企业活跃度指数均值", 42.5, 60.0, None),
        ("活跃企业占比（活跃+正常）", 0.5, 0.75, None),
        ("休眠企业占比", 0.25, 0.0, None),
    ]
    # Another mart (registrations) has the year before, so each indicator says it has no figure for it.
    comparison = Comparison("2024-06", tuple(
        registration_indicators("2024-06", dicts("mart_region_indicators_monthly")) + inds))
    assert comparison.sentence(inds[0]) == "企业活跃度指数均值 42.5，较上月下降 17.5 点，上年同期无可比数据。"
    assert comparison.sentence(inds[1]) == "活跃企业占比（活跃+正常） 50.0%，较上月下降 25.0 个百分点，上年同期无可比数据。"
    assert comparison.sentence(inds[2]) == "休眠企业占比 25.0%，较上月上升 25.0 个百分点，上年同期无可比数据。"


def test_development_index_is_the_mean_of_the_divisions():
    (ind,) = development_indicator("2024-06", dicts("mart_region_development_monthly"))
    assert (ind.current, ind.previous, ind.year_ago) == (65.125, 63.0, 70.0)
    assert Comparison("2024-06", (ind,)).sentences == [
        "区域经济发展指数（区县平均） 65.1，较上月上升 2.1 点，较上年同期下降 4.9 点。"]


def test_counted_indicator_never_invents_a_month_outside_the_lake():
    counts = {"2023-06": 2.0, "2024-06": 3.0}
    lake = {"2024-05", "2024-06"}
    ind = counted_indicator("风险预警", "条", "2024-06", counts, lake, "mart_warnings")
    # 2024-05 is in the lake without warnings: 0; 2023-06 has rows (a warning dated back) but is not in the lake.
    assert (ind.current, ind.previous, ind.year_ago) == (3.0, 0.0, None)
    assert Comparison("2024-06", (ind,)).sentences == ["风险预警 3 条，上月为 0。"]
    assert counted_indicator("风险预警", "条", "2024-07", counts, lake, "mart_warnings") is None


def test_snapshot_indicator_is_not_compared():
    ind = Indicator("失联企业", "户", "count", 27, compare=False, note="为截至2024年6月的最新名单，不作环比、同比")
    comparison = Comparison("2024-06", (ind,))
    assert comparison.sentences == ["失联企业 27 户，为截至2024年6月的最新名单，不作环比、同比。"]
    assert comparison.notes == []
    with pytest.raises(ValueError, match="unknown indicator kind"):
        Indicator("x", "", "percent", 1.0)


def test_district_rows_merge_the_marts():
    rows = district_rows("2024-06", dicts("mart_region_indicators_monthly"), dicts("mart_region_development_monthly"),
                         dicts("mart_lost_contact"), dicts("mart_warnings"))
    assert [(d.name, d.stock, d.new, d.deregistered, d.net, d.development_index, d.lost_contact, d.warnings)
            for d in rows] == [("南明区", 95, 8, 3, 5, 60.25, 2, 1), ("云岩区", 115, 7, 2, 5, 70.0, 1, 2)]
    assert rows[0].activity_rate == pytest.approx(0.894737)
    only_region = district_rows("2024-06", dicts("mart_region_indicators_monthly"))
    assert only_region[0].development_index is None and only_region[0].lost_contact is None


def test_industry_rows_leave_out_empty_sections():
    rows = industry_rows("2024-06", dicts("mart_region_indicators_monthly"))
    assert [(i.code, i.name, i.stock, i.new, i.deregistered, i.net) for i in rows] == [
        ("C", "制造业", 95, 8, 3, 5), ("F", "批发和零售业", 115, 7, 2, 5)]
    assert rows[0].share == pytest.approx(95 / 210)
    assert rows[1].activity_rate == pytest.approx(104 / 115)


def test_reason_category():
    assert reason_category(MAIL.format(n=2)) == "寄往住所的邮件被退回"
    assert reason_category("检查人员在住所无法联系（2024-06-20）") == "检查人员在住所无法联系"
    assert reason_category(LISTED) == LISTED


def test_lost_contact_summary():
    s = lost_contact_summary(dicts("mart_lost_contact"))
    assert (s.as_of_label, s.total, s.listed, s.to_check) == ("2024年6月", 3, 1, 2)
    assert s.by_priority == {"高": 1, "中": 1, "低": 1}
    assert s.districts == (("南明区", {"高": 1, "中": 1, "低": 0}, 2), ("云岩区", {"高": 0, "中": 0, "低": 1}, 1))
    assert [(reason, n) for reason, n, _ in s.reasons] == [
        ("寄往住所的邮件被退回", 2), ("近两个月未进行纳税申报", 2), (LISTED, 1), ("未报送上一年度年度报告", 1)]
    assert s.reasons[0][2] == pytest.approx(2 / 3)
    empty = lost_contact_summary([])
    assert (empty.total, empty.reasons, empty.as_of_label) == (0, (), "—")


def test_warning_summary():
    rows = [dict(r, enterprise_name=dict(PROFILE).get(r["enterprise_id"])) for r in dicts("mart_warnings")]
    s = warning_summary("2024-06", rows, {"F": "批发和零售业"})
    assert (s.total, s.high) == (3, 1)
    assert s.by_type == (("区域行业投诉激增", 1, 0), ("投诉激增", 1, 0), ("用电量骤降", 1, 1))
    assert s.districts == (("南明区", (0, 0, 1), 1), ("云岩区", (1, 1, 0), 2))
    # Highest severity first, then by type: the area-wide warning names its district and industry.
    assert [(e["severity"], e["subject"]) for e in s.examples] == [
        ("高", "贵州甲制造有限公司"), ("中", "云岩区批发和零售业（区域）"), ("中", "贵阳乙商贸有限公司")]
    assert s.examples[0]["evidence"] == "当月用电0千瓦时，前三个月平均5000千瓦时"


def test_power_figures():
    f = build_figures("2024-06", dicts("mart_district_power_monthly"))
    assert (f.current.enterprises, f.current.with_power) == (3500, 1800)
    assert f.current.power_kwh == pytest.approx(1_234_567.2)
    assert [fmt_change(d.power_mom) for d in f.districts] == ["+25.0%", "-41.4%", "—"]
    assert f.mom == ["企业总数较上月持平", "用电企业数较上月下降 10.0%", "用电量较上月增长 2.9%"]
    assert f.yoy == ["企业总数较上年同期增长 25.0%", "用电企业数较上年同期增长 20.0%", "用电量较上年同期下降 17.7%"]
    with pytest.raises(ValueError, match="more than one row per district"):
        build_figures("2024-06", dicts("mart_district_power_monthly", POWER + [("2024-06", "520102", "南明区", 1, 1, 1.0)]))


def test_charts_scale_to_the_largest():
    chart = bar_chart(build_figures("2024-06", dicts("mart_district_power_monthly")).districts)
    assert [b.name for b in chart.bars] == ["南明区", "云岩区", "花溪区"]
    assert chart.bars[1].width / chart.bars[0].width == pytest.approx(0.2345672, abs=1e-4)
    assert chart.bars[2].width == 0
    paired = paired_bar_chart([("南明区", 8, 3), ("云岩区", 7, 2)], ("新设", "注销"))
    assert len(paired.bars) == 4 and [n for n, _ in paired.labels] == ["南明区", "云岩区"]
    assert paired.bars[0].width == max(b.width for b in paired.bars)
    assert paired.bars[1].width / paired.bars[0].width == pytest.approx(3 / 8, abs=1e-3)


def test_html_escapes_names(home):
    data = fetch_store_data(get_settings(), "2024-06")
    data.power[-1]["district_name"] = "<b>花溪区</b>"
    html = render_html(build_report(data), datetime(2024, 7, 1, 9, 30, tzinfo=SHANGHAI))
    assert "&lt;b&gt;花溪区&lt;/b&gt;" in html and "<b>花溪区" not in html
    assert "2024-07-01 09:30" in html


# --- the PDF ------------------------------------------------------------------------------------


def test_report_path(home, june):
    assert june == home / "reports" / "creditlake-report-2024-06.pdf"
    assert june.stat().st_size > 0


def test_report_headline_figures_equal_the_store(june, june_text):
    """The figures the PDF states are what the serving store holds, queried here independently of the report."""
    text = flat(june_text)
    with duckdb.connect(str(june.parent.parent / "serving" / "creditlake.duckdb"), read_only=True) as con:
        stock, new, dereg, net, capital = con.execute(
            "SELECT sum(stock), sum(new_registrations), sum(deregistrations), sum(net_growth), sum(new_capital_10k_cny)"
            " FROM mart_region_indicators_monthly WHERE month = '2024-06'").fetchone()
        mean_index, operating = con.execute(
            "SELECT avg(activity_index), avg(CASE WHEN band IN ('active', 'normal') THEN 1.0 ELSE 0 END)"
            " FROM mart_enterprise_activity_monthly WHERE month = '2024-06'").fetchone()
        development = con.execute(
            "SELECT avg(development_index) FROM mart_region_development_monthly WHERE month = '2024-06'").fetchone()[0]
        lost, lost_high = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE priority = '高') FROM mart_lost_contact").fetchone()
        warnings = con.execute("SELECT count(*) FROM mart_warnings WHERE month = '2024-06'").fetchone()[0]
        complaints = con.execute("SELECT count(*) FROM fct_complaints WHERE month = '2024-06'").fetchone()[0]
        kwh = con.execute("SELECT sum(power_kwh) FROM mart_district_power_monthly WHERE month = '2024-06'").fetchone()[0]
    assert (stock, new, dereg, net, capital) == (210, 15, 5, 10, 750.5)  # the store is what the tests think it is
    assert states(text, f"2024年6月末全市存续企业 {stock} 户，当月新设企业 {new} 户，注销企业 {dereg} 户，净增 {net} 户。")
    assert states(text, f"新设企业注册资本 {capital:,.1f} 万元，较上月增加 87.6%，较上年同期增加 150.2%。")
    assert states(text, f"企业活跃度指数均值 {mean_index:.1f}，活跃企业占比 {operating:.1%}")
    assert states(text, f"区域经济发展指数（区县平均） {development:.1f}，较上月上升 2.1 点，较上年同期下降 4.9 点。")
    assert states(text, f"全市失联企业 {lost} 户，其中高优先级 {lost_high} 户")
    assert states(text, f"本月新增风险预警 {warnings} 条")
    assert states(text, f"本月受理消费投诉 {complaints} 件")
    assert fmt_int(kwh) in text  # 用电量合计, as formatted


def test_report_sentences_and_sections(june_text):
    text = flat(june_text)
    for heading in ("主要指标", "变化情况", "分区县情况", "分行业情况", "失联企业", "风险预警", "投诉调解与联合惩戒",
                    "用电情况", "各区县新设与注销企业", "各区县区域经济发展指数"):
        assert heading in text, heading
    assert states(text, "贵阳市企业信用监管月度报告") and states(text, "2024年6月")
    assert states(text, "存续企业 210 户，较上月增加 5.0%，较上年同期增加 16.7%。")
    assert states(text, "净增企业 10 户，比上月多 3 户，比上年同期多 3 户。")
    assert states(text, "风险预警 3 条，较上月增加 200.0%，较上年同期增加 50.0%。")  # 2023-06: 2; the 2023-09 one is not June
    assert states(text, "消费投诉 4 件，较上月增加 100.0%，上年同期为 0。")  # 2023-06 is in the lake, with no complaint
    assert states(text, "调解成功率 66.7%，较上月下降 33.3 个百分点，上年同期无可比数据。")
    assert states(text, "联合惩戒共享案件 1 件，与上月持平，上年同期为 0。")
    assert states(text, "失联企业 3 户，为截至2024年6月的最新名单，不作环比、同比。")
    assert states(text, "已列入经营异常名录 1 户，待核查 2 户")
    assert states(text, "其中高风险 1 条：区域行业投诉激增 1 条、投诉激增 1 条、用电量骤降 1 条。")
    assert states(text, "贵州甲制造有限公司") and states(text, "云岩区批发和零售业（区域）")
    assert states(text, "主要类别：食品安全 3 件、价格收费 1 件。")
    assert states(text, "本月办结调解 3 件，其中调解成功 2 件，调解成功率 66.7%。")
    assert states(text, "本月共享失信惩戒案件 1 件，推送各部门限制措施 2 项；截至目前发现逾期违规授予 1 项、期限内授予待核查 1 项。")
    assert states(text, "用电量较上月增长 2.9%") and states(text, "用电量较上年同期下降 17.7%")
    assert states(text, "C 制造业") and states(text, "F 批发和零售业")
    assert not states(text, "农、林、牧、渔业")


def test_report_embeds_fonts(june):
    reader = PdfReader(june)
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        assert fonts
        for ref in fonts.values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]))
            # CJK text comes as Type0 fonts whose glyphs live in the descendant CIDFont's descriptor.
            described = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for d in described:
                descriptor = d["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), d.get("/BaseFont")
    assert any("Noto" in n and "CJK" in n for n in names), names


def test_month_without_comparisons_keeps_both_files(home, june):
    path = render_monthly_report(get_settings(), "2023-06")
    text = flat(pdf_text(path))
    assert states(text, "2023年6月")
    assert states(text, "数据湖中没有上月（2023年5月）的数据，本期不作环比。")
    assert states(text, "数据湖中没有上年同期（2022年6月）的数据，本期不作同比。")
    assert states(text, "存续企业 180 户。")
    assert june.exists() and path.exists() and path != june


def test_explicit_out(home, tmp_path):
    out = tmp_path / "sub" / "r.pdf"
    assert render_monthly_report(get_settings(), "2024-06", out) == out
    assert out.exists()
    assert not list(out.parent.glob("*.tmp"))


def test_absent_month(home):
    with pytest.raises(ValueError) as err:
        render_monthly_report(get_settings(), "2024-07")
    assert str(err.value) == "no data for month 2024-07 in the serving store (months available: 2023-06..2024-06)"


@pytest.mark.parametrize("month", ["2024-6", "2024-13", "2024-06' OR '1'='1", "", "202406"])
def test_bad_month(home, month):
    with pytest.raises(ValueError, match="month must look like"):
        render_monthly_report(get_settings(), month)


# --- an early lake: only some marts -------------------------------------------------------------


def test_power_mart_alone_still_gives_a_report(bare_home):
    write_store(bare_home, {"mart_district_power_monthly": POWER})
    text = flat(pdf_text(render_monthly_report(get_settings(), "2024-06")))
    assert states(text, "用电情况") and states(text, "1,234,567") and states(text, "用电量较上月增长 2.9%")
    for absent in ("分区县情况", "分行业情况", "失联企业", "风险预警", "投诉调解与联合惩戒", "变化情况"):
        assert absent not in text, absent


def test_marts_without_power_or_supervision(bare_home):
    write_store(bare_home, {t: ROWS[t] for t in ("mart_region_indicators_monthly", "mart_warnings")})
    text = flat(pdf_text(render_monthly_report(get_settings(), "2024-06")))
    assert states(text, "存续企业 210 户，较上月增加 5.0%") and states(text, "分行业情况")
    assert states(text, "风险预警 3 条") and states(text, "用电量骤降")
    # Without the profile mart an enterprise warning has no name to show, and nothing breaks.
    assert "贵州甲制造有限公司" not in text
    for absent in ("用电情况", "失联企业", "投诉调解与联合惩戒", "各区县区域经济发展指数"):
        assert absent not in text, absent


def test_a_mart_missing_a_column_is_left_out(bare_home):
    path = write_store(bare_home, {t: ROWS[t] for t in ("mart_region_indicators_monthly", "mart_lost_contact")})
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE mart_lost_contact DROP COLUMN priority")
    text = flat(pdf_text(render_monthly_report(get_settings(), "2024-06")))
    assert states(text, "存续企业 210 户") and not states(text, "失联企业")


def test_store_without_any_monthly_mart(bare_home):
    write_store(bare_home, {"mart_lost_contact": LOST})
    with pytest.raises(ValueError, match="holds none of the report's monthly marts"):
        render_monthly_report(get_settings(), "2024-06")


def test_all_districts_are_listed(bare_home):
    region = [("2024-06", code, name, "F", "批发和零售业", 90_000 + i, 100 + i, 50, 50 + i, 80_000, 1234.5)
              for i, (code, name) in enumerate(GUIYANG_DIVISIONS.items())]
    power = [("2024-06", code, name, 90_000 + i, 60_000 + i, 987_654_321.0 / (i + 1))
             for i, (code, name) in enumerate(GUIYANG_DIVISIONS.items())]
    write_store(bare_home, {"mart_region_indicators_monthly": region, "mart_district_power_monthly": power})
    path = render_monthly_report(get_settings(), "2024-06")
    assert len(PdfReader(path).pages) <= 3
    text = pdf_text(path)
    assert all(text.count(name) >= 3 for name in GUIYANG_DIVISIONS.values())  # district table, chart, power table
    assert states(text, f"存续企业 {fmt_int(sum(r[5] for r in region))} 户")


# --- what drove a change -----------------------------------------------------------------------


def test_contributions_add_up_to_the_change_of_counts_shares_and_means():
    counts_now, counts_before = {"南明区": (8.0, 0.0), "云岩区": (7.0, 0.0)}, {"南明区": (5.0, 0.0), "云岩区": (5.0, 0.0)}
    assert contributions(counts_now, counts_before) == {"南明区": 3.0, "云岩区": 2.0}
    # Dormant share 10% -> 20%: 云岩区's dormant firms tripled, 南明区's stayed; both have 100 firms.
    now, before = {"南明区": (10.0, 100.0), "云岩区": (30.0, 100.0)}, {"南明区": (10.0, 100.0), "云岩区": (10.0, 100.0)}
    pp = contributions(now, before, scale=100.0)
    assert pp == pytest.approx({"南明区": 0.0, "云岩区": 10.0}) and sum(pp.values()) == pytest.approx(20.0 - 10.0)
    # A group that grew without changing its own share still moves a share by its weight: 南明区 doubles at 10%.
    grown = {"南明区": (20.0, 200.0), "云岩区": (10.0, 100.0)}
    assert sum(contributions(grown, before, scale=100.0).values()) == pytest.approx(30 / 300 * 100 - 10.0)


def test_a_figure_that_did_not_move_has_no_driver_and_one_that_did_names_its_movers():
    same = ({"南明区": (10.0, 100.0)}, {"南明区": (10.0, 100.0)})
    assert driver("休眠企业占比", "rate", "", same, same) is None
    d = driver("休眠企业占比", "rate", "", ({"南明区": (10.0, 100.0), "云岩区": (30.0, 100.0)},
                                            {"南明区": (10.0, 100.0), "云岩区": (10.0, 100.0)}),
               ({"制造业": (40.0, 200.0)}, {"制造业": (20.0, 200.0)}))
    assert d.sentence() == "休眠企业占比较上月上升 10.0 个百分点，主要来自 云岩区（+10.0 个百分点）；分行业看，制造业（+10.0 个百分点）。"


def test_the_report_says_which_districts_and_industries_moved_each_figure(june_text):
    # New registrations 10 -> 15: 南明区 5 -> 8 (all 制造业), 云岩区 5 -> 7 (all 批发和零售业).
    assert states(june_text, "新设企业较上月增加 5 户，主要来自 南明区（+3 户）、云岩区（+2 户）；"
                             "分行业看，制造业（+3 户）、批发和零售业（+2 户）。")
    # Net growth 7 -> 10: 云岩区 3 -> 5, 南明区 4 -> 5.
    assert states(june_text, "净增企业比上月多 3 户，主要来自 云岩区（+2 户）、南明区（+1 户）；"
                             "分行业看，批发和零售业（+2 户）、制造业（+1 户）。")
    # The development index, a plain mean of the districts: (60 + 66) / 2 -> (60.25 + 70) / 2.
    assert states(june_text, "区域经济发展指数（区县平均）较上月上升 2.1 点，主要来自 云岩区（+2.0 点）、南明区（+0.1 点）。")
    # Warnings 1 -> 3: 云岩区 1 -> 2, 南明区 0 -> 1; by type, a new area surge and a new utility collapse.
    assert states(june_text, "风险预警较上月增加 2 条，主要来自 云岩区（+1 条）、南明区（+1 条）；"
                             "分类型看，区域行业投诉激增（+1 条）、用电量骤降（+1 条）。")
    assert "黄金层" not in june_text and "mart_" not in june_text and "docs/" not in june_text
    assert states(june_text, "区域经济发展指数（0–100）由市场活力")


# --- what arrived this month ------------------------------------------------------------------


def test_delivery_summary_names_what_did_not_arrive_and_what_was_refused():
    expected = [("a", "x"), ("a", "y"), ("b", "z")]
    names = {("a", "x"): ("甲局", "X表"), ("a", "y"): ("甲局", "Y表"), ("b", "z"): ("乙局", "Z表")}
    rows = [{"source": "a", "dataset": "x", "status": "loaded", "loaded": 10, "quarantined": 1},
            {"source": "b", "dataset": "z", "status": "rejected", "loaded": 0, "quarantined": 5}]
    summary = delivery_summary(expected, rows, names)
    assert (summary.expected, summary.received, summary.rejected, summary.complete) == (3, 1, 1, False)
    assert summary.gaps == (("乙局", (), ("Z表",)), ("甲局", ("Y表",), ()))
    assert summary.sentence() == ("本月应报送数据 3 项（已开始报送的每个数据集每月一项），已收到 1 项，退回重报 1 项，"
                                  "未收到 1 项；入库记录 10 条，因不符合数据标准暂存待核 6 条。")
    assert summary.caveat().startswith("提示：本月有 2 项数据未收到或被退回（乙局、甲局）")
    whole = delivery_summary(expected[:1], rows[:1], names)
    assert whole.complete and whole.caveat() == ""


def test_a_dataset_never_delivered_is_not_late(home):
    """Expected are the datasets delivered in some month so far: one the departments have not started sending
    (not onboarded yet) is no gap; one that stopped is."""
    catalogue = load_catalogue()
    onboarded = {("power", "consumption"), ("samr", "registrations")}
    expected, names = expected_deliveries(catalogue, onboarded)
    assert sorted(expected) == sorted(onboarded)
    rows = [{"source": "samr", "dataset": "registrations", "status": "loaded", "loaded": 5, "quarantined": 0}]
    summary = delivery_summary(expected, rows, names)
    assert (summary.expected, summary.received) == (2, 1)
    assert summary.gaps == ((names[("power", "consumption")][0], (names[("power", "consumption")][1],), ()),)


def test_the_report_says_what_did_not_arrive(june_text):
    n = len(EXPECTED)
    assert states(june_text, f"本月应报送数据 {n} 项（已开始报送的每个数据集每月一项），已收到 {n - 2} 项，退回重报 1 项，"
                             f"未收到 1 项；入库记录 {fmt_int(9 * (n - 3) + 29)} 条，因不符合数据标准暂存待核 "
                             f"{fmt_int(n - 2 + 10)} 条。")
    departments = sorted({NAMES[MISSING][0], NAMES[REFUSED][0]})
    assert states(june_text, f"提示：本月有 2 项数据未收到或被退回（{'、'.join(departments)}），1 项数据记录数明显少于往月"
                             f"（{NAMES[THIN][0]}{NAMES[THIN][1]}）")
    assert states(june_text, NAMES[MISSING][1]) and states(june_text, NAMES[REFUSED][1])
    assert states(june_text, "另有 1 项已收到但记录数不足往月的一半")
    assert states(june_text, f"{NAMES[THIN][0]} {NAMES[THIN][1]} 30 100")  # the table: this month, the usual


def test_a_thin_delivery_is_one_with_under_half_its_usual_rows():
    names = {("a", "x"): ("甲局", "X表"), ("a", "y"): ("甲局", "Y表"), ("b", "z"): ("乙局", "Z表")}
    history = [{"source": "a", "dataset": "x", "period": p, "status": "loaded", "loaded": n, "quarantined": 0}
               for p, n in [("2024-01", 90), ("2024-02", 100), ("2024-03", 120), ("2024-04", 5000)]]
    history += [{"source": "a", "dataset": "y", "period": "2024-04", "status": "loaded", "loaded": 12, "quarantined": 0},
                {"source": "b", "dataset": "z", "period": "2024-04", "status": "rejected", "loaded": 0,
                 "quarantined": 900}]
    usual = usual_volumes(history)
    assert usual == {("a", "x"): 110.0, ("a", "y"): 12.0}  # the median; a refused delivery is no usual volume
    month = [{"source": "a", "dataset": "x", "status": "loaded", "loaded": 50, "quarantined": 4},
             {"source": "a", "dataset": "y", "status": "loaded", "loaded": 1, "quarantined": 0},
             {"source": "b", "dataset": "z", "status": "loaded", "loaded": 3, "quarantined": 0}]
    summary = delivery_summary(list(names), month, names, usual)
    # 54 < 55 = half of 110: thin. Y usually brings 12 rows: too few to call 1 thin. Z has no usual volume yet.
    assert summary.thin == (("甲局", "X表", 54, 110),)
    assert summary.complete and summary.caveat() == "提示：1 项数据记录数明显少于往月（甲局X表），相关指标可能偏低或缺项，补报后将更新。"
    month[0]["loaded"] = 51
    assert delivery_summary(list(names), month, names, usual).thin == ()


# --- delivery ----------------------------------------------------------------------------------


@pytest.fixture()
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives, parsed."""
    import email
    import socket
    from email import policy

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((tuple(envelope.rcpt_tos), message))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_the_report_is_mailed_once_to_every_recipient_of_every_role(home, june, smtp_server, tmp_path):
    from creditlake.pipeline import stage_report
    from creditlake.report.delivery import send_report
    from creditlake.settings import Settings

    port, inbox = smtp_server
    roles = {"Policy maker": ["leader@example.gov.cn", "deputy@example.gov.cn"], "Analyst": ["leader@example.gov.cn"]}
    settings = Settings(home=home, smtp_host="127.0.0.1", smtp_port=port, report_sender="creditlake@example.gov.cn",
                        report_recipients=roles)
    path = Path(stage_report("2024-06", settings))  # the DAG's report task: render, mail, ledger

    assert len(inbox.messages) == 1
    to, message = inbox.messages[0]
    assert sorted(to) == ["deputy@example.gov.cn", "leader@example.gov.cn"]  # each address once
    assert message["Subject"] == "贵阳市企业信用监管月度报告（2024年6月）"
    assert "2024年6月" in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "贵阳市企业信用监管月度报告（2024年6月）.pdf"
    pdf = attachment.get_content()
    assert pdf == path.read_bytes()
    received = tmp_path / "received.pdf"
    received.write_bytes(pdf)
    assert states(pdf_text(received), "贵阳市企业信用监管月度报告")

    from creditlake.ledger import read_entries

    mailed = read_entries(settings, "report_mailed")
    assert [(e.record["month"], e.record["recipients"]) for e in mailed] == [("2024-06", 2)]

    # Again, unchanged: nothing is mailed. A recipient added since gets it alone.
    assert not send_report(settings, "2024-06", path).sent and len(inbox.messages) == 1
    roles["Policy maker"].append("new@example.gov.cn")
    added = Settings(home=home, smtp_host="127.0.0.1", smtp_port=port, report_recipients=roles)
    assert send_report(added, "2024-06", path).recipients == ("new@example.gov.cn",)
    assert inbox.messages[-1][0] == ("new@example.gov.cn",)


def test_without_a_mail_server_the_report_is_written_and_not_mailed(home, june):
    from creditlake.report.delivery import send_report
    from creditlake.settings import Settings

    result = send_report(Settings(home=home, report_recipients={"Policy maker": ["a@example.gov.cn"]}), "2024-06", june)
    assert not result.sent and "未配置邮件服务器" in result.reason


def test_an_unreachable_mail_server_is_one_clear_error(home, june):
    import socket

    from creditlake.report.delivery import send_report
    from creditlake.settings import Settings

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(home=home, smtp_host="127.0.0.1", smtp_port=port,
                        report_recipients={"Policy maker": ["a@example.gov.cn"]})
    with pytest.raises(RuntimeError, match=f"月度报告邮件发送失败（127.0.0.1:{port}）"):
        send_report(settings, "2024-06", june)
