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


def run_dbt(spark, settings: Settings, command: str = "build", extra: list[str] | None = None) -> DbtResult:
    """Run `dbt <command>` on the given (already configured) SparkSession; raise DbtError on failure.

    dbt-spark's session method calls SparkSession.builder.getOrCreate(), which returns `spark`:
    Delta, jars and the lake's catalog are already there.
    """
    from dbt.cli.main import dbtRunner

    assert spark is not None  # the session must exist before dbt asks for it
    target = settings.home / "dbt" / "target"
    args = [
        command,
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
