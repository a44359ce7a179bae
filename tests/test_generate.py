"""The generator: deterministic, every delivery follows the landing contract, codes valid, distributions plausible."""

import csv
import hashlib
import io
import json
import random
import re

import pytest

from creditlake.catalogue import load_catalogue
from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.generate import generate_landing
from creditlake.generate.regex_sample import sample

# An independent GB 32100 / GB 11714 check, written from the standard rather than imported from the package.
_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def independent_uscc_ok(code: str) -> bool:
    if not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", code):
        return False
    org_vals = [int(c) if c.isdigit() else ord(c) - 55 for c in code[8:16]]
    c9 = 11 - sum(v * w for v, w in zip(org_vals, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    if code[16] != {10: "X", 11: "0"}.get(c9, str(c9)):
        return False
    total = sum(_ALPHA.index(ch) * (3 ** i % 31) for i, ch in enumerate(code[:17]))
    return code[17] == _ALPHA[(31 - total % 31) % 31]


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    landing = tmp_path_factory.mktemp("gen") / "landing"
    summary = generate_landing(landing, 400, "2024-05", "2024-07", seed=3, fault_rate=0.01, delivery_fault_rate=0.05)
    truth = json.loads((landing.parent / "landing.truth" / "truth.json").read_text(encoding="utf-8"))
    return landing, summary, truth


def test_same_seed_same_bytes(tmp_path):
    args = dict(enterprises=60, start="2024-01", end="2024-02", fault_rate=0.05, delivery_fault_rate=0.1)
    generate_landing(tmp_path / "a" / "landing", seed=5, workers=1, **args)
    generate_landing(tmp_path / "b" / "landing", seed=5, workers=2, **args)
    generate_landing(tmp_path / "c" / "landing", seed=6, **args)
    assert _digest(tmp_path / "a" / "landing") == _digest(tmp_path / "b" / "landing")
    assert _digest(tmp_path / "a" / "landing.truth") == _digest(tmp_path / "b" / "landing.truth")
    assert _digest(tmp_path / "a" / "landing.at_source") == _digest(tmp_path / "b" / "landing.at_source")
    assert _digest(tmp_path / "c" / "landing") != _digest(tmp_path / "a" / "landing")


def test_every_dataset_is_delivered_every_month_in_its_format(zone):
    landing, summary, truth = zone
    broken = {d["delivery"] for d in truth["delivery_faults"]}
    cat = load_catalogue()
    assert summary["datasets"] == len(cat.datasets()) == 101
    for source, ds in cat.datasets():
        root = landing if ds.residency == "lake" else landing.parent / "landing.at_source"  # kept at source
        assert (landing / source.code / ds.code).is_dir() == (ds.residency == "lake")
        for period in ("2024-05", "2024-06", "2024-07"):
            folder = root / source.code / ds.code / period
            manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
            entry = manifest["files"][0]
            data = (folder / entry["name"]).read_bytes()
            if f"{source.code}/{ds.code}/{period}" in broken:
                continue
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert entry["name"].endswith("." + ds.format)
            if ds.format == "csv":
                rows = list(csv.reader(io.StringIO(data.decode(ds.encoding))))
                assert rows[0] == [c.name for c in ds.columns]
                assert len(rows) - 1 == entry["rows"]
            elif ds.format == "jsonl":
                lines = [json.loads(x) for x in data.decode("utf-8").splitlines() if x.strip()]
                assert len(lines) == entry["rows"]
            else:
                from openpyxl import load_workbook

                ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
                assert sum(1 for _ in ws.iter_rows()) - 1 == entry["rows"]


def test_registered_codes_pass_an_independent_gb32100_check(zone):
    landing, _, truth = zone
    bad_rows = {(f["file"], f["row"]) for f in truth["faults"]}
    for f in sorted((landing / "samr" / "registrations").rglob("*.csv")):
        rel = f"samr/registrations/{f.parent.name}/{f.name}"
        for i, row in enumerate(csv.DictReader(io.StringIO(f.read_text(encoding="utf-8"))), start=1):
            if (rel, i) not in bad_rows:
                assert independent_uscc_ok(row["uscc"]), row["uscc"]
                assert row["district_code"] in GUIYANG_DIVISIONS


def test_planted_truth_is_coherent(zone):
    landing, summary, truth = zone
    assert set(truth["lost_contact"]) <= set(truth["dormant"])
    assert truth["lost_contact"] and truth["faults"] and truth["delivery_faults"]
    assert {f["rule"] for f in truth["faults"]} <= {"uscc_check", "code_list", "allowed_values", "range", "type",
                                                    "required", "duplicate"}
    # Returned mail goes mostly to lost-contact enterprises.
    lost = set(truth["lost_contact"])
    returned = []
    for f in (landing / "post" / "returned_mail").rglob("*.csv"):
        returned += [r["uscc"] for r in csv.DictReader(io.StringIO(f.read_bytes().decode("gb18030", "replace")))]
    assert returned and sum(u in lost for u in returned) / len(returned) > 0.5
    # Nothing of the truth is inside the landing zone.
    assert not list(landing.rglob("truth.json"))


def test_distributions_near_published_figures(tmp_path):
    from creditlake.generate.world import build_world
    from creditlake.generate.landing_zone import summarise
    from creditlake.periods import month_range

    world = build_world(20_000, month_range("2023-01", "2024-12"), random.Random(42))
    s = summarise(world)
    # SAIC 2013: about 70% of new enterprises survive 5 years; exits 1.6% / 6.3% / 9.5% in years 1-3.
    assert 0.64 <= s["survival_by_age"]["5"] <= 0.76
    assert 0.97 <= s["survival_by_age"]["1"] <= 0.995
    # Annual-report filing rate: 87.55% (2013), 85.12% (2014).
    assert 0.80 <= s["annual_report_on_time_rate"] <= 0.90
    assert max(s["district_share"], key=s["district_share"].get) in ("520103", "520102")
    assert max(s["industry_share"], key=s["industry_share"].get) == "F"


def test_every_catalogue_pattern_can_be_sampled():
    rng = random.Random(0)
    for _, ds in load_catalogue().datasets():
        for col in ds.columns:
            if col.pattern:
                assert re.search(col.pattern, sample(col.pattern, rng))


def test_only_selects_sources_and_datasets(tmp_path):
    s = generate_landing(tmp_path / "landing", 30, "2024-01", "2024-01", only=["power", "samr/registrations"])
    assert s["datasets"] == 2
    with pytest.raises(ValueError, match="unknown sources or datasets: nope"):
        generate_landing(tmp_path / "x", 30, "2024-01", "2024-01", only=["nope"])


def test_administrative_actions_carry_coherent_times_units_and_planted_officers(tmp_path):
    """The iron cage's inputs: start days before decisions, removals after their listings, and each shell cluster's
    founding registrations approved mostly by its planted officer (docs/iron_cage.md)."""
    landing = tmp_path / "landing"
    generate_landing(landing, 600, "2024-06", "2024-10", seed=11, workers=1,
                     only=["samr/registrations", "samr/penalties", "samr/abnormal_list"])
    truth = json.loads((landing.parent / "landing.truth" / "truth.json").read_text(encoding="utf-8"))

    def rows(dataset):
        return [r for f in sorted((landing / "samr" / dataset).rglob("*.csv"))
                for r in csv.DictReader(io.StringIO(f.read_text(encoding="utf-8")))]

    officers = set(truth["iron_cage"]["officers"])
    regs = [r for r in rows("registrations") if r["applied_on"]]
    assert regs and all(r["applied_on"] <= r["event_date"] and r["approving_officer"] in officers for r in regs)
    assert all(r["registration_authority"].endswith("市场监督管理局") for r in regs)
    pens = rows("penalties")
    assert pens and all(r["case_filed_on"] < r["decided_on"] for r in pens)
    # A few decisions are never published (the iron cage's 逾期未办); the rest after their decision.
    published = [r for r in pens if r["published_on"]]
    assert len(published) >= 0.6 * len(pens) and all(r["decided_on"] <= r["published_on"] for r in published)
    abnormal = rows("abnormal_list")
    listed = {r["decision_no"] for r in abnormal if r["action"] == "列入"}
    removals = [r for r in abnormal if r["action"] == "移出"]
    assert removals and all(r["listed_decision_no"] in listed and r["removal_applied_on"] <= r["action_date"]
                            for r in removals)
    assert all(r["grounds_on"] <= r["action_date"] for r in abnormal if r["action"] == "列入")
    # Every planted out-of-pattern officer approved at least 3 founding registrations of one shell cluster.
    founders = {r["uscc"]: r["approving_officer"] for r in regs if r["event_type"] == "设立"}
    assert truth["shell_clusters"] and truth["iron_cage"]["out_of_pattern_officers"]
    for officer in truth["iron_cage"]["out_of_pattern_officers"]:
        assert any(sum(founders.get(m) == officer for m in c["members"]) >= 3 for c in truth["shell_clusters"])
    # Officer numbers are personal: they are among the clear values the pipeline test looks for in the lake.
    assert set(truth["clear_personal_values"]) & officers


def test_licences_follow_industries_and_the_unlicensed_are_planted(tmp_path):
    """An enterprise of a licensed industry gets its licence 7-45 days after establishment (the first delivery holds
    the register's stock) unless planted unlicensed; the planted ones never hold it (seed licensed_industries)."""
    from datetime import date, timedelta

    from creditlake.generate.world import licensed_industries

    landing = tmp_path / "landing"
    generate_landing(landing, 600, "2024-01", "2024-03", seed=11, workers=1,
                     only=["samr/registrations", "samr/licences"])
    truth = json.loads((landing.parent / "landing.truth" / "truth.json").read_text(encoding="utf-8"))

    def rows(dataset):
        return [r for f in sorted((landing / "samr" / dataset).rglob("*.csv"))
                for r in csv.DictReader(io.StringIO(f.read_text(encoding="utf-8")))]

    needs = licensed_industries()
    assert needs["H"] == "食品经营许可"
    regs = rows("registrations")
    firms = {r["uscc"]: r for r in regs if r["event_type"] == "设立"}
    closed = {r["uscc"]: date.fromisoformat(r["event_date"]) for r in regs if r["event_type"] == "注销"}
    grants: dict[str, list[int]] = {}
    holders = set()
    for r in rows("licences"):
        firm = firms[r["uscc"]]
        if needs.get(firm["industry_code"]) == r["licence_type"]:
            holders.add(r["uscc"])
            if r["action"] == "准予许可":
                grants.setdefault(r["uscc"], []).append(
                    (date.fromisoformat(r["decided_on"]) - date.fromisoformat(firm["established_date"])).days)
    planted = set(truth["licence_missing"])
    assert planted and all(firms[u]["industry_code"] in needs for u in planted)
    assert not planted & holders
    horizon = date(2024, 3, 31)
    due = [u for u, r in firms.items() if r["industry_code"] in needs and u not in planted
           and date.fromisoformat(r["established_date"]) + timedelta(days=45) <= min(horizon, closed.get(u, horizon))]
    assert due and all(len(grants.get(u, [])) == 1 and 7 <= grants[u][0] <= 45 for u in due)
    assert 0.05 <= len(planted) / (len(planted) + len(due)) <= 0.2
