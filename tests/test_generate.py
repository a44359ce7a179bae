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


# Confounders (src/creditlake/generate/confounders.py): firms that look like a planted phenomenon and are not --------

CONFOUNDED = ["samr/registrations", "samr/annual_reports", "samr/abnormal_list", "samr/complaints_12315",
              "post/returned_mail", "power/consumption", "water/accounts", "water/consumption", "gas/accounts",
              "gas/consumption", "tax/filings", "tax/non_filing", "hrss/social_insurance", "bank/accounts",
              "bank/monthly_activity"]
WINDOW = ("2024-01", "2025-06")  # 18 months: last year's same months are in the lake


@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    """600 enterprises over 18 months, the datasets the confounders show in; no faults (every row is the model's)."""
    from creditlake.periods import month_range

    landing = tmp_path_factory.mktemp("confounded") / "landing"
    generate_landing(landing, 600, *WINDOW, seed=13, only=CONFOUNDED)
    truth = json.loads((landing.parent / "landing.truth" / "truth.json").read_text(encoding="utf-8"))
    cat = load_catalogue()
    cache: dict[str, list[dict]] = {}

    def rows(name: str) -> list[dict]:
        """Every row of every delivered month of `source/dataset`, each with the delivery's period as `_month`."""
        if name not in cache:
            source, code = name.split("/")
            ds = cat.dataset(source, code)
            out = []
            for folder in sorted((landing / source / code).iterdir()):
                data = next(folder.glob(f"*.{ds.format}")).read_bytes().decode(ds.encoding)
                found = csv.DictReader(io.StringIO(data)) if ds.format == "csv" else \
                    [json.loads(x) for x in data.splitlines() if x.strip()]
                out += [{**r, "_month": folder.name} for r in found]
            cache[name] = out
        return cache[name]

    return landing, truth, rows, month_range(*WINDOW)


def _by(rows, key="uscc"):
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


def test_short_windows_plant_no_confounders_and_deliver_every_month(zone):
    _, _, truth = zone
    assert truth["confounders"] == {} and truth["late_deliveries"] == []


def test_every_confounder_class_is_planted_named_and_apart(confounded):
    """Each class of confounders.CLASSES has members (at least 8 at 600 enterprises), its list and whether it is a
    planted positive; a member is in one class only and, unless its class says so, is a going concern with no
    planted phenomenon of its own."""
    from creditlake.generate.confounders import CLASSES

    _, truth, rows, months = confounded
    conf = truth["confounders"]
    assert set(conf) == set(CLASSES)
    for name, c in conf.items():
        assert (c["list"], c["planted"]) == CLASSES[name] and len(c["members"]) >= 8, name
    everyone = [u for c in conf.values() for u in c["members"]]
    assert len(everyone) == len(set(everyone))
    lost, dormant = set(truth["lost_contact"]), set(truth["dormant"])
    shell = {m for c in truth["shell_clusters"] for m in c["members"]}
    collapsed = {u for u, _ in truth["utility_collapses"]}
    closed = {r["uscc"] for r in rows("samr/registrations") if r["event_type"] == "注销"}
    for name, c in conf.items():
        members = set(c["members"])
        assert not members & shell, name
        if name == "recently_gone":
            assert members <= lost and all(1 <= truth["lost_contact_from"][u][1] <= 2 for u in members)
        elif name == "stopped_mid_month":
            assert members <= collapsed and members <= dormant and not members & lost
        else:
            assert not members & (lost | dormant | collapsed), name
        if name == "winding_down":
            assert members <= closed and members <= set(truth["deregistered"])
        else:
            assert not members & closed, name


def test_confounded_landing_zones_are_deterministic(tmp_path):
    args = dict(enterprises=200, start="2024-01", end="2024-12", seed=5,
                only=["samr/registrations", "samr/complaints_12315", "power/consumption", "tax/non_filing"])
    generate_landing(tmp_path / "a" / "landing", workers=1, **args)
    generate_landing(tmp_path / "b" / "landing", workers=2, **args)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    truth = json.loads((tmp_path / "a" / "landing.truth" / "truth.json").read_text(encoding="utf-8"))
    assert truth["confounders"] and truth["late_deliveries"] == []  # social insurance and gas not generated


def test_confounders_leave_the_rest_of_the_world_as_it_was():
    from creditlake.generate.world import build_world
    from creditlake.periods import month_range

    months = month_range(*WINDOW)
    plain = build_world(600, months, random.Random(13), confounders=False)
    mixed = build_world(600, months, random.Random(13))
    assert len(mixed.enterprises) == len(plain.enterprises) and mixed.clusters == plain.clusters
    others = [(a, b) for a, b in zip(plain.enterprises, mixed.enterprises) if b.confounder is None]
    assert len(others) >= 400 and all(a == b for a, b in others)
    # The world's own lost-contact firms that went silent late are named, not changed.
    assert all(a.dormant_from == b.dormant_from for a, b in zip(plain.enterprises, mixed.enterprises)
               if a.lost_contact)


