"""Drive Superset from the pipeline env: write its config, set up its metadata DB, import the dashboards, run it.

Superset pins libraries that clash with the pipeline (see pyproject.toml), so it lives in `.venv-superset` and
everything here runs that environment's `superset`, `gunicorn` and `python` by subprocess; nothing here
imports Superset.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from creditlake.serve.store import PG_SCHEMA, backend, duckdb_path
from creditlake.settings import REPO_ROOT, Settings
from creditlake.superset.bundle import (
    BUNDLE_DIR, LATEST_PLACEHOLDER, SERVING_SCHEMA_PLACEHOLDER, SERVING_URL_PLACEHOLDER,
)

log = logging.getLogger(__name__)

SUPERSET_ENV = REPO_ROOT / ".venv-superset"
ZH_OVERRIDES = REPO_ROOT / "dashboards" / "zh_overrides.json"  # corrections to Superset's zh language pack
ADMIN_USER = "admin"

# Worker processes come from the settings (superset_workers); each serves this many requests at once in threads
# (chart queries release the GIL inside DuckDB/libpq).
GUNICORN_THREADS = 8
START_TIMEOUT_S = 120.0

_SETUP_HINT = (
    "create it with: cd {root} && UV_PROJECT_ENVIRONMENT=.venv-superset uv sync --frozen "
    "--no-default-groups --group superset"
)

# Servers this process started, kept so that stop() can reap them (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen] = {}


# --- paths -------------------------------------------------------------------------------------------------


def config_path(settings: Settings) -> Path:
    return settings.superset_home / "superset_config.py"


def pid_file(settings: Settings) -> Path:
    return settings.superset_home / "superset.pid"


def log_file(settings: Settings) -> Path:
    return settings.logs / "superset.log"


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"


def _binary(name: str) -> Path:
    path = SUPERSET_ENV / "bin" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the Superset environment is not set up; "
                                + _SETUP_HINT.format(root=REPO_ROOT))
    return path


def _env(settings: Settings) -> dict[str, str]:
    """Environment for the Superset binaries: their own venv, our config, nothing leaking from the pipeline env."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(
        SUPERSET_CONFIG_PATH=str(config_path(settings)),
        SUPERSET_HOME=str(settings.superset_home),
        VIRTUAL_ENV=str(SUPERSET_ENV),
        PATH=f"{SUPERSET_ENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        FLASK_APP="superset.app:create_app()",
        PYTHONIOENCODING="utf-8",
    )
    return env


# --- config ------------------------------------------------------------------------------------------------


def _secret_key(settings: Settings) -> Path:
    """The SECRET_KEY file: made once and kept, as it encrypts the DB credentials stored in the metadata DB."""
    path = settings.superset_home / "secret_key"
    if not path.exists():
        settings.superset_home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: keep theirs
            return path
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path


