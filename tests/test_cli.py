"""The CLI: --help on every command, one red line and exit code 2 for a user error."""

import subprocess
import sys

import pytest

COMMANDS = [[], ["generate"], ["ingest"], ["run"], ["accounting"], ["report"], ["publish"], ["jars"], ["demo"],
            ["superset"], ["superset", "start"], ["superset", "stop"], ["mediate"], ["mediate", "index"],
            ["ledger"], ["ledger", "verify"], ["ledger", "prove"], ["ledger", "checkpoint"], ["ledger", "show"],
            ["lost-contact"], ["profile"], ["restricted"], ["secret-query"], ["dbt-docs"],
            ["backfill"], ["airflow"], ["airflow", "start"], ["airflow", "stop"],
            ["cluster"], ["cluster", "start"], ["cluster", "status"], ["cluster", "stop"],
            ["spark"], ["spark", "start"], ["spark", "status"], ["spark", "stop"],
            ["quarantine"], ["quarantine", "release"], ["serve-api"],
            ["api"], ["api", "start"], ["api", "stop"], ["api", "status"], ["api", "issue-token"], ["api", "tokens"],
            ["api", "revoke-token"]]


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "creditlake.cli", *args], capture_output=True, text=True, **kw)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help(cmd):
    res = _cli(*cmd, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout


def test_user_error_is_one_line_and_exit_2(tmp_path):
    res = _cli("generate", "--landing", str(tmp_path), "--start", "2024-13", "--end", "2024-14",
               env={**__import__("os").environ, "CREDITLAKE_HOME": str(tmp_path / "home")})
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "2024-13" in lines[0] and "Traceback" not in res.stderr


def test_secret_query_without_a_month_is_one_line(tmp_path):
    res = _cli("secret-query", env={**__import__("os").environ, "CREDITLAKE_HOME": str(tmp_path / "home")})
    assert res.returncode == 2 and "--month" in res.stderr and "Traceback" not in res.stderr