def test_bookkeeping_lapsed_files_no_return_for_months_and_runs_on(confounded):
    """No tax return for 2-6 consecutive months (about half to the end), 非正常户 after the third and released when
    it files again; power, staff or bank activity go on in those months and no letter comes back as unreachable."""
    _, truth, rows, months = confounded
    tax, actions = _by(rows("tax/filings")), _by(rows("tax/non_filing"))
    holder = {r["account_no"]: r["uscc"] for r in rows("bank/accounts")}
    power, staff = _by(rows("power/consumption")), _by(rows("hrss/social_insurance"))
    bank = _by([{**r, "uscc": holder[r["account_no"]]} for r in rows("bank/monthly_activity")
                if int(r["transactions"]) > 0])
    mail = _by(rows("post/returned_mail"))
    ongoing = same_month = 0
    for u in truth["confounders"]["bookkeeping_lapsed"]["members"]:
        filed = {r["_month"] for r in tax[u]}
        gap = [i for i, m in enumerate(months) if m not in filed]
        assert 2 <= len(gap) <= 6 and gap == list(range(gap[0], gap[-1] + 1)), (u, gap)
        ongoing += gap[-1] == len(months) - 1
        for i in gap:
            alive = [r for r in power.get(u, []) if r["_month"] == months[i] and float(r["kwh"]) > 0] + \
                [r for r in staff.get(u, []) + bank.get(u, []) if r["_month"] == months[i]]
            assert alive, (u, months[i])
        acts = sorted((r["action_date"], r["action"]) for r in actions.get(u, []))
        if len(gap) >= 3:
            assert acts[0][1] == "认定" and acts[0][0][:7] == months[gap[2]]
            released = [d for d, a in acts if a == "解除"]
            assert bool(released) == (gap[-1] < len(months) - 1)
            assert all(d > acts[0][0] for d in released)
            same_month += any(d[:7] == acts[0][0][:7] for d in released)
        else:
            assert not acts
        assert not [r for r in mail.get(u, []) if r["reason"] in ("查无此单位", "原址无人", "迁移新址不明")]
    members = len(truth["confounders"]["bookkeeping_lapsed"]["members"])
    assert 0.4 * members <= ongoing <= 0.6 * members and same_month >= 1


def test_landlord_metered_firms_have_no_meter_of_their_own(confounded):
    _, truth, rows, months = confounded
    members = set(truth["confounders"]["landlord_metered"]["members"])
    holder = {r["account_no"]: r["uscc"] for name in ("water/accounts", "gas/accounts") for r in rows(name)}
    assert not members & set(holder.values())
    assert not members & {r["uscc"] for r in rows("power/consumption")}
    for name in ("water/consumption", "gas/consumption"):
        assert not members & {holder[r["account_no"]] for r in rows(name)}, name
    tax = _by(rows("tax/filings"))
    assert all(len(tax[u]) == len(months) for u in members)  # an operating firm: a return every month


def test_a_moved_firm_s_mail_comes_back_before_it_registers_its_new_domicile(confounded):
    _, truth, rows, months = confounded
    regs, mail, tax = _by(rows("samr/registrations")), _by(rows("post/returned_mail")), _by(rows("tax/filings"))
    moved_district = 0
    for u in truth["confounders"]["moved"]["members"]:
        founded = next(r for r in regs[u] if r["event_type"] == "设立")
        change = max((r for r in regs[u] if r["event_type"] == "变更" and r["event_date"] >= f"{months[0]}-01"),
                     key=lambda r: r["event_date"])
        assert change["address"] != founded["address"] and change["uscc"] == u
        moved_district += change["district_code"] != founded["district_code"]
        back = [r for r in mail[u] if r["reason"] in ("迁移新址不明", "查无此单位")]
        assert back and all(r["address"] == founded["address"] and r["sent_on"] < change["event_date"] for r in back)
        first_back = min(r["_month"] for r in back)
        assert 1 <= months.index(change["event_date"][:7]) - months.index(first_back) <= 3
        assert len(tax[u]) == len(months)  # operating all along
    assert moved_district >= 1


def test_the_late_delivery_is_not_delivered_at_all(confounded):
    landing, truth, rows, months = confounded
    assert ["hrss", "social_insurance", months[-1]] in truth["late_deliveries"]
    for source, code, period in truth["late_deliveries"]:
        assert not (landing / source / code / period).exists()
        assert (landing / source / code / months[-2] / "_manifest.json").exists()


