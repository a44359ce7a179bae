"""Headless-Chromium helpers for the e2e tests: launch the system Chromium, log in to Superset, wait for charts."""

from __future__ import annotations

from pathlib import Path

from creditlake.settings import REPO_ROOT

# Screenshots and other evidence the tests leave behind (git-ignored).
ARTIFACTS = REPO_ROOT / "test-artifacts"

CHROMIUM = "/usr/bin/chromium"
# The Debian chromium, not a Playwright download (`playwright install` is never run here); no sandbox because
# the tests run as root, and no background traffic because the machine is offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# A chart has drawn when its slice container holds a canvas or svg (ECharts) or a table (table charts).
_DRAWN = ", ".join(f'[data-test="slice-container"] {tag}' for tag in ("canvas", "svg", "table"))
# Superset 6 shows a failed chart as an antd error alert; .alert-danger is the older Bootstrap one.
_ERRORS = '[data-test="chart-grid-component"] [role="alert"], .ant-alert-error, .alert-danger'

_CHARTS_SETTLED_JS = """
([n, drawn, errors]) => {
  if (document.querySelector(errors)) return true;
  const holders = document.querySelectorAll('[data-test="chart-grid-component"]');
  if (holders.length < n) return false;
  if (document.querySelector('[data-test="loading-indicator"]')) return false;
  return Array.from(holders).every(h => h.querySelector(drawn));
}
"""


# ECharts animates bars into place after the canvas appears: settled means two looks 400 ms apart see the same pixels.
_CANVASES_STILL_JS = """
() => {
  const now = Array.from(document.querySelectorAll('[data-test="slice-container"] canvas'))
    .map(c => c.toDataURL()).join('|');
  const same = window.__e2eLastCanvases === now;
  window.__e2eLastCanvases = now;
  return same;
}
"""


def launch_chromium(playwright, **kwargs):
    """Launch the system Chromium headless with the flags this machine needs."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


def login_superset(page, base_url: str, username: str, password: str, timeout_ms: int = 30_000) -> None:
    """Log in through Superset's login form; fail clearly if the form does not let us in."""
    page.goto(f"{base_url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click('[data-test="login-button"]')
    try:
        page.wait_for_url(lambda url: "/login" not in url, timeout=timeout_ms)
    except Exception as exc:  # playwright's TimeoutError; say what went wrong, not just "timeout"
        body = page.inner_text("body")[:500]
        raise AssertionError(f"Superset login as {username!r} failed; the page says: {body}") from exc


def wait_for_dashboard_charts(page, count: int, timeout_ms: int = 90_000) -> None:
    """Wait until `count` dashboard charts have drawn and no loading spinner is left; fail on any chart error."""
    page.wait_for_function(_CHARTS_SETTLED_JS, arg=[count, _DRAWN, _ERRORS], timeout=timeout_ms)
    errors = page.locator(_ERRORS)
    if errors.count():
        raise AssertionError("chart error on the dashboard: " + " | ".join(errors.all_inner_texts()))
    page.wait_for_function(_CANVASES_STILL_JS, polling=400, timeout=timeout_ms)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
