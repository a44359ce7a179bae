"""The five analysis dashboards, per role, in headless Chromium: every chart draws, Chinese text has its glyphs,
District officers see only their division, Policy makers cannot edit or query, anonymous users are sent to log in,
and the drill path 区县 → 行业 → 企业 works. Median load times go to test-artifacts/dashboard-timings.json."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import time
import urllib.request
from typing import Any

import pytest

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.superset import bundle, manage

from .browser import (ARTIFACTS, login_superset, missing_glyphs, screenshot, wait_for_charts_drawn,
                      wait_for_dashboard_charts)
from .superset_api import SupersetAPI

pytestmark = pytest.mark.e2e

OFFICER_DISTRICT = "520102"
OFFICER_DISTRICT_NAME = GUIYANG_DIVISIONS[OFFICER_DISTRICT]  # 南明区
ANALYST = manage.DEMO_ANALYST
POLICY = manage.DEMO_POLICY
OFFICER = manage.DEMO_OFFICER.format(code=OFFICER_DISTRICT)
LOADS_FOR_TIMING = 3
VIEWPORT = {"width": 1600, "height": 4200}  # tall: the dashboard draws only the charts in view (virtualization)

# (slug, title, number of charts) of every dashboard in the bundle.
DASHBOARDS = [(d.slug, d.title, len(d.chart_keys())) for d in bundle.DASHBOARDS] + [("power-overview", "区域用电概览", 1)]
# Answers that are expected for read-only users: the frontend saves a dashboard's label colours on first view.
TOLERATED = ("/colors",)


def _served_sql(served, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(served.serving_file), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- the bundle ----------------------------------------------------------------------------------------------


def test_bundle_is_generated_from_its_spec():
    assert bundle.stale_files() == [], "run: .venv/bin/python -m creditlake.superset.bundle"


def _kind(sql_type: str) -> str:
    return {"VARCHAR": "text", "DATE": "date", "BOOLEAN": "bool"}.get(sql_type, "number")


def test_every_dataset_runs_on_the_serving_store(served):
    """Each dataset's columns exist with the declared kind (virtual SQL included) and none is personal."""
    import duckdb

    with duckdb.connect(str(served.serving_file), read_only=True) as con:
        for ds in bundle.DATASETS.values():
            source = f"({ds.sql.replace('${SERVING_SCHEMA}', 'main')})" if ds.sql else f"main.{ds.table}"
            select = ds.columns + [f"{expr} AS {name}" for name, expr in ds.calculated.items()]
            rel = con.execute(f"SELECT {', '.join(select)} FROM {source} AS t LIMIT 0")
            got = {d[0]: _kind(str(d[1]).split("(")[0]) for d in rel.description}
            for name in ds.all_columns:
                want = "text" if name in ds.calculated else _kind(bundle.column_type(name))
                assert got[name] == want, (ds.key, name, got[name], want)
                assert not name.endswith("_pseudonym") and name not in ("email", "phone"), (ds.key, name)


PG_URL = os.environ.get("CREDITLAKE_TEST_PG_URL", "postgresql://creditlake:creditlake@127.0.0.1:5432/creditlake_test")
_PG_TYPES = {"VARCHAR": "TEXT", "BIGINT": "BIGINT", "INTEGER": "INTEGER", "DOUBLE": "DOUBLE PRECISION",
             "DATE": "DATE", "BOOLEAN": "BOOLEAN"}


