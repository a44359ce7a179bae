"""The monthly report's figures and sentences, from rows read out of the serving store: pure functions, no I/O.

Every builder takes plain dict rows (one list per mart, as `report.monthly` reads them) and returns what the
template shows. A builder whose mart is absent from the store is never called: its section is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

Row = dict[str, Any]

_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# --- months and numbers -------------------------------------------------------------------------


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


def fmt_num(x: float, places: int = 1) -> str:
    """A number with `places` decimals and thousands separators: 12345.67 -> '12,345.7'."""
    return f"{_round(x, places):,}"


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


def _num(x: Any) -> float:
    """A store value (int, float, Decimal from PostgreSQL, None) as a float; None counts as 0."""
    return float(x) if x is not None else 0.0


# --- headline indicators and their changes ------------------------------------------------------

# How an indicator's value is shown and how its change is put:
#   count   whole number; change in per cent (新设企业 15 户，较上月增加 50.0%)
#   amount  one decimal (万元); change in per cent
#   signed  whole number that can be negative (net growth); change as a difference (多 7 户)
#   rate    a 0..1 share; change in percentage points
#   index   a 0..100 score; change in points
KINDS = ("count", "amount", "signed", "rate", "index")


@dataclass(frozen=True)
class Indicator:
    """One headline figure of the month with the same figure a month and a year before (None: not in the lake)."""

    label: str
    unit: str
    kind: str
    current: float
    previous: float | None = None
    year_ago: float | None = None
    source: str = ""
    compare: bool = True  # False for a snapshot (the lost-contact list exists only as of the lake's last month)
    note: str = ""  # shown instead of the comparisons when compare is False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown indicator kind {self.kind!r}")


def fmt_value(kind: str, x: float | None, unit: str = "") -> str:
    """The value as the report prints it, with its unit: '1,234 户', '37.5%', '62.3', '2,698.4 万元'."""
    if x is None:
        return "—"
    if kind == "rate":
        return fmt_rate(x)
    text = fmt_num(x, 1) if kind in ("amount", "index") else fmt_int(x)
    return f"{text} {unit}".rstrip()


def fmt_delta(kind: str, cur: float | None, base: float | None) -> str:
    """A table cell for the change from `base` to `cur`: '+12.3%', '-0.5个百分点', '+1.2', '+7', '持平' or '—'."""
    if cur is None or base is None:
        return "—"
    if kind in ("count", "amount"):
        return fmt_change(pct_change(cur, base)) if base != 0 else ("持平" if cur == 0 else "—")
    diff = cur - base
    if kind == "rate":
        shown = _round(abs(diff) * 100, 1)
        return "持平" if shown == 0 else f"{'+' if diff > 0 else '-'}{shown}个百分点"
    shown = _round(abs(diff), 1 if kind == "index" else 0)
    if shown == 0:
        return "持平"
    return f"{'+' if diff > 0 else '-'}{shown if kind == 'index' else fmt_int(abs(diff))}"


def change_phrase(kind: str, cur: float, base: float, against: str, unit: str = "") -> str:
    """'较上月增加 12.3%', '较上年同期下降 0.5 个百分点', '比上月多 7 户', '与上月持平', '上月为 0'."""
    if kind in ("count", "amount"):
        if base == 0:
            return f"与{against}持平" if cur == 0 else f"{against}为 0"
        shown = _round(abs(cur - base) / abs(base) * 100, 1)
        if shown == 0:
            return f"与{against}持平"
        return f"较{against}{'增加' if cur > base else '减少'} {shown}%"
    diff = cur - base
    if kind == "rate":
        shown = _round(abs(diff) * 100, 1)
        if shown == 0:
            return f"与{against}持平"
        return f"较{against}{'上升' if diff > 0 else '下降'} {shown} 个百分点"
    if kind == "index":
        shown = _round(abs(diff), 1)
        if shown == 0:
            return f"与{against}持平"
        return f"较{against}{'上升' if diff > 0 else '下降'} {shown} 点"
    if _round(abs(diff), 0) == 0:
        return f"与{against}持平"
    return f"比{against}{'多' if diff > 0 else '少'} {fmt_int(abs(diff))} {unit}".rstrip()


# --- what drove a change ------------------------------------------------------------------------

# A headline figure is numerator / denominator summed over groups (districts, industries); a count has no
# denominator. Group g's contribution to the change is num_g(now) / D(now) - num_g(before) / D(before): the
# contributions add up to the figure's change exactly, for counts, shares and means alike.
Parts = dict[str, tuple[float, float]]  # group name -> (numerator, denominator) in one month


@dataclass(frozen=True)
class Driver:
    """The groups that moved an indicator most against the month before, in its own measure."""

    label: str
    kind: str
    unit: str
    change: float  # in the indicator's change measure (户, 个百分点, points)
    districts: tuple[tuple[str, float], ...]
    industries: tuple[tuple[str, float], ...]  # or the groups named by `second` (e.g. warning types)
    second: str = "分行业看"

    def sentence(self) -> str:
        """'新设企业较上月增加 3 户，主要来自 云岩区（+2 户）、南明区（+1 户）；分行业看，批发和零售业（+2 户）。'"""
        def amount(x: float) -> str:
            if self.kind == "rate":
                return f"{'+' if x > 0 else '-'}{_round(abs(x), 1)} 个百分点"
            if self.kind == "index":
                return f"{'+' if x > 0 else '-'}{_round(abs(x), 1)} 点"
            return f"{'+' if x > 0 else '-'}{fmt_int(abs(x))} {self.unit}".rstrip()

        verb = {"count": ("较上月增加", "较上月减少"), "signed": ("比上月多", "比上月少")}.get(
            self.kind, ("较上月上升", "较上月下降"))
        head = f"{self.label}{verb[0] if self.change > 0 else verb[1]} {amount(self.change).lstrip('+-')}"
        parts = [head]
        if self.districts:
            parts.append("主要来自 " + "、".join(f"{n}（{amount(x)}）" for n, x in self.districts))
        if self.industries:
            parts.append(f"{self.second}，" + "、".join(f"{n}（{amount(x)}）" for n, x in self.industries))
        return "，".join(parts[:2]) + ("；" + parts[2] if len(parts) > 2 else "") + "。"


def contributions(now: Parts, before: Parts, scale: float = 1.0) -> dict[str, float]:
    """Each group's share of the change of sum(num) / sum(den) (sum(num) without denominators), times `scale`."""
    def total(parts: Parts) -> float:
        den = sum(d for _, d in parts.values())
        return den if den else 1.0

    d_now, d_before = total(now), total(before)
    groups = set(now) | set(before)
    return {g: scale * (now.get(g, (0.0, 0.0))[0] / d_now - before.get(g, (0.0, 0.0))[0] / d_before)
            for g in groups}


