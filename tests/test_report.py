"""Tests of the monthly PDF report: the figures, the Chinese sentences, and what the PDF really contains."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.report.monthly import (
    SHANGHAI,
    bar_chart,
    build_figures,
    describe_change,
    fmt_change,
    fmt_int,
    pct_change,
    render_html,
    render_monthly_report,
    shift_month,
)
from creditlake.settings import get_settings, reset_settings

# (month, code, name, enterprises, with_power, kWh); totals worked out by hand in the assertions below.
ROWS = [
    ("2023-06", "520102", "南明区", 1000, 600, 900_000.0),
    ("2023-06", "520103", "云岩区", 1800, 900, 600_000.0),
    ("2024-05", "520102", "南明区", 1000, 700, 800_000.0),
    ("2024-05", "520103", "云岩区", 2000, 1100, 400_000.0),
    ("2024-05", "520111", "花溪区", 500, 200, 0.0),
    ("2024-06", "520102", "南明区", 1000, 600, 1_000_000.0),
    ("2024-06", "520103", "云岩区", 2000, 1000, 234_567.2),
    ("2024-06", "520111", "花溪区", 500, 200, 0.0),
]


def write_store(home: Path, rows) -> None:
    """A serving DuckDB file under `home` holding only the mart the report reads."""
    path = home / "serving" / "creditlake.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE mart_district_power_monthly (month_start DATE, month VARCHAR, district_code VARCHAR,"
            " district_name VARCHAR, enterprises BIGINT, enterprises_with_power BIGINT, power_kwh DOUBLE,"
            " power_active_rate DOUBLE)"
        )
        con.executemany(
            "INSERT INTO mart_district_power_monthly VALUES (CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?)",
            [(f"{m}-01", m, c, n, e, w, k, w / e) for m, c, n, e, w, k in rows],
        )


def as_dicts(rows) -> list[dict]:
    keys = ("month", "district_code", "district_name", "enterprises", "enterprises_with_power", "power_kwh")
    return [dict(zip(keys, r)) for r in rows]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A CREDITLAKE_HOME with the small store; settings restored afterwards."""
    home = tmp_path_factory.mktemp("home")
    write_store(home, ROWS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDITLAKE_HOME", str(home))
        mp.delenv("CREDITLAKE_SERVING_URL", raising=False)
        reset_settings()
        yield home
    reset_settings()


@pytest.fixture(scope="module")
def june(home) -> Path:
    return render_monthly_report(get_settings(), "2024-06")


@pytest.fixture(scope="module")
def june_text(june) -> str:
    reader = PdfReader(june)
    return "\n".join(page.extract_text() for page in reader.pages)


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
    assert describe_change("用电量较上月", -0.0004) == "用电量较上月持平"
    assert describe_change("用电量较上年同期", None) == "用电量较上年同期无可比数据"
    assert describe_change("x", 0.0225) == "x增长 2.3%"


def test_formatting():
    assert fmt_int(1_234_567.2) == "1,234,567"
    assert fmt_int(1_234_567.5) == "1,234,568"
    assert fmt_int(2.5) == "3"  # half-up (四舍五入), where Python's round() would give 2
    assert fmt_int(0) == "0"
    assert fmt_change(0.25) == "+25.0%"
    assert fmt_change(-0.4135) == "-41.4%"
    assert fmt_change(0.0) == "持平"
    assert fmt_change(None) == "—"


def test_shift_month():
    assert shift_month("2024-06", -1) == "2024-05"
    assert shift_month("2024-01", -1) == "2023-12"
    assert shift_month("2024-06", -12) == "2023-06"
    assert shift_month("2023-12", 1) == "2024-01"


def test_build_figures():
    f = build_figures("2024-06", as_dicts(ROWS))
    assert (f.current.enterprises, f.current.with_power) == (3500, 1800)
    assert f.current.power_kwh == pytest.approx(1_234_567.2)
    assert f.current.active_rate == pytest.approx(1800 / 3500)
    assert [d.name for d in f.districts] == ["南明区", "云岩区", "花溪区"]
    assert [fmt_change(d.power_mom) for d in f.districts] == ["+25.0%", "-41.4%", "—"]
    assert f.mom == ["企业总数较上月持平", "用电企业数较上月下降 10.0%", "用电量较上月增长 2.9%"]
    assert f.yoy == ["企业总数较上年同期增长 25.0%", "用电企业数较上年同期增长 20.0%", "用电量较上年同期下降 17.7%"]


def test_build_figures_without_comparisons():
    f = build_figures("2024-05", as_dicts(ROWS))
    assert f.previous is None and f.year_ago is None
    assert f.mom == ["无上月数据"]
    assert f.yoy == ["无上年同期数据"]


def test_build_figures_rejects_duplicate_districts():
    rows = as_dicts(ROWS + [("2024-06", "520102", "南明区", 1, 1, 1.0)])
    with pytest.raises(ValueError, match="more than one row per district"):
        build_figures("2024-06", rows)


def test_bar_chart_scales_to_largest():
    chart = bar_chart(build_figures("2024-06", as_dicts(ROWS)).districts)
    assert [b.name for b in chart.bars] == ["南明区", "云岩区", "花溪区"]
    assert 0 < chart.bars[0].width < chart.width - chart.label_width
    assert chart.bars[1].width / chart.bars[0].width == pytest.approx(0.2345672, abs=1e-4)
    assert chart.bars[2].width == 0


def test_html_escapes_names():
    rows = as_dicts([("2024-06", "520102", "<b>南明区</b>", 10, 5, 100.0)])
    html = render_html(build_figures("2024-06", rows), datetime(2024, 7, 1, 9, 30, tzinfo=SHANGHAI))
    assert "&lt;b&gt;南明区&lt;/b&gt;" in html and "<b>南明区" not in html
    assert "2024-07-01 09:30" in html


# --- the PDF ------------------------------------------------------------------------------------


def test_report_path(home, june):
    assert june == home / "reports" / "creditlake-report-2024-06.pdf"
    assert june.stat().st_size > 0
    assert len(PdfReader(june).pages) == 1


def test_report_text(june_text):
    assert "贵阳市企业信用监管月度报告" in june_text
    assert "2024年6月" in june_text
    assert "1,234,567" in june_text  # 用电量合计, exactly as formatted
    assert "3,500" in june_text and "1,800" in june_text and "51.4%" in june_text
    assert "用电量较上月增长 2.9%" in june_text
    assert "用电量较上年同期下降 17.7%" in june_text
    assert "企业总数较上月持平" in june_text
    assert "企业总数较上年同期增长 25.0%" in june_text
    assert "数据来源：creditlake 服务库 mart_district_power_monthly" in june_text


def test_report_embeds_fonts(june):
    reader = PdfReader(june)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        # CJK text comes as Type0 fonts whose glyphs live in the descendant CIDFont's descriptor.
        described = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
        for d in described:
            descriptor = d["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), d.get("/BaseFont")
    names = {str(ref.get_object()["/BaseFont"]) for ref in fonts.values()}
    assert any("Noto" in n and "CJK" in n for n in names), names


def test_month_without_comparisons_keeps_both_files(home, june):
    path = render_monthly_report(get_settings(), "2023-06")
    text = PdfReader(path).pages[0].extract_text()
    assert "2023年6月" in text
    assert "无上月数据" in text and "无上年同期数据" in text
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


def test_all_districts_fit_one_page(tmp_path, monkeypatch):
    rows = [
        ("2024-06", code, name, 90_000 + i, 60_000 + i, 987_654_321.0 / (i + 1))
        for i, (code, name) in enumerate(GUIYANG_DIVISIONS.items())
    ]
    write_store(tmp_path, rows)
    monkeypatch.setenv("CREDITLAKE_HOME", str(tmp_path))
    monkeypatch.delenv("CREDITLAKE_SERVING_URL", raising=False)
    reset_settings()
    try:
        path = render_monthly_report(get_settings(), "2024-06")
    finally:
        reset_settings()
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert all(name in text for name in GUIYANG_DIVISIONS.values())
