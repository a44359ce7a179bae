"""Models of the datasets that carry the signals the lake exists to find; other datasets are generated generically.

Each model yields (enterprise, values) for one period; values name some of the dataset's columns and the
generic generator fills the rest from the catalogue. The models follow the hidden world: dormant firms stop
using power and file zero tax returns; lost-contact firms also stop filing, their mail comes back and
inspectors cannot find them at their registered domicile. The confounders of confounders.py show through the same
models: lapsed returns and their 非正常户 designations, no meters of their own, mail back before a move, reports
missed, seasonal and winding-down use, site meters, steady complaint levels and recurring peaks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from creditlake.generate import officials as acts
from creditlake.generate.generic import pick_enterprises
from creditlake.generate.world import (COMPLAINT_RATE, SEASON, SURGE_MIN_COMPLAINTS, SURGE_MIN_RECEIVED,
                                      Enterprise, World, licence_expiry, licensed_industries)
from creditlake.periods import first_day, last_day

Rows = Iterator[tuple[Enterprise, dict]]
Model = Callable[[World, str, int, random.Random], Rows]

ON_TIME_FILING = 0.91   # filed by 30 June before dormancy and lost contact; lands near the published 85-88%
LATE_FILING = 0.04      # filed after 30 June, before year end
LEVEL_SURGE = 3.0       # a surge at a firm with a steady complaint level: three times its level that month


def _day_in(period: str, rng: random.Random) -> date:
    lo, hi = first_day(period), last_day(period)
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def registrations(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Each registration event with the register's record after it: the domicile (and division) of that day."""
    lo, hi = first_day(period), last_day(period)
    for e in world.enterprises:
        for event, when in e.events:
            if when <= hi and (n == 0 or when >= lo):
                district = e.district_on(when)
                yield e, {"name": e.name, "event_type": event, "event_date": when.isoformat(),
                          "district_code": district, "industry_code": e.industry,
                          "established_date": e.established.isoformat(), "registered_capital": f"{e.capital:.2f}",
                          "address": e.address_on(when), "legal_rep_name": e.rep_name, "legal_rep_id_no": e.rep_id,
                          "contact_phone": e.phone,
                          **acts.registration_action(world.officials, e.uscc, district, event, when, e.cluster)}


def _utility_reading(e: Enterprise, day: date, base: float, rng: random.Random) -> float:
    if not e.operating(day):
        return 0.0 if rng.random() < 0.9 else round(base * 0.02, 1)  # standby loads, meter noise
    return base * SEASON[day.month - 1] * e.use_factor(f"{day:%Y-%m}") * math.exp(rng.gauss(0, 0.15))


def power_consumption(world: World, period: str, n: int, rng: random.Random) -> Rows:
    lo, hi = first_day(period), last_day(period)
    for e in world.enterprises:
        if "power" in e.accounts and e.established <= hi and not (e.deregistered and e.deregistered < lo):
            kwh = _utility_reading(e, lo, e.base_kwh, rng)
            yield e, {"account_no": e.accounts["power"], "period": period, "kwh": f"{kwh:.1f}",
                      "read_date": (hi - timedelta(days=rng.randrange(3))).isoformat()}
        if e.site_end is not None and not (e.site_closed and period > e.site_end):
            yield e, {"account_no": site_account(e), "period": period, "kwh": f"{_site_reading(e, period, rng):.1f}",
                      "read_date": (hi - timedelta(days=rng.randrange(3))).isoformat()}


def site_account(e: Enterprise) -> str:
    """The power account of a construction site (临时用电), beside the firm's own."""
    return f"PT{5200000000 + e.index:010d}"


def _site_reading(e: Enterprise, period: str, rng: random.Random) -> float:
    """A site's use: steady while the project runs, about half in its last month, then standby only."""
    if period < e.site_end:
        return e.site_kwh * math.exp(rng.gauss(0, 0.15))
    if period == e.site_end:
        return e.site_kwh * rng.uniform(0.3, 0.6)
    return 0.0 if rng.random() < 0.9 else round(e.site_kwh * 0.01, 1)