def test_annual_report_late_firms_are_listed_in_july_but_reachable(confounded):
    """Missed the 30 June 2024 deadline for the 2023 report and listed in July, yet filing taxes (one month missed
    at most) and reachable by mail."""
    _, truth, rows, months = confounded
    listed = {r["uscc"] for r in rows("samr/abnormal_list")
              if r["action"] == "列入" and r["reason"] == "未按规定期限公示年度报告" and r["_month"] == "2024-07"}
    on_time = {r["uscc"] for r in rows("samr/annual_reports") if r["report_year"] == "2023"
               and r["is_filed_on_time"] == "true"}
    tax, mail = _by(rows("tax/filings")), _by(rows("post/returned_mail"))
    for u in truth["confounders"]["annual_report_late"]["members"]:
        assert u in listed and u not in on_time
        assert len(tax[u]) >= len(months) - 1  # at most one return missed
        assert not [r for r in mail.get(u, []) if r["reason"] in ("查无此单位", "原址无人", "迁移新址不明")]


def test_corporate_groups_share_a_head_office_a_legal_representative_and_a_trade_name(confounded):
    from datetime import date

    _, truth, rows, months = confounded
    latest = {}
    for r in sorted(rows("samr/registrations"), key=lambda r: r["event_date"]):
        latest[r["uscc"]] = r
    groups = truth["confounders"]["corporate_group"]["groups"]
    assert sum(len(g["members"]) for g in groups) == len(truth["confounders"]["corporate_group"]["members"])
    for g in groups:
        recs = [latest[u] for u in g["members"]]
        assert {r["address"] for r in recs} == {g["address"]}
        assert len({(r["legal_rep_name"], r["legal_rep_id_no"]) for r in recs}) == 1
        assert all(g["trade_name"] in r["name"] for r in recs) and any("集团" in r["name"] for r in recs)
        founded = sorted(date.fromisoformat(r["established_date"]) for r in recs)[1:]  # the parent is older
        assert len(founded) >= 5 and (founded[-1] - founded[0]).days <= 42


def test_business_centres_and_registration_agents_gather_unrelated_firms(confounded):
    from datetime import date

    _, truth, rows, months = confounded
    latest = {}
    for r in sorted(rows("samr/registrations"), key=lambda r: r["event_date"]):
        latest[r["uscc"]] = r
    for g in truth["confounders"]["business_centre"]["groups"]:
        recs = [latest[u] for u in g["members"]]
        assert len(recs) >= 8 and all(r["address"].startswith(g["address"]) for r in recs)
        assert len({r["legal_rep_id_no"] for r in recs}) == len(recs)
        assert len({r["contact_phone"] for r in recs}) == len(recs)
        days = sorted(date.fromisoformat(r["established_date"]) for r in recs)
        assert (days[-1] - days[0]).days >= 365  # registered over years, not within weeks
    for g in truth["confounders"]["registration_agent"]["groups"]:
        recs = [latest[u] for u in g["members"]]
        assert len(recs) >= 8 and len({r["contact_phone"] for r in recs}) == 1
        assert len({r["address"] for r in recs}) == len(recs)
        assert len({r["legal_rep_id_no"] for r in recs}) == len(recs)


def test_large_consumer_facing_firms_are_complained_about_every_month(confounded):
    from creditlake.generate.confounders import COMPLAINT_PEAKS, CONSUMER_FACING

    _, truth, rows, months = confounded
    per = {}
    for r in rows("samr/complaints_12315"):
        per[(r["uscc"], r["_month"])] = per.get((r["uscc"], r["_month"]), 0) + 1
    latest = {r["uscc"]: r for r in rows("samr/registrations")}
    surges = {tuple(x) for x in truth["complaint_surges"]}
    for u in truth["confounders"]["large_consumer_facing"]["members"]:
        assert latest[u]["industry_code"] in CONSUMER_FACING
        counts = [per.get((u, m), 0) for m in months if (u, m) not in surges]
        assert sum(c > 0 for c in counts) >= len(counts) - 1 and sum(counts) / len(counts) >= 8, (u, counts)
        for _, m in [s for s in surges if s[0] == u]:
            assert per.get((u, m), 0) > 2 * sum(counts) / len(counts)  # a surge against its own level
    for u in truth["confounders"]["seasonal_complaints"]["members"]:
        peaks = COMPLAINT_PEAKS[latest[u]["industry_code"]]
        peak = [per.get((u, m), 0) for m in months if int(m[5:]) in peaks]
        rest = [per.get((u, m), 0) for m in months if int(m[5:]) not in peaks]
        assert sum(peak) / len(peak) > 3 * max(sum(rest) / len(rest), 0.5), (u, peak, rest)


def _kwh(rows, months):
    """uscc -> month -> kWh summed over its accounts (None where no row)."""
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        out.setdefault(r["uscc"], {}).setdefault(r["_month"], 0.0)
        out[r["uscc"]][r["_month"]] += float(r["kwh"])
    return out


