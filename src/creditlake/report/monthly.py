"""The monthly Chinese PDF report for policy makers, from the gold marts in the serving store.

`fetch_store_data` reads what the report needs (only from the tables the store holds), `build_report` turns it
into figures and sentences (pure, in `report.figures`), `render_html` fills the template and
`render_monthly_report` writes the PDF. docs/report.md lists every figure and the mart it comes from.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from creditlake.catalogue import Catalogue, load_catalogue
from creditlake.codes import GUIYANG_DIVISIONS, INDUSTRY_SECTIONS
from creditlake.report.figures import (
    ComplaintSummary,
    Comparison,
    DeliverySummary,
    DisciplineSummary,
    Driver,
    Indicator,
    LostContactSummary,
    MonthlyFigures,
    Row,
    WarningSummary,
    activity_indicators,
    bar_chart,
    build_figures,
    check_month,
    complaint_categories,
    counted_indicator,
    development_indicator,
    discipline_summary,
    USUAL_MONTHS,
    delivery_summary,
    district_rows,
    driver,
    fmt_change,
    fmt_delta,
    fmt_int,
    fmt_num,
    fmt_rate,
    fmt_value,
    hbar_chart,
    industry_rows,
    lost_contact_summary,
    usual_volumes,
    month_label,
    paired_bar_chart,
    parts_by,
    registration_indicators,
    settled_share_indicator,
    shift_month,
    warning_summary,
)
from creditlake.serve.store import query
from creditlake.settings import Settings, get_settings

MART = "mart_district_power_monthly"
TEMPLATES = Path(__file__).parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT_TITLE = "贵阳市企业信用监管月度报告"
SOURCE = "企业信用监管数据平台"

# Monthly marts whose months make up "the lake's months" (a month of the lake with no complaint counts 0).
MONTHLY_MARTS = ("mart_region_indicators_monthly", "mart_region_development_monthly", MART)

# What each section needs: table -> columns. A section whose table (or a column of it) is missing is left out.
NEEDS: dict[str, tuple[str, ...]] = {
    "mart_region_indicators_monthly": ("month", "district_code", "district_name", "industry_code", "industry_name",
                                       "new_registrations", "deregistrations", "stock", "net_growth", "operating"),
    "mart_region_development_monthly": ("month", "district_code", "district_name", "development_index",
                                        "activity_rate"),
    "mart_enterprise_activity_monthly": ("month", "band", "activity_index"),
    "mart_lost_contact": ("as_of_month", "district_code", "district_name", "priority", "reasons_text",
                          "follow_up_status"),
    "mart_warnings": ("month", "warning_type_zh", "enterprise_id", "district_code", "district_name",
                      "industry_code", "severity", "evidence"),
    "mart_enterprise_profile": ("enterprise_id", "enterprise_name"),
    "fct_complaints": ("month", "category"),
    "fct_mediation_cases": ("closed_on", "outcome"),
    "mart_discipline_cases": ("case_id", "shared_on", "status"),
    MART: ("month", "district_code", "district_name", "enterprises", "enterprises_with_power", "power_kwh"),
    "accounting": ("period", "source", "dataset", "status", "loaded", "quarantined"),
}


# --- data access --------------------------------------------------------------------------------


def served_columns(settings: Settings) -> dict[str, set[str]]:
    """Table -> column names of what the serving store holds (DuckDB's main schema, or PostgreSQL's creditlake,
    which the store puts first on the search path)."""
    rows = query(settings, "SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = current_schema()")
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(str(r["table_name"]), set()).add(str(r["column_name"]))
    return out


def usable(columns: dict[str, set[str]]) -> set[str]:
    """The tables of NEEDS that the store holds with every column the report reads."""
    return {t for t, cols in NEEDS.items() if t in columns and set(cols) <= columns[t]}


def _in(values: list[str]) -> str:
    # Inlined rather than bound: values are checked months (digits and '-'), and DuckDB and psycopg disagree on
    # placeholders.
    return ", ".join(f"'{check_month(v)}'" for v in values)


@dataclass
class StoreData:
    """The rows the report reads, per source; None where the store does not hold the table."""

    month: str
    lake_months: set[str] = field(default_factory=set)
    region: list[Row] | None = None  # division x section x month, three months
    development: list[Row] | None = None
    activity: list[Row] | None = None  # month x division x band counts
    lost: list[Row] | None = None
    warnings: list[Row] | None = None  # three months, with the enterprise's name where the profile is served
    complaints: list[Row] | None = None  # month x category counts
    mediation: list[Row] | None = None  # month: closed, settled
    discipline: list[Row] | None = None  # month shared: cases, measures
    discipline_open: Row = field(default_factory=dict)  # overdue, pending grants over all months
    power: list[Row] | None = None
    accounting: list[Row] | None = None  # the month's deliveries: source, dataset, status, loaded, quarantined
    onboarded: set[tuple[str, str]] = field(default_factory=set)  # (source, dataset) delivered in any month so far
    accounting_before: list[Row] = field(default_factory=list)  # the same, the USUAL_MONTHS months before


def fetch_store_data(settings: Settings, month: str) -> StoreData:
    """Everything the report shows for `month` (with the month before and a year before), from whichever of the
    report's tables the serving store holds; ValueError if none of the monthly marts holds `month`."""
    month = check_month(month)
    columns = served_columns(settings)
    tables = usable(columns)
    months = [month, shift_month(month, -1), shift_month(month, -12)]
    in_months = _in(months)
    data = StoreData(month)
    for t in MONTHLY_MARTS:
        if t in tables:
            data.lake_months |= {str(r["month"]) for r in query(settings, f"SELECT DISTINCT month FROM {t}")}
    if month not in data.lake_months:
        if not data.lake_months:
            raise ValueError("the serving store holds none of the report's monthly marts "
                             f"({', '.join(MONTHLY_MARTS)}): run the pipeline first")
        first, last = min(data.lake_months), max(data.lake_months)
        raise ValueError(f"no data for month {month} in the serving store (months available: {first}..{last})")

    if "mart_region_indicators_monthly" in tables:
        data.region = query(settings, (
            "SELECT month, district_code, district_name, industry_code, industry_name, "
            "sum(stock) AS stock, sum(new_registrations) AS new_registrations, "
            "sum(deregistrations) AS deregistrations, sum(net_growth) AS net_growth, sum(operating) AS operating"
            + (", sum(new_capital_10k_cny) AS new_capital_10k_cny"
               if "new_capital_10k_cny" in columns["mart_region_indicators_monthly"] else "")
            + f" FROM mart_region_indicators_monthly WHERE month IN ({in_months}) "
            "GROUP BY month, district_code, district_name, industry_code, industry_name "
            "ORDER BY month, district_code, industry_code"))
    if "mart_region_development_monthly" in tables:
        extra = (", development_index_mom_change"
                 if "development_index_mom_change" in columns["mart_region_development_monthly"] else "")
        data.development = query(settings, (
            f"SELECT month, district_code, district_name, development_index, activity_rate{extra} "
            f"FROM mart_region_development_monthly WHERE month IN ({in_months}) ORDER BY month, district_code"))
    if "mart_enterprise_activity_monthly" in tables:
        # Per division and industry where the mart has them: what moved a share is said by district and industry.
        groups = [c for c in ("district_code", "industry_code") if c in columns["mart_enterprise_activity_monthly"]]
        keys = ", ".join(["month", *groups, "band"])
        data.activity = query(settings, (
            f"SELECT {keys}, count(*) AS enterprises, sum(activity_index) AS index_sum "
            f"FROM mart_enterprise_activity_monthly WHERE month IN ({in_months}) GROUP BY {keys} ORDER BY {keys}"))
    if "mart_lost_contact" in tables:
        data.lost = query(settings, (
            "SELECT as_of_month, district_code, district_name, priority, reasons_text, follow_up_status "
            "FROM mart_lost_contact ORDER BY district_code"))
    if "mart_warnings" in tables:
        named = "mart_enterprise_profile" in tables
        data.warnings = query(settings, (
            "SELECT w.month, w.warning_type_zh, w.enterprise_id, w.district_code, w.district_name, w.industry_code, "
            "w.severity, w.evidence, " + ("p.enterprise_name " if named else "NULL AS enterprise_name ")
            + "FROM mart_warnings w "
            + ("LEFT JOIN mart_enterprise_profile p ON p.enterprise_id = w.enterprise_id " if named else "")
            + f"WHERE w.month IN ({in_months}) ORDER BY w.month, w.district_code"))
    if "fct_complaints" in tables:
        data.complaints = query(settings, (
            "SELECT month, category, count(*) AS complaints FROM fct_complaints "
            f"WHERE month IN ({in_months}) GROUP BY month, category ORDER BY month, category"))
    if "fct_mediation_cases" in tables:
        data.mediation = [
            {"month": m, **query(settings, (
                "SELECT count(*) AS closed, sum(CASE WHEN outcome = '调解成功' THEN 1 ELSE 0 END) AS settled "
                f"FROM fct_mediation_cases WHERE closed_on >= DATE '{m}-01' "
                f"AND closed_on < DATE '{shift_month(m, 1)}-01'"))[0]}
            for m in months
        ]
    if "mart_discipline_cases" in tables:
        data.discipline = [
            {"month": m, **query(settings, (
                "SELECT count(DISTINCT case_id) AS cases, count(*) AS measures, "
                "sum(CASE WHEN status = '违规授予（逾期）' THEN 1 ELSE 0 END) AS overdue, "
                "sum(CASE WHEN status = '期限内授予（待核查）' THEN 1 ELSE 0 END) AS pending "
                f"FROM mart_discipline_cases WHERE shared_on >= DATE '{m}-01' "
                f"AND shared_on < DATE '{shift_month(m, 1)}-01'"))[0]}
            for m in months
        ]
        # Grants found so far against a restriction, whatever the month the sanction was shared in.
        data.discipline_open = query(settings, (
            "SELECT sum(CASE WHEN status = '违规授予（逾期）' THEN 1 ELSE 0 END) AS overdue, "
            "sum(CASE WHEN status = '期限内授予（待核查）' THEN 1 ELSE 0 END) AS pending FROM mart_discipline_cases"))[0]
    if "accounting" in tables:
        data.accounting = query(settings, (
            "SELECT source, dataset, status, loaded, quarantined FROM accounting "
            f"WHERE period = '{month}' ORDER BY source, dataset"))
        data.onboarded = {(str(r["source"]), str(r["dataset"])) for r in query(settings, (
            f"SELECT DISTINCT source, dataset FROM accounting WHERE period <= '{month}'"))}
        data.accounting_before = query(settings, (
            "SELECT source, dataset, period, status, loaded, quarantined FROM accounting "
            f"WHERE period < '{month}' AND period >= '{shift_month(month, -USUAL_MONTHS)}'"))
    if MART in tables:
        data.power = query(settings, (
            "SELECT month, district_code, district_name, enterprises, enterprises_with_power, power_kwh "
            f"FROM {MART} WHERE month IN ({in_months}) ORDER BY month, district_code"))
    return data


