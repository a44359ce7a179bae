"""Run the dbt project in-process (dbt-spark session mode) on the lake's SparkSession."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from creditlake.lake import is_built_from, record_built_from, table_version
from creditlake.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)
DBT_PROJECT = REPO_ROOT / "dbt_project"

class DbtError(RuntimeError):
    """dbt build failed; the message names the failed nodes."""


@dataclass
class DbtResult:
    command: str
    nodes: int
    failed: list[str]


def dbt_owned_tables() -> set[str]:
    """The names of the tables dbt builds (models and seeds); views live in the in-memory `staging` schema."""
    names = {p.stem for p in (DBT_PROJECT / "models").rglob("*.sql")}
    return names | {p.stem for p in (DBT_PROJECT / "seeds").glob("*.csv")}


def clear_uncommitted(settings: Settings) -> list[str]:
    """Remove dbt's table folders that hold no Delta log: debris of a run killed while creating the table, which
    would make `CREATE TABLE` fail on a non-empty location. Without a log nothing was committed, so nothing is lost."""
    import shutil

    removed = []
    owned = dbt_owned_tables()
    for layer in ("silver", "gold"):
        base = settings.lake / layer
        if not base.is_dir():
            continue
        for folder in base.iterdir():
            if folder.is_dir() and folder.name in owned and not (folder / "_delta_log").is_dir():
                shutil.rmtree(folder)
                removed.append(f"{layer}/{folder.name}")
    if removed:
        log.warning("removed uncommitted table folders left by a killed run: %s", ", ".join(removed))
    return removed


def clear_repartitioned(spark, settings: Settings) -> list[str]:
    """Remove the table of an incremental model whose partition columns are not those its config declares now (a
    lake built when the model was a plain table): dbt's insert_overwrite cannot write month partitions into it, and
    the model's next build makes it again, whole. Derived data only: nothing delivered is lost."""
    import re
    import shutil

    removed = []
    for path in (DBT_PROJECT / "models").rglob("*.sql"):
        declared = re.search(r"partition_by=\[([^\]]*)\]", path.read_text(encoding="utf-8"))
        if not declared:
            continue
        wanted = [c.strip(" '\"") for c in declared.group(1).split(",") if c.strip()]
        for layer in ("silver", "gold"):
            folder = settings.lake / layer / path.stem
            if not (folder / "_delta_log").is_dir():
                continue
            actual = spark.sql(f"DESCRIBE DETAIL delta.`{folder}`").first()["partitionColumns"]
            if list(actual) != wanted:
                spark.sql(f"DROP TABLE IF EXISTS {layer}.{path.stem}")
                shutil.rmtree(folder)
                removed.append(f"{layer}/{path.stem}")
    if removed:
        log.warning("rebuilding whole the incremental tables built before they were partitioned by month: %s",
                    ", ".join(removed))
    return removed


