"""The hidden world behind a landing zone: enterprises, their lives and the truth the pipeline must rediscover."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.generate import people
from creditlake.generate.officials import Officials, build_officials
from creditlake.periods import first_day, last_day
from creditlake.settings import REPO_ROOT

# Shares of enterprises by division: the central districts hold most firms.
DIVISION_SHARES = {
    "520102": 0.19, "520103": 0.20, "520115": 0.15, "520111": 0.10, "520113": 0.07,
    "520112": 0.06, "520181": 0.08, "520123": 0.06, "520121": 0.05, "520122": 0.04,
}
# GB/T 4754 section mix of a services-led city (wholesale/retail and business services dominate).
INDUSTRY_SHARES = {
    "F": 0.30, "L": 0.12, "I": 0.07, "M": 0.08, "E": 0.07, "C": 0.07, "H": 0.06, "O": 0.05, "K": 0.03,
    "G": 0.04, "R": 0.03, "A": 0.03, "N": 0.01, "P": 0.01, "Q": 0.01, "J": 0.01, "D": 0.005, "B": 0.005,
}
# Yearly exit hazard by age (SAIC 2013 survival report): 1.6%, 6.3%, 9.5%, then 8% a year.
EXIT_HAZARD = [0.016, 0.063, 0.095] + [0.08] * 40
# Typical monthly kWh of a going concern, by section (log-normal median).
POWER_MEDIAN_KWH = {"C": 20000, "B": 30000, "D": 25000, "E": 3000, "H": 4000, "G": 2500}
DEFAULT_POWER_KWH = 1200
# Seasonal factor by calendar month: winter heating and summer cooling in Guiyang's mild climate.
SEASON = [1.18, 1.05, 0.98, 0.95, 0.97, 1.02, 1.10, 1.12, 1.00, 0.96, 1.00, 1.12]
# Complaint-prone sections: retail, catering, residents' services, education and real estate.
COMPLAINT_RATE = {"F": 0.03, "H": 0.05, "O": 0.04, "P": 0.04, "K": 0.03, "R": 0.02}

DORMANT_SHARE = 0.08          # alive on paper, stopped operating inside the window
LOST_CONTACT_OF_DORMANT = 0.6  # of those, unreachable at the registered domicile
# A dormant firm's power falls to zero: a planted collapse wherever its use was material, the floor mart_warnings
# puts under a warning (a month's use of a small shop; below it a drop says little).
COLLAPSE_MIN_KWH = 1000
# A planted complaint surge: 40 times the industry's rate, and at least this many complaints expected that month
# (a surge is something officers can see: at 40 x a rate of 0.005, most 'surges' would be no complaint at all).
SURGE_MIN_COMPLAINTS = 5.0
# ... and at least this many received: a Poisson of mean 5 draws 2 or fewer one time in eight, a month no officer
# and no rule could tell from any other, yet planted truth (the extra ones come from the firm's own stream, so no
# other complaint changes).
SURGE_MIN_RECEIVED = 4
SHELL_CLUSTER_SHARE = 0.01     # enterprises registered in shell clusters
# Industries that need a licence to operate, and which: the dbt seed mart_warnings reads (one list for both).
LICENSED_INDUSTRIES_SEED = REPO_ROOT / "dbt_project" / "seeds" / "licensed_industries.csv"
LICENCE_MISSING_SHARE = 0.1    # of the enterprises in those industries, operating without ever getting it
DOCUMENTED_EVERY = 500         # one well-documented enterprise per this many (at least one): a large, long-lived
# firm every department deals with, so the panoramic profile has someone to show whole (generic.generic_rows)
LICENCE_LAG_DAYS = (7, 45)     # establishment to the grant: weeks to apply, then the authority's legal limit
LICENCE_YEARS = 5              # a food business licence is valid five years; renewed (延续) while operating
# The confounders (confounders.py) are patterns of a year or more (seasonal loads, steady complaint levels, a
# lapse and its release, a missed June deadline), planted by default in windows of at least this many months; the
# short slices of the pipeline tests keep the world their thresholds were set on.
CONFOUNDER_MIN_MONTHS = 12


@dataclass
class Enterprise:
    index: int
    uscc: str
    name: str
    district: str
    industry: str
    established: date
    deregistered: date | None
    capital: float
    address: str
    rep_name: str
    rep_id: str
    phone: str
    employees: int
    base_kwh: float
    accounts: dict[str, str] = field(default_factory=dict)  # utility -> account number
    dormant_from: date | None = None
    lost_contact: bool = False
    cluster: int | None = None
    surges: set[str] = field(default_factory=set)  # periods with a complaint surge
    collapse: str | None = None  # period of a sudden utility collapse
    events: list[tuple[str, date]] = field(default_factory=list)
    licence_missing: bool = False  # in a licensed industry, never licensed (planted truth)
    licence_decisions: list[tuple[str, date]] = field(default_factory=list)  # (action, decided on), needed licence
    # Confounders (confounders.py): the class an enterprise was planted in, and what the class changes in its
    # deliveries. Every default leaves the deliveries of an ordinary enterprise as they were.
    confounder: str | None = None
    no_return: set[str] = field(default_factory=set)  # periods it files no tax return for, though operating
    tax_actions: list[tuple[str, date, int | None]] = field(default_factory=list)  # 非正常户 认定/解除, months
    moved_on: date | None = None  # registered a new domicile that day (变更); before it: old_address/old_district
    old_address: str | None = None
    old_district: str | None = None
    mail_returned: set[str] = field(default_factory=set)  # periods a letter to the old domicile came back
    use_factors: dict[str, float] = field(default_factory=dict)  # period -> share of its usual utility use
    off_months: frozenset[int] = frozenset()  # calendar months of a seasonal business's off-season
    off_level: float = 1.0  # its use in the off-season, as a share of its in-season use
    site_kwh: float = 0.0  # a construction site's own power account (临时用电): monthly use while the project runs
    site_end: str | None = None  # the project's last month: half its use, then zero (or the account closed)
    site_closed: bool = False  # the site account closed after the project: no more rows
    documented: bool = False  # a large firm with records in every department's data (DOCUMENTED_EVERY)
    complaint_level: float = 0.0  # complaints a month on top of its industry's rate (a large consumer-facing firm)
    complaint_peaks: frozenset[int] = frozenset()  # calendar months of a recurring complaint peak
    peak_level: float = 0.0  # complaints expected in a peak month
    level_surge: str | None = None  # a surge relative to its own level (3 x), planted truth

    @property
    def district_name(self) -> str:
        return GUIYANG_DIVISIONS[self.district]

    def alive(self, day: date) -> bool:
        return self.established <= day and (self.deregistered is None or self.deregistered > day)

    def operating(self, day: date) -> bool:
        return self.alive(day) and (self.dormant_from is None or self.dormant_from > day)

    def address_on(self, day: date) -> str:
        """The registered domicile on `day` (an enterprise that moved had another one before)."""
        return self.old_address if self.moved_on is not None and day < self.moved_on else self.address

    def district_on(self, day: date) -> str:
        return self.old_district if self.moved_on is not None and day < self.moved_on else self.district

    def use_factor(self, period: str) -> float:
        """The share of its usual power/water/gas use an operating enterprise draws in `period` (1 for most)."""
        factor = self.use_factors.get(period, 1.0)
        if int(period[5:7]) in self.off_months:
            factor *= self.off_level
        return factor


@dataclass
class World:
    enterprises: list[Enterprise]
    months: list[str]
    clusters: dict[int, dict]
    officials: Officials | None = None
    _alive: dict[str, list[Enterprise]] = field(default_factory=dict, repr=False)

    def alive_in(self, period: str) -> list[Enterprise]:
        """Enterprises registered and not deregistered at the end of `period` (computed once per period)."""
        if period not in self._alive:
            end = last_day(period)
            self._alive[period] = [e for e in self.enterprises if e.alive(end)]
        return self._alive[period]


@lru_cache(maxsize=1)
def licensed_industries() -> dict[str, str]:
    """GB/T 4754 section -> the licence its enterprises need to operate (dbt seed licensed_industries)."""
    with LICENSED_INDUSTRIES_SEED.open(encoding="utf-8", newline="") as fh:
        return {r["industry_code"]: r["licence_type"] for r in csv.DictReader(fh)}


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _exit_date(rng: random.Random, established: date, horizon: date) -> date | None:
    age, year_start = 0, established
    while year_start <= horizon:
        if rng.random() < EXIT_HAZARD[min(age, len(EXIT_HAZARD) - 1)]:
            exit_day = year_start + timedelta(days=rng.randrange(365))
            return exit_day if exit_day <= horizon else None
        age, year_start = age + 1, year_start + timedelta(days=365)
    return None


def build_world(n: int, months: list[str], rng: random.Random, confounders: bool | None = None) -> World:
    """Enterprises with births, exits, dormancy, lost contact, shell clusters, complaint surges and collapses;
    and the confounders (confounders.py) when `confounders` is true (None: when the window holds a year or more)."""
    horizon, first = last_day(months[-1]), first_day(months[0])
    span_days = (horizon - date(2005, 1, 1)).days
    seen: set[str] = set()
    ents: list[Enterprise] = []
    for i in range(n):
        district, industry = _pick(rng, DIVISION_SHARES), _pick(rng, INDUSTRY_SHARES)
        # Younger firms are more numerous (registrations grew every year since the 2014 reform).
        established = date(2005, 1, 1) + timedelta(days=int(span_days * math.sqrt(rng.random())))
        uscc = people.make_uscc(rng, district)
        while uscc in seen:
            uscc = people.make_uscc(rng, district)
        seen.add(uscc)
        name_d = GUIYANG_DIVISIONS[district]
        e = Enterprise(
            index=i, uscc=uscc, name=people.make_name(rng, name_d, industry), district=district, industry=industry,
            established=established, deregistered=_exit_date(rng, established, horizon),
            capital=round(10 ** rng.uniform(0.5, 4), 2), address=people.make_address(rng, name_d),
            rep_name=people.make_person_name(rng), rep_id=people.make_id_number(rng, district),
            phone=people.make_phone(rng), employees=max(1, int(math.exp(rng.gauss(2.0, 1.1)))),
            base_kwh=POWER_MEDIAN_KWH.get(industry, DEFAULT_POWER_KWH) * math.exp(rng.gauss(0, 0.8)),
        )
        for utility, share in (("power", 0.92), ("water", 0.85), ("gas", 0.25), ("bank", 0.97)):
            if rng.random() < share:
                e.accounts[utility] = f"{utility[0].upper()}{5200000000 + i:010d}"
        if e.deregistered is None and e.established < horizon - timedelta(days=60) and rng.random() < DORMANT_SHARE:
            start = max(first, e.established + timedelta(days=30))
            e.dormant_from = start + timedelta(days=rng.randrange(max((horizon - start).days - 30, 1)))
            e.lost_contact = rng.random() < LOST_CONTACT_OF_DORMANT
            if e.base_kwh >= COLLAPSE_MIN_KWH:
                e.collapse = f"{e.dormant_from:%Y-%m}"
        if rng.random() < COMPLAINT_RATE.get(industry, 0.005) * 2 and len(months) > 2:
            e.surges.add(rng.choice(months[2:]))
        e.events.append(("设立", established))
        if rng.random() < 0.15:
            e.events.append(("变更", established + timedelta(days=rng.randrange(30, 3000))))
        if e.deregistered is not None:
            e.events.append(("注销", e.deregistered))
        e.events = sorted((k, d) for k, d in e.events if d <= horizon and (e.deregistered is None or d <= e.deregistered))
        ents.append(e)
    clusters = _plant_shell_clusters(ents, months, rng)
    _plant_licences(ents, horizon)
    if confounders if confounders is not None else len(months) >= CONFOUNDER_MIN_MONTHS:
        from creditlake.generate.confounders import plant_confounders

        plant_confounders(ents, months)  # each enterprise's own streams: the draws above are those of before
    _plant_documented(ents, months)
    # Drawn last, from a stream of its own, so the enterprises are those of a world without officials.
    officials = build_officials(clusters, {e.cluster: e.district for e in ents if e.cluster is not None},
                                random.Random(rng.random()))
    world = World(ents, months, clusters, officials)
    for period in months:  # before any worker forks, so every worker shares the lists
        world.alive_in(period)
    return world


def _plant_documented(ents: list[Enterprise], months: list[str]) -> None:
    """The largest ordinary firms (by capital) that operate through the whole window become well documented; no
    draw, so the rest of the world is that of a world without them."""
    first, last = first_day(months[0]), last_day(months[-1])
    ordinary = [e for e in ents if e.established < first and e.deregistered is None and e.dormant_from is None
                and not e.lost_contact and e.cluster is None and e.confounder is None and not e.licence_missing]
    want = max(1, len(ents) // DOCUMENTED_EVERY)
    for e in sorted(ordinary, key=lambda e: (-e.capital, e.index))[:want]:
        if e.operating(last):
            e.documented = True


def _plant_shell_clusters(ents: list[Enterprise], months: list[str], rng: random.Random) -> dict[int, dict]:
    """Groups of new firms registered within weeks at one address, with one phone and one legal representative."""
    young = [e for e in ents if e.established >= first_day(months[0]) - timedelta(days=365)
             and e.deregistered is None]
    want = int(len(ents) * SHELL_CLUSTER_SHARE)
    clusters: dict[int, dict] = {}
    cid = 0
    while want > 0 and len(young) >= 5:
        size = min(rng.randint(5, 20), len(young), max(want, 5))
        members = [young.pop(rng.randrange(len(young))) for _ in range(size)]
        anchor = members[0]
        for m in members:
            m.address, m.phone, m.rep_name, m.rep_id = anchor.address, anchor.phone, anchor.rep_name, anchor.rep_id
            if m.district != anchor.district:  # the code's division digits follow the domicile
                m.district, m.uscc = anchor.district, people.make_uscc(rng, anchor.district)
            m.cluster = anchor.cluster = cid
            m.established = min(anchor.established + timedelta(days=rng.randrange(30)), last_day(months[-1]))
            m.events = [("设立", m.established)]
        clusters[cid] = {"address": anchor.address, "members": sorted(m.uscc for m in members)}
        cid += 1
        want -= size
    return clusters


def _plant_licences(ents: list[Enterprise], horizon: date) -> None:
    """The licence each enterprise of a licensed industry gets weeks after establishment (renewed every five years
    while it operates), except a planted share that never gets one. Draws come from each enterprise's own stream
    (after the shell clusters fix codes and dates), so the rest of the world is that of a world without licences."""
    needs = licensed_industries()
    candidates = [e for e in ents if e.industry in needs]
    own = {e.uscc: random.Random(f"{e.uscc}:licence") for e in candidates}
    order = sorted(candidates, key=lambda e: (own[e.uscc].random(), e.index))
    planted = max(1, round(LICENCE_MISSING_SHARE * len(candidates))) if candidates else 0  # at least one to find
    for e in order[:planted]:
        e.licence_missing = True
    for e in candidates:
        if e.licence_missing:
            continue
        decided, action = e.established + timedelta(days=own[e.uscc].randint(*LICENCE_LAG_DAYS)), "准予许可"
        # Granted to any firm still registered (it applied while setting up); renewed only by one still operating.
        while decided <= horizon and (e.alive(decided) if action == "准予许可" else e.operating(decided)):
            e.licence_decisions.append((action, decided))
            decided, action = licence_expiry(decided) - timedelta(days=own[e.uscc].randint(10, 60)), "延续"


def months_gone(e: Enterprise, months: list[str]) -> int:
    """Months of the window an enterprise had stopped operating by their first day (0 if it never stopped)."""
    if e.dormant_from is None:
        return 0
    return sum(1 for m in months if first_day(m) >= e.dormant_from)


def licence_expiry(decided: date) -> date:
    """The last day of a licence decided on `decided`: LICENCE_YEARS later, less a day."""
    anniversary = date(decided.year + LICENCE_YEARS, decided.month, min(decided.day, 28 if decided.month == 2 else 31))
    return anniversary - timedelta(days=1)