# --- the report's content -----------------------------------------------------------------------


@dataclass
class Report:
    """Everything the template shows; a section is None when its mart is not in the store."""

    month: str
    comparison: Comparison
    cards: list[dict[str, str]]
    districts: list[Any] | None = None
    industries: list[Any] | None = None
    activity_bands: dict[str, float] | None = None
    lost: LostContactSummary | None = None
    warnings: WarningSummary | None = None
    complaints: ComplaintSummary | None = None
    discipline: DisciplineSummary | None = None
    power: MonthlyFigures | None = None
    charts: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)  # what moved each headline figure against last month
    deliveries: DeliverySummary | None = None  # the month's deliveries against the landing contract

    @property
    def district_columns(self) -> dict[str, bool]:
        """Which groups of the 分区县 table have a source in the store."""
        rows = self.districts or []
        return {
            "region": any(d.stock is not None for d in rows),
            "development": any(d.development_index is not None or d.activity_rate is not None for d in rows),
            "lost": any(d.lost_contact is not None for d in rows),
            "warnings": any(d.warnings is not None for d in rows),
        }

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def summary(self) -> list[str]:
        """The few sentences a reader takes away, for the top of the first page."""
        by = {i.label: i for i in self.comparison.indicators}
        out = []
        if "存续企业" in by:
            parts = [f"{self.label}末全市存续企业 {fmt_int(by['存续企业'].current)} 户"]
            if "新设企业" in by:
                parts.append(f"当月新设企业 {fmt_int(by['新设企业'].current)} 户")
            if "注销企业" in by:
                parts.append(f"注销企业 {fmt_int(by['注销企业'].current)} 户")
            if "净增企业" in by:
                net = by["净增企业"].current
                parts.append(f"净增 {fmt_int(net)} 户" if net >= 0 else f"净减少 {fmt_int(-net)} 户")
            out.append("，".join(parts) + "。")
        if "活跃企业占比（活跃+正常）" in by:
            out.append(f"企业活跃度指数均值 {fmt_num(by['企业活跃度指数均值'].current)}，活跃企业占比 "
                       f"{fmt_rate(by['活跃企业占比（活跃+正常）'].current)}，休眠企业占比 "
                       f"{fmt_rate(by['休眠企业占比'].current)}。")
        if self.lost is not None:
            out.append(f"截至{self.lost.as_of_label}，全市失联企业 {fmt_int(self.lost.total)} 户，"
                       f"其中高优先级 {fmt_int(self.lost.by_priority['高'])} 户。")
        if self.warnings is not None:
            out.append(f"本月新增风险预警 {fmt_int(self.warnings.total)} 条，其中高风险 {fmt_int(self.warnings.high)} 条。")
        if self.deliveries is not None and self.deliveries.caveat():
            out.append(self.deliveries.caveat())
        return out


