"""Month periods ('YYYY-MM'): parsing with one clear error, ranges and month arithmetic."""

from __future__ import annotations

import calendar
import re
from datetime import date

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def parse_period(text: str) -> tuple[int, int]:
    m = _PERIOD.fullmatch(text or "")
    if not m:
        raise ValueError(f"not a month: {text!r} (expected YYYY-MM, e.g. 2024-06)")
    return int(m.group(1)), int(m.group(2))


def month_range(start: str, end: str) -> list[str]:
    """Every month from start to end inclusive."""
    y, m = parse_period(start)
    ey, em = parse_period(end)
    if (y, m) > (ey, em):
        raise ValueError(f"start {start} is after end {end}")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def shift(period: str, months: int) -> str:
    y, m = parse_period(period)
    idx = y * 12 + (m - 1) + months
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def first_day(period: str) -> date:
    y, m = parse_period(period)
    return date(y, m, 1)


def last_day(period: str) -> date:
    y, m = parse_period(period)
    return date(y, m, calendar.monthrange(y, m)[1])
