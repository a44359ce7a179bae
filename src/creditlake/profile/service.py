"""The profile query service as a background process of a home: start (idempotent), status, stop.

`creditlake serve-api` runs it in the foreground (uvicorn); `creditlake api start` runs that detached, records its
pid in home/api/api.json and waits until it answers; `demo` starts it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from creditlake.cluster import alive, signal_group
from creditlake.settings import Settings

def state_file(settings: Settings) -> Path:
    return settings.home / "api" / "api.json"


def log_file(settings: Settings) -> Path:
    return settings.logs / "api.log"


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.api_port}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def running(settings: Settings) -> dict | None:
    """The home's service ({pid, url, started_at}) when its process is alive, else None."""
    try:
        state = json.loads(state_file(settings).read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not alive(state["pid"]):
        return None
    try:
        if b"serve-api" not in Path(f"/proc/{state['pid']}/cmdline").read_bytes():
            return None  # the pid of a dead service, now another program's
    except OSError:
        pass
    return state


def start(settings: Settings, timeout: float = 60) -> str:
    """Start the service on 127.0.0.1:api_port unless it runs; its URL."""
    if running(settings) is not None:
        return base_url(settings)
    url = base_url(settings)
    if _answers(url):
        raise RuntimeError(f"another program answers on port {settings.api_port}: set CREDITLAKE_API_PORT")
    state_file(settings).parent.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CREDITLAKE_HOME": str(settings.home)}
    with open(log_file(settings), "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "creditlake.cli", "serve-api"], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    state_file(settings).write_text(json.dumps({"pid": proc.pid, "url": url, "started_at": time.time()}))
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(settings)
            raise RuntimeError(f"查询服务未能启动 (the profile service did not start): see {log_file(settings)}")
        time.sleep(0.3)
    return url


def stop(settings: Settings, timeout: float = 20) -> bool:
    """Stop the home's service; True if one was running."""
    state = running(settings)
    state_file(settings).unlink(missing_ok=True)
    if state is None:
        return False
    signal_group(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(state["pid"]):
        signal_group(state["pid"], signal.SIGKILL)
    return True
