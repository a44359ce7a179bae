"""The dbt project's layers (creditlake.dbt.LAYERS), which the monthly DAG builds one task each, cut its graph:
every node is built in exactly one layer, and nothing reads a later layer. Checked with dbt's own selector
(`dbt ls` with the same selection and indirect selection as `build_layer`), so a model moved to the wrong
folder, or a test joining a later layer, fails here rather than in the night's run."""

from __future__ import annotations

import json

import pytest

from creditlake.dbt import DBT_PROJECT, LAYERS, layer_selection, views_before


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


def _layers(dbt_ls, with_seeds: bool) -> dict[str, str]:
    where: dict[str, str] = {}
    for layer in LAYERS:
        for uid in dbt_ls("--select", *layer_selection(layer, with_seeds), "--indirect-selection", "buildable"):
            assert uid not in where, f"{uid} is built in both {where[uid]} and {layer}"
            where[uid] = layer
    return where


def test_every_node_is_built_in_exactly_one_layer_and_reads_no_later_one(dbt_ls):
    everything = dbt_ls()
    where = _layers(dbt_ls, with_seeds=True)
    assert set(where) == set(everything)
    order = list(LAYERS)
    for uid, layer in where.items():
        for parent in (everything[uid].get("depends_on") or {}).get("nodes", []):
            assert order.index(where[parent]) <= order.index(layer), f"{uid} ({layer}) reads {parent} ({where[parent]})"
    kinds = {(everything[u]["resource_type"], layer) for u, layer in where.items()}
    assert ("unit_test", "intermediate") in kinds and ("unit_test", "marts") in kinds
    assert ("seed", "staging") in kinds and ("test", "marts") in kinds


def test_seeds_unchanged_leave_only_the_seed_tables_out(dbt_ls):
    everything = dbt_ls()
    where = _layers(dbt_ls, with_seeds=False)
    left_out = {u: everything[u]["resource_type"] for u in set(everything) - set(where)}
    assert left_out and set(left_out.values()) == {"seed"}, left_out  # the seeds' own tests still run


def test_a_layer_creates_again_exactly_the_views_of_the_layers_before_it(dbt_ls):
    everything = dbt_ls()
    where = _layers(dbt_ls, with_seeds=True)
    assert views_before("staging") == []
    for i, layer in enumerate(LAYERS):
        if i == 0:
            continue
        views = set(dbt_ls("--select", *views_before(layer), "--resource-type", "model"))  # what `dbt run` runs
        expected = {u for u, n in everything.items() if n["resource_type"] == "model"
                    and n["config"]["materialized"] == "view" and list(LAYERS).index(where[u]) < i}
        assert views == expected and views, layer