# Headline figures whose change the report explains: label -> (rows, numerator, denominator, second grouping).
# Rows: "region" (mart_region_indicators_monthly), "activity" (its counts per band, as activity_parts makes them),
# "development" (one row per district: the city figure is their plain mean) or "warnings" (one row per warning).
# Every figure is split by district, and by industry or by warning type where its rows carry them.
EXPLAINED = {
    "存续企业": ("region", "stock", None, "industry_name"),
    "新设企业": ("region", "new_registrations", None, "industry_name"),
    "注销企业": ("region", "deregistrations", None, "industry_name"),
    "净增企业": ("region", "net_growth", None, "industry_name"),
    "企业活跃度指数均值": ("activity", "index_sum", "enterprises", "industry_name"),
    "活跃企业占比（活跃+正常）": ("activity", "operating", "enterprises", "industry_name"),
    "休眠企业占比": ("activity", "dormant", "enterprises", "industry_name"),
    "区域经济发展指数（区县平均）": ("development", "development_index", "units", None),
    "风险预警": ("warnings", "units", None, "warning_type_zh"),
}
SECOND_GROUPING = {"industry_name": "分行业看", "warning_type_zh": "分类型看"}


def activity_parts(activity: Sequence[Row]) -> list[Row]:
    """Activity counts per band as rows with district and industry names and the numerators of the activity
    figures (operating = 活跃 + 正常, dormant); [] when the mart's rows carry no district and industry."""
    if not activity or "district_code" not in activity[0] or "industry_code" not in activity[0]:
        return []
    return [{"month": r["month"], "district_name": GUIYANG_DIVISIONS.get(str(r["district_code"]), r["district_code"]),
             "industry_name": INDUSTRY_SECTIONS.get(str(r["industry_code"]), r["industry_code"]),
             "enterprises": r["enterprises"], "index_sum": r["index_sum"],
             "operating": r["enterprises"] if r["band"] in ("active", "normal") else 0,
             "dormant": r["enterprises"] if r["band"] == "dormant" else 0} for r in activity]


