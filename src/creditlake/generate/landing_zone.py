"""Write a deterministic landing zone for every catalogued dataset, with planted truth beside it."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from creditlake.catalogue import Catalogue, Dataset, default_catalogue
from creditlake.generate import faults as planted
from creditlake.generate.generic import fill_row, generic_rows
from creditlake.generate.signals import MODELS, in_trouble
from creditlake.generate.world import CONFOUNDER_MIN_MONTHS, World, build_world, months_gone
from creditlake.generate.writers import delivery_folder, encode, file_name, write_delivery
from creditlake.periods import last_day, month_range


def truth_folder(landing: Path) -> Path:
    """Planted truth lives beside the landing zone, never inside it, so the pipeline cannot read it."""
    return landing.parent / f"{landing.name}.truth"


# Deliveries a department sends a month late: at the window's end the lake has none for that month (unknown, not
# zero). Social insurance is settled after the month closes; gas bills are read bimonthly in much of the city.
LATE_DELIVERIES = (("hrss", "social_insurance"), ("gas", "consumption"))


def _rng(seed: int, *parts: object) -> random.Random:
    # One stream per dataset and period: adding a dataset or a month leaves every other file unchanged.
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _delivery(world: World, source: str, dataset: Dataset, period: str, n: int, seed: int, fault_rate: float,
              delivery_fault: str | None, landing: Path, faults: list[dict]) -> int:
    rng = _rng(seed, source, dataset.code, period)
    model = MODELS.get((source, dataset.code))
    pairs = model(world, period, n, rng) if model else generic_rows(world, dataset, period, rng)
    columns = [c.name for c in dataset.columns]
    rows: list[list[str | None]] = []
    seen: set[tuple] = set()
    key_idx = [columns.index(c) for c in dataset.unique]
    for e, values in pairs:
        if dataset.links_to_enterprise and "uscc" not in values:
            values = {dataset.links_to_enterprise: e.uscc, **values}
        row = fill_row(dataset, e, values, period, rng, world)
        as_list = [row[c] for c in columns]
        key = tuple(as_list[i] for i in key_idx)
        if key in seen:
            continue
        seen.add(key)
        rows.append(as_list)
    name = file_name(source, dataset, period)
    if fault_rate and rows:
        count = sum(1 for _ in rows if rng.random() < fault_rate)
        for idx in sorted(rng.sample(range(len(rows)), count)):  # distinct rows: one planted rule each
            hit = planted.corrupt(rows[idx], columns, dataset, rng)
            if hit is None:
                break
            rule, column, new = hit
            if rule == "duplicate":
                rows.append(new)
                idx = len(rows) - 1
            else:
                rows[idx] = new
            faults.append({"file": f"{source}/{dataset.code}/{period}/{name}", "row": idx + 1, "rule": rule,
                           "column": column})
    data = encode(dataset, columns, rows)
    manifest_data, declared = None, len(rows)
    if delivery_fault:
        data, manifest_data, declared_override = planted.corrupt_delivery(
            delivery_fault, data, columns, rows, lambda cols, rs: encode(dataset, cols, rs))
        declared = declared_override if declared_override is not None else declared
    write_delivery(delivery_folder(landing, source, dataset.code, period), name, data, source, dataset, period,
                   declared, manifest_data)
    return len(rows)


_WORLD: World | None = None


def _dataset_task(task) -> tuple[int, list[dict], list[dict]]:
    """Every month of one dataset (runs in a worker process; reads the world inherited from the parent); a month
    in `late` is not delivered at all (no folder, no manifest)."""
    source, dataset, months, seed, fault_rate, delivery_fault_rate, landing, late = task
    rows, faults, delivery_faults = 0, [], []
    for n, period in enumerate(months):
        if period in late:
            continue  # each delivery draws from its own streams: skipping one leaves the others as they were
        kind = _delivery_fault(_rng(seed, "delivery", source, dataset.code, period), dataset, delivery_fault_rate)
        if kind:
            delivery_faults.append({"delivery": f"{source}/{dataset.code}/{period}", "fault": kind})
        rows += _delivery(_WORLD, source, dataset, period, n, seed, fault_rate, kind, landing, faults)
    return rows, faults, delivery_faults


def _delivery_fault(rng: random.Random, dataset: Dataset, rate: float) -> str | None:
    if not rate or rng.random() >= rate:
        return None
    kinds = [k for k in planted.DELIVERY_FAULTS
             if not (k == "broken_encoding" and (dataset.format != "csv" or dataset.encoding != "utf-8"))
             and not (k == "truncated" and dataset.format == "xlsx")]
    return rng.choice(kinds)


def generate_landing(
    landing: Path,
    enterprises: int,
    start: str,
    end: str,
    seed: int = 42,
    fault_rate: float = 0.0,
    progress=None,
    only: list[str] | None = None,
    delivery_fault_rate: float = 0.0,
    catalogue: Catalogue | None = None,
    workers: int | None = None,
    at_source: Path | None = None,
    confounders: bool | None = None,
    late_deliveries: bool | None = None,
) -> dict:
    """Write deliveries for every catalogued dataset (or those `only` names: `source` or `source/dataset`).

    Same arguments, same bytes, whatever the number of `workers` (processes, one dataset at a time; default:
    one per core). Faults: `fault_rate` of rows break one rule each; `delivery_fault_rate` of
    deliveries break the landing contract. Truth goes to <landing>.truth/truth.json.
    A dataset kept at source (`residency: at_source`) is written, in the same layout and without faults (it is
    the department's own system), under `at_source` (default: `<landing>.at_source` beside the landing zone;
    the CLI passes settings.at_source, where the responders read), never into the landing zone.
    `confounders` plants the confounders of confounders.py (default: in windows of a year or more);
    `late_deliveries` withholds the last month of LATE_DELIVERIES (default: in windows of CONFOUNDER_MIN_MONTHS or more, as the confounders).
    """
    catalogue = catalogue or default_catalogue()
    at_source = at_source or landing.parent / f"{landing.name}.at_source"
    months = month_range(start, end)
    world = build_world(enterprises, months, random.Random(seed), confounders=confounders)
    selected = select_datasets(catalogue, only)
    if late_deliveries if late_deliveries is not None else len(months) >= CONFOUNDER_MIN_MONTHS:
        late = [(s.code, d.code, months[-1]) for s, d in selected if (s.code, d.code) in LATE_DELIVERIES]
    else:
        late = []
    global _WORLD
    _WORLD = world  # inherited by forked workers: the world is built once
    tasks = [(source.code, dataset, months, seed, fault_rate, delivery_fault_rate, landing,
              {p for s, d, p in late if (s, d) == (source.code, dataset.code)})
             if dataset.residency == "lake" else (source.code, dataset, months, seed, 0.0, 0.0, at_source, set())
             for source, dataset in selected]
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    results: list[tuple[int, list[dict], list[dict]]] = []
    if workers == 1:
        for task in tasks:
            results.append(_dataset_task(task))
            if progress:
                progress(f"{task[0]}/{task[1].code}")
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for task, result in zip(tasks, pool.map(_dataset_task, tasks)):
                results.append(result)
                if progress:
                    progress(f"{task[0]}/{task[1].code}")
    # Results come back in task order whatever the number of workers: same seed, same truth file.
    rows = sum(r[0] for r in results)
    faults = [f for r in results for f in r[1]]
    delivery_faults = [f for r in results for f in r[2]]
    truth = _truth(world, seed, months, faults, delivery_faults, late)
    folder = truth_folder(landing)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {"landing": str(landing), "truth": str(folder / "truth.json"), "months": len(months),
            "enterprises": enterprises, "datasets": len(selected), "rows": rows,
            "faults": len(faults), "delivery_faults": len(delivery_faults), "summary": truth["summary"]}


def select_datasets(catalogue: Catalogue, only: list[str] | None):
    """The (source, dataset) pairs named by `only` (`source` or `source/dataset`), all when None."""
    pairs = catalogue.datasets()
    if not only:
        return pairs
    known = {s.code for s, _ in pairs} | {f"{s.code}/{d.code}" for s, d in pairs}
    unknown = sorted(set(only) - known)
    if unknown:
        raise ValueError(f"unknown sources or datasets: {', '.join(unknown)} (see docs/sources.md)")
    return [(s, d) for s, d in pairs if s.code in only or f"{s.code}/{d.code}" in only]


def _truth(world: World, seed: int, months: list[str], faults: list[dict], delivery_faults: list[dict],
           late: list[tuple[str, str, str]]) -> dict:
    ents = world.enterprises
    return {
        "seed": seed,
        "enterprises": len(ents),
        "months": [months[0], months[-1]],
        "dormant": sorted(e.uscc for e in ents if e.dormant_from is not None),
        "lost_contact": sorted(e.uscc for e in ents if e.lost_contact),
        # The day each lost-contact firm stopped, and the window's months it had stopped by their first day.
        "lost_contact_from": {e.uscc: [e.dormant_from.isoformat(), months_gone(e, months)]
                              for e in sorted(ents, key=lambda e: e.uscc) if e.lost_contact},
        "deregistered": sorted(e.uscc for e in ents if e.deregistered is not None),
        "shell_clusters": [world.clusters[k] for k in sorted(world.clusters)],
        # A surge planted on a month the firm is not registered (before its founding, after its deregistration)
        # happens nowhere: only the ones that reach the deliveries are truth.
        "complaint_surges": sorted([e.uscc, p] for e in ents for p in e.surges | ({e.level_surge} - {None})
                                   if e.alive(last_day(p))),
        "utility_collapses": sorted([e.uscc, e.collapse] for e in ents if e.collapse and "power" in e.accounts),
        "licence_missing": sorted(e.uscc for e in ents if e.licence_missing),
        # Large firms every department deals with: records in every periodic delivery of the generic datasets.
        "documented": sorted(e.uscc for e in ents if e.documented),
        "faults": faults,
        "delivery_faults": delivery_faults,
        "clear_personal_values": [e.rep_id for e in ents[:20]] + [e.phone for e in ents[:20]]
        + sorted(o for ids in world.officials.officers.values() for o in ids)[:10],
        "loans_in_trouble": sorted([e.uscc, p] for e in ents for p in months if in_trouble(e, p)),
        "iron_cage": _iron_cage_truth(world),
        "confounders": _confounder_truth(world),
        "late_deliveries": [list(x) for x in late],
        "summary": summarise(world),
    }


def _confounder_truth(world: World) -> dict:
    """Per confounder class planted: the list it tests, whether its members are planted positives, its members;
    for the registration patterns also each group (address, trade name) with its members."""
    from creditlake.generate.confounders import CLASSES, members

    out = {}
    for name, codes in members(world.enterprises).items():
        out[name] = {"list": CLASSES[name][0], "planted": CLASSES[name][1], "members": codes}
    for name, key in (("corporate_group", lambda e: e.address), ("business_centre", _centre_address),
                      ("registration_agent", lambda e: e.phone)):
        groups: dict[str, list[str]] = {}
        for e in world.enterprises:
            if e.confounder == name:
                groups.setdefault(key(e), []).append(e.uscc)
        if groups:
            out[name]["groups"] = [
                {**({"address": k} if name != "registration_agent" else {}), "members": sorted(v)}
                for k, v in sorted(groups.items(), key=lambda kv: sorted(kv[1])[0])]
    if "corporate_group" in out:
        names = {e.uscc: e.name for e in world.enterprises}
        for g in out["corporate_group"]["groups"]:
            parent = next(names[u] for u in g["members"] if names[u].endswith("集团有限公司"))
            g["trade_name"] = parent.removeprefix("贵州").removesuffix("集团有限公司")
    return out


def _centre_address(e) -> str:
    """A business centre's address, without the desk number some of its tenants register after it."""
    return re.sub(r"\d{3}号工位$", "", e.address)