def test_every_dataset_runs_on_postgresql(served):
    """The virtual datasets' SQL is written for both serving stores: copied into a private PostgreSQL schema, every
    dataset answers with as many rows as on DuckDB (and the LAG-based comparisons agree)."""
    import duckdb
    import psycopg

    schema = f"e2e_dashboards_{os.getpid()}"
    try:
        pg = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (scripts/setup.sh starts it): {exc}")
    with duckdb.connect(str(served.serving_file), read_only=True) as src, pg:
        pg.execute(f"CREATE SCHEMA {schema}")
        try:
            for (table,) in src.execute("SELECT table_name FROM information_schema.tables").fetchall():
                cols = src.execute(f"DESCRIBE {table}").fetchall()
                types = [_PG_TYPES.get(c[1], "NUMERIC" if c[1].startswith("DECIMAL") else "TEXT") for c in cols]
                pg.execute(f"CREATE TABLE {schema}.{table} ("
                           + ", ".join(f"{c[0]} {t}" for c, t in zip(cols, types)) + ")")
                with pg.cursor() as cur, cur.copy(f"COPY {schema}.{table} FROM STDIN") as copy:
                    for row in src.execute(f"SELECT * FROM {table}").fetchall():
                        copy.write_row(row)
            for ds in bundle.DATASETS.values():
                select = ", ".join(ds.columns + [f"{expr} AS {name}" for name, expr in ds.calculated.items()])
                counts = []
                for con, name in ((pg, schema), (src, "main")):
                    source = f"({ds.sql.replace('${SERVING_SCHEMA}', name)})" if ds.sql else f"{name}.{ds.table}"
                    counts.append(con.execute(f"SELECT count(*) FROM (SELECT {select} FROM {source} AS t) AS x")
                                  .fetchone()[0])
                assert counts[0] == counts[1], (ds.key, counts)
            compare = "SELECT district_code, month, stock_mom, stock_yoy FROM ({}) AS t ORDER BY 1, 2"

            def rounded(rows):
                return [tuple(v if v is None or isinstance(v, str) else round(float(v), 6) for v in r) for r in rows]

            assert rounded(pg.execute(compare.format(bundle.COMPARE.sql.replace("${SERVING_SCHEMA}", schema)))
                           .fetchall()) == \
                rounded(src.execute(compare.format(bundle.COMPARE.sql.replace("${SERVING_SCHEMA}", "main"))).fetchall())
        finally:
            pg.execute(f"DROP SCHEMA {schema} CASCADE")


# --- roles, row-level security, users ------------------------------------------------------------------------


