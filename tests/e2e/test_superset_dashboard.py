"""Superset started from code serves 区域用电概览 with the serving store's numbers, in Chromium and over REST."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import urllib.request

import pytest

from creditlake.superset import manage

from .browser import login_superset, screenshot, wait_for_dashboard_charts
from .superset_api import SupersetAPI

pytestmark = pytest.mark.e2e

SLUG = "power-overview"
DASHBOARD_TITLE = "区域用电概览"
CHART_TITLE = "各区县企业用电量（千瓦时）"
METRIC_LABEL = "用电量（千瓦时）"
KNOWN_DISTRICT = "南明区"


def served_totals(path: Path) -> dict[str, float]:
    """SUM(power_kwh) per district_name in the serving file, read straight from DuckDB."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT district_name, sum(power_kwh) FROM mart_district_power_monthly GROUP BY 1").fetchall()
    return dict(rows)


def swap_in_scaled_copy(path: Path, scale: float) -> None:
    """Rebuild the serving file aside with power_kwh scaled, then os.replace it in (as the pipeline publishes)."""
    import duckdb

    tmp = path.with_name(path.name + ".scaled.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
        con.execute(f"CREATE TABLE mart_district_power_monthly AS "
                    f"SELECT * REPLACE (power_kwh * {scale} AS power_kwh) FROM src.mart_district_power_monthly")
        con.execute("DETACH src")
    os.replace(tmp, path)


@pytest.fixture(scope="module")
def serving_store(served) -> dict[str, float]:
    """The serving DuckDB file the pipeline published (the slice run through Airflow); expected totals per district."""
    return served_totals(served.serving_file)


def _chart_id(api: SupersetAPI) -> int:
    charts = api.get_ok(f"/api/v1/dashboard/{SLUG}/charts")["result"]
    assert [c["slice_name"] for c in charts] == [CHART_TITLE]
    return charts[0]["id"]


def _chart_totals(api: SupersetAPI) -> list[tuple[str, float]]:
    """The chart's data through GET /api/v1/chart/{id}/data/ (its saved query context), as (district, total)."""
    (result,) = api.get_ok(f"/api/v1/chart/{_chart_id(api)}/data/")["result"]
    assert result["status"] == "success" and not result["error"], result
    return [(row["district_name"], row[METRIC_LABEL]) for row in result["data"]]


def test_dashboard_renders_in_chromium(superset, served, serving_store, chromium):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    chart_payloads: list[dict] = []
    elsewhere: list[str] = []

    def keep_chart_data(response):
        if "/api/v1/chart/data" in response.url and response.request.method == "POST" and response.ok:
            chart_payloads.append(response.json())

    def note_foreign_request(request):
        # Requests the page's Content-Security-Policy blocked never left the browser.
        if not request.url.startswith((superset, "data:", "blob:")) and request.failure != "csp":
            elsewhere.append(f"{request.url} ({request.failure or 'sent'})")

    page.on("response", keep_chart_data)
    page.on("requestfinished", note_foreign_request)
    page.on("requestfailed", note_foreign_request)
    try:
        login_superset(page, superset, "admin", served.superset_admin_password)
        page.goto(f"{superset}/superset/dashboard/{SLUG}/")
        wait_for_dashboard_charts(page, count=1)
        shot = screenshot(page, "superset-power-overview.png")

        text = page.inner_text("body")
        assert DASHBOARD_TITLE in text
        assert CHART_TITLE in text
        assert page.locator('[data-test="slice-container"] [_echarts_instance_] canvas').count() == 1
        assert shot.stat().st_size > 10_000

        # The numbers the browser drew come from the serving file.
        (payload,) = chart_payloads
        rows = {row["district_name"]: row[METRIC_LABEL] for row in payload["result"][0]["data"]}
        assert rows[KNOWN_DISTRICT] == pytest.approx(serving_store[KNOWN_DISTRICT])
        # Nothing leaves the machine (the stock 6.1 frontend loads a telemetry pixel; our CSP stops it).
        assert elsewhere == []
    finally:
        context.close()


def test_chart_data_api_returns_district_totals(api, serving_store):
    totals = _chart_totals(api)
    assert dict(totals)[KNOWN_DISTRICT] == pytest.approx(serving_store[KNOWN_DISTRICT])
    assert dict(totals) == pytest.approx(serving_store)
    # Largest first, as the chart sorts its bars.
    assert [v for _, v in totals] == sorted((v for _, v in totals), reverse=True)


def test_no_anonymous_access(superset, api):
    anonymous = SupersetAPI(superset)
    assert anonymous.get(f"/api/v1/chart/{_chart_id(api)}/data/")[0] == 401
    assert anonymous.get(f"/api/v1/dashboard/{SLUG}")[0] == 401
    with urllib.request.urlopen(f"{superset}/superset/dashboard/{SLUG}/", timeout=30) as resp:
        assert "/login" in resp.geturl()  # sent to the login form, dashboard not shown


def _bundle_counts() -> dict[str, int]:
    """How many dashboards, charts, datasets and databases the YAML bundle defines."""
    folders = {"dashboard": "dashboards", "chart": "charts", "dataset": "datasets", "database": "databases"}
    return {kind: sum(1 for _ in (manage.BUNDLE_DIR / folder).rglob("*.yaml")) for kind, folder in folders.items()}


def test_import_twice_keeps_one_of_each(api, served):
    manage.import_dashboards(served)
    manage.import_dashboards(served)
    for kind, expected in _bundle_counts().items():
        listing = api.get_ok(f"/api/v1/{kind}/?q=(page_size:100)")
        assert listing["count"] == expected, (kind, [r.get("id") for r in listing["result"]])
    _chart_id(api)  # the dashboard still holds exactly its one chart


def test_swapped_serving_file_is_read_on_next_query(api, served, serving_store):
    """The pipeline replaces the file with os.replace; Superset holds no connection or cache across queries."""
    backup = served.serving_file.with_name("backup.duckdb")
    shutil.copyfile(served.serving_file, backup)
    try:
        swap_in_scaled_copy(served.serving_file, 2.0)
        assert dict(_chart_totals(api))[KNOWN_DISTRICT] == pytest.approx(2 * serving_store[KNOWN_DISTRICT])
    finally:
        os.replace(backup, served.serving_file)