def change_drivers(month: str, comparison: Comparison, region: Sequence[Row] | None,
                   activity: Sequence[Row] | None, development: Sequence[Row] | None = None,
                   warnings: Sequence[Row] | None = None) -> list[Driver]:
    """For each headline figure that moved against last month: the districts (and industries or warning types) that
    moved it most."""
    rows = {"region": list(region or []), "activity": activity_parts(activity or []),
            # A district without an index this month is no part of the mean, as in development_indicator.
            "development": [{**r, "units": 1} for r in development or [] if r["development_index"] is not None],
            "warnings": [{**r, "units": 1} for r in warnings or []]}
    before = shift_month(month, -1)
    out = []
    for ind in comparison.indicators:
        if ind.label not in EXPLAINED or ind.previous is None or not ind.compare:
            continue
        source, num, den, second = EXPLAINED[ind.label]
        if not rows[source]:
            continue
        per = {g: (parts_by(rows[source], month, g, num, den), parts_by(rows[source], before, g, num, den))
               for g in ("district_name", second) if g}
        found = driver(ind.label, ind.kind, ind.unit, per["district_name"], per.get(second, ({}, {})),
                       SECOND_GROUPING.get(second, ""))
        if found is not None:
            out.append(found)
    return out


CARD_LABELS = {  # indicator label -> the short name on the first page's cards
    "存续企业": "存续企业", "新设企业": "新设企业", "注销企业": "注销企业", "净增企业": "净增企业",
    "企业活跃度指数均值": "活跃度指数均值", "活跃企业占比（活跃+正常）": "活跃企业占比",
    "区域经济发展指数（区县平均）": "发展指数（区县平均）", "失联企业": "失联企业", "风险预警": "本月风险预警",
    "消费投诉": "本月消费投诉",
}