def _iron_cage_truth(world: World) -> dict:
    """Who was planted slow, and who approves shell clusters' registrations (clear officer ids: truth only)."""
    from creditlake.generate.officials import unit_name

    o = world.officials
    return {"slow_units": sorted(unit_name(d) for d in o.slow_units), "slow_officers": sorted(o.slow_officers),
            "slow_unit_officers": sorted(i for d in o.slow_units for i in o.officers[d]),
            "out_of_pattern_officers": sorted(set(o.complicit.values())),
            "officers": sorted(i for ids in o.officers.values() for i in ids)}


def summarise(world: World) -> dict:
    """Distributions to compare with published figures: shares, survival by age, annual-report filing rate."""
    from creditlake.generate.signals import LATE_FILING, ON_TIME_FILING, unreachable  # noqa: F401

    ents = world.enterprises
    horizon = last_day(world.months[-1])
    alive = [e for e in ents if e.alive(horizon)]
    by_district = Counter(e.district for e in alive)
    by_industry = Counter(e.industry for e in alive)
    survival = {}
    for years in range(1, 6):
        cohort = [e for e in ents if e.established <= date(horizon.year - years, horizon.month, 1)]
        survived = [e for e in cohort if e.deregistered is None
                    or (e.deregistered - e.established).days >= 365 * years]
        survival[str(years)] = round(len(survived) / len(cohort), 4) if cohort else None
    year = horizon.year - 1 if horizon.month >= 7 else horizon.year - 2
    due = [e for e in ents if e.established <= date(year, 12, 31) and e.alive(date(year + 1, 6, 30))]
    filed = 0
    for e in due:
        draw = random.Random(f"{e.uscc}:{year}").random()
        if e.dormant_from is not None and e.dormant_from <= date(year + 1, 6, 30):
            draw = min(draw + 0.5, 0.999)
        if not unreachable(e, date(year + 1, 6, 30)) and draw < ON_TIME_FILING:
            filed += 1
    return {
        "alive_at_end": len(alive),
        "district_share": {k: round(v / len(alive), 4) for k, v in sorted(by_district.items())},
        "industry_share": {k: round(v / len(alive), 4) for k, v in sorted(by_industry.items())},
        "survival_by_age": survival,
        "annual_report_year": year,
        "annual_report_on_time_rate": round(filed / len(due), 4) if due else None,
        "dormant_share": round(sum(1 for e in alive if e.dormant_from is not None) / len(alive), 4),
        "lost_contact": sum(1 for e in ents if e.lost_contact),
    }