def test_seasonal_businesses_fall_in_the_same_months_every_year(confounded):
    _, truth, rows, months = confounded
    kwh = _kwh(rows("power/consumption"), months)
    for u in truth["confounders"]["seasonal_business"]["members"]:
        use = kwh[u]
        high = sorted(use.values())[len(use) // 2]
        low = {m for m, v in use.items() if v < 0.25 * high}
        calendar = {m[5:] for m in low}
        assert 2 <= len(calendar) <= 4, (u, sorted(low))
        # The same calendar months in both years wherever the window holds them twice, and back up after.
        assert all(f"2024-{c}" in low and f"2025-{c}" in low for c in calendar if c <= "06"), (u, sorted(low))
        assert any(m > max(low) for m in use) or max(low) == months[-1]


def test_construction_sites_stop_while_the_firm_operates_on(confounded):
    _, truth, rows, months = confounded
    tax, site = _by(rows("tax/filings")), {}
    for r in rows("power/consumption"):
        if r["account_no"].startswith("PT"):
            site.setdefault(r["uscc"], {})[r["_month"]] = float(r["kwh"])
    closed = 0
    for u in truth["confounders"]["construction_site"]["members"]:
        use = site[u]
        running = [m for m in months if use.get(m, 0) >= 1000]
        end = running[-1]
        after = [m for m in months if m > end]
        assert running == months[:len(running)] and len(running) >= 4 and after
        assert all(use.get(m, 0) < 0.05 * use[months[0]] for m in after[1:])
        closed += all(m not in use for m in after[1:])
        assert {r["_month"] for r in tax[u]} == set(months)
    assert closed >= 1


def test_winding_down_falls_for_months_then_deregisters(confounded):
    _, truth, rows, months = confounded
    kwh = _kwh(rows("power/consumption"), months)
    regs = _by(rows("samr/registrations"))
    for u in truth["confounders"]["winding_down"]["members"]:
        closed = next(r["event_date"][:7] for r in regs[u] if r["event_type"] == "注销")
        use = [kwh[u][m] for m in months if m <= closed]
        base = sum(use[:3]) / 3
        assert use[-2] < 0.5 * base and use[-1] < 0.3 * base, (u, use)
        assert all(m <= closed for m in kwh[u])


def test_stopped_mid_month_uses_about_half_then_nothing(confounded):
    _, truth, rows, months = confounded
    kwh = _kwh(rows("power/consumption"), months)
    stops = {u: m for u, m in truth["utility_collapses"]}
    for u in truth["confounders"]["stopped_mid_month"]["members"]:
        i = months.index(stops[u])
        before = sum(kwh[u][m] for m in months[i - 3:i]) / 3
        assert 800 <= before <= 2200 and 0.15 * before <= kwh[u][months[i]] < before, (u, kwh[u])
        assert kwh[u][months[i + 1]] < 0.05 * before


def test_recently_gone_firms_show_only_their_first_signs(confounded):
    _, truth, rows, months = confounded
    tax, mail = _by(rows("tax/filings")), _by(rows("post/returned_mail"))
    listed = {r["uscc"] for r in rows("samr/abnormal_list") if r["reason"] == "通过登记的住所或者经营场所无法联系"}
    for u in truth["confounders"]["recently_gone"]["members"]:
        gone = truth["lost_contact_from"][u][1]
        filed = {r["_month"] for r in tax.get(u, [])}
        assert not filed & set(months[-gone:]) and months[-gone - 1] in filed
        assert u not in listed
        assert all(r["_month"] in months[-gone:] for r in mail.get(u, []) if r["reason"] != "拒收")


def _delivered_text(path, encoding: str) -> str:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        return " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    return path.read_bytes().decode(encoding, errors="replace")


def test_well_documented_firms_appear_in_every_periodic_delivery_of_the_generic_datasets(zone):
    """One firm per 500 (at least one) has records everywhere, so the enterprise profile has a whole one to show."""
    from creditlake.catalogue import load_catalogue
    from creditlake.generate.generic import appears
    from creditlake.generate.signals import MODELS

    landing, _, truth = zone
    assert len(truth["documented"]) == 1
    firm = truth["documented"][0]
    checked = 0
    for source, dataset in load_catalogue().datasets():
        if (source.code, dataset.code) in MODELS or dataset.residency != "lake" or not dataset.links_to_enterprise \
                or dataset.cadence in ("event", "daily"):
            continue
        for period in ("2024-05", "2024-06", "2024-07"):
            folder = landing / source.code / dataset.code / period
            if not appears(dataset, period) or not folder.is_dir():
                continue
            text = "".join(_delivered_text(p, dataset.encoding) for p in folder.iterdir() if p.name != "_manifest.json")
            assert firm in text, f"{source.code}/{dataset.code}/{period}"
            checked += 1
    assert checked > 60