_CONFIG_TEMPLATE = '''\
"""Superset configuration for creditlake: written by creditlake.superset.manage.write_config, do not edit."""

from pathlib import Path

# Generated once per CREDITLAKE_HOME and kept: it encrypts the connection credentials in the metadata DB.
SECRET_KEY = Path({secret_file!r}).read_text().strip()

# Superset's own metadata (users, dashboards, charts) in SQLite under superset_home.
SQLALCHEMY_DATABASE_URI = {metadata_uri!r}

SUPERSET_WEBSERVER_PORT = {port!r}
APP_NAME = "creditlake"

# Chinese UI by default, English selectable.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {{
    "zh": {{"flag": "cn", "name": "简体中文"}},
    "en": {{"flag": "us", "name": "English"}},
}}

# No anonymous access to any data: the Public role gets no permissions at all, and nobody signs themselves up
# (accounts and their roles are made by `creditlake superset start`, see docs/dashboards.md).
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"
AUTH_USER_REGISTRATION = False

# Chinese first in every font stack: fonts-noto-cjk on the server and the regulator's desktops (思源黑体 / Noto
# Sans CJK), then the usual Windows and macOS CJK fonts. The browser draws ECharts canvases with the same stack.
_CJK_FONTS = ("Inter, 'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
              "sans-serif")
THEME_DEFAULT = {{
    "token": {{
        "brandAppName": APP_NAME,
        "brandLogoAlt": "creditlake",
        "brandLogoUrl": "/static/assets/images/superset-logo-horiz.png",
        "brandLogoMargin": "18px 0",
        "brandLogoHref": "/",
        "brandLogoHeight": "24px",
        "brandSpinnerUrl": None,
        "brandSpinnerSvg": None,
        "colorPrimary": "#2893B3",
        "colorLink": "#2893B3",
        "colorError": "#e04355",
        "colorWarning": "#fcc700",
        "colorSuccess": "#5ac189",
        "colorInfo": "#66bcfe",
        "fontUrls": [],
        "fontFamily": _CJK_FONTS,
        "fontFamilyCode": "'IBM Plex Mono', 'Noto Sans Mono CJK SC', 'Courier New', monospace",
        "transitionTiming": 0.3,
        "brandIconMaxWidth": 37,
        "fontSizeXS": "8",
        "fontSizeXXL": "28",
        "fontWeightNormal": "400",
        "fontWeightLight": "300",
        "fontWeightStrong": "500",
        "fontWeightBold": "700",
        "colorEditorSelection": "#fff5cf",
    }},
    "algorithm": "default",
}}
# One light theme for everyone: dashboards are printed and screenshotted for reports.
THEME_DARK = None

WTF_CSRF_ENABLED = True

# Exports without HTML, CSV with a byte-order mark and a Chinese file name, and the zh language pack with the
# project's corrections (dashboards/zh_overrides.json): creditlake/superset/superset_hooks.py. The BOM is written
# there (Werkzeug 3 ignores a response charset such as utf-8-sig), so the encoding here stays plain UTF-8; every
# CSV goes through that path (never the streaming one, which the chart row limits keep far away anyway).
from creditlake.superset.superset_hooks import mutate_app as FLASK_APP_MUTATOR  # noqa: E402
ZH_LANGUAGE_PACK_OVERRIDES = {zh_overrides!r}
CSV_EXPORT = {{"encoding": "utf-8"}}
CSV_STREAMING_ROW_THRESHOLD = 1_000_000_000

# DuckDB is not on Superset's blocklist (sqlite and shillelagh are), so the safety check can stay on.
PREVENT_UNSAFE_DB_CONNECTIONS = True

# Chart results are cached until the serving store changes: the cache key carries the store's version (the DuckDB
# file's inode and mtime, the time of the last publication), so a publication, which swaps the file in with
# os.replace, is read on the next query (publication_cache.py). Superset opens one connection per query (NullPool)
# and so reads the new file. Only chart data is cached; the metadata cache stays off.
CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
DATA_CACHE_CONFIG = {{
    "CACHE_TYPE": "creditlake.superset.publication_cache.PublicationCache",
    "CACHE_DIR": {data_cache_dir!r},
    "CACHE_VERSION_FILES": {version_files!r},
    "CACHE_DEFAULT_TIMEOUT": 7 * 24 * 3600,
    "CACHE_THRESHOLD": 5000,
    "CACHE_IGNORE_ERRORS": True,
}}

# Native filters, cross-filters, drill-to-detail and the ECharts plugins are on by default in Superset 6. Spelled
# out here because the roles in docs/dashboards.md rely on them: no subqueries in ad-hoc SQL (an Analyst's custom
# metric cannot reach tables outside the dataset), no Jinja in queries, row-level security off in SQL Lab (which
# nobody but the admin has), dashboards visible by dataset access rather than per-dashboard roles.
FEATURE_FLAGS = {{
    "ALLOW_ADHOC_SUBQUERY": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "RLS_IN_SQLLAB": False,
    "DASHBOARD_RBAC": False,
    "DRILL_TO_DETAIL": True,
}}

# Nothing leaves the regulator's network: the stock policy lets the browser load a telemetry pixel
# (apachesuperset.gateway.scarf.sh, rendered unconditionally by the 6.1 frontend), map tiles and web fonts.
THEME_FONT_URL_ALLOWED_DOMAINS = []
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {{
    "content_security_policy": {{
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    }},
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}}
'''


