"""The full source catalogue: 38 departments and 4 utilities, linked, pseudonymised, documented (no Spark)."""

import re
from datetime import date

import pytest

from creditlake.catalogue import load_catalogue
from creditlake.sources_doc import SOURCES_MD, render_sources_md

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
SPINE = ("samr", "registrations")


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def _columns(cat):
    return [(s, d, c) for s, d in cat.datasets() for c in d.columns]


def test_catalogue_has_38_departments_and_4_utilities(cat):
    kinds = [s.kind for s in cat.sources]
    assert kinds.count("department") == 38
    assert kinds.count("utility") == 4
    assert {s.code for s in cat.sources if s.kind == "utility"} == {"water", "power", "gas", "bank"}
    assert len({s.code for s in cat.sources}) == len(cat.sources)
    assert all(SNAKE.match(s.code) for s in cat.sources)


def test_every_source_has_datasets_with_unique_snake_case_names(cat):
    for s in cat.sources:
        assert s.datasets, s.code
        assert len({d.code for d in s.datasets}) == len(s.datasets), s.code
        for d in s.datasets:
            assert SNAKE.match(d.code), (s.code, d.code)
            names = [c.name for c in d.columns]
            assert len(set(names)) == len(names), (s.code, d.code)
            assert all(SNAKE.match(n) for n in names), (s.code, d.code, names)
            assert d.description and d.name_zh and d.name_en, (s.code, d.code)


def test_every_dataset_links_to_the_enterprise(cat):
    for s, d in cat.datasets():
        if (s.code, d.code) == SPINE:  # the registrations are the enterprises themselves, keyed on uscc
            assert d.column(d.key).check == "uscc"
            continue
        assert d.links_to_enterprise or d.links_via, f"{s.code}/{d.code} has no link to the enterprise"
        if d.links_to_enterprise:
            assert d.column(d.links_to_enterprise).check == "uscc", f"{s.code}/{d.code}"
            assert not d.column(d.links_to_enterprise).nullable, f"{s.code}/{d.code}"


def test_water_gas_and_bank_readings_link_through_their_accounts(cat):
    for source, readings in [("water", "consumption"), ("gas", "consumption"), ("bank", "monthly_activity")]:
        d = cat.dataset(source, readings)
        assert d.links_via is not None and d.links_via.dataset == "accounts" and d.links_via.column == "account_no"
        accounts = cat.dataset(source, "accounts")
        assert accounts.links_to_enterprise == "uscc" and accounts.unique == ["account_no"]
        # Pseudonymised on one side only would break the join.
        assert d.column("account_no").pseudonymise == accounts.column("account_no").pseudonymise


def test_personal_columns_are_pseudonymised(cat):
    personal = [(s.code, d.code, c.name) for s, d, c in _columns(cat) if c.sensitivity == "personal"]
    assert personal
    for s, d, c in _columns(cat):
        if c.sensitivity == "personal":
            assert c.pseudonymise, (s.code, d.code, c.name)
    # Enterprise bank account numbers are pseudonymised too.
    assert cat.dataset("bank", "accounts").column("account_no").pseudonymise


def test_some_data_is_secret(cat):
    secret = {(s.code, d.code) for s, d, c in _columns(cat) if c.sensitivity == "secret"}
    assert {("tax", "non_filing"), ("pboc", "loan_defaults"), ("bank", "monthly_activity")} <= secret


def test_uscc_columns_are_checked(cat):
    for s, d, c in _columns(cat):
        if c.name == "uscc" or c.name.endswith("_uscc"):
            assert c.check == "uscc", (s.code, d.code, c.name)


def test_every_period_column_has_the_period_pattern(cat):
    periods = [(s, d, c) for s, d, c in _columns(cat) if c.name == "period"]
    assert len(periods) > 10
    for s, d, c in periods:
        assert c.type == "string" and c.pattern == PERIOD_PATTERN, (s.code, d.code)
    rx = re.compile(PERIOD_PATTERN)
    assert rx.match("2024-06") and not rx.match("2024-13") and not rx.match("2024-6")


def test_every_pattern_compiles(cat):
    for s, d, c in _columns(cat):
        if c.pattern:
            re.compile(c.pattern)


@pytest.mark.parametrize(
    ("source", "dataset", "column", "good", "bad"),
    [
        ("court", "judgments", "case_no",
         ["(2024)黔01民初1234号", "（2023）黔0102民初56号", "(2022)黔01民终7号之一"],
         ["2024黔01民初1234号", "(2024)京01民初1号"]),
        ("court", "dishonest_debtors", "case_no",
         ["(2024)黔01执1234号", "（2023）黔0111执恢12号"], ["(2024)黔01民初1号"]),
        ("ndrc", "project_filings", "project_code", ["2024-520115-36-03-012345"], ["2024-5201-36-03-012345"]),
        ("sci", "high_tech_certificates", "certificate_no", ["GR202352000123"], ["GR20235200012"]),
        ("customs", "declarations", "hs_chapter", ["01", "85", "97"], ["00", "98", "1"]),
    ],
)
def test_patterns_accept_real_values(cat, source, dataset, column, good, bad):
    rx = re.compile(cat.dataset(source, dataset).column(column).pattern)
    assert all(rx.match(v) for v in good)
    assert not any(rx.match(v) for v in bad)


def test_unique_columns_are_not_nullable(cat):
    for s, d in cat.datasets():
        for name in d.unique:
            assert not d.column(name).nullable, f"{s.code}/{d.code}: unique column {name} is nullable"


def test_code_lists_and_bounds_are_well_formed(cat):
    for s, d, c in _columns(cat):
        if c.allowed is not None:
            assert c.allowed and len(set(c.allowed)) == len(c.allowed), (s.code, d.code, c.name)
        for bound in (c.min, c.max):
            if bound is None:
                continue
            if c.type == "date":
                assert isinstance(bound, str), (s.code, d.code, c.name)
                date.fromisoformat(bound)
            else:
                assert c.type in ("int", "decimal") and isinstance(bound, float), (s.code, d.code, c.name)
        if c.min is not None and c.max is not None:
            lo, hi = (date.fromisoformat(c.min), date.fromisoformat(c.max)) if c.type == "date" else (c.min, c.max)
            assert lo <= hi, (s.code, d.code, c.name)


def test_formats_and_encodings(cat):
    datasets = [d for _, d in cat.datasets()]
    assert {d.format for d in datasets} == {"csv", "jsonl", "xlsx"}
    assert {d.encoding for d in datasets} == {"utf-8", "gb18030"}
    # GB18030 applies to CSV only: JSON Lines are UTF-8 by definition and xlsx carries its own encoding.
    assert all(d.encoding == "utf-8" for d in datasets if d.format != "csv")
    assert 80 <= len(datasets) <= 110


def test_sources_md_is_generated_from_the_catalogue(cat):
    assert SOURCES_MD.read_text(encoding="utf-8") == render_sources_md(cat), (
        "run `uv run python -m creditlake.sources_doc` to regenerate docs/sources.md")


def test_sources_md_is_deterministic_and_counts(cat):
    text = render_sources_md(cat)
    assert text == render_sources_md(load_catalogue())
    assert "| departments | 38 |" in text and "| utilities | 4 |" in text
    assert f"| datasets | {len(cat.datasets())} |" in text
    assert "uv run python -m creditlake.sources_doc" in text
