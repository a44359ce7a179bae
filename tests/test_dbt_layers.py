"""The dbt project's layers (creditlake.dbt.LAYERS), which the monthly DAG builds one task each, cut its graph:
every node is built in exactly one layer, and nothing reads a later layer. Checked with dbt's own selector
(`dbt ls` with the same selection and indirect selection as `build_layers`), so a model moved to the wrong
folder, or a test joining a later layer, fails here rather than in the night's run."""

from __future__ import annotations

import json

import pytest

from creditlake.dbt import DBT_PROJECT, LAYERS, build_layers, layer_selection, views_before
from creditlake.settings import Settings


@pytest.fixture(scope="module")
def dbt_ls(tmp_path_factory):
    from dbt.cli.main import dbtRunner

    target = tmp_path_factory.mktemp("dbt-ls")

    def ls(*selection: str) -> dict[str, dict]:
        res = dbtRunner().invoke([
            "ls", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--quiet",
            "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
            "--output", "json", "--output-keys", "unique_id", "resource_type", "depends_on", "config", *selection])
        assert res.success, res.exception
        return {node["unique_id"]: node for node in map(json.loads, res.result)}

    return ls


@pytest.fixture(scope="module")
def everything(dbt_ls) -> dict[str, dict]:
    return dbt_ls()


def _layers(dbt_ls, with_seeds: bool) -> dict[str, str]:
    """Each node dbt selects for a layer -> that layer; a node selected twice fails."""
    where: dict[str, str] = {}
    for layer in LAYERS:
        for uid in dbt_ls("--select", *layer_selection(layer, with_seeds), "--indirect-selection", "buildable"):
            assert uid not in where, f"{uid} is built in both {where[uid]} and {layer}"
            where[uid] = layer
    return where


@pytest.fixture(scope="module")
def where(dbt_ls) -> dict[str, str]:
    return _layers(dbt_ls, with_seeds=True)


def test_every_node_is_built_in_exactly_one_layer_and_reads_no_later_one(everything, where):
    assert set(where) == set(everything)
    order = list(LAYERS)
    for uid, layer in where.items():
        for parent in (everything[uid].get("depends_on") or {}).get("nodes", []):
            assert order.index(where[parent]) <= order.index(layer), f"{uid} ({layer}) reads {parent} ({where[parent]})"
    kinds = {(everything[u]["resource_type"], layer) for u, layer in where.items()}
    assert ("unit_test", "intermediate") in kinds and ("unit_test", "marts") in kinds
    assert ("seed", "staging") in kinds and ("test", "marts") in kinds


def test_seeds_unchanged_leave_only_the_seed_tables_out(dbt_ls, everything):
    left_out = {u: everything[u]["resource_type"] for u in set(everything) - set(_layers(dbt_ls, with_seeds=False))}
    assert left_out and set(left_out.values()) == {"seed"}, left_out  # the seeds' own tests still run


def test_a_layer_creates_again_exactly_the_views_of_the_layers_before_it(dbt_ls, everything, where):
    assert views_before("staging") == []
    for i, layer in enumerate(LAYERS):
        if i == 0:
            continue
        views = set(dbt_ls("--select", *views_before(layer), "--resource-type", "model"))  # what `dbt run` runs
        expected = {u for u, n in everything.items() if n["resource_type"] == "model"
                    and n["config"]["materialized"] == "view" and list(LAYERS).index(where[u]) < i}
        assert views == expected and views, layer


@pytest.mark.parametrize("layers", [["staging", "marts"], ["marts", "intermediate"], ["gold"]])
def test_only_consecutive_known_layers_are_built_together(tmp_path, layers):
    with pytest.raises(ValueError, match="consecutive"):
        build_layers(None, Settings(home=tmp_path), layers)
