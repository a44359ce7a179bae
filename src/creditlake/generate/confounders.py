"""Confounders: the enterprises every regulator knows, that look like what a rule looks for and are not (or are,
but are hard to see), planted as they show in real deliveries, not as hints for a rule.

Each is a named class in truth.json (`confounders`): the list or warning it tests, whether its members are
planted positives of it (`planted: true`, a hard class: recall within it) or not (a confounder: any member the
list names is a false positive), and its members. The deliveries carry each class through the models of
signals.py, on the columns of the landing contract (catalogue/*.yaml) only.

lost_contact (the 失联 list):
- bookkeeping_lapsed: an operating firm whose bookkeeping lapsed: no tax return for 2-6 months (half of them still
  lapsed at the end), designated 非正常户 after the third and released when it files again (some within the
  month); power, staff, bank, annual report and mail as any going concern.
- landlord_metered: metered under its landlord or business centre: no power, water or gas account of its own, so
  no use rows at all.
- moved: registered mail to the old domicile came back (迁移新址不明, 查无此单位) in the 1-3 months before it
  registered the new one (变更: the new address, sometimes a new division, the same code); operating throughout.
- recently_gone (planted positives): lost contact only 1-2 months before the window's end, showing only the first
  signs (returns stop, staff and meters to zero, about one letter in two comes back).
- annual_report_late: reachable, filing and using power, but missing the 30 June deadline (listed in July; filed
  later or never); half of them also one tax return short.

shell_cluster:
- corporate_group: a group registering 5-12 project companies at its head office within weeks: one address, the
  group's legal representative, one trade name.
- business_centre: a 商务中心 / 众创空间 / 孵化基地 hosting many unrelated firms registered steadily over 3-8 years.
- registration_agent: one agent's phone (代理记账) on many unrelated firms at their own addresses.

complaint_surge:
- large_consumer_facing: large retailers, restaurants, schools, service and property firms with 10-60 complaints
  every month (+30 % from November to February); a quarter have a real surge, 3 x their own level (planted truth).
- seasonal_complaints: a peak every year in the same months (term starts for training schools, holidays for
  hotels and scenic sites), not a surge.

utility_collapse:
- seasonal_business: power falls to 5-15 % every year in the same 2-4 months (farms, resort hotels, ski fields) and
  comes back.
- construction_site: a site meter (临时用电) whose use ends with the project (zero after, or the account closed)
  while the firm operates on.
- winding_down: use and staff fall over 2-4 months, then the firm deregisters (注销) inside the window.
- stopped_mid_month (planted positives): a steady 1,000-1,500 kWh load stopping mid-month: about half that month,
  then zero (the truth's collapse month).

Every draw comes from a stream of the enterprise's own (or its group's anchor's), taken after the rest of the world
is drawn, so the rest of the world is that of a world without confounders. A member belongs to one class only and,
unless its class says otherwise, is an ordinary going concern: registered before the window and through it, never
dormant, lost, clustered, collapsed, surging or unlicensed (corporate groups and business centres register up to
60 days before the window's end). Shares are of all enterprises, at least MIN_MEMBERS each (so a class can be
measured at 1,000 enterprises), fewer only where the world has too few candidates. world.build_world plants them in
windows of a year or more (CONFOUNDER_MIN_MONTHS) unless told otherwise.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.generate import people
from creditlake.generate.world import (COLLAPSE_MIN_KWH, DIVISION_SHARES, Enterprise, licensed_industries,
                                      months_gone)
from creditlake.periods import first_day, last_day

# class -> (the list or warning it tests, whether its members are planted positives of it)
CLASSES: dict[str, tuple[str, bool]] = {
    "bookkeeping_lapsed": ("lost_contact", False),
    "landlord_metered": ("lost_contact", False),
    "moved": ("lost_contact", False),
    "recently_gone": ("lost_contact", True),
    "annual_report_late": ("lost_contact", False),
    "corporate_group": ("shell_cluster", False),
    "business_centre": ("shell_cluster", False),
    "registration_agent": ("shell_cluster", False),
    "large_consumer_facing": ("complaint_surge", False),
    "seasonal_complaints": ("complaint_surge", False),
    "seasonal_business": ("utility_collapse", False),
    "construction_site": ("utility_collapse", False),
    "winding_down": ("utility_collapse", False),
    "stopped_mid_month": ("utility_collapse", True),
}
# Share of all enterprises in each class (1,000 enterprises: 10-20 members).
SHARES = {
    "bookkeeping_lapsed": 0.015, "landlord_metered": 0.015, "moved": 0.015, "recently_gone": 0.01,
    "annual_report_late": 0.015, "corporate_group": 0.012, "business_centre": 0.015, "registration_agent": 0.015,
    "large_consumer_facing": 0.01, "seasonal_complaints": 0.01, "seasonal_business": 0.015,
    "construction_site": 0.015, "winding_down": 0.01, "stopped_mid_month": 0.01,
}
MIN_MEMBERS = 8
CONSUMER_FACING = ("F", "H", "P", "O", "K")  # retail, catering, education, residents' services, real estate
OFFICE_TENANTS = ("L", "M", "I", "J", "F")   # business services, R&D, IT, finance, trade: desks, not plants
# Recurring complaint peaks: training schools at the spring and autumn term starts (prepaid courses), hotels,
# scenic sites and entertainment at Spring Festival, May Day and National Day.
COMPLAINT_PEAKS = {"P": (3, 9), "H": (2, 5, 10), "R": (2, 5, 10), "N": (2, 5, 10)}
# Off-seasons of power use: farms lie fallow in winter, Guiyang's summer-resort hotels and farm stays (避暑,
# 农家乐) close in winter, ski fields close in summer and scenic sites in winter.
OFF_SEASONS = {"A": ((12, 1, 2), (1, 2, 3), (11, 12, 1, 2)), "H": ((1, 2), (12, 1, 2), (11, 12, 1)),
               "R": ((6, 7, 8), (5, 6, 7, 8), (1, 2), (12, 1, 2))}
PROJECTS = ("观山湖", "花溪", "金阳", "未来方舟", "龙洞堡", "中天", "溪山", "湖畔", "滨河", "云顶", "南湖", "林城",
            "筑城", "青岩", "百花", "阳明")
# A group's project companies: (section, name pattern) with the group's trade name and a project's name.
GROUP_NAMES = (("K", "贵阳{brand}{project}置业有限公司"), ("L", "贵州{brand}{project}项目管理有限公司"),
               ("K", "贵州{brand}集团{project}房地产开发有限公司"))
BUILDINGS = ("国际金融中心", "世纪金源大厦", "富力中心", "创新大厦", "数博大厦", "未来方舟写字楼", "中天会展城",
             "恒丰中心")
CENTRES = ("商务中心", "众创空间", "创业孵化基地")


def plant_confounders(ents: list[Enterprise], months: list[str]) -> None:
    """Plant every class of CLASSES into the world (in place), each from its own streams."""
    n = len(ents)

    def want(name: str) -> int:
        return max(MIN_MEMBERS, round(SHARES[name] * n))

    # Planted positives first (they change who is an ordinary firm), then classes bound to an industry, then the
    # registration patterns, then the rest.
    _recently_gone(ents, months, want("recently_gone"))
    _stopped_mid_month(ents, months, want("stopped_mid_month"))
    _winding_down(ents, months, want("winding_down"))
    _large_consumer_facing(ents, months, want("large_consumer_facing"))
    _seasonal_complaints(ents, months, want("seasonal_complaints"))
    _seasonal_business(ents, months, want("seasonal_business"))
    _construction_site(ents, months, want("construction_site"))
    _landlord_metered(ents, months, want("landlord_metered"))
    _corporate_group(ents, months, want("corporate_group"))
    _business_centre(ents, months, want("business_centre"))
    _registration_agent(ents, months, want("registration_agent"))
    _bookkeeping_lapsed(ents, months, want("bookkeeping_lapsed"))
    _annual_report_late(ents, months, want("annual_report_late"))
    _moved(ents, months, want("moved"))


def members(ents: list[Enterprise]) -> dict[str, list[str]]:
    """Class -> its members' codes, for the classes planted in this world."""
    out: dict[str, list[str]] = {}
    for e in ents:
        if e.confounder:
            out.setdefault(e.confounder, []).append(e.uscc)
    return {k: sorted(out[k]) for k in CLASSES if k in out}


