"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by
Playwright for Python (never ``playwright install``); skipped without it unless
``NEWSLETTER_REQUIRE_BROWSER=1`` (CI sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    required = os.environ.get("NEWSLETTER_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("Playwright is required (NEWSLETTER_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Playwright for Python is not installed")
    if not CHROMIUM.exists():
        if required:
            pytest.fail(
                f"Chromium is required (NEWSLETTER_REQUIRE_BROWSER=1) but {CHROMIUM} is missing"
            )
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()
