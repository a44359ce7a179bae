"""Run the dbt project in-process (dbt-spark session mode) on the lake's SparkSession."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from creditlake.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)
DBT_PROJECT = REPO_ROOT / "dbt_project"
# What `dbt build` builds besides seeds; selected by type when the seeds are already loaded (seeds_loaded).
BUILT_WITHOUT_SEEDS = ("model", "test", "unit_test", "snapshot", "exposure")


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


def run_dbt(spark, settings: Settings, command: str = "build", extra: list[str] | None = None) -> DbtResult:
    """Run `dbt <command>` on the given (already configured) SparkSession; raise DbtError on failure.

    dbt-spark's session method calls SparkSession.builder.getOrCreate(), which returns `spark`:
    Delta, jars and the lake's catalog are already there.
    """
    from dbt.cli.main import dbtRunner

    assert spark is not None  # the session must exist before dbt asks for it
    clear_uncommitted(settings)
    target = settings.home / "dbt" / "target"
    args = [
        *command.split(),  # "build", or "docs generate"
        "--project-dir", str(DBT_PROJECT),
        "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(target),
        "--log-path", str(settings.logs / "dbt"),
        *(extra or []),
    ]
    # Seeds (reference tables from CSV files) are reloaded only when a seed file changed: each load rewrites a
    # Delta table, and every monthly run and backfill month would otherwise pay for it.
    # Everything else is selected by type, not by excluding seeds: an exclusion would also drop every test that
    # reads a seed (23 of them, one on a mart).
    selective = any(a in ("--select", "-s", "--exclude", "--selector") for a in extra or [])
    skip_seeds = command == "build" and not selective and seeds_loaded(settings)
    if skip_seeds:
        args += ["--select", *(f"resource_type:{t}" for t in BUILT_WITHOUT_SEEDS)]
    digest = seeds_digest()
    res = dbtRunner().invoke(args)
    results = list(res.result or []) if hasattr(res.result, "__iter__") else []
    failed = [r.node.unique_id for r in results if str(getattr(r, "status", "")) in ("error", "fail")]
    if not res.success:
        detail = ", ".join(failed) or (str(res.exception) if res.exception else "see " + str(settings.logs / "dbt"))
        raise DbtError(f"dbt {command} failed: {detail}")
    if command == "build" and not skip_seeds and not selective:
        _seeds_marker(settings).write_text(digest + "\n")
    log.info("dbt %s: %d nodes%s", command, len(results), " (seeds unchanged, not reloaded)" if skip_seeds else "")
    return DbtResult(command, len(results), failed)
