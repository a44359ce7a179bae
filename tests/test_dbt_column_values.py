"""A model's not-null, accepted-values and range checks are one `column_values` test (one scan of the model), not
one dbt test (one Spark query) per column and check; each column it names is a documented column (a seed's: a CSV
header)."""

from __future__ import annotations

import csv

import yaml

from creditlake.dbt import DBT_PROJECT

PER_COLUMN = {"not_null", "accepted_values", "between"}


def _nodes():
    for path in [*sorted((DBT_PROJECT / "models").rglob("*.yml")), DBT_PROJECT / "seeds" / "_seeds.yml"]:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind in ("models", "seeds"):
            for node in doc.get(kind) or []:
                yield kind, node


def _name(test) -> str:
    return test if isinstance(test, str) else next(iter(test))


def test_column_checks_are_one_column_values_test_per_model_on_its_columns():
    merged = 0
    for kind, node in _nodes():
        for column in node.get("columns") or []:
            plain = [t for t in column.get("data_tests") or [] if _name(t) in PER_COLUMN
                     and set(t[_name(t)] if isinstance(t, dict) else {}) <= {"arguments"}]
            assert not plain, f"{node['name']}.{column['name']}: put {plain} in the model's column_values test"
        tests = [t["column_values"] for t in node.get("data_tests") or [] if _name(t) == "column_values"]
        assert len(tests) <= 1, node["name"]
        if not tests:
            continue
        merged += 1
        args = tests[0]["arguments"]
        named = {*args.get("not_null", []), *args.get("accepted_values", {}), *args.get("between", {})}
        if kind == "seeds":
            with open(DBT_PROJECT / "seeds" / f"{node['name']}.csv", encoding="utf-8", newline="") as f:
                columns = set(next(csv.reader(f)))
        else:
            columns = {c["name"] for c in node.get("columns") or []}
        assert named <= columns, f"{node['name']}: column_values names unknown columns {named - columns}"
        assert all(len(bounds) == 2 for bounds in args.get("between", {}).values()), node["name"]
    assert merged >= 20
