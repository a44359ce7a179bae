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

# A chart has drawn when its slice container holds a canvas or svg (ECharts), a table (table charts), the number of
# a big-number chart (plain text), or the "no data" picture (an svg) of a query that returned no rows.
_DRAWN = ", ".join(f'[data-test="slice-container"] {tag}' for tag in (
    "canvas", "svg", "table", ".superset-legacy-chart-big-number .header-line"))
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


def wait_for_charts_drawn(page, count: int, timeout_ms: int = 90_000) -> None:
    """Wait until `count` dashboard charts have drawn and no loading spinner is left; fail on any chart error."""
    page.wait_for_function(_CHARTS_SETTLED_JS, arg=[count, _DRAWN, _ERRORS], timeout=timeout_ms)
    errors = page.locator(_ERRORS)
    if errors.count():
        raise AssertionError("chart error on the dashboard: " + " | ".join(errors.all_inner_texts()))


def wait_for_dashboard_charts(page, count: int, timeout_ms: int = 90_000) -> None:
    """wait_for_charts_drawn, then until the ECharts animations have finished (for screenshots)."""
    wait_for_charts_drawn(page, count, timeout_ms)
    page.wait_for_function(_CANVASES_STILL_JS, polling=400, timeout=timeout_ms)


# Which CJK characters on the page the browser cannot draw: each is drawn on a canvas in the page's own font stack
# and compared with the drawing of a code point no font has (U+10FFFD, private use): a character without a glyph
# comes out as that same "tofu" box. The ECharts canvases draw with the same stack (the theme's fontFamily).
_MISSING_GLYPHS_JS = r"""
() => {
  const text = document.body.innerText;
  const chars = Array.from(new Set(Array.from(text).filter(c => /[\u3000-\u9fff\uff00-\uffef]/.test(c))));
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const font = getComputedStyle(document.body).fontFamily;
  const draw = c => {
    ctx.clearRect(0, 0, 48, 48); ctx.font = `32px ${font}`; ctx.fillStyle = '#000'; ctx.fillText(c, 4, 38);
    return canvas.toDataURL();
  };
  const tofu = draw('\u{10FFFD}');
  return {font, checked: chars.length, missing: chars.filter(c => draw(c) === tofu),
          selfCheck: draw('\u{10FFFC}') === tofu && draw('区') !== tofu};
}
"""


def missing_glyphs(page) -> dict:
    """{font, checked, missing, selfCheck} for the CJK characters in the page's text (see _MISSING_GLYPHS_JS)."""
    return page.evaluate(_MISSING_GLYPHS_JS)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (name may hold a folder) and return its path."""
    path = ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