def _metadata(served, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(served.superset_home / "superset.db") as con:
        return con.execute(sql, args).fetchall()


def test_roles_rls_and_users_are_set_up_once(superset, served):
    """Importing again (as every `creditlake superset start` does) changes nothing: no second role, filter or user."""
    def snapshot():
        roles = _metadata(served, "SELECT r.name, count(pr.id) FROM ab_role r LEFT JOIN ab_permission_view_role pr "
                                  "ON pr.role_id = r.id GROUP BY r.name ORDER BY r.name")
        rls = _metadata(served, "SELECT f.name, f.clause, f.filter_type, f.group_key, "
                                "(SELECT count(*) FROM rls_filter_tables t WHERE t.rls_filter_id = f.id), "
                                "(SELECT count(*) FROM rls_filter_roles r WHERE r.rls_filter_id = f.id) "
                                "FROM row_level_security_filters f ORDER BY f.name")
        users = _metadata(served, "SELECT u.username, group_concat(r.name) FROM ab_user u JOIN ab_user_role ur ON "
                                  "ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id GROUP BY u.username "
                                  "ORDER BY u.username")
        return roles, rls, users

    before = snapshot()
    manage.import_dashboards(served)
    assert snapshot() == before
    roles, rls, users = before
    names = [name for name, _ in roles]
    for role in (manage.ANALYST_ROLE, manage.POLICY_ROLE):
        assert names.count(role) == 1
    district_tables = len(bundle.district_datasets())
    assert [(n, c) for n, c, *_ in rls] == sorted(
        (manage.OFFICER_ROLE.format(code=code), f"district_code = '{code}'") for code in GUIYANG_DIVISIONS)
    assert {(t, g, tables, roles_) for _, _, t, g, tables, roles_ in rls} == {
        ("Regular", "district_code", district_tables, 1)}
    assert dict(users)[OFFICER] == manage.OFFICER_ROLE.format(code=OFFICER_DISTRICT)
    assert dict(users)[ANALYST] == manage.ANALYST_ROLE
    assert dict(users)[POLICY] == manage.POLICY_ROLE


def _month_defaults(served) -> dict[str, str | None]:
    """Filter id -> the default value of every 月份 filter that defaults to the latest month, as Superset keeps it."""
    found = {}
    for (text,) in _metadata(served, "SELECT json_metadata FROM dashboards"):
        for flt in json.loads(text or "{}").get("native_filter_configuration", []):
            if flt["id"].endswith("-month") and flt["controlValues"].get("enableEmptyFilter"):
                found[flt["id"]] = (flt["defaultDataMask"].get("filterState", {}).get("value") or [None])[0]
    return found


def test_every_month_filter_defaults_to_the_latest_month():
    """No dashboard opens on all months at once: each 月份 filter is single and defaults to the latest month."""
    months = [(d.slug, f) for d in bundle.DASHBOARDS for f in d.filters if f.column in ("month", "as_of_month")]
    assert len(months) >= 5
    assert all(f.latest and not f.multi for _, f in months), [slug for slug, f in months if not f.latest]


def test_month_filters_move_on_with_each_publication(superset, served):
    """Each 月份 filter defaults to the latest month served; when a publication adds a month, the pipeline's
    dashboards stage (the DAG's `dashboards` task) moves the default on, with Superset running."""
    import shutil

    import duckdb

    from creditlake.periods import shift
    from creditlake.pipeline import stage_dashboards

    region = "NATIVE_FILTER-region-month"
    latest = manage.latest_value(served, "mart_region_indicators_monthly", "month")
    before = _month_defaults(served)
    assert latest and before[region] == latest and len(before) >= 3, before
    later = shift(latest, 1)
    backup = served.serving_file.with_name("before-new-month.duckdb")
    shutil.copyfile(served.serving_file, backup)
    try:
        with duckdb.connect(str(served.serving_file)) as con:  # a later month published into the region mart
            con.execute(f"INSERT INTO mart_region_indicators_monthly SELECT * REPLACE ('{later}' AS month) "
                        f"FROM mart_region_indicators_monthly WHERE month = '{latest}'")
        assert stage_dashboards(served) == {"refreshed": True}
        after = _month_defaults(served)
        assert after == {**before, region: later}, after
    finally:
        os.replace(backup, served.serving_file)
        stage_dashboards(served)
    assert _month_defaults(served) == before


def _dataset_id(api: SupersetAPI, table_name: str) -> int:
    rison = f"(filters:!((col:table_name,opr:eq,value:'{table_name}')))"
    (found,) = api.get_ok(f"/api/v1/dataset/?q={urllib.request.quote(rison)}")["result"]
    return found["id"]


def _districts_through_api(user_api: SupersetAPI, dataset_id: int) -> dict[str, int]:
    """Rows per district_name of a dataset, asked as that user through POST /api/v1/chart/data."""
    payload = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [{"columns": ["district_name"], "row_limit": 1000,
                     "metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}]}],
        "result_format": "json", "result_type": "full",
    }
    status, data = user_api.post("/api/v1/chart/data", payload)
    assert status == 200, (status, data)
    return {row["district_name"]: row["n"] for row in data["result"][0]["data"]}


def test_district_officer_rows_through_the_api(superset, api, served):
    """RLS on the data API: the officer's queries return their division only, whatever they ask for."""
    officer = SupersetAPI.login(superset, OFFICER, manage.demo_password())
    analyst = SupersetAPI.login(superset, ANALYST, manage.demo_password())
    profile = _dataset_id(api, bundle.PROFILE.table)
    everything = dict(_served_sql(served, "SELECT district_name, count(*) FROM mart_enterprise_profile GROUP BY 1"))
    assert _districts_through_api(analyst, profile) == everything
    assert _districts_through_api(officer, profile) == {OFFICER_DISTRICT_NAME: everything[OFFICER_DISTRICT_NAME]}
    lost = _dataset_id(api, bundle.LOST.table)
    assert set(_districts_through_api(officer, lost)) <= {OFFICER_DISTRICT_NAME}


def _saved_chart_rows(api: SupersetAPI, slug: str) -> dict[str, list[dict]]:
    """Chart title -> rows of its saved query, through GET /api/v1/chart/{id}/data/ (what alerts, reports and API
    clients get), for every chart of a dashboard."""
    out = {}
    for chart in api.get_ok(f"/api/v1/dashboard/{slug}/charts")["result"]:
        (result,) = api.get_ok(f"/api/v1/chart/{chart['id']}/data/")["result"]
        assert result["status"] == "success" and not result["error"], (chart["slice_name"], result)
        out[chart["slice_name"]] = result["data"]
    return out


def test_every_saved_chart_answers_the_chart_data_api(api):
    """Every chart keeps its saved query (the importer drops none), so GET /api/v1/chart/{id}/data/ answers."""
    for slug, _, charts in DASHBOARDS:
        assert len(_saved_chart_rows(api, slug)) == charts, slug


def test_headline_figures_equal_the_reports(api, served):
    """One definition per figure: the 本月主要指标 tables, through the chart-data API (their saved query is the
    latest month, as the dashboards open), state the report's figures for that month, the month before and the
    change in the report's measure (户 for counts, 个百分点 for shares, points for indices)."""
    from creditlake.report.figures import fmt_change, pct_change
    from creditlake.report.monthly import build_report, fetch_store_data

    (month,) = _served_sql(served, "SELECT max(month) FROM mart_region_indicators_monthly")[0]
    figures = {i.label: i for i in build_report(fetch_store_data(served, month)).comparison.indicators}
    rows = [row for slug, key in (("regional-development", "region_figures"), ("enterprise-activity", "activity_figures"))
            for row in _saved_chart_rows(api, slug)[bundle.CHARTS[key].title]]
    stated = [row for row in rows if row["indicator"] in figures]
    assert len(stated) == 7, [row["indicator"] for row in rows]
    for row in stated:
        figure = figures[row["indicator"]]
        scale = 100 if figure.kind == "rate" else 1
        unit, change_unit = bundle._UNITS[figure.kind]
        assert (row["month"], row["单位"], row["变化单位"]) == (month, unit, change_unit), row
        assert row["本月"] == pytest.approx(figure.current * scale), row
        if figure.previous is None:
            assert row["上月"] is None and row["较上月"] is None, row
            continue
        assert row["上月"] == pytest.approx(figure.previous * scale), row
        assert row["较上月"] == pytest.approx((figure.current - figure.previous) * scale), row
        if figure.kind != "count":
            assert row["增幅"] == "—", row
        elif figure.previous == 0:
            assert row["增幅"] == "上月为 0", row
        else:  # the report's own words for the relative change
            assert row["增幅"] == fmt_change(pct_change(figure.current, figure.previous)), row


def _post_in_page(page, base: str, path: str, payload: dict) -> tuple[int, str]:
    """POST from the logged-in page (its session cookie and CSRF token), as the frontend would."""
    token = page.evaluate("() => (document.getElementById('csrf_token') || {}).value")
    assert token, "no CSRF token on the page"
    response = page.request.post(f"{base}{path}", data=json.dumps(payload),
                                 headers={"Content-Type": "application/json", "X-CSRFToken": token,
                                          "Referer": f"{base}/"})
    return response.status, response.text()


def test_only_the_analyst_may_save_charts(pages, superset):
    """Creating a chart: forbidden (403) to Policy maker and District officer; the Analyst gets as far as the
    payload check (400 for the empty chart sent here), so the 403s are about permissions, not CSRF."""
    for user, allowed in ((POLICY, False), (OFFICER, False), (ANALYST, True)):
        page = pages(user, manage.demo_password())
        page.goto(f"{superset}/superset/welcome/")
        status, body = _post_in_page(page, superset, "/api/v1/chart/", {})
        if allowed:
            assert status == 400 and "slice_name" in body, (user, status, body[:300])
        else:
            assert status == 403, (user, status, body[:300])
    for user in (POLICY, OFFICER):
        user_api = SupersetAPI.login(superset, user, manage.demo_password())
        assert user_api.get("/api/v1/database/")[0] == 403, user
        assert user_api.get("/api/v1/dataset/")[0] == 403, user


def test_drill_to_detail_rows(pages, superset, api, served):
    """The rows behind a chart (drill to detail, /datasource/samples): the officer's division only; the Analyst
    everything; not for the Policy maker."""
    profile = _dataset_id(api, bundle.PROFILE.table)
    path = f"/datasource/samples?force=false&datasource_type=table&datasource_id={profile}&per_page=1000&page=1"
    total = _served_sql(served, "SELECT count(*) FROM mart_enterprise_profile")[0][0]
    for user, expected in ((OFFICER, {OFFICER_DISTRICT_NAME}), (ANALYST, None), (POLICY, 403)):
        page = pages(user, manage.demo_password())
        page.goto(f"{superset}/superset/welcome/")
        status, body = _post_in_page(page, superset, path, {})
        if expected == 403:
            assert status == 403, (user, status)
            continue
        assert status == 200, (user, status, body[:300])
        rows = json.loads(body)["result"]["data"]
        if expected is None:
            assert len(rows) == min(total, 1000)
        else:
            assert rows and {r["district_name"] for r in rows} == expected


# --- in the browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(chromium, superset):
    """One logged-in browser page per user, made on first use and closed at the end of the module."""
    made: dict[str, Any] = {}

    def page_for(user: str, password: str):
        if user not in made:
            context = chromium.new_context(locale="zh-CN", viewport=VIEWPORT)
            page = context.new_page()
            login_superset(page, superset, user, password)
            made[user] = page
        return made[user]

    yield page_for
    for page in made.values():
        page.context.close()


@pytest.fixture(scope="module")
def timings():
    """Median load times per dashboard, merged into test-artifacts/dashboard-timings.json at the end (a run of
    some dashboards only keeps the others' earlier entries, each with its own time of measurement)."""
    found: dict[str, Any] = {}
    yield found
    if not found:
        return
    path = ARTIFACTS / "dashboard-timings.json"
    try:
        earlier = json.loads(path.read_text())["dashboards"]
    except (OSError, ValueError, KeyError):
        earlier = {}
    ARTIFACTS.mkdir(exist_ok=True)
    out = {"user": ANALYST,
           "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)",
           "method": "navigation start to every chart drawn (canvas/svg/table/number), "
                     f"{LOADS_FOR_TIMING} loads each in headless Chromium, median",
           "dashboards": earlier | found}
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    for slug, entry in found.items():
        print(f"{entry['title']} ({slug}): median {entry['median_s']:.2f} s over {entry['loads_s']}")


def _load(page, base: str, slug: str, charts: int) -> tuple[float, list[dict], list[str]]:
    """Open a dashboard, wait for every chart; return (seconds, chart data payloads, failed requests)."""
    payloads: list[dict] = []
    failed: list[str] = []

    def on_response(response):
        if "/api/v1/chart/data" in response.url and response.request.method == "POST" and response.ok:
            try:
                payloads.append(response.json())
            except Exception:  # a response of a page we already left
                pass
        elif response.status >= 400 and not any(t in response.url for t in TOLERATED):
            failed.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    try:
        started = time.monotonic()
        page.goto(f"{base}/superset/dashboard/{slug}/")
        wait_for_charts_drawn(page, charts)
        elapsed = time.monotonic() - started
        wait_for_dashboard_charts(page, charts)
    finally:
        page.remove_listener("response", on_response)
    return elapsed, payloads, failed


def _check_page(page, slug: str, title: str, charts: int, failed: list[str]) -> None:
    text = page.inner_text("body")
    assert title in text
    assert page.locator('[data-test="chart-grid-component"]').count() == charts
    assert failed == [], failed
    glyphs = missing_glyphs(page)
    assert glyphs["selfCheck"], glyphs
    assert glyphs["checked"] > 20 and glyphs["missing"] == [], glyphs


def _rows(payloads: list[dict]) -> list[dict]:
    return [row for p in payloads for result in p.get("result", []) for row in result.get("data", [])]


@pytest.mark.parametrize("slug,title,charts", DASHBOARDS, ids=[d[0] for d in DASHBOARDS])
def test_analyst_sees_every_chart_and_load_time(pages, superset, timings, slug, title, charts):
    page = pages(ANALYST, manage.demo_password())
    loads = []
    for i in range(LOADS_FOR_TIMING):
        elapsed, payloads, failed = _load(page, superset, slug, charts)
        loads.append(round(elapsed, 2))
        if i == 0:
            _check_page(page, slug, title, charts, failed)
            assert _rows(payloads), "no chart returned any row"
            screenshot(page, f"dashboards/analyst-{slug}.png")
    timings[slug] = {"title": title, "charts": charts, "loads_s": loads, "median_s": statistics.median(loads),
                     "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


@pytest.mark.parametrize("slug,title,charts", DASHBOARDS, ids=[d[0] for d in DASHBOARDS])
def test_policy_maker_sees_every_chart_read_only(pages, superset, slug, title, charts):
    page = pages(POLICY, manage.demo_password())
    _, payloads, failed = _load(page, superset, slug, charts)
    _check_page(page, slug, title, charts, failed)
    screenshot(page, f"dashboards/policymaker-{slug}.png")
    # Read-only: no edit button on the dashboard, no "edit chart" in a chart's menu, no SQL Lab in the menu.
    assert page.locator('[data-test="edit-dashboard-button"]').count() == 0
    assert "SQL" not in page.locator('[data-test="navbar-top"], .ant-menu').first.inner_text()


@pytest.mark.parametrize("slug,title,charts", DASHBOARDS, ids=[d[0] for d in DASHBOARDS])
def test_district_officer_sees_only_their_division(pages, superset, served, slug, title, charts):
    page = pages(OFFICER, manage.demo_password())
    _, payloads, failed = _load(page, superset, slug, charts)
    _check_page(page, slug, title, charts, failed)
    screenshot(page, f"dashboards/officer_{OFFICER_DISTRICT}-{slug}.png")
    rows = _rows(payloads)
    seen = {row["district_name"] for row in rows if "district_name" in row}
    codes = {row["district_code"] for row in rows if "district_code" in row}
    assert seen <= {OFFICER_DISTRICT_NAME}, seen
    assert codes <= {OFFICER_DISTRICT}, codes
    if slug == "lost-contact":
        # The point-to-point list in the page itself: every row is in the officer's division.
        table = page.locator('[data-test="chart-grid-component"]').filter(has_text="失联企业点对点核查名单")
        cells = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
        assert set(cells) <= {OFFICER_DISTRICT_NAME, ""}, cells
        served_rows = _served_sql(served, f"SELECT count(*) FROM mart_lost_contact WHERE district_code = "
                                          f"'{OFFICER_DISTRICT}'")[0][0]
        assert len([c for c in cells if c]) == min(served_rows, 20)
    if slug == "regional-development":
        assert OFFICER_DISTRICT_NAME in seen


@pytest.mark.parametrize("what", ["sqllab", "explore"])
@pytest.mark.parametrize("user", [POLICY, OFFICER, ANALYST])
def test_no_sql_lab_and_no_chart_editing(pages, superset, api, user, what):
    """SQL Lab is off for all three roles; only the Analyst may open a chart in the editor (explore)."""
    chart = api.get_ok("/api/v1/dashboard/power-overview/charts")["result"][0]["id"]
    path = "/sqllab/" if what == "sqllab" else f"/explore/?slice_id={chart}"
    page = pages(user, manage.demo_password())
    response = page.goto(f"{superset}{path}")
    if what == "explore" and user == ANALYST:
        assert response.status == 200
        page.wait_for_selector('[data-test="datasource-control"]', timeout=60_000)
    else:
        assert response.status == 403, (user, path, response.status)
        assert page.locator('[data-test="sql-editor-tabs"], [data-test="datasource-control"]').count() == 0


@pytest.mark.parametrize("slug", [d[0] for d in DASHBOARDS])
def test_anonymous_is_sent_to_log_in(chromium, superset, slug):
    context = chromium.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{superset}/superset/dashboard/{slug}/")
        assert "/login" in page.url
        page.wait_for_selector("#username", timeout=30_000)  # the login form, drawn by the frontend
        assert "区域" not in page.inner_text("body")  # and nothing of the dashboard
    finally:
        context.close()
    assert SupersetAPI(superset).get(f"/api/v1/dashboard/{slug}")[0] == 401


# --- the drill path 区县 → 行业 → 企业 ------------------------------------------------------------------------

_TOOLTIP_JS = """
() => Array.from(document.querySelectorAll('div'))
  .filter(d => d.style && d.style.zIndex === '9999999' && getComputedStyle(d).display !== 'none'
               && getComputedStyle(d).visibility !== 'hidden' && d.innerText.trim())
  .map(d => d.innerText.trim().split(String.fromCharCode(10))[0].trim())
"""


def _find_bar(page, chart, label: str | None = None) -> tuple[float, str]:
    """Where along the x axis of an ECharts bar chart the middle of the bar of `label` (default: the first bar from
    the left) is: hover from left to right, reading the tooltip, and take the middle of the stretch naming it."""
    box = chart.locator("canvas").first.bounding_box()
    hits: list[float] = []
    for i in range(80):
        x, y = box["x"] + box["width"] * (i + 0.5) / 80, box["y"] + box["height"] * 0.3
        page.mouse.move(x, y)
        page.wait_for_timeout(60)
        tips = page.evaluate(_TOOLTIP_JS)
        if tips and tips[0] == (label or tips[0]):
            label = tips[0]
            hits.append(x)
        elif hits:
            break
    assert hits and label, f"no bar {label or ''} found by hovering over the chart"
    return (hits[0] + hits[-1]) / 2, label


def _grid_chart(page, title: str):
    return page.locator('[data-test="chart-grid-component"]').filter(
        has=page.locator('[data-test="editable-title"], .header-title', has_text=title)).first


def test_drill_from_division_to_industry_to_enterprise(pages, superset):
    page = pages(ANALYST, manage.demo_password())
    charts = dict((d[0], d[2]) for d in DASHBOARDS)
    page.goto(f"{superset}/superset/dashboard/regional-development/")
    wait_for_dashboard_charts(page, charts["regional-development"])

    # 1. Click 南明区 in 各区县企业存量: the whole dashboard is cross-filtered to the division.
    districts = _grid_chart(page, "各区县企业存量")
    x, _ = _find_bar(page, districts, OFFICER_DISTRICT_NAME)
    box = districts.locator("canvas").first.bounding_box()
    page.mouse.click(x, box["y"] + box["height"] * 0.75)  # low on the bar: every bar reaches down there
    enterprises = _grid_chart(page, "企业名单")
    page.wait_for_function(
        """([name]) => { const t = Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
             .find(h => h.innerText.includes('企业名单'));
           const cells = t ? Array.from(t.querySelectorAll('tbody tr td:nth-child(3)')).map(c => c.innerText) : [];
           return cells.length > 0 && cells.every(c => c === name); }""",
        arg=[OFFICER_DISTRICT_NAME], timeout=60_000)
    screenshot(page, "drill/1-division-cross-filter.png")

    # 2. Click the largest industry of 南明区 in 各行业企业存量 (sorted: the first bar, the tallest).
    industries = _grid_chart(page, "各行业企业存量")
    wait_for_dashboard_charts(page, charts["regional-development"])
    x, industry = _find_bar(page, industries)
    ibox = industries.locator("canvas").first.bounding_box()
    page.mouse.click(x, ibox["y"] + ibox["height"] * 0.4)  # high up: only the tallest bar reaches there
    page.wait_for_function(
        """([district, industry]) => { const t = Array.from(document.querySelectorAll(
             '[data-test="chart-grid-component"]')).find(h => h.innerText.includes('企业名单'));
           const rows = t ? Array.from(t.querySelectorAll('tbody tr')) : [];
           return rows.length > 0 && rows.every(r => r.children[2].innerText === district
                                                   && r.children[3].innerText === industry); }""",
        arg=[OFFICER_DISTRICT_NAME, industry], timeout=60_000)
    screenshot(page, "drill/2-industry-cross-filter.png")

    # 3. Click an enterprise: 企业全景 opens with its 统一社会信用代码 filter set, every table on that enterprise.
    link = enterprises.locator('tbody a[href*="/superset/dashboard/enterprise-profile/"]').first
    name = link.inner_text()
    uscc = enterprises.locator("tbody tr").first.locator("td").nth(1).inner_text()
    link.click()
    page.wait_for_url("**/superset/dashboard/enterprise-profile/**")
    wait_for_dashboard_charts(page, charts["enterprise-profile"])
    basic = _grid_chart(page, "企业基本信息")
    assert basic.locator("tbody tr").count() == 1
    assert name in basic.locator("tbody tr").first.inner_text()
    assert uscc in page.locator('[data-test="filter-bar"], [data-test="dashboard-filters-panel"]').first.inner_text()
    for title in ("信用信息汇总", "风险预警", "纳税申报"):
        names = _grid_chart(page, title).locator("tbody tr td:first-child").all_inner_texts()
        assert set(names) <= {name}, (title, names)
    screenshot(page, "drill/3-enterprise-profile.png")


def test_enterprise_profile_filters_cascade(api):
    """企业全景: 区县 → 行业 → 企业名称 → 统一社会信用代码, each narrowed by the one before."""
    dashboard = api.get_ok("/api/v1/dashboard/enterprise-profile")["result"]
    filters = json.loads(dashboard["json_metadata"])["native_filter_configuration"]
    by_id = {f["id"]: f for f in filters}
    assert [f["name"] for f in filters] == ["区县", "行业", "企业名称", "统一社会信用代码"]
    for parent, child in zip(filters, filters[1:]):
        assert by_id[child["id"]]["cascadeParentIds"] == [parent["id"]]
    # Every filter applies to every chart on the dashboard (the import leaves chartsInScope to be filled in).
    chart_ids = {c["id"] for c in api.get_ok("/api/v1/dashboard/enterprise-profile/charts")["result"]}
    for flt in filters:
        assert set(flt["chartsInScope"]) == chart_ids, flt["name"]


def test_a_list_exports_as_a_csv_excel_reads(pages, superset, served):
    """Download → 导出为CSV on the 失联企业 list, as the analyst does it: a byte-order mark (Excel on Chinese Windows
    reads UTF-8), names without their HTML links, Chinese headers, and a file named after the list and its month."""
    from pathlib import Path

    page = pages(ANALYST, manage.demo_password())
    page.goto(f"{superset}/superset/dashboard/lost-contact/")
    wait_for_charts_drawn(page, len(bundle.DASHBOARDS[[d.slug for d in bundle.DASHBOARDS].index("lost-contact")]
                                    .chart_keys()))
    title = bundle.CHARTS["lost_list"].title
    holder = page.locator('[data-test="chart-grid-component"]').filter(has_text=title)
    holder.hover()
    holder.locator('[data-test="slice-header"] .ant-dropdown-trigger').first.click()  # the ⋮ menu
    page.get_by_text("下载", exact=True).hover()
    with page.expect_download() as download:
        page.get_by_text("导出为CSV", exact=True).click()
    (month,) = _served_sql(served, "SELECT max(as_of_month) FROM mart_lost_contact")[0]
    assert download.value.suggested_filename == f"{title}_{month}.csv"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.startswith("企业名称") and "统一社会信用代码" in header
    assert "<" not in text and "href" not in text
    names = {row[0] for row in _served_sql(served, f"SELECT enterprise_name FROM mart_lost_contact "
                                                   f"WHERE as_of_month = '{month}'")}
    assert first.split(",")[0] in names
