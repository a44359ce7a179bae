"""Fixtures shared by the e2e tests: one headless Chromium and one Superset for the whole session.

By default Superset shows what the `pipeline_run` fixture published (the slice run through Airflow, ~10 minutes on
two cores). To iterate on the dashboards against a home that already has a serving store, point
CREDITLAKE_E2E_HOME at it and run only this folder:

    CREDITLAKE_E2E_HOME=/tmp/clh-dash .venv/bin/pytest tests/e2e

Superset then keeps its metadata in that home (superset/) on a free port, and no pipeline runs. Stop any other
Superset started on that home first: they would share its pid file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from creditlake.superset import manage

from .browser import launch_chromium
from .superset_api import SupersetAPI

E2E_HOME_VAR = "CREDITLAKE_E2E_HOME"


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium, headless, launched once per test session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def served(request, settings):
    """Settings whose serving store the dashboards show: CREDITLAKE_E2E_HOME's, or the one pipeline_run fills."""
    home = os.environ.get(E2E_HOME_VAR)
    if not home:
        request.getfixturevalue("pipeline_run")
        return settings
    from creditlake.settings import Settings

    reused = Settings(home=Path(home), serving_url=None)
    if not reused.serving_file.exists():
        pytest.fail(f"{E2E_HOME_VAR}={home} has no serving store at {reused.serving_file}")
    return reused


@pytest.fixture(scope="session")
def superset(served) -> str:
    """A running Superset for the served home (config, init, import, roles, users); stopped at the end."""
    try:
        yield manage.start(served)
    finally:
        manage.stop(served)


@pytest.fixture(scope="session")
def api(superset, served) -> SupersetAPI:
    """The REST API as admin, with a JWT from /api/v1/security/login."""
    return SupersetAPI.login(superset, manage.ADMIN_USER, served.superset_admin_password)
