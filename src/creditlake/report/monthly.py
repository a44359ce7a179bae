"""The monthly Chinese PDF report for policy makers: enterprises and their electricity use by district."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from creditlake.serve.store import query
from creditlake.settings import Settings

MART = "mart_district_power_monthly"
# Every served table the report reads (dbt exposures are generated from it: creditlake.dbt_exposures).
REPORT_TABLES = (MART, "mart_region_development_monthly", "mart_lost_contact", "mart_warnings")
TEMPLATES = Path(__file__).parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCE = f"creditlake 服务库 {MART}"

# Strict so that the month can be inlined into SQL: the store speaks two placeholder dialects.
_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# --- pure helpers -------------------------------------------------------------------------------


def check_month(month: str) -> str:
    """The month if it is a 'YYYY-MM' string, else ValueError."""
    if not isinstance(month, str) or not _MONTH_RE.fullmatch(month):
        raise ValueError(f"month must look like 2024-06, got {month!r}")
    return month


def shift_month(month: str, months: int) -> str:
    """The 'YYYY-MM' month `months` away from `month` (negative goes back)."""
    year, mon = map(int, check_month(month).split("-"))
    index = year * 12 + (mon - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_label(month: str) -> str:
    """'2024-06' -> '2024年6月'."""
    year, mon = map(int, check_month(month).split("-"))
    return f"{year}年{mon}月"


def _round(x: float, places: int) -> Decimal:
    # Half-up, as Chinese statistical tables round (四舍五入), not Python's half-even. The first step drops
    # binary noise, so that 0.4135 * 100 (41.349999999999994) rounds as the 41.35 it stands for.
    exact = Decimal(repr(float(x))).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def pct_change(cur: float | None, prev: float | None) -> float | None:
    """Relative change from `prev` to `cur` as a fraction (0.032 = +3.2%); None if there is no base."""
    if cur is None or prev is None or prev == 0:
        return None
    return (cur - prev) / prev


def describe_change(label: str, pct: float | None) -> str:
    """A Chinese sentence such as '用电量较上月增长 3.2%' for a fraction from pct_change."""
    if pct is None:
        return f"{label}无可比数据"
    shown = _round(abs(pct) * 100, 1)
    # Judged on the shown figure so the report never says '增长 0.0%'.
    if shown == 0:
        return f"{label}持平"
    return f"{label}{'增长' if pct > 0 else '下降'} {shown}%"


def fmt_int(x: float) -> str:
    """A whole number with thousands separators: 1234567.4 -> '1,234,567'."""
    return f"{int(_round(x, 0)):,}"


def fmt_rate(rate: float | None) -> str:
    """A 0..1 share as a percentage with one decimal: 0.3754 -> '37.5%'."""
    return "—" if rate is None else f"{_round(rate * 100, 1)}%"


def fmt_change(pct: float | None) -> str:
    """A table cell for a change: '+3.2%', '-1.0%', '持平', or '—' without a base."""
    if pct is None:
        return "—"
    shown = _round(abs(pct) * 100, 1)
    if shown == 0:
        return "持平"
    return f"{'+' if pct > 0 else '-'}{shown}%"


@dataclass(frozen=True)
class Totals:
    """City-wide figures of one month."""

    enterprises: int
    with_power: int
    power_kwh: float

    @property
    def active_rate(self) -> float | None:
        # From the summed counts: an average of district rates would weigh small counties like big districts.
        return self.with_power / self.enterprises if self.enterprises else None


@dataclass(frozen=True)
class District:
    """One district's row of the report."""

    code: str
    name: str
    enterprises: int
    with_power: int
    power_kwh: float
    power_mom: float | None

    @property
    def active_rate(self) -> float | None:
        return self.with_power / self.enterprises if self.enterprises else None


