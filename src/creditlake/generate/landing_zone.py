"""Write a deterministic landing zone (registrations and power use) with planted truth beside it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from creditlake.codes import GUIYANG_DIVISIONS, USCC_ALPHABET
from creditlake.generate import people
from creditlake.periods import first_day, last_day, month_range

# Shares of enterprises by division: the central districts hold most firms (Guiyang statistical yearbook order).
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

FAULT_RULES = ("uscc_check", "district_code", "kwh_range")


@dataclass
class Enterprise:
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
    account_no: str | None
    base_kwh: float
    dormant_from: date | None = None
    events: list[tuple[str, date]] = field(default_factory=list)


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _exit_date(rng: random.Random, established: date, horizon: date) -> date | None:
    age = 0
    year_start = established
    while year_start <= horizon:
        if rng.random() < EXIT_HAZARD[min(age, len(EXIT_HAZARD) - 1)]:
            return year_start + timedelta(days=rng.randrange(365))
        age += 1
        year_start = year_start + timedelta(days=365)
    return None


def make_enterprises(n: int, start: str, end: str, rng: random.Random) -> list[Enterprise]:
    horizon = last_day(end)
    first = first_day(start)
    span_days = (horizon - date(2005, 1, 1)).days
    out = []
    seen: set[str] = set()
    for i in range(n):
        district = _pick(rng, DIVISION_SHARES)
        industry = _pick(rng, INDUSTRY_SHARES)
        # Younger firms are more numerous (registrations grew every year since the 2014 reform).
        established = date(2005, 1, 1) + timedelta(days=int(span_days * math.sqrt(rng.random())))
        uscc = people.make_uscc(rng, district)
        while uscc in seen:
            uscc = people.make_uscc(rng, district)
        seen.add(uscc)
        dereg = _exit_date(rng, established, horizon)
        if dereg is not None and dereg > horizon:
            dereg = None
        name_d = GUIYANG_DIVISIONS[district]
        base = POWER_MEDIAN_KWH.get(industry, DEFAULT_POWER_KWH) * math.exp(rng.gauss(0, 0.8))
        ent = Enterprise(
            uscc=uscc,
            name=people.make_name(rng, name_d, industry),
            district=district,
            industry=industry,
            established=established,
            deregistered=dereg,
            capital=round(10 ** rng.uniform(0.5, 4), 2),
            address=people.make_address(rng, name_d),
            rep_name=people.make_person_name(rng),
            rep_id=people.make_id_number(rng, district),
            phone=people.make_phone(rng),
            account_no=f"GZ{5200000000 + i:010d}" if rng.random() < 0.92 else None,
            base_kwh=base,
        )
        # Dormant: registered and alive on paper, but stopped operating within the window.
        if dereg is None and rng.random() < 0.08:
            ent.dormant_from = first + timedelta(days=rng.randrange(max((horizon - first).days, 1)))
        ent.events.append(("设立", established))
        if dereg is not None:
            ent.events.append(("注销", dereg))
        out.append(ent)
    return out


class DeliveryWriter:
    """Writes one delivery folder: the data file and the sender's manifest (rows and SHA-256)."""

    def __init__(self, landing: Path, source: str, dataset: str, period: str, columns: list[str]):
        self.folder = landing / source / dataset / period
        self.name = f"{source}__{dataset}__{period}.csv"
        self.source, self.dataset, self.period, self.columns = source, dataset, period, columns
        self.rows: list[list[str]] = []

    def add(self, row: list[object]) -> None:
        self.rows.append(["" if v is None else str(v) for v in row])

    def write(self) -> int:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        w.writerows(self.rows)
        data = buf.getvalue().encode("utf-8")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / self.name).write_bytes(data)
        manifest = {
            "source": self.source,
            "dataset": self.dataset,
            "period": self.period,
            "format": "csv",
            "encoding": "utf-8",
            "files": [{"name": self.name, "rows": len(self.rows), "sha256": hashlib.sha256(data).hexdigest()}],
        }
        (self.folder / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        return len(self.rows)


REG_COLUMNS = ["uscc", "name", "event_type", "event_date", "district_code", "industry_code", "established_date",
               "registered_capital", "address", "legal_rep_name", "legal_rep_id_no", "contact_phone"]
POWER_COLUMNS = ["account_no", "uscc", "period", "kwh", "read_date"]


def _corrupt(rng: random.Random, rule: str, row: list[str], columns: list[str]) -> list[str]:
    row = list(row)
    if rule == "uscc_check":
        i = columns.index("uscc")
        wrong = [c for c in USCC_ALPHABET if c != row[i][-1]]
        row[i] = row[i][:-1] + rng.choice(wrong)
    elif rule == "district_code":
        row[columns.index("district_code")] = "529999"
    elif rule == "kwh_range":
        row[columns.index("kwh")] = "-" + row[columns.index("kwh")]
    return row


def generate_landing(
    landing: Path,
    enterprises: int,
    start: str,
    end: str,
    seed: int = 42,
    fault_rate: float = 0.0,
    progress=None,
) -> dict:
    """Write deliveries for every month of [start, end]; return a summary. Same arguments, same bytes."""
    rng = random.Random(seed)
    months = month_range(start, end)
    ents = make_enterprises(enterprises, start, end, rng)
    faults: list[dict] = []
    counts = {"registrations": 0, "consumption": 0}

    def maybe_fault(rows: list[list[str]], columns: list[str], rules: tuple[str, ...], w: DeliveryWriter) -> None:
        for idx in range(len(rows)):
            if fault_rate and rng.random() < fault_rate:
                rule = rng.choice(rules)
                rows[idx] = _corrupt(rng, rule, rows[idx], columns)
                faults.append({"file": f"{w.source}/{w.dataset}/{w.period}/{w.name}", "row": idx + 1, "rule": rule})

    for n, period in enumerate(months):
        lo, hi = first_day(period), last_day(period)
        reg = DeliveryWriter(landing, "samr", "registrations", period, REG_COLUMNS)
        for e in ents:
            for event, when in e.events:
                if when <= hi and (n == 0 or when >= lo):
                    reg.add([e.uscc, e.name, event, when.isoformat(), e.district, e.industry, e.established.isoformat(),
                             f"{e.capital:.2f}", e.address, e.rep_name, e.rep_id, e.phone])
        pw = DeliveryWriter(landing, "power", "consumption", period, POWER_COLUMNS)
        for e in ents:
            if e.account_no is None or e.established > hi or (e.deregistered and e.deregistered < lo):
                continue
            dormant = e.dormant_from is not None and e.dormant_from <= lo
            kwh = 0.0 if dormant else e.base_kwh * SEASON[lo.month - 1] * math.exp(rng.gauss(0, 0.15))
            pw.add([e.account_no, e.uscc, period, f"{kwh:.1f}", (hi - timedelta(days=rng.randrange(3))).isoformat()])
        maybe_fault(reg.rows, REG_COLUMNS, ("uscc_check", "district_code"), reg)
        maybe_fault(pw.rows, POWER_COLUMNS, ("uscc_check", "kwh_range"), pw)
        counts["registrations"] += reg.write()
        counts["consumption"] += pw.write()
        if progress:
            progress(period)

    truth = {
        "seed": seed,
        "enterprises": enterprises,
        "months": [months[0], months[-1]],
        "dormant": sorted(e.uscc for e in ents if e.dormant_from is not None),
        "deregistered": sorted(e.uscc for e in ents if e.deregistered is not None),
        "faults": faults,
        "clear_personal_values": [e.rep_id for e in ents[:20]] + [e.phone for e in ents[:20]],
    }
    truth_dir = truth_folder(landing)
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    return {"landing": str(landing), "truth": str(truth_dir / "truth.json"), "months": len(months),
            "enterprises": enterprises, "rows": counts, "faults": len(faults)}


def truth_folder(landing: Path) -> Path:
    """Planted truth lives beside the landing zone, never inside it, so the pipeline cannot read it."""
    return landing.parent / f"{landing.name}.truth"