def _accounts(utility: str) -> Model:
    def model(world: World, period: str, n: int, rng: random.Random) -> Rows:
        lo, hi = first_day(period), last_day(period)
        for e in world.enterprises:
            if utility in e.accounts and e.established <= hi and (n == 0 or e.established >= lo):
                values = {"account_no": e.accounts[utility], "opened_on": e.established.isoformat(),
                          "status": "正常", "address": e.address_on(e.established),
                          "district_code": e.district_on(e.established)}
                if utility == "bank":
                    values.update(account_type="基本存款账户", closed_on=None)
                yield e, values
    return model


def _consumption(utility: str, scale: float) -> Model:
    def model(world: World, period: str, n: int, rng: random.Random) -> Rows:
        lo, hi = first_day(period), last_day(period)
        for e in world.enterprises:
            if utility in e.accounts and e.established <= hi and not (e.deregistered and e.deregistered < lo):
                m3 = _utility_reading(e, lo, e.base_kwh * scale, rng)
                yield e, {"account_no": e.accounts[utility], "period": period, "m3": f"{m3:.1f}",
                          "kwh_equivalent": f"{m3 * 10.5:.1f}", "arrears": "0.00",
                          "read_date": (hi - timedelta(days=rng.randrange(3))).isoformat()}
    return model