def write_config(settings: Settings) -> Path:
    """Write superset_config.py under settings.superset_home (and the secret key beside it, once); return its path."""
    home = settings.superset_home
    home.mkdir(parents=True, exist_ok=True)
    text = _CONFIG_TEMPLATE.format(
        secret_file=str(_secret_key(settings)),
        metadata_uri=f"sqlite:///{home / 'superset.db'}?check_same_thread=false",
        port=settings.superset_port,
        zh_overrides=str(ZH_OVERRIDES),
        data_cache_dir=str(home / "cache" / "chart-data"),
        version_files=[str(settings.serving_file), str(settings.published_marker)],
    )
    path = config_path(settings)
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- CLI -----------------------------------------------------------------------------------------------------


def _run(settings: Settings, cmd: list[str], shown: str, timeout: float = 900, stdin: str | None = None) -> str:
    """Run one command in the Superset env; log its output, return it, raise with its tail when it fails."""
    log.info("running %s", shown)
    started = time.monotonic()
    proc = subprocess.run(
        cmd,
        env=_env(settings),
        cwd=settings.superset_home,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = proc.stdout + proc.stderr
    settings.logs.mkdir(parents=True, exist_ok=True)
    with open(settings.logs / "superset-cli.log", "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {shown}  (rc={proc.returncode}, {time.monotonic() - started:.1f}s)\n{out}")
    if proc.returncode != 0:
        raise RuntimeError(f"{shown} failed with exit code {proc.returncode}:\n{out[-4000:]}")
    return out


def _superset(settings: Settings, *args: str) -> str:
    """Run one `superset` CLI command (the password, if any, is not logged)."""
    cmd = [str(_binary("superset")), *args]
    shown = " ".join(a if not a.startswith("--password=") else "--password=***" for a in cmd)
    return _run(settings, cmd, shown)


def _superset_version() -> str:
    """The installed apache-superset version, from its dist-info folder name (no import of Superset here)."""
    found = sorted((SUPERSET_ENV / "lib").glob("python*/site-packages/apache_superset-*.dist-info"))
    if not found:
        raise FileNotFoundError("apache-superset is not installed in .venv-superset; "
                                + _SETUP_HINT.format(root=REPO_ROOT))
    return found[-1].name.removeprefix("apache_superset-").removesuffix(".dist-info")


def _init_stamp(settings: Settings) -> Path:
    return settings.superset_home / "init.done"


def _init_current(settings: Settings) -> bool:
    """Whether init() already ran on this metadata DB with this Superset version (start() then skips it)."""
    stamp = _init_stamp(settings)
    return (
        stamp.exists()
        and (settings.superset_home / "superset.db").exists()
        and stamp.read_text().strip() == _superset_version()
    )


def init(settings: Settings) -> None:
    """Create or upgrade the metadata DB, the admin user and the roles; safe to run again.

    The admin is created once; a later change of superset_admin_password does not touch it
    (use `superset fab reset-password`).
    """
    write_config(settings)
    _superset(settings, "db", "upgrade")
    out = _superset(
        settings,
        "fab",
        "create-admin",
        f"--username={ADMIN_USER}",
        "--firstname=creditlake",
        "--lastname=admin",
        "--email=admin@creditlake.invalid",
        f"--password={settings.superset_admin_password}",
    )
    # FAB exits 0 even when it creates nothing, so read what it said.
    if "created" not in out and "already exists" not in out:
        raise RuntimeError(f"superset fab create-admin created no admin user:\n{out[-4000:]}")
    _superset(settings, "init")
    _init_stamp(settings).write_text(_superset_version() + "\n")


# --- dashboards ----------------------------------------------------------------------------------------------


def serving_uri(settings: Settings) -> tuple[str, str]:
    """The serving store as Superset must open it (read-only), and the schema its tables live in."""
    url = settings.serving
    if backend(url) == "duckdb":
        path = duckdb_path(url).resolve()
        query = dict(parse_qsl(urlsplit(url).query))
        # The pipeline swaps the file in with os.replace while Superset may be reading: never take a write lock.
        query["access_mode"] = "read_only"
        # No reading other files through SQL (read_csv('/etc/...') in an ad-hoc metric), no extension downloads.
        query["enable_external_access"] = "false"
        return f"duckdb:///{path}?{urlencode(query)}", "main"
    parts = urlsplit(url)
    # The Superset env has psycopg2, not psycopg 3 (the pipeline's driver).
    scheme = "postgresql+psycopg2"
    query = dict(parse_qsl(parts.query))
    query.setdefault("options", "-c default_transaction_read_only=on")
    return parts._replace(scheme=scheme, query=urlencode(query)).geturl(), PG_SCHEMA


def _substitute(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, new in mapping.items():
            value = value.replace(key, new)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    return value


# A LATEST_PLACEHOLDER's table and column.
_LATEST = re.compile(re.escape(LATEST_PLACEHOLDER.format("@")).replace("@", r"([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)"))


def latest_value(settings: Settings, table: str, column: str) -> str | None:
    """max(column) of a served table (the latest month), or None when the store or the table is not there yet."""
    from creditlake.serve.store import query

    try:
        rows = query(settings, f"SELECT max({column}) AS v FROM {table}")
    except Exception as exc:  # no serving file yet, table not published yet: the filter starts empty
        log.info("no default for %s.%s: %s", table, column, exc)
        return None
    value = rows[0]["v"] if rows else None
    return None if value is None else str(value)


def _fill_latest(settings: Settings, text: str, cache: dict[tuple[str, str], str | None]) -> str | None:
    """`text` with every `${LATEST:table.column}` replaced by max(column) of that served table; None when one of
    them has no value yet (nothing published). `cache` keeps each table's value for the whole bundle."""
    for table, column in set(_LATEST.findall(text)):
        if (table, column) not in cache:
            cache[(table, column)] = latest_value(settings, table, column)
        if cache[(table, column)] is None:
            return None
        text = text.replace(LATEST_PLACEHOLDER.format(f"{table}.{column}"), cache[(table, column)])
    return text


def _resolve_filter_defaults(settings: Settings, dashboard: dict[str, Any], cache: dict) -> None:
    """Fill in `${LATEST:table.column}` defaults of native filters; a filter without a value starts empty."""
    for flt in dashboard.get("metadata", {}).get("native_filter_configuration", []):
        text = json.dumps(flt.get("defaultDataMask", {}), ensure_ascii=False)
        if not _LATEST.search(text):
            continue
        filled = _fill_latest(settings, text, cache)
        if filled is None:
            flt["defaultDataMask"] = {"extraFormData": {}, "filterState": {}, "ownState": {}}
            flt.setdefault("controlValues", {})["enableEmptyFilter"] = False
        else:
            flt["defaultDataMask"] = json.loads(filled)


def _resolve_query_context(settings: Settings, chart: dict[str, Any], cache: dict) -> None:
    """Fill in the `${LATEST:table.column}` month a chart's saved query is pinned to; without that month (nothing
    published yet) the chart keeps no saved query until the next import."""
    if chart.get("query_context"):
        chart["query_context"] = _fill_latest(settings, chart["query_context"], cache)


def build_bundle(settings: Settings, dest: Path, source: Path | None = None) -> Path:
    """Zip the YAML bundle in `source` into `dest`, typed as an assets bundle, with the placeholders filled in:
    serving URI and schema, and each `${LATEST:table.column}` (the latest month served now) of the filters' defaults
    and the charts' saved queries."""
    source = source or BUNDLE_DIR
    uri, schema = serving_uri(settings)
    mapping = {SERVING_URL_PLACEHOLDER: uri, SERVING_SCHEMA_PLACEHOLDER: schema}
    files = sorted(p for p in source.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not any(p.relative_to(source).as_posix() == "metadata.yaml" for p in files):
        raise FileNotFoundError(f"{source / 'metadata.yaml'} is missing: not a Superset export bundle")
    root = source.name
    latest: dict[tuple[str, str], str | None] = {}
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            name = path.relative_to(source).as_posix()
            data = _substitute(yaml.safe_load(path.read_text(encoding="utf-8")), mapping)
            if name.startswith("dashboards/"):
                _resolve_filter_defaults(settings, data, latest)
            if name.startswith("charts/"):
                _resolve_query_context(settings, data, latest)
            if name == "metadata.yaml":
                # The committed bundle says `Dashboard` (importable by hand in the UI); the assets importer
                # wants `assets`.
                data["type"] = "assets"
            # Superset strips the first folder of each name in the zip, like in its own exports.
            zf.writestr(f"{root}/{name}", yaml.safe_dump(data, allow_unicode=True))
    return dest


# Runs inside .venv-superset: imports the bundle, fills in the filter scopes, then roles, RLS and demo users.
SUPERSET_SIDE = Path(__file__).with_name("superset_side.py")

# Demo accounts, one per role (docs/dashboards.md). Off with CREDITLAKE_SUPERSET_DEMO_USERS=0 on a real install;
# the password is set when an account is created and never reset afterwards (like the admin's).
DEMO_PASSWORD_DEFAULT = "creditlake-demo"
ANALYST_ROLE = "Analyst"
POLICY_ROLE = "Policy maker"
OFFICER_ROLE = "District officer {code}"
DEMO_ANALYST = "analyst"
DEMO_POLICY = "policymaker"
DEMO_OFFICER = "officer_{code}"

# What a logged-in read-only user needs beyond Superset's PUBLIC_ROLE_PERMISSIONS (the minimal set Superset 6
# defines for viewing dashboards): the menu and dashboard list, the Chinese language pack, their own profile and
# password, sharing a dashboard link, the frontend's event log.
_VIEWER_EXTRA = [
    ("menu_access", "Dashboards"), ("menu_access", "Home"), ("can_get", "MenuApi"),
    ("can_language_pack", "Superset"), ("can_log", "Superset"), ("can_write", "Log"),
    ("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"), ("can_this_form_post", "ResetMyPasswordView"),
    ("can_recent_activity", "Log"), ("can_write", "CurrentUserRestApi"),
    ("can_share_dashboard", "Superset"), ("can_write", "DashboardPermalinkRestApi"),
    ("can_read", "AvailableDomains"),
]
# Drill to detail (the rows behind a chart; a District officer's own district only) and CSV download: Analysts
# (Superset's Gamma lacks `can_samples`) and District officers (field checks).
_DRILL_EXTRA = [
    ("can_drill", "Dashboard"), ("can_samples", "Datasource"), ("can_view_chart_as_table", "Dashboard"),
    ("can_get_drill_info", "Dataset"), ("can_csv", "Superset"),
]


def _bundle_objects(source: Path) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """The bundle's datasets (uuid -> column names), dashboard uuids and chart uuids, read from its YAML."""
    datasets = {}
    for path in sorted((source / "datasets").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        datasets[data["uuid"]] = [c["column_name"] for c in data.get("columns", [])]
    dashboards, charts = ([yaml.safe_load(p.read_text(encoding="utf-8"))["uuid"]
                           for p in sorted((source / folder).glob("*.yaml"))] for folder in ("dashboards", "charts"))
    return datasets, dashboards, charts


def demo_password() -> str:
    from creditlake.settings import get_settings

    return get_settings().superset_demo_password or DEMO_PASSWORD_DEFAULT


def demo_users_enabled() -> bool:
    from creditlake.settings import get_settings

    return get_settings().superset_demo_users


def access_spec(source: Path | None = None, demo_users: bool | None = None) -> dict[str, Any]:
    """Roles, row-level security and demo users for superset_side.py (given on its stdin, as JSON).

    Analyst: Superset's Gamma (explore, own charts, CSV; never SQL Lab) on every dataset. Policy maker: dashboards,
    read-only, every dataset. District officer <code>: read-only plus drill-to-detail, only datasets with a
    district_code column, each under a Regular RLS filter `district_code = '<code>'` (one role per district).
    """
    from creditlake.codes import GUIYANG_DIVISIONS

    source = source or BUNDLE_DIR
    datasets, dashboards, charts = _bundle_objects(source)
    every = sorted(datasets)
    by_district = sorted(u for u, cols in datasets.items() if "district_code" in cols)
    roles: list[dict[str, Any]] = [
        {"name": ANALYST_ROLE, "base": "gamma", "extra": _DRILL_EXTRA, "datasets": every},
        {"name": POLICY_ROLE, "base": "viewer", "datasets": every},
    ]
    rls = []
    users = []
    password = demo_password()
    make_users = demo_users_enabled() if demo_users is None else demo_users
    if make_users:
        users += [
            {"username": DEMO_ANALYST, "first_name": "分析", "last_name": "人员", "role": ANALYST_ROLE,
             "email": f"{DEMO_ANALYST}@creditlake.invalid", "password": password},
            {"username": DEMO_POLICY, "first_name": "决策", "last_name": "人员", "role": POLICY_ROLE,
             "email": f"{DEMO_POLICY}@creditlake.invalid", "password": password},
        ]
    for code, name in GUIYANG_DIVISIONS.items():
        role = OFFICER_ROLE.format(code=code)
        roles.append({"name": role, "base": "viewer", "extra": _DRILL_EXTRA, "datasets": by_district})
        rls.append({"name": role, "description": f"{name}（{code}）区县工作人员只看本区县数据",
                    "clause": f"district_code = '{code}'", "group_key": "district_code", "role": role,
                    "datasets": by_district})
        if make_users:
            username = DEMO_OFFICER.format(code=code)
            users.append({"username": username, "first_name": name, "last_name": "工作人员", "role": role,
                          "email": f"{username}@creditlake.invalid", "password": password})
    return {"datasets": every, "dashboards": dashboards, "charts": charts, "viewer_extra": _VIEWER_EXTRA,
            "roles": roles, "rls": rls, "users": users}


def import_dashboards(settings: Settings, source: Path | None = None, access: bool = True) -> None:
    """Import the YAML bundle (default dashboards/creditlake); objects matched by uuid are overwritten, not doubled.

    With `access` (the default) the roles, row-level security filters and demo users are made or brought back to
    what access_spec() says, in the same Superset process.
    """
    source = source or BUNDLE_DIR
    write_config(settings)
    spec = access_spec(source)
    if not access:
        spec = {**spec, "roles": [], "rls": [], "users": []}
    # The zip holds the serving URI (maybe with a password): private temp file, deleted straight after.
    fd, name = tempfile.mkstemp(prefix="bundle-", suffix=".zip", dir=settings.superset_home)
    os.close(fd)
    bundle = Path(name)
    try:
        build_bundle(settings, bundle, source)
        _run(settings, [str(_binary("python")), str(SUPERSET_SIDE), str(bundle), ADMIN_USER],
             shown=f"import assets bundle {source} and set up roles", stdin=json.dumps(spec, ensure_ascii=False))
    finally:
        bundle.unlink(missing_ok=True)


def refresh_dashboards(settings: Settings) -> bool:
    """Import the bundle again after a publication, so that each 月份 filter defaults to the month just published
    (Superset 6.1 keeps a filter's default as a value, resolved at import). Runs whether or not the server is up:
    it reads the metadata DB at each request. False, doing nothing, when Superset was never set up for this home
    (`creditlake superset start` does it)."""
    if not _init_current(settings):
        log.info("Superset is not set up for %s: no dashboards to refresh", settings.home)
        return False
    import_dashboards(settings)
    return True


# --- server --------------------------------------------------------------------------------------------------


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def is_running(settings: Settings) -> bool:
    """Whether a Superset answers /health on settings.superset_port."""
    return _healthy(base_url(settings))


def _read_pid(settings: Settings) -> int | None:
    try:
        return int(pid_file(settings).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_our_server(pid: int) -> bool:
    """Guard against a stale pid file whose pid now belongs to some other program."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"gunicorn" in cmdline and b"superset" in cmdline


def start(settings: Settings) -> str:
    """Start Superset in the background (config, init, import first) unless it already answers; return its URL."""
    url = base_url(settings)
    if is_running(settings):
        pid = _read_pid(settings)
        if pid is not None and _alive(pid) and _is_our_server(pid):
            return url
        # Someone else's server (another CREDITLAKE_HOME, another program) answers on our port.
        raise RuntimeError(f"port {settings.superset_port} is served by a Superset that this CREDITLAKE_HOME did not "
                           "start; stop it or set CREDITLAKE_SUPERSET_PORT to a free port")
    write_config(settings)
    # Each superset CLI call pays ~7 s of app start-up: skip the three init steps when nothing changed.
    if not _init_current(settings):
        init(settings)
    # Always: the bundle or the serving URL may have changed since the last start.
    import_dashboards(settings)

    settings.logs.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(_binary("gunicorn")),
        f"--bind=127.0.0.1:{settings.superset_port}",
        f"--workers={settings.superset_workers}",
        "--worker-class=gthread",
        f"--threads={GUNICORN_THREADS}",
        "--timeout=120",
        # gunicorn 27 otherwise opens a control socket at ~/.gunicorn/gunicorn.ctl, shared by every instance.
        "--no-control-socket",
        # Superset's own advice: its URLs (form data, permalinks) can be long.
        "--limit-request-line=0",
        "--limit-request-field_size=0",
        "superset.app:create_app()",
    ]
    with open(log_file(settings), "ab") as out:
        proc = subprocess.Popen(
            cmd,
            env=_env(settings),
            cwd=settings.superset_home,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Own process group: stop() kills master and workers together, and a Ctrl-C here does not.
            start_new_session=True,
        )
    _children[proc.pid] = proc
    pid_file(settings).write_text(f"{proc.pid}\n")

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _children.pop(proc.pid, None)
            pid_file(settings).unlink(missing_ok=True)
            raise RuntimeError(f"Superset (gunicorn) exited with code {proc.returncode}; see {log_file(settings)}")
        if _healthy(url):
            log.info("Superset answers at %s", url)
            return url
        time.sleep(1)
    stop(settings)
    raise TimeoutError(f"Superset did not answer {url}/health within {START_TIMEOUT_S:.0f} s; "
                       f"see {log_file(settings)}")


def stop(settings: Settings, timeout: float = 30.0) -> bool:
    """Stop the Superset started by start() (its whole process group); return whether one was running."""
    pid = _read_pid(settings)
    if pid is None:
        return False
    child = _children.pop(pid, None)
    running = _alive(pid) and (child is not None or _is_our_server(pid))
    if running:
        os.killpg(pid, signal.SIGTERM)  # start_new_session made the gunicorn master a group leader
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive_or_reap(pid, child):
            time.sleep(0.2)
        if _alive_or_reap(pid, child):
            log.warning("Superset (pid %s) ignored SIGTERM for %.0f s; killing it", pid, timeout)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if child is not None:
                child.wait(timeout=10)
    pid_file(settings).unlink(missing_ok=True)
    return running


def _alive_or_reap(pid: int, child: subprocess.Popen | None) -> bool:
    if child is not None:
        return child.poll() is None
    return _alive(pid)