def expected_deliveries(catalogue: Catalogue, onboarded: set[tuple[str, str]] | None = None,
                        ) -> tuple[list[tuple[str, str]], dict[tuple[str, str], tuple[str, str]]]:
    """What the landing contract expects every month: one delivery per dataset the lake ingests (an empty month is
    a delivery of no rows), from the first month the dataset was delivered (`onboarded`; None: every catalogued
    dataset); and the Chinese names of department and dataset. A catalogued dataset no department has sent yet is
    not onboarded, not late."""
    lake = [(s, d) for s in catalogue.sources for d in s.datasets if d.residency == "lake"]
    expected = [(s.code, d.code) for s, d in lake if onboarded is None or (s.code, d.code) in onboarded]
    return expected, {(s.code, d.code): (s.name_zh, d.name_zh) for s, d in lake}


def build_report(data: StoreData, catalogue: Catalogue | None = None) -> Report:
    """The report's figures, tables, sentences and chart geometry from the rows read out of the store (and, for
    what was delivered against what was due, the catalogue; default: the settings')."""
    catalogue = catalogue or load_catalogue(get_settings().catalogue_dir)
    month = data.month
    lake = data.lake_months
    indicators: list[Indicator] = []
    sources: list[str] = []
    if data.region is not None:
        indicators += registration_indicators(month, data.region)
        sources.append("mart_region_indicators_monthly")
    if data.activity is not None:
        indicators += activity_indicators(month, data.activity)
        sources.append("mart_enterprise_activity_monthly")
    if data.development is not None:
        indicators += development_indicator(month, data.development)
        sources.append("mart_region_development_monthly")
    lost = lost_contact_summary(data.lost) if data.lost is not None else None
    if lost is not None:
        note = f"为截至{lost.as_of_label}的最新名单，不作环比、同比" if lost.as_of else "名单为空"
        indicators.append(Indicator("失联企业", "户", "count", lost.total, source="mart_lost_contact",
                                    compare=False, note=note))
        indicators.append(Indicator("其中高优先级失联企业", "户", "count", lost.by_priority["高"],
                                    source="mart_lost_contact", compare=False))
        sources.append("mart_lost_contact")
    warnings = None
    industry_names = {}
    if data.region:
        industry_names = {str(r["industry_code"]): str(r["industry_name"]) for r in data.region}
    if data.warnings is not None:
        counts: dict[str, float] = {}
        for r in data.warnings:
            counts[str(r["month"])] = counts.get(str(r["month"]), 0) + 1
        ind = counted_indicator("风险预警", "条", month, counts, lake, "mart_warnings")
        indicators += [ind] if ind else []
        warnings = warning_summary(month, data.warnings, industry_names)
        sources.append("mart_warnings")
    complaints = None
    if data.complaints is not None:
        counts = {}
        for r in data.complaints:
            counts[str(r["month"])] = counts.get(str(r["month"]), 0) + float(r["complaints"])
        ind = counted_indicator("消费投诉", "件", month, counts, lake, "fct_complaints")
        indicators += [ind] if ind else []
        closed = settled = None
        if data.mediation is not None:
            this = next(r for r in data.mediation if r["month"] == month)
            closed, settled = int(this["closed"] or 0), int(this["settled"] or 0)
            share = settled_share_indicator(month, data.mediation, lake)
            indicators += [share] if share else []
            sources.append("fct_mediation_cases")
        complaints = ComplaintSummary(int(counts.get(month, 0)), complaint_categories(data.complaints, month),
                                      closed, settled)
        sources.append("fct_complaints")
    discipline = None
    if data.discipline is not None:
        per_month = {str(r["month"]): float(r["cases"] or 0) for r in data.discipline}
        ind = counted_indicator("联合惩戒共享案件", "件", month, per_month, lake, "mart_discipline_cases")
        indicators += [ind] if ind else []
        discipline = discipline_summary(month, data.discipline, data.discipline_open)
        sources.append("mart_discipline_cases")

    deliveries = None
    if data.accounting is not None:
        expected, names = expected_deliveries(catalogue, data.onboarded)
        deliveries = delivery_summary(expected, data.accounting, names, usual_volumes(data.accounting_before))

    power = None
    if data.power:
        if any(str(r["month"]) == month for r in data.power):
            power = build_figures(month, data.power)
            sources.append(MART)

    comparison = Comparison(month, tuple(indicators))
    drivers = change_drivers(month, comparison, data.region, data.activity, data.development, data.warnings)
    cards = [{"name": CARD_LABELS[i.label], "value": fmt_value(i.kind, i.current),
              "unit": i.unit, "change": "" if not i.compare else _card_change(comparison, i)}
             for i in indicators if i.label in CARD_LABELS]

    report = Report(month, comparison, cards, lost=lost, warnings=warnings, complaints=complaints,
                    discipline=discipline, power=power, sources=sources, drivers=drivers, deliveries=deliveries)
    if data.region is not None or data.development is not None:
        this_month_warnings = data.warnings if data.warnings is not None else None
        report.districts = district_rows(month, data.region, data.development, data.lost, this_month_warnings)
    if data.region:
        report.industries = industry_rows(month, data.region)
    if report.districts and any(d.new is not None for d in report.districts):
        report.charts["flows"] = paired_bar_chart(
            [(d.name, d.new or 0.0, d.deregistered or 0.0) for d in report.districts], ("新设", "注销"))
    if report.districts and any(d.development_index is not None for d in report.districts):
        ranked = sorted((d for d in report.districts if d.development_index is not None),
                        key=lambda d: (-(d.development_index or 0), d.code))
        report.charts["development"] = hbar_chart([(d.name, d.development_index or 0.0) for d in ranked],
                                                  fmt_num, scale_max=100.0, color="#2f6f9f")
    if power is not None:
        report.charts["power"] = bar_chart(power.districts)
    return report


