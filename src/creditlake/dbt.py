"""Run the dbt project in-process (dbt-spark session mode) on the lake's SparkSession."""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
    res = dbtRunner().invoke(args)
    results = list(res.result or []) if hasattr(res.result, "__iter__") else []
    failed = [r.node.unique_id for r in results if str(getattr(r, "status", "")) in ("error", "fail")]
    if not res.success:
        detail = ", ".join(failed) or (str(res.exception) if res.exception else "see " + str(settings.logs / "dbt"))
        raise DbtError(f"dbt {command} failed: {detail}")
    log.info("dbt %s: %d nodes", command, len(results))
    return DbtResult(command, len(results), failed)