def seeds_digest() -> str:
    """A digest of the seed files and the project file (which sets the seeds' schema and format)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((DBT_PROJECT / "seeds").iterdir()) + [DBT_PROJECT / "dbt_project.yml"]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _seeds_marker(settings: Settings):
    return settings.lake / "silver" / "_dbt_seeds.sha256"


def seeds_loaded(settings: Settings) -> bool:
    """True when every seed table is in the lake and was loaded from the seed files as they are now."""
    marker = _seeds_marker(settings)
    tables = [settings.lake / "silver" / p.stem for p in (DBT_PROJECT / "seeds").glob("*.csv")]
    return (marker.is_file() and marker.read_text().strip() == seeds_digest()
            and all((t / "_delta_log").is_dir() for t in tables))


# The project's layers in build order: its folders, each reading only itself and the layers before it
# (tests/test_dbt_layers.py checks that every node is built in exactly one layer and that no model reads a later
# one). The monthly DAG builds each layer in its own Airflow task, so a failure stops at its layer, a retry
# rebuilds that layer only, and the UI shows how far gold got. A test belongs to the layer of the last of its
# parents (dbt's "buildable" indirect selection), so a test joining two layers runs once both are built.
LAYERS: dict[str, tuple[str, ...]] = {
    "staging": ("path:seeds", "path:models/staging"),        # seeds; views over silver and the reference tables
    "facts": ("path:models/silver",),                        # the silver facts (fct_*), Delta tables
    "intermediate": ("path:models/intermediate",),           # enterprise-months, signals, calendars
    "marts": ("path:models/marts", "path:tests", "path:models/_exposures.yml"),  # gold marts, invariants
}
LAYER_DOCS = {
    "staging": "Seeds (when changed) and the staging views over silver, with their tests. 种子表与暂存视图。",
    "facts": "The silver facts (fct_*) as Delta tables, from the staging views. 银层事实表。",
    "intermediate": "Enterprise-months, activity signals and calendars, with their data tests. 中间层。",
    "marts": "The gold marts (activity index, indicators, lost contact, warnings, profiles) and the cross-mart "
             "invariants; incremental marts recompute the run's months and later ones. 金层集市。",
}


def run_dbt(spark, settings: Settings, command: str = "build", extra: list[str] | None = None,
            what: str | None = None) -> DbtResult:
    """Run `dbt <command>` on the given (already configured) SparkSession; raise DbtError, naming `what` (default:
    the command) and the failed nodes, on failure.

    dbt-spark's session method calls SparkSession.builder.getOrCreate(), which returns `spark`:
    Delta, jars and the lake's catalog are already there.
    """
    from dbt.cli.main import dbtRunner

    assert spark is not None  # the session must exist before dbt asks for it
    clear_uncommitted(settings)
    args = [
        *command.split(),  # "build", or "docs generate"
        "--project-dir", str(DBT_PROJECT),
        "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(settings.home / "dbt" / "target"),
        "--log-path", str(settings.logs / "dbt"),
        *(extra or []),
    ]
    res = dbtRunner().invoke(args)
    drop_staging_views(spark)
    results = list(res.result or []) if hasattr(res.result, "__iter__") else []
    failed = [r.node.unique_id for r in results if str(getattr(r, "status", "")) in ("error", "fail")]
    if not res.success:
        detail = ", ".join(failed) or (str(res.exception) if res.exception else "see " + str(settings.logs / "dbt"))
        raise DbtError(f"dbt {what or command} failed: {detail}")
    return DbtResult(command, len(results), failed)


def drop_staging_views(spark) -> list[str]:
    """Drop the temporary views dbt-spark's incremental models stage their new rows in (`<model>__dbt_tmp`).

    dbt leaves them in the session; one long-lived session would keep each one's plan, and `SHOW TABLES IN <schema>`
    lists them beside the lake's tables, naming a table that cannot be read."""
    dropped = [t.name for t in spark.catalog.listTables() if t.isTemporary and t.name.endswith("__dbt_tmp")]
    for name in dropped:
        spark.catalog.dropTempView(name)
    return dropped


def layer_selection(layer: str, with_seeds: bool = True) -> list[str]:
    """dbt's `--select` for one layer; without seeds, the seeds' tests still run (the seed tables are not rewritten)."""
    if layer not in LAYERS:
        raise ValueError(f"unknown dbt layer {layer!r}: one of {', '.join(LAYERS)}")
    return [s if with_seeds or s != "path:seeds" else "resource_type:test,path:seeds" for s in LAYERS[layer]]


def views_before(layer: str) -> list[str]:
    """dbt's `--select` for the views of the layers before `layer` (empty for the first layer)."""
    earlier = list(LAYERS)[:list(LAYERS).index(layer)]
    return [f"{s},config.materialized:view" for name in earlier for s in LAYERS[name] if s.startswith("path:models")]


