"""The corpus of past mediation cases: from silver rows, from a landing zone's deliveries, or generated in memory."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

DATASET = ("samr", "mediation_cases")
SILVER_TABLE = "samr__mediation_cases"
_CITATION_SPLIT = re.compile(r"[;；,，、\s]+")


@dataclass(frozen=True)
class Case:
    """One past mediation: what the consumer wrote, how it ended and what the mediator cited."""

    case_id: str
    category: str
    text: str
    outcome: str | None = None
    settlement: str | None = None
    amount_involved: float | None = None
    settled_amount: float | None = None
    cited_articles: tuple[str, ...] = ()
    uscc: str | None = None
    closed_on: str | None = None
    scenario: str | None = None  # the generator's scenario when known (planted truth, for evaluation only)


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def split_citations(value) -> tuple[str, ...]:
    """`消费者权益保护法第二十四条;《产品质量法》第四十条` -> the citations, 《》 removed, in order, no repeats."""
    if value is None:
        return ()
    parts = value if isinstance(value, (list, tuple)) else _CITATION_SPLIT.split(str(value))
    out: list[str] = []
    for p in parts:
        p = str(p).strip().replace("《", "").replace("》", "")
        if p and p not in out:
            out.append(p)
    return tuple(out)


# The columns of samr/mediation_cases a Case is made of (cases_from_rows).
CASE_COLUMNS = ("case_id", "complaint_text", "category", "cited_articles", "outcome", "settlement", "amount_involved",
                "settled_amount", "uscc", "closed_on", "_scenario")


def cases_from_rows(rows: Iterable[Mapping | object]) -> list[Case]:
    """Cases from rows with the catalogue's column names (samr/mediation_cases): silver rows (`Row.asDict()`,
    Decimal amounts, date objects) or delivered rows (all text). Rows without an id or a text are skipped; a case
    id seen twice keeps its first row."""
    from creditlake.generate.complaint_text import scenario_of

    seen: set[str] = set()
    out: list[Case] = []
    for row in rows:
        if not isinstance(row, Mapping):
            row = row.asDict() if hasattr(row, "asDict") else dict(row)  # type: ignore[arg-type]
        case_id, text = _text(row.get("case_id")), _text(row.get("complaint_text"))
        if not case_id or not text or case_id in seen:
            continue
        seen.add(case_id)
        category = _text(row.get("category")) or "其他"
        cited = split_citations(row.get("cited_articles"))
        out.append(Case(
            case_id=case_id, category=category, text=text, outcome=_text(row.get("outcome")),
            settlement=_text(row.get("settlement")), amount_involved=_number(row.get("amount_involved")),
            settled_amount=_number(row.get("settled_amount")), cited_articles=cited, uscc=_text(row.get("uscc")),
            closed_on=_text(row.get("closed_on")),
            scenario=_text(row.get("_scenario")) or (scenario_of(category, cited) if cited else None)))
    return out


def landing_rows(landing: Path) -> list[dict]:
    """The delivered rows of samr/mediation_cases in a landing folder, read as the catalogue declares (JSON Lines);
    deliveries that break the landing contract are skipped, as ingestion would reject them."""
    from creditlake.catalogue import default_catalogue
    from creditlake.ingest.landing import DeliveryRejected, check_delivery, delivered_rows, find_deliveries

    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"{landing}: no such landing folder")
    catalogue = default_catalogue()
    dataset = catalogue.dataset(*DATASET)
    rows: list[dict] = []
    for delivery in find_deliveries(landing, catalogue):
        if (delivery.source, delivery.dataset) != DATASET:
            continue
        try:
            checked = check_delivery(delivery, dataset)
        except DeliveryRejected:
            continue
        rows += [values for _, values in delivered_rows(checked.file, dataset)]
    if not rows:
        raise FileNotFoundError(f"{landing}: no samr/mediation_cases deliveries (generate them with "
                                "`creditlake generate --only samr/mediation_cases`)")
    return rows


def cases_from_landing(landing: Path) -> list[Case]:
    return cases_from_rows(landing_rows(landing))


def generated_rows(enterprises: int, start: str, end: str, seed: int) -> list[dict]:
    """The mediation rows `creditlake generate` would deliver for these arguments (without faults), in memory, with
    the planted scenario in `_scenario`."""
    from creditlake.generate.signals import mediation_cases
    from creditlake.generate.world import build_world
    from creditlake.periods import month_range

    months = month_range(start, end)
    world = build_world(enterprises, months, random.Random(seed))
    rows = []
    for n, period in enumerate(months):
        for e, values in mediation_cases(world, period, n, random.Random(0)):
            rows.append({"uscc": e.uscc, **values})
    return rows


def generated_cases(enterprises: int, start: str, end: str, seed: int) -> list[Case]:
    return cases_from_rows(generated_rows(enterprises, start, end, seed))