def top_movers(contrib: dict[str, float], change: float, n: int = 3, places: int = 0) -> tuple[tuple[str, float], ...]:
    """The n groups that moved the figure most in the direction it moved, largest first (none shown as 0)."""
    same = [(g, x) for g, x in contrib.items() if x * change > 0 and _round(abs(x), places) > 0]
    return tuple(sorted(same, key=lambda gx: (-abs(gx[1]), gx[0]))[:n])


def driver(label: str, kind: str, unit: str, by_district: tuple[Parts, Parts], by_industry: tuple[Parts, Parts],
           second: str = "分行业看") -> Driver | None:
    """What moved an indicator between two months, from its parts per district and per industry, or per the
    grouping `second` names (now, before); None when it did not move (as shown: a rate to 0.1 个百分点, an index to
    0.1 point, a count to 1)."""
    scale, places = (100.0, 1) if kind == "rate" else (1.0, 1 if kind == "index" else 0)
    per_district = contributions(*by_district, scale=scale)
    change = sum(per_district.values())
    if _round(abs(change), places) == 0:
        return None
    return Driver(label, kind, unit, change, top_movers(per_district, change, places=places),
                  top_movers(contributions(*by_industry, scale=scale), change, places=places), second)


def parts_by(rows: Iterable[Row], month: str, group: str, numerator: str, denominator: str | None = None) -> Parts:
    """Numerator and denominator summed per value of `group` over the rows of one month."""
    out: dict[str, tuple[float, float]] = {}
    for r in rows:
        if str(r["month"]) != month:
            continue
        key = str(r[group])
        num, den = out.get(key, (0.0, 0.0))
        out[key] = (num + _num(r[numerator]), den + (_num(r[denominator]) if denominator else 0.0))
    return out


