"""Rows for any catalogued dataset without a model: who appears (by cadence) and what each column holds (by spec)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from creditlake.catalogue import Dataset
from creditlake.generate.values import column_value
from creditlake.generate.world import Enterprise, World
from creditlake.periods import first_day

# Share of alive enterprises appearing in one delivery, by cadence (a month's delivery of a yearly dataset
# arrives in April, of a quarterly one in the quarter's last month).
SHARE = {"monthly": 0.15, "event": 0.01, "daily": 0.01, "quarterly": 0.2, "yearly": 0.3}
YEARLY_MONTH = 4


def appears(dataset: Dataset, period: str) -> bool:
    month = first_day(period).month
    if dataset.cadence == "yearly":
        return month == YEARLY_MONTH
    if dataset.cadence == "quarterly":
        return month % 3 == 0
    return True


def pick_enterprises(world: World, dataset: Dataset, period: str, rng: random.Random) -> list[Enterprise]:
    """A binomial draw of alive enterprises; firms that stopped operating appear five times less often."""
    if not appears(dataset, period):
        return []
    alive = world.alive_in(period)
    p = SHARE[dataset.cadence]
    mean = len(alive) * p
    k = max(0, min(len(alive), round(mean + rng.gauss(0, math.sqrt(max(mean * (1 - p), 1e-9))))))
    chosen = rng.sample(alive, k)
    day = first_day(period)
    return [e for e in chosen if e.operating(day) or rng.random() < 0.2]


def fill_row(dataset: Dataset, e: Enterprise, values: dict, period: str, rng: random.Random, world: World) -> dict:
    """Complete `values` to a full row: every catalogue column gets a value consistent with its spec."""
    day = first_day(period)
    other = world.enterprises[rng.randrange(len(world.enterprises))].uscc
    row = {}
    for col in dataset.columns:
        if col.name in values:
            row[col.name] = values[col.name]
        elif dataset.links_via and col.name == dataset.links_via.column:
            row[col.name] = values.get(col.name)
        else:
            row[col.name] = column_value(col, rng, period_start=day, uscc=e.uscc, district=e.district,
                                         industry=e.industry, district_name=e.district_name, other_uscc=other)
    return row


# How often a well-documented firm (world.DOCUMENTED_EVERY) appears in a month's delivery of an event dataset; it
# appears in every delivery of a periodic one.
DOCUMENTED_EVENT_SHARE = 0.5


def generic_rows(world: World, dataset: Dataset, period: str, rng: random.Random) -> Iterator[tuple[Enterprise, dict]]:
    """The cadence's draw, then the well-documented firms not drawn (after the others: their rows are those of a
    world without them)."""
    picked = pick_enterprises(world, dataset, period, rng)
    yield from ((e, {}) for e in picked)
    if not appears(dataset, period):
        return
    drawn = {e.index for e in picked}
    for e in world.alive_in(period):
        if not e.documented or e.index in drawn:
            continue
        own = random.Random(f"{e.uscc}:{dataset.code}:{period}:documented")
        if dataset.cadence not in ("event", "daily") or own.random() < DOCUMENTED_EVENT_SHARE:
            yield e, {}
