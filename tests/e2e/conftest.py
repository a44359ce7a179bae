"""Fixtures shared by the e2e tests: one headless Chromium for the whole session."""

from __future__ import annotations

import pytest

from .browser import launch_chromium


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium, headless, launched once per test session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
