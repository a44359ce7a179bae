"""Drive Superset from the pipeline env: write its config, set up its metadata DB, import the dashboards, run it.

Superset pins libraries that clash with the pipeline (see pyproject.toml), so it lives in `.venv-superset` and
everything here runs that environment's `superset`, `gunicorn` and `python` by subprocess; nothing here
imports Superset.
"""

from __future__ import annotations

import logging
import os
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

log = logging.getLogger(__name__)

SUPERSET_ENV = REPO_ROOT / ".venv-superset"
BUNDLE_DIR = REPO_ROOT / "dashboards" / "creditlake"
ADMIN_USER = "admin"

# Placeholders in the YAML bundle, replaced at import time (the bundle is committed, connection strings are not).
SERVING_URL_PLACEHOLDER = "${SERVING_URL}"
SERVING_SCHEMA_PLACEHOLDER = "${SERVING_SCHEMA}"

# One worker process with threads: a 2-core box serves a handful of regulator users; each extra worker costs
# ~400 MB and its own app start-up. Chart queries release the GIL inside DuckDB/libpq.
GUNICORN_WORKERS = 1
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

# No anonymous access to any data: the Public role gets no permissions at all.
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"

WTF_CSRF_ENABLED = True

# DuckDB is not on Superset's blocklist (sqlite and shillelagh are), so the safety check can stay on.
PREVENT_UNSAFE_DB_CONNECTIONS = True

# No result caching: the serving file is rebuilt and swapped in by the pipeline, and each chart query must read
# the file as it is now. (Superset opens one connection per query, NullPool, so it picks up the new file.)
CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}

# Native filters and the ECharts plugins are on by default in Superset 6: no feature flags needed.
FEATURE_FLAGS = {{}}

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
    )
    path = config_path(settings)
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- CLI -----------------------------------------------------------------------------------------------------


def _run(settings: Settings, cmd: list[str], shown: str, timeout: float = 900) -> str:
    """Run one command in the Superset env; log its output, return it, raise with its tail when it fails."""
    log.info("running %s", shown)
    started = time.monotonic()
    proc = subprocess.run(
        cmd,
        env=_env(settings),
        cwd=settings.superset_home,
        stdin=subprocess.DEVNULL,
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


def build_bundle(settings: Settings, dest: Path, source: Path | None = None) -> Path:
    """Zip the YAML bundle in `source` into `dest`, serving URI and schema filled in, typed as an assets bundle."""
    source = source or BUNDLE_DIR
    uri, schema = serving_uri(settings)
    mapping = {SERVING_URL_PLACEHOLDER: uri, SERVING_SCHEMA_PLACEHOLDER: schema}
    files = sorted(p for p in source.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not any(p.relative_to(source).as_posix() == "metadata.yaml" for p in files):
        raise FileNotFoundError(f"{source / 'metadata.yaml'} is missing: not a Superset export bundle")
    root = source.name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            name = path.relative_to(source).as_posix()
            data = _substitute(yaml.safe_load(path.read_text(encoding="utf-8")), mapping)
            if name == "metadata.yaml":
                # The committed bundle says `Dashboard` (importable by hand in the UI); the assets importer
                # wants `assets`.
                data["type"] = "assets"
            # Superset strips the first folder of each name in the zip, like in its own exports.
            zf.writestr(f"{root}/{name}", yaml.safe_dump(data, allow_unicode=True))
    return dest


# Runs inside .venv-superset. Why not `superset import-dashboards`: in 6.1 it overwrites only the dashboard and
# keeps any existing database, dataset and chart with the same uuid unchanged, so edits to the YAML (or a new
# serving URL) would never reach Superset. ImportAssetsCommand (the code behind POST /api/v1/assets/import/,
# "for managing Superset assets externally under source control") overwrites every object by uuid.
_IMPORT_SCRIPT = """\
import sys
from zipfile import ZipFile

from superset.app import create_app

app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.exceptions import CommandInvalidError
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    from superset.utils.core import override_user

    user = security_manager.find_user(username=sys.argv[2])
    if user is None:
        sys.exit(f"no Superset user {sys.argv[2]!r}: run init first")
    with ZipFile(sys.argv[1]) as bundle:
        contents = get_contents_from_bundle(bundle)
    try:
        with override_user(user):
            ImportAssetsCommand(contents).run()
    except CommandInvalidError as ex:
        sys.exit(f"invalid bundle: {ex.normalized_messages()}")
    print(f"imported {len(contents)} files from {sys.argv[1]}")
"""


def import_dashboards(settings: Settings, source: Path | None = None) -> None:
    """Import the YAML bundle (default dashboards/creditlake); objects matched by uuid are overwritten, not doubled."""
    source = source or BUNDLE_DIR
    write_config(settings)
    # The zip holds the serving URI (maybe with a password): private temp file, deleted straight after.
    fd, name = tempfile.mkstemp(prefix="bundle-", suffix=".zip", dir=settings.superset_home)
    os.close(fd)
    bundle = Path(name)
    try:
        build_bundle(settings, bundle, source)
        _run(settings, [str(_binary("python")), "-c", _IMPORT_SCRIPT, str(bundle), ADMIN_USER],
             shown=f"import assets bundle {source}")
    finally:
        bundle.unlink(missing_ok=True)


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
        f"--workers={GUNICORN_WORKERS}",
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
