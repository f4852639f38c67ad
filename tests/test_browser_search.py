"""Search of the archive in headless Chromium: a word from an abstract finds its paper.

The site is built from the seed digests, indexed by Pagefind and served over a
loopback HTTP server (a page opened from ``file://`` cannot fetch Pagefind's
index).  Skipped without Pagefind, Playwright or Chromium unless
``NEWSLETTER_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from render_kit import build, seed_editions

from newsletter.render import archive, search
from newsletter.web.headers import SITE_CSP


class _Quiet(SimpleHTTPRequestHandler):
    """The site's files with the archive's Content-Security-Policy, as `serve` sends it."""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", SITE_CSP)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not search.available():
        if os.environ.get("NEWSLETTER_REQUIRE_BROWSER") == "1":
            pytest.fail('Pagefind is required: pip install ".[search]"')
        pytest.skip("Pagefind is not installed")
    site = tmp_path_factory.mktemp("search") / "site"
    build(site, seed_editions())
    assert (site / "pagefind" / "pagefind.js").is_file()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site
    finally:
        server.shutdown()
        server.server_close()


def _rare_abstract_word() -> tuple[str, str]:
    """A word found in one paper's abstract only (not in any other title, abstract or
    author list), and that paper's title."""
    entries = archive.published(list(reversed(seed_editions())))
    words = [
        set(re.findall(r"[a-z]{9,}", f"{e.paper.title} {e.paper.abstract}".lower()))
        for e in entries
    ]
    for i, entry in enumerate(entries):
        own = set(re.findall(r"[a-z]{9,}", entry.paper.abstract.lower()))
        others = set().union(*(w for j, w in enumerate(words) if j != i))
        unique = sorted(own - others - set(re.findall(r"[a-z]+", entry.paper.title.lower())))
        if unique:
            return unique[0], entry.paper.title
    raise AssertionError("no paper has a word of its own")


def test_typing_a_word_from_an_abstract_finds_the_paper(
    browser: Any,
    served: tuple[str, Path],
) -> None:
    base, _ = served
    word, title = _rare_abstract_word()
    page = browser.new_page()
    page.goto(base + "index.html")
    page.fill("header input[type=search]", word)
    page.press("header input[type=search]", "Enter")
    page.wait_for_url(re.compile(r"/search/index\.html\?q="))
    page.wait_for_selector(".pagefind-ui__result-link", timeout=30_000)
    results = page.locator(".pagefind-ui__result-link").all_inner_texts()
    assert results[0] == title, (word, results)
    page.click(".pagefind-ui__result-link >> nth=0")
    assert page.inner_text("h1") == title
    page.close()


def _until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll from Python (through the DevTools protocol, which the page's CSP does not
    govern): Playwright's ``wait_for_function`` polls by ``eval`` inside the page, and
    the site's CSP forbids ``unsafe-eval``, so it fails whenever its first look is False."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the page never got there"
        time.sleep(0.1)


def test_search_filters_by_topic_and_month(
    browser: Any,
    served: tuple[str, Path],
) -> None:
    base, _ = served
    page = browser.new_page()
    page.goto(base + "search/index.html")
    page.fill(".pagefind-ui__search-input", "model")
    page.wait_for_selector(".pagefind-ui__result-link", timeout=30_000)
    # the UI adds the filters one by one, after the first results
    _until(lambda: len(page.locator(".pagefind-ui__filter-name").all_inner_texts()) >= 2)
    names = page.locator(".pagefind-ui__filter-name").all_inner_texts()
    assert {"topic", "month"} <= {n.strip().lower() for n in names}, names
    vision = sorted(
        {
            e.paper.title
            for e in archive.published(list(reversed(seed_editions())))
            if "vision" in e.paper.topics
        }
    )
    page.click(".pagefind-ui__filter-name:has-text('topic')")
    page.check("input[type=checkbox][id*='Vision']")
    # The UI redraws the results as they load (progressively, and later on a loaded
    # machine): wait until what is shown is only vision papers, then check it again.
    wanted = set(vision)

    def only_vision() -> bool:
        shown = {s.strip() for s in page.locator(".pagefind-ui__result-link").all_inner_texts()}
        return bool(shown) and shown <= wanted

    _until(only_vision)
    shown = page.locator(".pagefind-ui__result-link").all_inner_texts()
    assert shown and {s.strip() for s in shown} <= set(vision), shown
    page.close()


def test_every_internal_link_resolves_from_the_web_server(served: tuple[str, Path]) -> None:
    """The same archive over HTTP: every relative link of every page answers 200."""
    from urllib.parse import urljoin, urlsplit
    from urllib.request import urlopen

    from render_kit import links_of, pages_of

    base, site = served
    targets: set[str] = set()
    for page in pages_of(site):
        url = base + page.relative_to(site).as_posix()
        for link in links_of(page):
            if urlsplit(link).scheme in ("http", "https", "mailto") or link.startswith("#"):
                continue
            targets.add(urljoin(url, link).split("#")[0])
    assert len(targets) > 60  # every page of the seed archive
    for target in sorted(targets):
        with urlopen(target, timeout=10) as response:
            assert response.status == 200, target