@dataclass(frozen=True)
class Comparison:
    """The month's indicators with their month-on-month and year-on-year changes, in numbers and in words."""

    month: str
    indicators: tuple[Indicator, ...]

    @property
    def prev_label(self) -> str:
        return month_label(shift_month(self.month, -1))

    @property
    def year_label(self) -> str:
        return month_label(shift_month(self.month, -12))

    def _missing_everywhere(self, attr: str) -> bool:
        compared = [i for i in self.indicators if i.compare]
        return bool(compared) and all(getattr(i, attr) is None for i in compared)

    @property
    def no_previous(self) -> bool:
        """True when the lake holds no figure at all for the month before."""
        return self._missing_everywhere("previous")

    @property
    def no_year_ago(self) -> bool:
        """True when the lake holds no figure at all for the same month a year before."""
        return self._missing_everywhere("year_ago")

    @property
    def notes(self) -> list[str]:
        """Plain statements of what cannot be compared, said once instead of in every sentence."""
        notes = []
        if self.no_previous:
            notes.append(f"数据湖中没有上月（{self.prev_label}）的数据，本期不作环比。")
        if self.no_year_ago:
            notes.append(f"数据湖中没有上年同期（{self.year_label}）的数据，本期不作同比。")
        return notes

    def sentence(self, ind: Indicator) -> str:
        """'新设企业 15 户，较上月增加 50.0%，较上年同期减少 6.3%。'"""
        head = f"{ind.label} {fmt_value(ind.kind, ind.current, ind.unit)}"
        if not ind.compare:
            return f"{head}{'，' + ind.note if ind.note else ''}。"
        parts = [head]
        if not self.no_previous:
            parts.append("上月无可比数据" if ind.previous is None
                         else change_phrase(ind.kind, ind.current, ind.previous, "上月", ind.unit))
        if not self.no_year_ago:
            parts.append("上年同期无可比数据" if ind.year_ago is None
                         else change_phrase(ind.kind, ind.current, ind.year_ago, "上年同期", ind.unit))
        return "，".join(parts) + "。"

    @property
    def sentences(self) -> list[str]:
        return [self.sentence(i) for i in self.indicators]

    def rows(self) -> list[dict[str, str]]:
        """The change table: indicator, this month, last month, month-on-month, a year before, year-on-year."""
        out = []
        for i in self.indicators:
            prev, ago = (i.previous, i.year_ago) if i.compare else (None, None)
            out.append({
                "label": i.label if not i.unit or i.kind == "rate" else f"{i.label}（{i.unit}）",
                "current": fmt_value(i.kind, i.current),
                "previous": fmt_value(i.kind, prev),
                "mom": fmt_delta(i.kind, i.current, prev),
                "year_ago": fmt_value(i.kind, ago),
                "yoy": fmt_delta(i.kind, i.current, ago),
            })
        return out