def bank_activity(world: World, period: str, n: int, rng: random.Random) -> Rows:
    lo, hi = first_day(period), last_day(period)
    for e in world.enterprises:
        if "bank" in e.accounts and e.established <= hi and not (e.deregistered and e.deregistered < lo):
            active = e.operating(lo)
            tx = int(e.employees * 4 * math.exp(rng.gauss(0, 0.4))) if active else rng.choice((0, 0, 1))
            flow = e.base_kwh * 60 * math.exp(rng.gauss(0, 0.3)) if active else 0.0
            yield e, {"account_no": e.accounts["bank"], "period": period, "transactions": str(tx),
                      "inflow": f"{flow:.2f}", "outflow": f"{flow * rng.uniform(0.85, 1.02):.2f}",
                      "counterparties": str(max(tx // 5, 0)), "balance_end": f"{flow * rng.uniform(0.2, 2):.2f}"}


def tax_filings(world: World, period: str, n: int, rng: random.Random) -> Rows:
    lo = first_day(period)
    for e in world.alive_in(period):
        if e.lost_contact and e.dormant_from and e.dormant_from <= lo:
            continue  # unreachable firms stop filing altogether
        if period in e.no_return:
            continue  # a lapse of its bookkeeping, or a month missed (confounders)
        active = e.operating(lo)
        amount = e.base_kwh * 3 * math.exp(rng.gauss(0, 0.3)) if active else 0.0
        filed = lo.replace(day=1) + timedelta(days=31 + rng.randrange(14))
        yield e, {"period": period, "tax_type": "增值税", "tax_base": f"{amount * 8:.2f}",
                  "declared_amount": f"{amount:.2f}", "filed_on": filed.replace(day=min(filed.day, 15)).isoformat(),
                  "is_zero_declaration": "false" if active else "true", "is_late": "false"}


def tax_non_filing(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Marked a non-filing taxpayer after 3 consecutive months without a return (STA announcement 2019 No. 48);
    a lapsed firm (confounders) is released (解除) when it files again."""
    lo = first_day(period)
    for e in world.alive_in(period):
        if e.lost_contact and e.dormant_from:
            months_silent = (lo.year - e.dormant_from.year) * 12 + lo.month - e.dormant_from.month
            if months_silent == 3:
                yield e, {"action": "认定", "action_date": _day_in(period, rng).isoformat(),
                          "months_not_filed": "3", "legal_rep_name": e.rep_name}
        for action, when, months_not_filed in e.tax_actions:  # a lapsed firm's designation and release
            if f"{when:%Y-%m}" == period:
                yield e, {"action": action, "action_date": when.isoformat(),
                          "months_not_filed": None if months_not_filed is None else str(months_not_filed),
                          "legal_rep_name": e.rep_name}


def social_insurance(world: World, period: str, n: int, rng: random.Random) -> Rows:
    lo = first_day(period)
    for e in world.alive_in(period):
        if e.operating(lo) and e.employees >= 2:
            head = max(1, int(e.employees * rng.uniform(0.6, 1.0)))
            if e.confounder == "winding_down":  # staff leave as the firm closes down
                head = max(1, int(head * e.use_factors.get(period, 1.0)))
            yield e, {"period": period, "insured_headcount": str(head), "contribution_base": f"{head * 4500:.2f}"}


def unreachable(e: Enterprise, day: date) -> bool:
    """Lost contact as the annual-report models see it on `day`: the world's lost-contact firms never file (a
    simplification of the model); a recently_gone firm (confounders) filed as any firm until it went silent."""
    if not e.lost_contact:
        return False
    return e.confounder != "recently_gone" or (e.dormant_from is not None and e.dormant_from <= day)


def annual_reports(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Last year's report, filed between 1 January and 30 June (企业信息公示暂行条例 art. 8), or late, or never."""
    lo = first_day(period)
    year = lo.year - 1
    for e in world.alive_in(period):
        if e.established > date(year, 12, 31) or unreachable(e, lo):
            continue
        # One draw per enterprise and year decides when (if ever) it files.
        draw = random.Random(f"{e.uscc}:{year}").random()
        if e.dormant_from is not None and e.dormant_from <= lo:
            draw = min(draw + 0.5, 0.999)
        if draw < ON_TIME_FILING:
            month = 1 + int(draw / ON_TIME_FILING * 6)  # spread over January to June, most near the deadline
        elif draw < ON_TIME_FILING + LATE_FILING:
            month = 7 + int((draw - ON_TIME_FILING) / LATE_FILING * 6)
        else:
            continue
        if month != lo.month:
            continue
        yield e, {"report_year": str(year), "filed_on": _day_in(period, rng).isoformat(),
                  "is_filed_on_time": "true" if month <= 6 else "false", "business_status": "开业",
                  "employees": str(e.employees), "contact_phone": e.phone}


def abnormal_list(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Listed in July for not filing by 30 June; listed when inspectors cannot reach the registered domicile;
    removed once a late report is filed and the enterprise applies. Each decision carries the day its grounds
    arose (or the removal was applied for), the deciding bureau and the officer."""
    lo, hi = first_day(period), last_day(period)
    for e in world.alive_in(period):
        district = e.district_on(lo)  # the bureau of the domicile it has then
        unit = acts.unit_name(district)
        year = lo.year - 1
        if lo.month == 7 and e.established <= date(year, 12, 31):
            draw = random.Random(f"{e.uscc}:{year}").random()
            dormant = e.dormant_from is not None and e.dormant_from <= lo
            if unreachable(e, lo) or min(draw + (0.5 if dormant else 0), 0.999) >= ON_TIME_FILING:
                grounds = date(lo.year, 6, 30)
                decided, officer = acts.listing_action(world.officials, e.uscc, district, grounds, 10, hi)
                yield e, {"decision_no": f"筑市监异列〔{lo.year}〕{e.index:06d}号", "action": "列入",
                          "action_date": decided.isoformat(), "reason": "未按规定期限公示年度报告",
                          "removal_reason": None, "listed_decision_no": None, "authority": unit,
                          "grounds_on": grounds.isoformat(), "removal_applied_on": None, "case_officer": officer}
        if lo.month >= 8 and _late_filing_month(e, year, lo) == lo.month:
            applied = lo + timedelta(days=acts.action_rng(e.uscc, "removal", year).randrange(10))
            decided, officer = acts.listing_action(world.officials, e.uscc, district, applied, 5, hi)
            yield e, {"decision_no": f"筑市监异移〔{lo.year}〕{e.index:06d}号", "action": "移出",
                      "action_date": decided.isoformat(), "reason": "未按规定期限公示年度报告",
                      "removal_reason": "补报并公示年度报告", "listed_decision_no": f"筑市监异列〔{lo.year}〕{e.index:06d}号",
                      "authority": unit, "grounds_on": None, "removal_applied_on": applied.isoformat(),
                      "case_officer": officer}
        if e.lost_contact and e.dormant_from and _months_between(e.dormant_from, lo) == 4:
            verified = lo + timedelta(days=acts.action_rng(e.uscc, "verified", period).randrange(10))
            decided, officer = acts.listing_action(world.officials, e.uscc, district, verified, 10, hi)
            yield e, {"decision_no": f"筑市监异列〔{lo.year}〕{e.index:06d}-4号", "action": "列入",
                      "action_date": decided.isoformat(), "reason": "通过登记的住所或者经营场所无法联系",
                      "removal_reason": None, "listed_decision_no": None, "authority": unit,
                      "grounds_on": verified.isoformat(), "removal_applied_on": None, "case_officer": officer}


def _late_filing_month(e: Enterprise, year: int, lo: date) -> int | None:
    """The month (8-12) in which a firm listed in July files last year's report late, as annual_reports draws it."""
    if unreachable(e, lo) or e.established > date(year, 12, 31):
        return None
    draw = random.Random(f"{e.uscc}:{year}").random()
    july = date(lo.year, 7, 1)
    if e.dormant_from is not None and e.dormant_from <= july:
        return None  # dormant at listing time: it does not come back to file
    if e.dormant_from is not None and e.dormant_from <= lo:
        draw = min(draw + 0.5, 0.999)
    if ON_TIME_FILING <= draw < ON_TIME_FILING + LATE_FILING:
        month = 7 + int((draw - ON_TIME_FILING) / LATE_FILING * 6)
        return month if month >= 8 else None
    return None


def penalties(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Penalties of about 1% of enterprises a month (as the generic cadence draws them), with the case's filing,
    decision and publication days, the deciding bureau and the case officer; the rest of the row is generic."""
    dataset = _catalogue_dataset("samr", "penalties")
    for e in pick_enterprises(world, dataset, period, rng):
        day = _day_in(period, rng)
        yield e, acts.penalty_action(world.officials, e.uscc, e.district_on(day), day)


def licences(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """The licence an enterprise's industry needs, granted weeks after establishment and renewed every five years
    (never for the planted unlicensed firms); the first delivery carries the register's stock, as registrations'
    does. Other decisions, on about 1% of enterprises a month, as the generic cadence draws them, never of the
    licence the enterprise's industry needs (so only the model above decides who holds it)."""
    lo, hi = first_day(period), last_day(period)
    needs = licensed_industries()
    for e in world.enterprises:
        for action, decided in e.licence_decisions:
            if decided <= hi and (n == 0 or decided >= lo):
                yield e, {"licence_no": f"JY2{e.district}{e.index:06d}", "licence_type": needs[e.industry],
                          "action": action, "decided_on": decided.isoformat(), "valid_from": decided.isoformat(),
                          "valid_until": licence_expiry(decided).isoformat(), "district_code": e.district}
    dataset = _catalogue_dataset("samr", "licences")
    types = next(c.allowed for c in dataset.columns if c.name == "licence_type")
    for e in pick_enterprises(world, dataset, period, rng):
        yield e, {"licence_type": rng.choice([t for t in types if t != needs[e.industry]])} if e.industry in needs \
            else {}


def _catalogue_dataset(source: str, code: str):
    from creditlake.catalogue import default_catalogue

    return default_catalogue().dataset(source, code)


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def inspections(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Random inspections of about 0.4% of enterprises a month; lost-contact firms are found unreachable."""
    lo = first_day(period)
    for e in world.alive_in(period):
        lost = e.lost_contact and e.dormant_from is not None and _months_between(e.dormant_from, lo) in (2, 3)
        if lost or rng.random() < 0.004:
            yield e, {"inspection_id": f"SJ{lo:%Y%m}{e.index:07d}", "inspection_type": "双随机抽查",
                      "inspected_on": _day_in(period, rng).isoformat(), "district_code": e.district_on(lo),
                      "result": "通过登记的住所或者经营场所无法联系" if lost else
                      rng.choice(["未发现问题"] * 8 + ["发现问题已责令改正", "未按规定公示应当公示的信息"])}


def returned_mail(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """Registered letters to the domicile that came back: half the months of a lost-contact firm (查无此单位,
    原址无人, 迁移新址不明), the months before a firm that moved registered its new domicile (迁移新址不明,
    查无此单位, to the old address), and now and then any firm (refused, unclaimed)."""
    lo = first_day(period)
    for e in world.alive_in(period):
        lost = e.lost_contact and e.dormant_from is not None and e.dormant_from <= lo
        if (lost and rng.random() < 0.5) or rng.random() < 0.002 or period in e.mail_returned:
            sent = _day_in(period, rng)
            returned = min(sent + timedelta(days=rng.randint(3, 15)), last_day(period))
            reason = rng.choice(["查无此单位", "原址无人", "迁移新址不明"] if lost else
                                ["迁移新址不明", "迁移新址不明", "查无此单位"] if period in e.mail_returned else
                                ["拒收", "地址不详", "逾期无人领取"])
            yield e, {"mail_id": f"XA{lo:%Y%m}{e.index:08d}", "sender": "贵阳市市场监督管理局", "mail_type": "挂号信",
                      "address": e.address_on(sent), "district_code": e.district_on(sent), "sent_on": sent.isoformat(),
                      "returned_on": returned.isoformat(), "reason": reason, "delivery_attempts": str(rng.randint(1, 3))}


def complaints(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """12315 complaints: Poisson by industry, with planted surges; category, narrative, amount and status from
    complaint_text, drawn from the period's complaint stream (not `rng`) so samr/mediation_cases replays them.
    A firm with a complaint level or recurring peaks (confounders) gets its further complaints from a stream of
    its own and the period, after those of its industry's rate: every other complaint stays as it was."""
    from creditlake.generate.complaint_text import complaint_stream, complaint_values, draw_complaint

    lo = first_day(period)
    rng = complaint_stream(world.enterprises[0].uscc if world.enterprises else "", period)
    winter = 1.3 if lo.month in (1, 2, 11, 12) else 1.0
    for e in world.alive_in(period):
        rate = COMPLAINT_RATE.get(e.industry, 0.005) * winter
        if period in e.surges:
            rate = max(rate * 40, SURGE_MIN_COMPLAINTS)
        count = _poisson(rng, rate)
        draws = [rng] * count
        if period in e.surges and count < SURGE_MIN_RECEIVED:
            draws += [random.Random(f"{e.uscc}:surge:{period}")] * (SURGE_MIN_RECEIVED - count)
        if e.complaint_level or e.complaint_peaks:
            own = random.Random(f"{e.uscc}:complaints:{period}")
            level = e.peak_level if lo.month in e.complaint_peaks else e.complaint_level * winter
            if period == e.level_surge:
                level *= LEVEL_SURGE
            draws += [own] * _poisson(own, level)
        for k, stream in enumerate(draws):
            received = _day_in(period, stream)
            closed = min(received + timedelta(days=stream.randint(3, 30)), last_day(period))
            yield e, {"complaint_id": f"TS{lo:%Y%m}{e.index:07d}{k:02d}", "received_on": received.isoformat(),
                      "kind": "投诉",
                      **complaint_values(draw_complaint(stream, e.industry, received), received, closed)}


def _poisson(rng: random.Random, lam: float) -> int:
    threshold, k, p = math.exp(-lam), 0, rng.random()
    while p > threshold:
        k += 1
        p *= rng.random()
    return k


LOAN_SHARE = 0.35        # enterprises with bank loans outstanding
HEALTHY_OVERDUE = 0.03   # chance a sound borrower is briefly overdue in a month
NON_PERFORMING_DAYS = 90  # overdue beyond 90 days: at least substandard (商业银行金融资产风险分类办法, 2023)


def has_loans(e: Enterprise) -> bool:
    """Whether the enterprise borrows from banks (fixed for its life: one draw of its own)."""
    return "bank" in e.accounts and random.Random(f"{e.uscc}:loans").random() < LOAN_SHARE


def in_trouble(e: Enterprise, period: str) -> bool:
    """A borrower that stopped operating by the end of `period`: its loans fall overdue (planted truth)."""
    return has_loans(e) and e.alive(last_day(period)) and not e.operating(last_day(period))


def loan_defaults(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """The bank's secret loan rows (kept at source): borrowers in trouble fall overdue from the month they stop,
    pass 90 days three months on and turn non-performing; sound borrowers are now and then briefly overdue."""
    hi = last_day(period)
    for e in world.alive_in(period):
        if not has_loans(e):
            continue
        own = random.Random(f"{e.uscc}:loans:terms")
        balance = e.capital * 10000 * own.uniform(0.2, 1.5) * math.exp(rng.gauss(0, 0.05))  # cents: row-unique
        if in_trouble(e, period):
            days = (hi - e.dormant_from).days + own.randrange(1, 30)
            overdue = balance * own.uniform(0.3, 1.0)
        elif rng.random() < HEALTHY_OVERDUE:
            days, overdue = rng.randint(1, 60), balance * rng.uniform(0.01, 0.1)
        else:
            days, overdue = 0, 0.0
        yield e, {"period": period, "loan_balance": f"{balance:.2f}", "overdue_balance": f"{overdue:.2f}",
                  "max_days_past_due": str(days), "non_performing": "true" if days > NON_PERFORMING_DAYS else "false"}


MODELS: dict[tuple[str, str], Model] = {
    ("pboc", "loan_defaults"): loan_defaults,
    ("samr", "registrations"): registrations,
    ("samr", "annual_reports"): annual_reports,
    ("samr", "abnormal_list"): abnormal_list,
    ("samr", "penalties"): penalties,
    ("samr", "licences"): licences,
    ("samr", "inspections"): inspections,
    ("samr", "complaints_12315"): complaints,
    ("post", "returned_mail"): returned_mail,
    ("power", "consumption"): power_consumption,
    ("water", "accounts"): _accounts("water"),
    ("water", "consumption"): _consumption("water", 0.05),
    ("gas", "accounts"): _accounts("gas"),
    ("gas", "consumption"): _consumption("gas", 0.1),
    ("bank", "accounts"): _accounts("bank"),
    ("bank", "monthly_activity"): bank_activity,
    ("tax", "filings"): tax_filings,
    ("tax", "non_filing"): tax_non_filing,
    ("hrss", "social_insurance"): social_insurance,
}


def mediation_cases(world: World, period: str, n: int, rng: random.Random) -> Rows:
    """12315 mediation records: the period's complaints (replayed from their stream) whose status is a mediation
    outcome, with the settlement and the articles the mediator cited (planted truth: complaint_text.SCENARIOS)."""
    from creditlake.generate.complaint_text import MEDIATION_OUTCOMES, mediation_values

    for e, c in complaints(world, period, n, rng):
        if c["status"] in MEDIATION_OUTCOMES:
            yield e, mediation_values(c["complaint_id"], c["_complaint"], c["closed_on"])


MODELS[("samr", "mediation_cases")] = mediation_cases