def _stream(key: str, name: str) -> random.Random:
    return random.Random(f"{key}:{name}")


def _ordinary(e: Enterprise, registered_by: date) -> bool:
    """No planted phenomenon and no class yet; registered by `registered_by` and never deregistered."""
    return (e.confounder is None and e.deregistered is None and e.dormant_from is None and not e.lost_contact
            and e.cluster is None and e.collapse is None and not e.surges and not e.licence_missing
            and e.established <= registered_by)


def _pool(ents: list[Enterprise], months: list[str], name: str, industries=None, through: bool = True,
          extra=None) -> list[Enterprise]:
    """Candidates of a class in the order of their own streams: ordinary firms registered before the window
    (`through`) or at least 60 days before its end, of `industries` and passing `extra`."""
    by = first_day(months[0]) if through else last_day(months[-1]) - timedelta(days=60)
    cands = [e for e in ents if _ordinary(e, by) and (industries is None or e.industry in industries)
             and (extra is None or extra(e))]
    return sorted(cands, key=lambda e: (_stream(e.uscc, f"{name}:rank").random(), e.index))


def _day(period: str, rng: random.Random, lo: int = 0, hi: int = 27) -> date:
    return first_day(period) + timedelta(days=rng.randint(lo, hi))


def _recently_gone(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Lost-contact firms that went silent only 1-2 months before the window's end: the world's own, topped up.
    The existing model gives them their first signs (returns stop, staff and meters to zero, mail comes back);
    their annual reports are those of any firm until they went silent (signals.unreachable)."""
    natural = [e for e in ents if e.lost_contact and e.cluster is None and 1 <= months_gone(e, months) <= 2]
    for e in natural:
        e.confounder = "recently_gone"
    if len(months) < 3:
        return
    lo, hi = first_day(months[-3]), first_day(months[-1])
    for e in _pool(ents, months, "recently_gone")[:max(0, want - len(natural))]:
        own = _stream(e.uscc, "recently_gone")
        e.dormant_from = lo + timedelta(days=own.randint(1, (hi - lo).days))
        e.lost_contact = True
        if e.base_kwh >= COLLAPSE_MIN_KWH:
            e.collapse = f"{e.dormant_from:%Y-%m}"
        e.confounder = "recently_gone"


def _stopped_mid_month(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Small steady loads (1,000-1,500 kWh a month, just above the warning's floor) that stop mid-month: that
    month's reading is the days used, then zero. A real collapse (truth utility_collapses, the month of the stop);
    the firm stays reachable (zero returns)."""
    if len(months) < 5:
        return
    for e in _pool(ents, months, "stopped_mid_month", extra=lambda e: "power" in e.accounts)[:want]:
        own = _stream(e.uscc, "stopped_mid_month")
        period = months[own.randrange(3, len(months) - 1)]  # three steady months before, the zero month after
        e.base_kwh = own.uniform(1050, 1500)
        e.dormant_from = _day(period, own, 9, 19)
        e.collapse = period
        e.use_factors[period] = (e.dormant_from - first_day(period)).days / last_day(period).day
        e.confounder = "stopped_mid_month"


def _winding_down(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Firms closing down in order: use and staff fall step by step over 2-4 months (over three: 75 %, 50 %,
    25 % of the usual), a tenth in the month of the 注销, which is registered inside the window (truth
    deregistered). Older firms with material use (at least 2,000 kWh a month, where a fall can cross the warning's
    floor)."""
    if len(months) < 8:
        return
    first = first_day(months[0])
    old = first - timedelta(days=730)
    for e in _pool(ents, months, "winding_down",
                   extra=lambda e: "power" in e.accounts and e.established <= old)[:want]:
        own = _stream(e.uscc, "winding_down")
        k = own.randint(2, 4)
        i = own.randrange(3 + k, len(months))  # three ordinary months, k winding down, then the month of 注销
        for j in range(k):
            e.use_factors[months[i - k + j]] = (k - j) / (k + 1)
        e.use_factors[months[i]] = 0.1
        e.base_kwh = max(e.base_kwh, own.uniform(2000, 8000))
        e.deregistered = _day(months[i], own, 4, 24)
        e.events = sorted(e.events + [("注销", e.deregistered)])
        e.confounder = "winding_down"


def _large_consumer_facing(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Large consumer-facing firms whose customers complain every month: a level of 10-60 a month (the season's
    +30 % from November to February, Poisson noise); a quarter have one real surge, 3 x their level."""
    for e in _pool(ents, months, "large_consumer_facing", industries=CONSUMER_FACING)[:want]:
        own = _stream(e.uscc, "large_consumer_facing")
        e.complaint_level = 10 * 6 ** own.random()  # log-uniform: more firms near 10 than near 60
        e.employees = max(e.employees, own.randint(200, 2000))
        e.base_kwh = max(e.base_kwh, own.uniform(20000, 80000))
        e.capital = max(e.capital, round(own.uniform(5000, 50000), 2))
        if len(months) > 2 and own.random() < 0.25:
            e.level_surge = own.choice(months[2:])
        e.confounder = "large_consumer_facing"


def _seasonal_complaints(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Firms whose complaints peak every year in the same months (6-15 expected; 0.3-1 in other months)."""
    for e in _pool(ents, months, "seasonal_complaints", industries=tuple(COMPLAINT_PEAKS))[:want]:
        own = _stream(e.uscc, "seasonal_complaints")
        e.complaint_peaks = frozenset(COMPLAINT_PEAKS[e.industry])
        e.complaint_level, e.peak_level = own.uniform(0.3, 1.0), own.uniform(6, 15)
        e.confounder = "seasonal_complaints"


def _seasonal_business(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Power use falling to 5-15 % of the in-season level in the same 2-4 months every year, then coming back.
    An off-season whose months the window holds twice is preferred (the lake then holds last year's too); the
    firms' use is material (at least 2,500 kWh a month in season)."""
    seen = Counter(int(m[5:7]) for m in months)
    for e in _pool(ents, months, "seasonal_business", industries=tuple(OFF_SEASONS),
                   extra=lambda e: "power" in e.accounts)[:want]:
        own = _stream(e.uscc, "seasonal_business")
        options = OFF_SEASONS[e.industry]
        e.off_months = frozenset(own.choice([s for s in options if all(seen[m] >= 2 for m in s)] or options))
        e.off_level = own.uniform(0.05, 0.15)
        e.base_kwh = max(e.base_kwh, own.uniform(2500, 10000))
        e.confounder = "seasonal_business"


def _construction_site(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Construction firms with a site meter (临时用电, its own account) of 4,000-20,000 kWh a month beside the small
    one of their office (300-1,500 kWh, where they have one); the project ends inside the window (half the use
    that month), then the site meter reads zero or its account is closed, while the firm operates on."""
    if len(months) < 7:
        return
    for rank, e in enumerate(_pool(ents, months, "construction_site", industries=("E",))[:want]):
        own = _stream(e.uscc, "construction_site")
        e.site_kwh = own.uniform(4000, 20000)
        e.base_kwh = min(e.base_kwh, own.uniform(300, 1500))
        e.site_end = months[own.randrange(4, len(months) - 2)]
        e.site_closed = rank % 2 == 1  # every other one (a class measured on a dozen firms needs both kinds)
        e.confounder = "construction_site"


def _landlord_metered(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Tenants metered under their landlord or business centre: no power, water or gas account of their own."""
    for e in _pool(ents, months, "landlord_metered", industries=OFFICE_TENANTS)[:want]:
        e.accounts = {k: v for k, v in e.accounts.items() if k not in ("power", "water", "gas")}
        e.confounder = "landlord_metered"


def _corporate_group(ents: list[Enterprise], months: list[str], want: int) -> None:
    """A group (an older parent, renamed 贵州{字号}集团有限公司) registering 5-12 project companies within six
    weeks at its head office: the parent's address and legal representative, its trade name in every name, half
    of them its phone. The companies are young firms of the parent's division (codes unchanged), re-dated, the
    start inside the window or the year before it (as shell clusters are)."""
    first, horizon = first_day(months[0]), last_day(months[-1])
    needs = licensed_industries()
    start_lo, start_hi = first - timedelta(days=365), horizon - timedelta(days=90)
    planted = 0
    for parent in _pool(ents, months, "corporate_group",
                        extra=lambda e: e.industry not in needs and e.established <= first - timedelta(days=1095)):
        if planted >= want:
            break
        if parent.confounder is not None:
            continue  # became a project company of an earlier group
        own = _stream(parent.uscc, "corporate_group")
        size = own.randint(5, 12)
        companies = [e for e in _pool(ents, months, "corporate_group:company", through=False,
                                      extra=lambda e: e.industry not in needs and e.district == parent.district
                                      and e.established >= first - timedelta(days=1095))
                     if e is not parent][:size]
        if len(companies) < size:
            continue
        brand = own.choice(people.BRAND) + own.choice(people.BRAND)
        start = start_lo + timedelta(days=own.randrange((start_hi - start_lo).days))
        parent.name, parent.industry, parent.confounder = f"贵州{brand}集团有限公司", "L", "corporate_group"
        for e, project in zip(companies, own.sample(PROJECTS, size)):
            industry, pattern = own.choice(GROUP_NAMES)
            e.name, e.industry = pattern.format(brand=brand, project=project), industry
            e.established = start + timedelta(days=own.randrange(42))
            e.events = [("设立", e.established)]
            e.address, e.rep_name, e.rep_id = parent.address, parent.rep_name, parent.rep_id
            if own.random() < 0.5:
                e.phone = parent.phone
            e.confounder = "corporate_group"
        planted += size + 1


def _business_centre(ents: list[Enterprise], months: list[str], want: int) -> None:
    """A business centre, co-working space or incubator whose address hosts many unrelated firms registered
    steadily over 3-8 years (20-60 at a busy one; 5 or more in some 90 days there): their own legal
    representatives and phones, a third with their desk number after the address. Firms of the centre's
    division (codes unchanged)."""
    horizon = last_day(months[-1])
    planted = 0
    for anchor in _pool(ents, months, "business_centre", through=False):
        if planted >= want:
            break
        own = _stream(anchor.uscc, "business_centre")
        since = horizon - timedelta(days=365 * own.randint(3, 8))
        size = max(min(own.randint(20, 60), want - planted), 10)
        tenants = _pool(ents, months, "business_centre:tenant", through=False,
                        extra=lambda e: e.district == anchor.district and e.established >= since)[:size]
        if len(tenants) < size:
            continue
        address = (f"贵州省贵阳市{anchor.district_name}{own.choice(people.ROADS)}{own.randrange(1, 400)}号"
                   f"{own.choice(BUILDINGS)}{own.randint(2, 30)}层{own.choice(CENTRES)}")
        for k, e in enumerate(tenants, start=1):
            e.address = address if own.random() < 2 / 3 else f"{address}{k:03d}号工位"
            e.confounder = "business_centre"
        planted += size


def _registration_agent(ents: list[Enterprise], months: list[str], want: int) -> None:
    """A registration and bookkeeping agent (注册代理, 代理记账) whose phone is the contact phone of many unrelated
    firms at their own addresses, registered over the years since the 2014 registration reform."""
    planted = 0
    for anchor in _pool(ents, months, "registration_agent", through=False):
        if planted >= want:
            break
        own = _stream(anchor.uscc, "registration_agent")
        size = max(min(own.randint(10, 40), want - planted), MIN_MEMBERS)
        clients = _pool(ents, months, "registration_agent:client",
                        extra=lambda e: e.established >= date(2014, 3, 1))[:size]
        if len(clients) < size:
            return
        phone = people.make_phone(own)
        for e in clients:
            e.phone, e.confounder = phone, "registration_agent"
        planted += size


def _bookkeeping_lapsed(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Operating firms whose bookkeeping lapsed: no return for 2-6 consecutive months, still lapsed at the end in
    about half; after the third missed month the tax office designates the firm 非正常户 (STA 2019 No. 48) and
    releases it (解除) once it files again, some later the same month."""
    if len(months) < 3:
        return
    for rank, e in enumerate(_pool(ents, months, "bookkeeping_lapsed")[:want]):
        own = _stream(e.uscc, "bookkeeping_lapsed")
        # Every other one still lapsed at the end, and every other one of the rest shows up within the month of
        # its designation (a class measured on a dozen firms needs every kind).
        ongoing, same_month = rank % 2 == 0, rank % 4 == 1 and len(months) > 3
        gap = 3 if same_month else min(own.randint(2, 6), len(months) - 1)
        end = len(months) - 1 if ongoing else own.randrange(gap - 1, len(months) - 1)
        lapsed = months[end - gap + 1:end + 1]
        e.no_return = set(lapsed)
        if gap >= 3:
            designated = _day(lapsed[2], own, 4, 19)
            e.tax_actions.append(("认定", designated, 3))
            if same_month:
                released = designated + timedelta(days=own.randint(1, (last_day(lapsed[2]) - designated).days))
                e.tax_actions.append(("解除", released, None))
            elif not ongoing:
                e.tax_actions.append(("解除", _day(months[end + 1], own, 4, 24), None))
        e.confounder = "bookkeeping_lapsed"


def _annual_report_late(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Reachable, filing, operating firms that miss the 30 June deadline of the window's last July (listed that
    month; they file later or not at all): firms the world already draws late (signals.ON_TIME_FILING), named,
    so the filing rate stays the published one; half of them also miss one tax return in the last six months."""
    from creditlake.generate.signals import ON_TIME_FILING

    julys = [m for m in months if m.endswith("-07")]
    if not julys:
        return
    year = int(julys[-1][:4]) - 1  # the report year due by 30 June before that July

    def late(e: Enterprise) -> bool:
        return e.established <= date(year, 12, 31) and random.Random(f"{e.uscc}:{year}").random() >= ON_TIME_FILING

    for rank, e in enumerate(_pool(ents, months, "annual_report_late", extra=late)[:want]):
        own = _stream(e.uscc, "annual_report_late")
        if rank % 2 == 0:  # every other one
            e.no_return = {months[-own.randint(1, min(6, len(months)))]}
        e.confounder = "annual_report_late"


def _moved(ents: list[Enterprise], months: list[str], want: int) -> None:
    """Firms that moved: letters to the old domicile came back (迁移新址不明, 查无此单位) in the 1-3 months before
    the new domicile was registered (变更: the new address, a new division for three in ten, the same code)."""
    if len(months) < 4:
        return
    for e in _pool(ents, months, "moved")[:want]:
        own = _stream(e.uscc, "moved")
        i = own.randrange(3, len(months))
        moved_on = _day(months[i], own)
        while ("变更", moved_on) in e.events:
            moved_on -= timedelta(days=1)
        e.mail_returned = set(months[i - own.randint(1, 3):i])
        e.old_address, e.old_district = e.address, e.district
        if own.random() < 0.3:
            others = {d: s for d, s in DIVISION_SHARES.items() if d != e.district}
            e.district = own.choices(list(others), weights=list(others.values()))[0]
        e.address = people.make_address(own, GUIYANG_DIVISIONS[e.district])
        e.moved_on = moved_on
        e.events = sorted(e.events + [("变更", moved_on)])
        e.confounder = "moved"