def _by_month(rows: Iterable[Row], value: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[str(r["month"])] = totals.get(str(r["month"]), 0.0) + _num(r[value])
    return totals


def _triple(totals: dict[str, float], month: str) -> tuple[float | None, float | None, float | None]:
    return totals.get(month), totals.get(shift_month(month, -1)), totals.get(shift_month(month, -12))


def registration_indicators(month: str, region: Sequence[Row]) -> list[Indicator]:
    """Stock, new registrations, deregistrations, net growth and the new firms' registered capital, city-wide,
    from mart_region_indicators_monthly rows (any grain below division x month: they are summed per month)."""
    specs = [
        ("存续企业", "户", "count", "stock"),
        ("新设企业", "户", "count", "new_registrations"),
        ("注销企业", "户", "count", "deregistrations"),
        ("净增企业", "户", "signed", "net_growth"),
        ("新设企业注册资本", "万元", "amount", "new_capital_10k_cny"),
    ]
    out = []
    for label, unit, kind, column in specs:
        if rows_have(region, column):
            cur, prev, ago = _triple(_by_month(region, column), month)
            if cur is not None:
                out.append(Indicator(label, unit, kind, cur, prev, ago, "mart_region_indicators_monthly"))
    return out


def rows_have(rows: Sequence[Row], column: str) -> bool:
    """True if the rows carry `column` (an older store may lack a newer column)."""
    return bool(rows) and column in rows[0]


def activity_indicators(month: str, activity: Sequence[Row]) -> list[Indicator]:
    """Mean activity index, the operating share (active + normal band) and the dormant share, city-wide, from
    mart_enterprise_activity_monthly counted per month and band (columns month, band, enterprises, index_sum)."""
    per: dict[str, Counter] = {}
    index_sum: dict[str, float] = {}
    for r in activity:
        m = str(r["month"])
        per.setdefault(m, Counter())[str(r["band"])] += int(_num(r["enterprises"]))
        index_sum[m] = index_sum.get(m, 0.0) + _num(r["index_sum"])

    def figures(m: str) -> tuple[float, float, float] | None:
        bands = per.get(m)
        total = sum(bands.values()) if bands else 0
        if not total:
            return None
        return index_sum[m] / total, (bands["active"] + bands["normal"]) / total, bands["dormant"] / total

    cur, prev, ago = figures(month), figures(shift_month(month, -1)), figures(shift_month(month, -12))
    if cur is None:
        return []
    src = "mart_enterprise_activity_monthly"
    labels = [("企业活跃度指数均值", "index"), ("活跃企业占比（活跃+正常）", "rate"), ("休眠企业占比", "rate")]
    return [
        Indicator(label, "", kind, cur[k], prev[k] if prev else None, ago[k] if ago else None, src)
        for k, (label, kind) in enumerate(labels)
    ]


def development_indicator(month: str, development: Sequence[Row]) -> list[Indicator]:
    """The regional development index, as the plain mean of the divisions' indexes (each division is one unit of
    policy; weighting by stock would let the central districts decide the city figure)."""
    per: dict[str, list[float]] = {}
    for r in development:
        if r["development_index"] is not None:
            per.setdefault(str(r["month"]), []).append(_num(r["development_index"]))
    means = {m: sum(v) / len(v) for m, v in per.items() if v}
    cur, prev, ago = _triple(means, month)
    if cur is None:
        return []
    return [Indicator("区域经济发展指数（区县平均）", "", "index", cur, prev, ago, "mart_region_development_monthly")]


def counted_indicator(label: str, unit: str, month: str, counts: dict[str, float], lake_months: set[str],
                      source: str) -> Indicator | None:
    """A count per month of events (warnings, complaints, cases): a month of the lake without a row counted 0,
    a month outside the lake is None (never a zero it did not see)."""
    def at(m: str) -> float | None:
        return counts.get(m, 0.0) if m in lake_months else None

    cur = at(month)
    if cur is None:
        return None
    return Indicator(label, unit, "count", cur, at(shift_month(month, -1)), at(shift_month(month, -12)), source)


def settled_share_indicator(month: str, mediation: Sequence[Row], lake_months: set[str]) -> Indicator | None:
    """Share of the mediations closed in the month that were settled (调解成功), from rows month, closed, settled."""
    closed = {str(r["month"]): _num(r["closed"]) for r in mediation}
    settled = {str(r["month"]): _num(r["settled"]) for r in mediation}

    def share(m: str) -> float | None:
        return settled[m] / closed[m] if m in lake_months and closed.get(m) else None

    cur = share(month)
    if cur is None:
        return None
    return Indicator("调解成功率", "", "rate", cur, share(shift_month(month, -1)), share(shift_month(month, -12)),
                     "fct_mediation_cases")


# --- districts and industries -------------------------------------------------------------------


@dataclass
class DistrictRow:
    """One division's line of the 分区县 table; None where the mart holding the figure is absent."""

    code: str
    name: str
    stock: float | None = None
    new: float | None = None
    deregistered: float | None = None
    net: float | None = None
    activity_rate: float | None = None
    development_index: float | None = None
    development_mom: float | None = None
    lost_contact: int | None = None
    warnings: int | None = None


def district_rows(month: str, region: Sequence[Row] | None = None, development: Sequence[Row] | None = None,
                  lost: Sequence[Row] | None = None, warnings: Sequence[Row] | None = None) -> list[DistrictRow]:
    """The 分区县 table for `month`, in GB/T 2260 code order, from whichever marts the store holds."""
    table: dict[str, DistrictRow] = {}

    def row(r: Row) -> DistrictRow:
        code = str(r["district_code"])
        if code not in table:
            table[code] = DistrictRow(code, str(r["district_name"] or code))
        return table[code]

    for r in region or ():
        if str(r["month"]) == month:
            d = row(r)
            d.stock = (d.stock or 0) + _num(r["stock"])
            d.new = (d.new or 0) + _num(r["new_registrations"])
            d.deregistered = (d.deregistered or 0) + _num(r["deregistrations"])
            d.net = (d.net or 0) + _num(r["net_growth"])
    for r in development or ():
        if str(r["month"]) == month:
            d = row(r)
            d.activity_rate = None if r["activity_rate"] is None else _num(r["activity_rate"])
            d.development_index = None if r["development_index"] is None else _num(r["development_index"])
            mom = r.get("development_index_mom_change")
            d.development_mom = None if mom is None else _num(mom)
    if lost is not None:
        for d in table.values():
            d.lost_contact = 0
        for r in lost:
            d = row(r)
            d.lost_contact = (d.lost_contact or 0) + 1
    if warnings is not None:
        for d in table.values():
            d.warnings = 0
        for r in warnings:
            if str(r["month"]) == month and r["district_code"] is not None:
                d = row(r)
                d.warnings = (d.warnings or 0) + 1
    return [table[c] for c in sorted(table)]


@dataclass(frozen=True)
class IndustryRow:
    code: str
    name: str
    stock: float
    share: float | None
    new: float
    deregistered: float
    net: float
    activity_rate: float | None


def industry_rows(month: str, industries: Sequence[Row]) -> list[IndustryRow]:
    """The 分行业 table: GB/T 4754 sections with any enterprise or movement in `month`, in section order; share of
    the city's stock, and the operating share of the section's stock."""
    cells: dict[str, dict[str, Any]] = {}
    for r in industries:
        if str(r["month"]) != month:
            continue
        c = cells.setdefault(str(r["industry_code"]), {"name": str(r["industry_name"] or r["industry_code"]),
                                                      "stock": 0.0, "new": 0.0, "dereg": 0.0, "net": 0.0, "op": 0.0})
        c["stock"] += _num(r["stock"])
        c["new"] += _num(r["new_registrations"])
        c["dereg"] += _num(r["deregistrations"])
        c["net"] += _num(r["net_growth"])
        c["op"] += _num(r["operating"])
    city = sum(c["stock"] for c in cells.values())
    return [
        IndustryRow(code, c["name"], c["stock"], c["stock"] / city if city else None, c["new"], c["dereg"], c["net"],
                    c["op"] / c["stock"] if c["stock"] else None)
        for code, c in sorted(cells.items())
        if c["stock"] or c["new"] or c["dereg"]
    ]


# --- lost-contact enterprises -------------------------------------------------------------------

PRIORITIES = ("高", "中", "低")


def reason_category(reason: str) -> str:
    """A lost-contact reason without its particulars (dates, counts, the post office's wording):
    '寄往住所的邮件被退回2次（查无此单位、…）' -> '寄往住所的邮件被退回'."""
    return re.sub(r"\d+次", "", re.sub(r"（[^）]*）", "", reason)).strip()


@dataclass(frozen=True)
class LostContactSummary:
    as_of: str
    total: int
    by_priority: dict[str, int]
    listed: int  # already on the abnormal-operation list
    to_check: int
    districts: tuple[tuple[str, dict[str, int], int], ...]  # (name, count per priority, total)
    reasons: tuple[tuple[str, int, float], ...]  # (reason, enterprises, share of the list)

    @property
    def as_of_label(self) -> str:
        return month_label(self.as_of) if self.as_of else "—"


def lost_contact_summary(rows: Sequence[Row], top: int = 6) -> LostContactSummary:
    """Counts by priority and district, the follow-up status and the most frequent reasons of mart_lost_contact."""
    months = sorted({str(r["as_of_month"]) for r in rows if r["as_of_month"]})
    by_priority = Counter(str(r["priority"]) for r in rows)
    per_district: dict[str, tuple[str, Counter]] = {}
    reasons: Counter = Counter()
    for r in rows:
        code = str(r["district_code"])
        per_district.setdefault(code, (str(r["district_name"] or code), Counter()))[1][str(r["priority"])] += 1
        # An enterprise counts once per reason, whatever the number of letters returned.
        reasons.update({reason_category(x) for x in str(r["reasons_text"] or "").split("；") if x.strip()})
    listed = sum(1 for r in rows if r["follow_up_status"] == "已列入经营异常名录")
    total = len(rows)
    return LostContactSummary(
        as_of=months[-1] if months else "",
        total=total,
        by_priority={p: by_priority.get(p, 0) for p in PRIORITIES},
        listed=listed,
        to_check=total - listed,
        districts=tuple((name, {p: c.get(p, 0) for p in PRIORITIES}, sum(c.values()))
                        for _, (name, c) in sorted(per_district.items())),
        reasons=tuple((reason, n, n / total) for reason, n in
                      sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
    )


# --- warnings -----------------------------------------------------------------------------------

SEVERITY_ORDER = {"高": 0, "中": 1, "低": 2}


@dataclass(frozen=True)
class WarningSummary:
    total: int
    high: int
    by_type: tuple[tuple[str, int, int], ...]  # (type in Chinese, warnings, of which high severity)
    types: tuple[str, ...]
    districts: tuple[tuple[str, tuple[int, ...], int], ...]  # (name, count per type in `types` order, total)
    examples: tuple[dict[str, str], ...]


def warning_summary(month: str, rows: Sequence[Row], industry_names: dict[str, str] | None = None,
                    examples: int = 5) -> WarningSummary:
    """The month's warnings by type and district, and the highest-severity examples with the enterprise's name
    (or the district and industry for an area-wide warning) and the rule's evidence."""
    this = [r for r in rows if str(r["month"]) == month]
    types = Counter(str(r["warning_type_zh"]) for r in this)
    high = Counter(str(r["warning_type_zh"]) for r in this if r["severity"] == "高")
    order = tuple(t for t, _ in sorted(types.items(), key=lambda kv: (-kv[1], kv[0])))
    per_district: dict[str, tuple[str, Counter]] = {}
    for r in this:
        code = str(r["district_code"])
        per_district.setdefault(code, (str(r["district_name"] or code), Counter()))[1][str(r["warning_type_zh"])] += 1
    names = industry_names or {}

    def subject(r: Row) -> str:
        if r.get("enterprise_name"):
            return str(r["enterprise_name"])
        industry = names.get(str(r["industry_code"]), str(r["industry_code"] or ""))
        return f"{r['district_name'] or ''}{industry}（区域）" if not r.get("enterprise_id") else "—"

    ranked = sorted(this, key=lambda r: (SEVERITY_ORDER.get(str(r["severity"]), 9), str(r["warning_type_zh"]),
                                         str(r["district_code"]), subject(r), str(r["evidence"])))
    return WarningSummary(
        total=len(this),
        high=sum(high.values()),
        by_type=tuple((t, types[t], high.get(t, 0)) for t in order),
        types=order,
        districts=tuple((name, tuple(c.get(t, 0) for t in order), sum(c.values()))
                        for _, (name, c) in sorted(per_district.items())),
        examples=tuple({"type": str(r["warning_type_zh"]), "severity": str(r["severity"]), "subject": subject(r),
                        "district": str(r["district_name"] or ""), "evidence": str(r["evidence"] or "")}
                       for r in ranked[:examples]),
    )


# --- complaints, mediation and joint discipline -------------------------------------------------


# A delivery is thin when it holds less than THIN_SHARE of the rows its dataset usually brings (the median of its
# last USUAL_MONTHS months received), for datasets that usually bring at least THIN_MIN_ROWS (below that, a
# month of few events is ordinary, not a sign of a cut-off extract).
THIN_SHARE, THIN_MIN_ROWS, USUAL_MONTHS = 0.5, 20, 6


def usual_volumes(history: Sequence[Row]) -> dict[tuple[str, str], float]:
    """Pure: (source, dataset) -> the median rows (loaded + quarantined) of its deliveries received in the months
    before, from rows source, dataset, period, status, loaded, quarantined (the last USUAL_MONTHS months of each)."""
    by_dataset: dict[tuple[str, str], dict[str, float]] = {}
    for r in history:
        if str(r["status"]) == "rejected":
            continue
        months = by_dataset.setdefault((str(r["source"]), str(r["dataset"])), {})
        months[str(r["period"])] = months.get(str(r["period"]), 0) + _num(r["loaded"]) + _num(r["quarantined"])
    out = {}
    for key, months in by_dataset.items():
        recent = sorted(v for _, v in sorted(months.items())[-USUAL_MONTHS:])
        mid = len(recent) // 2
        out[key] = recent[mid] if len(recent) % 2 else (recent[mid - 1] + recent[mid]) / 2
    return out


@dataclass(frozen=True)
class DeliverySummary:
    """The month's deliveries against what the landing contract expects: one per dataset and month, from the
    dataset's first delivery on (report.monthly.expected_deliveries); and those received with far fewer rows than
    their dataset usually brings."""

    expected: int
    received: int  # loaded, whole or with some rows quarantined
    rejected: int  # refused whole (checksum, encoding, columns ...): to be resent
    loaded_rows: int
    quarantined_rows: int
    gaps: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (department, not received, rejected)
    thin: tuple[tuple[str, str, int, int], ...] = ()  # (department, dataset, rows this month, usual rows)

    @property
    def complete(self) -> bool:
        return self.received == self.expected

    def sentence(self) -> str:
        """'本月应报送数据 100 项（…），已收到 98 项，退回重报 1 项，未收到 1 项；入库记录 …，暂存待核 … 条。'"""
        missing = self.expected - self.received - self.rejected
        text = (f"本月应报送数据 {fmt_int(self.expected)} 项（已开始报送的每个数据集每月一项），"
                f"已收到 {fmt_int(self.received)} 项")
        if self.rejected:
            text += f"，退回重报 {fmt_int(self.rejected)} 项"
        if missing:
            text += f"，未收到 {fmt_int(missing)} 项"
        text += (f"；入库记录 {fmt_int(self.loaded_rows)} 条，因不符合数据标准暂存待核 {fmt_int(self.quarantined_rows)} 条。")
        if self.thin:
            text += (f"另有 {fmt_int(len(self.thin))} 项已收到但记录数不足往月的一半（见下表），"
                     "可能报送不全，请报送单位核实。")
        return text

    def caveat(self) -> str:
        """The first page's warning when the month is incomplete or thin ('' when neither)."""
        parts = []
        if not self.complete:
            names = "、".join(name for name, _, _ in self.gaps[:5]) + ("等" if len(self.gaps) > 5 else "")
            parts.append(f"本月有 {fmt_int(self.expected - self.received)} 项数据未收到或被退回（{names}）")
        if self.thin:
            names = "、".join(f"{d}{n}" for d, n, _, _ in self.thin[:3]) + ("等" if len(self.thin) > 3 else "")
            parts.append(f"{fmt_int(len(self.thin))} 项数据记录数明显少于往月（{names}）")
        if not parts:
            return ""
        return "提示：" + "，".join(parts) + "，相关指标可能偏低或缺项，补报后将更新。"


def delivery_summary(expected: Sequence[tuple[str, str]], accounting: Sequence[Row],
                     names: dict[tuple[str, str], tuple[str, str]],
                     usual: dict[tuple[str, str], float] | None = None) -> DeliverySummary:
    """`expected`: (source, dataset) codes the contract expects this month; `accounting`: the month's delivery rows
    (source, dataset, status, loaded, quarantined); `names`: (source, dataset) -> (department, dataset) in Chinese;
    `usual`: (source, dataset) -> the rows it usually brings (usual_volumes), to find the thin deliveries."""
    status = {(str(r["source"]), str(r["dataset"])): str(r["status"]) for r in accounting}
    due, usual = set(expected), usual or {}
    received = {k for k, v in status.items() if v != "rejected"}
    rejected = {k for k, v in status.items() if v == "rejected"}
    gaps: dict[str, tuple[list[str], list[str]]] = {}
    for key in expected:
        if key in received:
            continue
        department, dataset = names.get(key, key)
        gaps.setdefault(department, ([], []))[1 if key in rejected else 0].append(dataset)
    rows: dict[tuple[str, str], float] = {}
    for r in accounting:
        key = (str(r["source"]), str(r["dataset"]))
        if key in received:
            rows[key] = rows.get(key, 0) + _num(r["loaded"]) + _num(r["quarantined"])
    thin = sorted((*names.get(key, key), int(n), int(round(usual[key])))
                  for key, n in rows.items()
                  if key in due and usual.get(key, 0) >= THIN_MIN_ROWS and n < THIN_SHARE * usual[key])
    return DeliverySummary(
        expected=len(expected), received=len(received & due), rejected=len(rejected & due),
        loaded_rows=int(sum(_num(r["loaded"]) for r in accounting)),
        quarantined_rows=int(sum(_num(r["quarantined"]) for r in accounting)),
        gaps=tuple((d, tuple(m), tuple(r)) for d, (m, r) in sorted(gaps.items(), key=lambda kv: kv[0])),
        thin=tuple(thin))


@dataclass(frozen=True)
class ComplaintSummary:
    complaints: int
    categories: tuple[tuple[str, int], ...]
    mediations_closed: int | None = None
    mediations_settled: int | None = None

    @property
    def settled_share(self) -> float | None:
        return self.mediations_settled / self.mediations_closed if self.mediations_closed else None


def complaint_categories(rows: Sequence[Row], month: str, top: int = 5) -> tuple[tuple[str, int], ...]:
    """The month's most frequent complaint categories, from rows month, category, complaints."""
    counts = Counter()
    for r in rows:
        if str(r["month"]) == month:
            counts[str(r["category"] or "其他")] += int(_num(r["complaints"]))
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


@dataclass(frozen=True)
class DisciplineSummary:
    cases: int  # sanctions shared with other departments this month
    measures: int  # restrictions those departments must apply
    overdue: int  # grants after the deadline found so far (all months)
    pending: int  # grants within the deadline, to check


def discipline_summary(month: str, rows: Sequence[Row], open_grants: Row) -> DisciplineSummary:
    """From rows month, cases, measures (per month the sanction was shared) and the grants found against a
    restriction over all months (overdue, pending)."""
    this = [r for r in rows if str(r["month"]) == month]
    return DisciplineSummary(
        cases=int(sum(_num(r["cases"]) for r in this)),
        measures=int(sum(_num(r["measures"]) for r in this)),
        overdue=int(_num(open_grants.get("overdue"))),
        pending=int(_num(open_grants.get("pending"))),
    )


# --- power (the first slice's indicators, kept as one section) ---------------------------------


@dataclass(frozen=True)
class Totals:
    """City-wide power figures of one month."""

    enterprises: int
    with_power: int
    power_kwh: float

    @property
    def active_rate(self) -> float | None:
        # From the summed counts: an average of district rates would weigh small counties like big districts.
        return self.with_power / self.enterprises if self.enterprises else None


@dataclass(frozen=True)
class District:
    """One district's row of the power table."""

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
    """The power section: totals of the month, the month before and a year before, and the districts."""

    month: str
    current: Totals
    previous: Totals | None
    year_ago: Totals | None
    districts: tuple[District, ...]

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def total_mom(self) -> float | None:
        return pct_change(self.current.power_kwh, self.previous.power_kwh if self.previous else None)

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


POWER_MART = "mart_district_power_monthly"


def _totals(rows: list[Row]) -> Totals | None:
    if not rows:
        return None
    return Totals(
        enterprises=sum(int(r["enterprises"] or 0) for r in rows),
        with_power=sum(int(r["enterprises_with_power"] or 0) for r in rows),
        power_kwh=sum(float(r["power_kwh"] or 0.0) for r in rows),
    )


def build_figures(month: str, rows: list[Row]) -> MonthlyFigures:
    """The power figures for `month` from mart rows of that month, the month before and a year before."""
    check_month(month)
    by_month: dict[str, list[Row]] = {}
    for row in rows:
        by_month.setdefault(str(row["month"]), []).append(row)
    for m, month_rows in by_month.items():
        codes = [r["district_code"] for r in month_rows]
        if len(codes) != len(set(codes)):
            # The mart's grain is district x month; a duplicate would silently double the totals.
            raise ValueError(f"{POWER_MART} has more than one row per district for month {m}")
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


# --- charts (geometry only; the template draws the SVG) -----------------------------------------


@dataclass(frozen=True)
class Bar:
    name: str
    value: str
    y: float
    width: float
    x: float = 0.0
    color: str = "#c0392b"


@dataclass(frozen=True)
class BarChart:
    """Geometry of a horizontal bar chart, in SVG user units; the template only draws it."""

    width: float
    height: float
    label_width: float
    row_height: float
    bar_height: float
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...] = field(default=())  # (label, colour)
    labels: tuple[tuple[str, float], ...] = field(default=())  # (row name, y) when bars share a row


def hbar_chart(items: Sequence[tuple[str, float]], fmt=fmt_int, width: float = 680.0,
               scale_max: float | None = None, color: str = "#c0392b") -> BarChart:
    """One bar per (name, value), in the given order, scaled to `scale_max` (default: the largest value)."""
    label_width, value_width, row_height, bar_height, pad = 72.0, 92.0, 18.0, 12.0, 4.0
    top = scale_max if scale_max is not None else max((v for _, v in items), default=0.0)
    span = width - label_width - value_width
    bars = tuple(
        Bar(name=name, value=fmt(value), y=pad + i * row_height, x=label_width,
            width=round(span * max(value, 0.0) / top, 2) if top > 0 else 0.0, color=color)
        for i, (name, value) in enumerate(items)
    )
    return BarChart(width, 2 * pad + len(bars) * row_height, label_width, row_height, bar_height, bars,
                    labels=tuple((b.name, b.y) for b in bars))


def bar_chart(districts: Sequence[District], width: float = 680.0) -> BarChart:
    """Bars of power use by district, largest first, scaled to the largest."""
    ranked = sorted(districts, key=lambda d: (-d.power_kwh, d.code))
    return hbar_chart([(d.name, d.power_kwh) for d in ranked], fmt_int, width)


def paired_bar_chart(items: Sequence[tuple[str, float, float]], names: tuple[str, str],
                     colors: tuple[str, str] = ("#c0392b", "#7b8794"), width: float = 680.0) -> BarChart:
    """Two bars per row (e.g. new and deregistered enterprises per district), on one scale, with a legend."""
    label_width, value_width, bar_height, gap, pad = 72.0, 60.0, 8.0, 1.0, 4.0
    row_height = 2 * bar_height + gap + 6.0
    top = max((max(a, b) for _, a, b in items), default=0.0)
    span = width - label_width - value_width
    bars: list[Bar] = []
    labels: list[tuple[str, float]] = []
    for i, (name, a, b) in enumerate(items):
        y = pad + i * row_height
        labels.append((name, y + bar_height / 2 + 1))
        for k, value in enumerate((a, b)):
            bars.append(Bar(name=name, value=fmt_int(value), y=y + k * (bar_height + gap), x=label_width,
                            width=round(span * value / top, 2) if top > 0 else 0.0, color=colors[k]))
    return BarChart(width, 2 * pad + len(items) * row_height, label_width, row_height, bar_height, tuple(bars),
                    legend=((names[0], colors[0]), (names[1], colors[1])), labels=tuple(labels))
