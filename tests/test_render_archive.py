"""The browsable archive built from the seed digests: links, pages, titles, search, cost."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from render_kit import build, edition_of, links_of, pages_of, paper, seed_editions, settings

from newsletter.render import archive, search
from newsletter.render.site import _Archive, _Frame

BASE = "https://papers.example.org/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive") / "site"
    build(root, seed_editions())
    return root


def test_every_internal_link_resolves_from_disk(site: Path) -> None:
    checked = 0
    for page in pages_of(site):
        for link in links_of(page):
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {link} does not resolve"
            if parts.fragment:
                assert f'id="{parts.fragment}"' in target.read_text(encoding="utf-8"), (
                    f"{page.relative_to(site)}: {link} names no element"
                )
            checked += 1
    assert checked > 1000


def test_a_topic_page_without_papers_links_no_feed(tmp_path: Path) -> None:
    """A topic nobody's paper carries yet has a page ("no papers yet") but no feed,
    so its page must not link one (it would be a dead link)."""
    root = tmp_path / "site"
    build(root, [edition_of([paper(1, "llm")])])
    empty = [p for p in (root / "topics").glob("*/index.html") if p.parent.name != "llm"]
    assert empty, "every topic of the taxonomy gets a page"
    for page in empty:
        assert not (root / "topics" / f"{page.parent.name}.xml").exists()
        assert f"{page.parent.name}.xml" not in page.read_text(encoding="utf-8")
    assert "llm.xml" in (root / "topics" / "llm" / "index.html").read_text(encoding="utf-8")


def test_sign_up_link_description_and_opengraph_on_every_page(site: Path) -> None:
    titles: dict[str, Path] = {}
    for page in pages_of(site):
        text = page.read_text(encoding="utf-8")
        where = page.relative_to(site)
        assert f'class="join" href="{BASE}subscribe"' in text, f"{where}: no sign-up link"
        assert '<meta name="description" content="' in text, where
        assert '<meta property="og:title"' in text and '<meta property="og:url"' in text, where
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        assert title, where
        assert title.group(1) not in titles, (
            f"{where} and {titles.get(title.group(1))} share a title"
        )
        titles[title.group(1)] = where


def test_every_published_paper_has_a_page_and_is_on_its_topic_pages(site: Path) -> None:
    editions = list(reversed(seed_editions()))
    entries = archive.published(editions)
    assert len(entries) > 40
    for entry in entries:
        page = site / archive.paper_dir(entry.paper.key) / "index.html"
        text = page.read_text(encoding="utf-8")
        assert html_lib.escape(entry.paper.title, quote=False) in text
        assert urlsplit(archive.paper_dir(entry.paper.key)).path in (
            (site / archive.topic_dir(entry.paper.topic) / "index.html").read_text("utf-8")
        )


def test_edition_page_folds_abstracts_and_links_neighbours(site: Path) -> None:
    middle = (site / "editions/2026-11-18/index.html").read_text(encoding="utf-8")
    assert "<details><summary>Abstract</summary>" in middle
    assert 'rel="prev" href="../2026-11-17/index.html"' in middle
    assert 'rel="next" href="../2026-11-19/index.html"' in middle  # rewritten by the next run
    assert 'href="#top"' in middle
    newest = (site / "editions/2026-11-20/index.html").read_text(encoding="utf-8")
    assert 'rel="next"' not in newest


def test_a_second_edition_of_a_date_has_its_own_title(tmp_path: Path) -> None:
    first = seed_editions()[0]
    second = replace(seed_editions()[1], date=first.date, number=2)
    build(tmp_path, [first, second])
    one = (tmp_path / "editions/2026-11-16/index.html").read_text(encoding="utf-8")
    two = (tmp_path / "editions/2026-11-16-2/index.html").read_text(encoding="utf-8")
    title = re.compile(r"<title>(.*?)</title>")
    assert title.findall(one) != title.findall(two)
    assert "(edition 2)" in title.findall(two)[0]


def test_index_lists_latest_editions_with_topic_sizes_months_and_feeds(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index("editions/2026-11-20/") < index.index("editions/2026-11-16/")
    assert re.search(r"\d+ papers: Language Models \d+", index)
    assert 'href="months/2026-11/index.html"' in index
    assert 'href="topics/llm/index.html"' in index
    assert 'href="feed.xml"' in index and 'href="atom.xml"' in index
    week = (site / "weeks/2026-W47/index.html").read_text(encoding="utf-8")
    assert "editions/2026-11-16/" in week and "editions/2026-11-20/" in week


def test_topic_pages_are_paged_newest_first_and_full_pages_are_never_rewritten(
    tmp_path: Path,
) -> None:
    seeds = seed_editions()
    again = [
        replace(
            e,
            date=e.date + timedelta(days=len(seeds)),
            sections=tuple(
                replace(s, papers=tuple(replace(p, key=p.key + " again") for p in s.papers))
                for s in e.sections
            ),
        )
        for e in seeds
    ]
    editions = seeds + again
    # every paper in one topic: numbered pages of PAGE_SIZE fill over the runs
    many = [
        replace(
            e,
            sections=tuple(
                replace(s, papers=tuple(replace(p, topics=("llm",)) for p in s.papers))
                for s in e.sections
            ),
        )
        for e in editions
    ]
    runs = build(tmp_path, many)
    entries = archive.published(list(reversed(many)))
    total = len(entries)
    new = sum(1 for e in entries if e.edition is many[-1])
    pages = archive.topic_chunks(total)
    first = (tmp_path / "topics/llm/index.html").read_text(encoding="utf-8")
    newest = editions[-1].sections[0].papers[0]
    assert archive.paper_dir(newest.key) in first
    # the last run wrote none of the numbered pages its papers did not reach
    last = {p.relative_to(tmp_path).as_posix() for p in runs[-1]}
    touched = archive.chunks_touched(total, new)
    assert pages >= 2 and touched == [pages], (total, new)
    for n in range(1, pages + 1):
        assert (f"topics/llm/page-{n}.html" in last) == (n in touched), n


def test_a_run_writes_what_changed_not_the_history(tmp_path: Path) -> None:
    """Writing cost: the new edition's papers, a bounded set of listing pages."""
    editions = seed_editions()
    runs = build(tmp_path, editions)
    last = {p.relative_to(tmp_path).as_posix() for p in runs[-1]}
    papers = [p for p in last if p.startswith("papers/")]
    assert len(papers) == editions[-1].paper_count
    old = {archive.paper_dir(p.key) + "index.html" for p in editions[0].sections[0].papers}
    assert not old & last
    assert "editions/2026-11-19/index.html" in last  # its "next" link
    assert "editions/2026-11-18/index.html" not in last
    listing = [p for p in last if not p.startswith(("papers/", "editions/"))]
    pages = [p for p in listing if p.endswith(".html")]
    assert len(pages) < 25, sorted(pages)
    feeds = [p for p in listing if p.endswith((".xml", ".json", ".opml"))]
    # RSS, Atom, JSON Feed and the OPML, plus an RSS and a JSON feed per topic: never history
    assert len(feeds) <= 4 + 2 * len(settings().taxonomy.topics), sorted(feeds)


def test_without_pagefind_the_search_page_says_so_and_no_box(tmp_path: Path) -> None:
    edition = seed_editions()[0]
    frame = _Frame(settings(), ["feed.xml", "atom.xml"], searchable=False)
    page, body = _Archive([edition], settings(), frame).search_page()
    text = body.decode("utf-8")
    assert page == "search/index.html"
    assert "Search is not installed" in text and "pagefind-ui.js" not in text
    assert 'role="search"' not in text
    assert frame.chrome("index.html", "t", "d").search == ""


def test_a_failing_indexer_is_one_warning(tmp_path: Path) -> None:
    if not search.available():
        pytest.skip("Pagefind is not installed")
    missing = tmp_path / "no-such-site"
    warning = search.build_index(missing)
    assert warning is not None and warning.startswith(str(missing))
    assert "\n" not in warning


def test_paper_slugs_are_stable_and_distinct() -> None:
    assert archive.paper_slug("arxiv:2403.01234") == "arxiv-2403.01234"
    a = archive.paper_slug("title:a paper")
    b = archive.paper_slug("title:a-paper")
    assert a != b and "/" not in a and " " not in a
    assert archive.paper_slug("title:" + "x" * 300).__len__() < 70
