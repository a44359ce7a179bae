"""The regulator's own side of the hidden world, for the data iron cage: acting units, their officers, and how
long each takes to act. Planted truth: a slow unit, a slow officer, and for each shell cluster an officer who
approves most of its registrations (docs/iron_cage.md).

Every draw about one action comes from a stream named after the action (enterprise, kind, date), so an action
looks the same in whichever delivery and worker it is written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.workdays import add_working_days, is_working_day

ELECTRONIC_SINCE = date(2017, 1, 1)  # registrations recorded with their process data (全程电子化) from here on
OFFICERS_PER_UNIT = 3
COMPLICIT_SHARE = 0.85  # of a shell cluster's registrations, the share its complicit officer approves
UNPUBLISHED, UNPUBLISHED_SLOW = 0.03, 0.3  # penalty decisions never published (公示), by an ordinary or a slow desk


def unit_name(district: str) -> str:
    """The market-regulation bureau of a division: 贵阳市南明区市场监督管理局, 清镇市市场监督管理局."""
    name = GUIYANG_DIVISIONS[district]
    return f"贵阳市{name}市场监督管理局" if name.endswith("区") else f"{name}市场监督管理局"


@dataclass
class Officials:
    officers: dict[str, list[str]]            # district -> clear officer ids (执法证号)
    slow_units: set[str]                       # districts whose unit is slow
    slow_officers: set[str]
    complicit: dict[int, str] = field(default_factory=dict)  # shell cluster -> officer approving most of it

    def slow(self, district: str, officer: str) -> bool:
        return district in self.slow_units or officer in self.slow_officers


def build_officials(clusters: dict[int, dict], cluster_districts: dict[int, str], rng: random.Random) -> Officials:
    officers: dict[str, list[str]] = {}
    for district in GUIYANG_DIVISIONS:
        ids = sorted({f"{district}{rng.randrange(10000, 100000)}" for _ in range(OFFICERS_PER_UNIT * 2)})
        officers[district] = ids[:OFFICERS_PER_UNIT]
    busy = ["520102", "520103", "520115", "520111"]  # slow where there is work to be slow on
    slow_unit = rng.choice(busy)
    slow_officer = officers[rng.choice([d for d in busy if d != slow_unit])][0]
    complicit = {cid: officers[cluster_districts[cid]][-1] for cid in sorted(clusters)}
    return Officials(officers, {slow_unit}, {slow_officer}, complicit)


def action_rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in ("action", *parts)))


def pick_officer(officials: Officials, district: str, rng: random.Random) -> str:
    return rng.choice(officials.officers[district])


def working_days_taken(rng: random.Random, slow: bool, limit: int) -> int:
    """Working days an action takes against a limit: mostly well within, a few over; slow ones often over."""
    r = rng.random()
    if slow:
        return rng.randint(0, limit) if r < 0.45 else rng.randint(limit + 1, limit * 3 + 3)
    if r < 0.96:
        return rng.randint(0, limit)
    return rng.randint(limit + 1, limit * 2 + 2)


def days_back(end: date, working_days: int) -> date:
    """The day whose `working_days`-th working day after it is `end` (end itself for 0)."""
    day, n = end, working_days
    while n > 0:
        if is_working_day(day):
            n -= 1
        day -= timedelta(days=1)
    return day


def registration_action(officials: Officials, uscc: str, district: str, event: str, approved: date,
                        cluster: int | None) -> dict:
    """Applied on, authority and approving officer of one registration event (none before ELECTRONIC_SINCE)."""
    if approved < ELECTRONIC_SINCE:
        return {"applied_on": None, "registration_authority": None, "approving_officer": None}
    rng = action_rng(uscc, event, approved)
    officer = pick_officer(officials, district, rng)
    if cluster is not None and cluster in officials.complicit and event == "设立" and rng.random() < COMPLICIT_SHARE:
        officer = officials.complicit[cluster]
    taken = working_days_taken(rng, officials.slow(district, officer), 3)
    return {"applied_on": days_back(approved, taken).isoformat(), "registration_authority": unit_name(district),
            "approving_officer": officer}


def penalty_action(officials: Officials, uscc: str, district: str, decided: date) -> dict:
    """Case filed, published, deciding authority and officer of one penalty decided on `decided`."""
    rng = action_rng(uscc, "penalty", decided)
    officer = pick_officer(officials, district, rng)
    slow = officials.slow(district, officer)
    days = rng.randint(40, 200) if slow and rng.random() < 0.5 else \
        rng.randint(15, 88) if rng.random() < 0.95 else rng.randint(95, 150)
    published = add_working_days(decided, working_days_taken(rng, slow, 20))
    if rng.random() < (UNPUBLISHED_SLOW if slow else UNPUBLISHED):
        published = None  # never published: still undone when the lake looks (逾期未办 once 20 working days pass)
    return {"decided_on": decided.isoformat(), "case_filed_on": (decided - timedelta(days=days)).isoformat(),
            "published_on": published and published.isoformat(), "deciding_authority": unit_name(district),
            "district_code": district, "case_officer": officer}


def listing_action(officials: Officials, uscc: str, district: str, grounds: date, limit: int,
                   last: date) -> tuple[date, str]:
    """Decision day (at most `last`, the end of the delivery month) and officer of a listing or removal."""
    rng = action_rng(uscc, "abnormal", grounds)
    officer = pick_officer(officials, district, rng)
    decided = add_working_days(grounds, max(1, working_days_taken(rng, officials.slow(district, officer), limit)))
    return min(decided, last), officer
