"""Working days of the mainland Chinese government calendar: weekends off, state holidays off, make-up days on.

The holidays and make-up working days (调休) come from the State Council's yearly notices, kept in one place:
the dbt seed `dbt_project/seeds/cn_working_calendar.csv`, which the marts read too. A year the seed does not
cover counts weekends only. Periods follow the Civil Code's rule for days (art. 201): the day an action starts
is not counted, counting begins the next day; a limit in calendar days whose last day is a holiday ends on the
next working day (art. 203). docs/iron_cage.md says how each time limit is counted.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import lru_cache

from creditlake.settings import REPO_ROOT

CALENDAR_SEED = REPO_ROOT / "dbt_project" / "seeds" / "cn_working_calendar.csv"


@lru_cache(maxsize=1)
def _adjustments() -> dict[date, bool]:
    """Day -> is it a working day, for the days the notices change (holidays and make-up working days)."""
    with CALENDAR_SEED.open(encoding="utf-8", newline="") as fh:
        return {date.fromisoformat(r["day"]): r["kind"] == "makeup_workday" for r in csv.DictReader(fh)}


def is_working_day(day: date) -> bool:
    return _adjustments().get(day, day.weekday() < 5)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when done the same day or before)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (start itself when n is 0)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def calendar_deadline(start: date, days: int) -> date:
    """Last day of a limit of `days` calendar days from `start`, moved to the next working day if it falls off."""
    day = start + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