def _card_change(comparison: Comparison, ind: Indicator) -> str:
    if ind.previous is None:
        return ""
    return f"环比 {fmt_delta(ind.kind, ind.current, ind.previous)}"


# --- rendering ----------------------------------------------------------------------------------


def render_html(report: Report, generated_at: datetime | None = None) -> str:
    """The report as HTML, from the Jinja2 template."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    env.filters.update(int=fmt_int, num=fmt_num, rate=fmt_rate, change=fmt_change,
                       opt_int=lambda x: "—" if x is None else fmt_int(x),
                       opt_num=lambda x: "—" if x is None else fmt_num(x),
                       signed=lambda x: "—" if x is None else (f"+{fmt_int(x)}" if x > 0 else fmt_int(x)),
                       signed_num=lambda x: "—" if x is None else (f"+{fmt_num(x)}" if x > 0 else fmt_num(x)))
    now = (generated_at or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    return env.get_template("monthly.html").render(
        r=report,
        title=REPORT_TITLE,
        source=SOURCE,
        generated=now.strftime("%Y-%m-%d %H:%M"),
    )


def render_monthly_report(settings: Settings, month: str, out: Path | None = None) -> Path:
    """Render the report for `month` ('YYYY-MM') to PDF and return its path (default: settings.reports)."""
    from weasyprint import HTML

    html = render_html(build_report(fetch_store_data(settings, month)))
    out = Path(out) if out is not None else settings.reports / f"creditlake-report-{month}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a failed render never leaves a truncated PDF under the final name.
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        HTML(string=html, base_url=str(TEMPLATES)).write_pdf(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from the people it is for.
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