@dataclass(frozen=True)
class MonthlyFigures:
    """Everything the report shows, computed from the mart rows; no I/O."""

    month: str
    current: Totals
    previous: Totals | None
    year_ago: Totals | None
    districts: tuple[District, ...]

    @property
    def label(self) -> str:
        return month_label(self.month)

    def _sentences(self, base: Totals | None, against: str, missing: str) -> list[str]:
        if base is None:
            return [missing]
        cur = self.current
        return [
            describe_change(f"企业总数较{against}", pct_change(cur.enterprises, base.enterprises)),
            describe_change(f"用电企业数较{against}", pct_change(cur.with_power, base.with_power)),
            describe_change(f"用电量较{against}", pct_change(cur.power_kwh, base.power_kwh)),
        ]

    @property
    def mom(self) -> list[str]:
        """Month-on-month sentences (环比)."""
        return self._sentences(self.previous, "上月", "无上月数据")

    @property
    def yoy(self) -> list[str]:
        """Year-on-year sentences (同比)."""
        return self._sentences(self.year_ago, "上年同期", "无上年同期数据")


def _totals(rows: list[dict[str, Any]]) -> Totals | None:
    if not rows:
        return None
    return Totals(
        enterprises=sum(int(r["enterprises"] or 0) for r in rows),
        with_power=sum(int(r["enterprises_with_power"] or 0) for r in rows),
        power_kwh=sum(float(r["power_kwh"] or 0.0) for r in rows),
    )


def build_figures(month: str, rows: list[dict[str, Any]]) -> MonthlyFigures:
    """The report's figures for `month` from mart rows of that month, the month before and a year before."""
    check_month(month)
    by_month: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_month.setdefault(str(row["month"]), []).append(row)
    for m, month_rows in by_month.items():
        codes = [r["district_code"] for r in month_rows]
        if len(codes) != len(set(codes)):
            # The mart's grain is district x month; a duplicate would silently double the totals.
            raise ValueError(f"{MART} has more than one row per district for month {m}")
    current = _totals(by_month.get(month, []))
    if current is None:
        raise ValueError(f"no rows for month {month}")
    prev_month = shift_month(month, -1)
    prev_kwh = {r["district_code"]: r["power_kwh"] for r in by_month.get(prev_month, [])}
    districts = tuple(
        District(
            code=str(r["district_code"]),
            name=str(r["district_name"]),
            enterprises=int(r["enterprises"] or 0),
            with_power=int(r["enterprises_with_power"] or 0),
            power_kwh=float(r["power_kwh"] or 0.0),
            power_mom=pct_change(r["power_kwh"], prev_kwh.get(r["district_code"])),
        )
        # GB/T 2260 code order is the order the city's own statistics list its districts in.
        for r in sorted(by_month[month], key=lambda r: str(r["district_code"]))
    )
    return MonthlyFigures(
        month=month,
        current=current,
        previous=_totals(by_month.get(prev_month, [])),
        year_ago=_totals(by_month.get(shift_month(month, -12), [])),
        districts=districts,
    )


@dataclass(frozen=True)
class Bar:
    name: str
    value: str
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    """Geometry of the horizontal bar chart, in SVG user units; the template only draws it."""

    width: float
    height: float
    label_width: float
    row_height: float
    bar_height: float
    bars: tuple[Bar, ...]


def bar_chart(districts: tuple[District, ...] | list[District], width: float = 680.0) -> BarChart:
    """Bars of power use by district, largest first, scaled to the largest."""
    label_width, value_width, row_height, bar_height, pad = 72.0, 92.0, 18.0, 12.0, 4.0
    ranked = sorted(districts, key=lambda d: (-d.power_kwh, d.code))
    top = max((d.power_kwh for d in ranked), default=0.0)
    span = width - label_width - value_width
    bars = tuple(
        Bar(
            name=d.name,
            value=fmt_int(d.power_kwh),
            y=pad + i * row_height,
            width=round(span * d.power_kwh / top, 2) if top > 0 else 0.0,
        )
        for i, d in enumerate(ranked)
    )
    return BarChart(width, 2 * pad + len(bars) * row_height, label_width, row_height, bar_height, bars)