def build_layers(spark, settings: Settings, layers: list[str] | None = None,
                 extra: list[str] | None = None) -> DbtResult:
    """One `dbt build` of consecutive layers (default: all, the whole project) in this process, after creating
    again the views of the layers before them.

    Tables are in the lake, and every process registers them; views live in the in-memory catalog of the process
    that made them, so a task that starts at a later layer first creates the views it reads (a few seconds: no
    data moves). Seeds (reference tables from CSV files) are reloaded only when a seed file changed: each load
    rewrites a Delta table, and every monthly run and backfill month would otherwise pay for it. The rules' unit
    tests (`run_unit_tests`) check the code, not the data: they run in CI and after a change, not in every build
    (dbt's own advice; they were a third of the marts task's time at the tests' size)."""
    names = list(LAYERS)
    layers = layers or names
    start = names.index(layers[0]) if layers[0] in names else -1
    if start < 0 or layers != names[start:start + len(layers)]:
        raise ValueError(f"dbt layers must be consecutive ones of {', '.join(names)}, in that order: "
                         f"got {', '.join(layers)}")
    extra = list(extra or [])
    label = "layer " + layers[0] if len(layers) == 1 else "layers " + "..".join((layers[0], layers[-1]))
    inputs = gold_inputs(settings, layers, extra)
    if is_built_from(f"gold.{'-'.join(layers)}", inputs, settings=settings):
        log.info("dbt build of %s skipped: no table it reads and no file of the project changed since", label)
        return DbtResult("build", 0, [])
    if views := views_before(layers[0]):
        started = time.monotonic()
        created = run_dbt(spark, settings, "run", [*extra, "--select", *views],
                          what=f"run of the views before {label}")
        log.info("%s: %d views of the layers before created in %.1f s", label, created.nodes,
                 time.monotonic() - started)
    clear_repartitioned(spark, settings)  # once per build, not per dbt command (a Delta read per incremental model)
    seeds_unchanged = "staging" in layers and seeds_loaded(settings)
    with_seeds = "staging" in layers and not seeds_unchanged
    digest = seeds_digest()
    selection = [s for layer in layers for s in layer_selection(layer, with_seeds)]
    result = run_dbt(spark, settings, "build", [*extra, "--select", *selection, "--indirect-selection", "buildable",
                                                "--exclude-resource-type", "unit_test"], what=f"build of {label}")
    if with_seeds:
        _seeds_marker(settings).write_text(digest + "\n")
    log.info("dbt build of %s: %d nodes%s", label, result.nodes,
             " (seeds unchanged, not reloaded)" if seeds_unchanged else "")
    if not result.failed:
        record_built_from(f"gold.{'-'.join(layers)}", gold_inputs(settings, layers, extra), settings)
    return result


def run_unit_tests(spark, settings: Settings) -> DbtResult:
    """The dbt unit tests (each rule on tiny frames given in YAML), after creating again the views they read the
    columns of: what a change to a model is checked with (tests/test_gold.py runs them all)."""
    run_dbt(spark, settings, "run", ["--select", *views_before("marts")], what="run of the views the unit tests read")
    return run_dbt(spark, settings, "test", ["--select", "test_type:unit"], what="unit tests")


def gold_inputs(settings: Settings, layers: list[str], extra: list[str]) -> dict:
    """What a gold build reads: every silver and ops table dbt does not build itself (versions), the project's
    files, the build's arguments and which of the layers' own tables exist. The same inputs again (a rerun with
    nothing new delivered) need no build."""
    import hashlib

    owned = dbt_owned_tables()
    versions = {f"{layer}.{t.name}": table_version(layer, t.name, settings)
                for layer in ("silver", "ops") if (settings.lake / layer).is_dir()
                for t in sorted((settings.lake / layer).iterdir()) if t.is_dir() and t.name not in owned}
    digest = hashlib.sha256()
    for path in sorted(p for p in DBT_PROJECT.rglob("*") if p.is_file()
                       and not {"target", "logs", "dbt_packages"} & set(p.relative_to(DBT_PROJECT).parts)):
        digest.update(str(path.relative_to(DBT_PROJECT)).encode() + b"\0" + path.read_bytes() + b"\0")
    # The layers' own tables present in the lake: one removed since is built again.
    own = sorted({p.stem for layer in layers for sel in LAYERS[layer] if sel.startswith("path:")
                  for p in (DBT_PROJECT / sel.removeprefix("path:")).rglob("*") if p.suffix in (".sql", ".csv")
                  for base in ("silver", "gold") if (settings.lake / base / p.stem / "_delta_log").is_dir()})
    return {"tables": versions, "own": own, "project": digest.hexdigest()[:16], "layers": layers, "args": extra}