# --- data access --------------------------------------------------------------------------------


def fetch_rows(settings: Settings, month: str) -> list[dict[str, Any]]:
    """The mart rows of `month`, the month before and the same month a year before; ValueError if `month` has none."""
    months = [check_month(month), shift_month(month, -1), shift_month(month, -12)]
    # Inlined rather than bound: check_month admits only digits and '-', and DuckDB and psycopg disagree on placeholders.
    in_list = ", ".join(f"'{m}'" for m in months)
    rows = query(
        settings,
        f"SELECT month, district_code, district_name, enterprises, enterprises_with_power, power_kwh "
        f"FROM {MART} WHERE month IN ({in_list}) ORDER BY month, district_code",
    )
    if not any(str(r["month"]) == month for r in rows):
        span = query(settings, f"SELECT min(month) AS first_month, max(month) AS last_month FROM {MART}")
        first, last = (span[0]["first_month"], span[0]["last_month"]) if span else (None, None)
        available = f"{first}..{last}" if first else "none"
        raise ValueError(f"no data for month {month} in the serving store (months available: {available})")
    return rows


def fetch_supervision(settings: Settings, month: str) -> dict[str, Any] | None:
    """Development index, activity rate, lost-contact enterprises and the month's warnings per division, from the
    gold marts; None when the serving store does not hold them (a lake that has not built the full gold yet)."""
    month = check_month(month)
    try:
        rows = query(settings, (
            "SELECT d.district_code, d.district_name, d.development_index, d.activity_rate, "
            "coalesce(l.n, 0) AS lost_contact, coalesce(l.high, 0) AS lost_high, coalesce(w.n, 0) AS warnings "
            "FROM mart_region_development_monthly d "
            "LEFT JOIN (SELECT district_code, count(*) AS n, sum(CASE WHEN priority = '高' THEN 1 ELSE 0 END) AS high "
            "           FROM mart_lost_contact GROUP BY district_code) l ON l.district_code = d.district_code "
            f"LEFT JOIN (SELECT district_code, count(*) AS n FROM mart_warnings WHERE month = '{month}' "
            "           GROUP BY district_code) w ON w.district_code = d.district_code "
            f"WHERE d.month = '{month}' ORDER BY d.district_code"))
    except Exception:  # noqa: BLE001  (DuckDB and psycopg raise different errors for a missing table)
        return None
    if not rows:
        return None
    indexes = [float(r["development_index"]) for r in rows if r["development_index"] is not None]
    return {
        "districts": rows,
        "lost_total": sum(int(r["lost_contact"]) for r in rows),
        "lost_high": sum(int(r["lost_high"]) for r in rows),
        "warnings_total": sum(int(r["warnings"]) for r in rows),
        "index_mean": f"{sum(indexes) / len(indexes):.1f}" if indexes else "—",
    }


# --- rendering ----------------------------------------------------------------------------------


def render_html(figures: MonthlyFigures, generated_at: datetime | None = None,
                supervision: dict[str, Any] | None = None) -> str:
    """The report as HTML, from the Jinja2 template."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    env.filters.update(int=fmt_int, rate=fmt_rate, change=fmt_change)
    now = (generated_at or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    return env.get_template("monthly.html").render(
        f=figures,
        chart=bar_chart(figures.districts),
        total_mom=pct_change(figures.current.power_kwh, figures.previous.power_kwh if figures.previous else None),
        source=SOURCE,
        generated=now.strftime("%Y-%m-%d %H:%M"),
        sup=supervision,
    )


def render_monthly_report(settings: Settings, month: str, out: Path | None = None) -> Path:
    """Render the report for `month` ('YYYY-MM') to PDF and return its path (default: settings.reports)."""
    from weasyprint import HTML

    figures = build_figures(month, fetch_rows(settings, month))
    html = render_html(figures, supervision=fetch_supervision(settings, month))
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
