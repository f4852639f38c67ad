"""The web archive and the preview folder: layout, content, atomic writes."""

from __future__ import annotations

import html as html_lib
import os
from datetime import date
from pathlib import Path

import feedparser
import pytest
from render_kit import HOSTILE_TITLE, edition_of, paper, settings, small_edition

from newsletter.edition import from_json
from newsletter.errors import OutputError
from newsletter.render import files as files_module
from newsletter.render import publish_site, write_preview
from newsletter.render.files import write_atomic
from newsletter.render.untrusted import clean_text


def older() -> list:
    return [edition_of([paper(40, "vision")], day=date(2026, 11, 19))]


def test_publish_site_layout(tmp_path: Path) -> None:
    written = publish_site(small_edition(), older(), settings(), tmp_path)
    rel = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {
        "index.html",
        "feed.xml",
        "atom.xml",
        "topics/llm.xml",
        "editions/2026-11-20/index.html",
        "editions/2026-11-20/email.html",
        "editions/2026-11-20/email.txt",
        "editions/2026-11-20/edition.json",
    } <= rel
    assert written[-1] == tmp_path / "index.html"  # the index goes last
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_edition_page_has_full_abstracts_and_anchors(tmp_path: Path) -> None:
    publish_site(small_edition(), older(), settings(), tmp_path)
    page = (tmp_path / "editions/2026-11-20/index.html").read_text(encoding="utf-8")
    assert "together with the evaluation scripts and the raw numbers of every table." in page
    assert 'id="topic-llm"' in page and 'lang="en"' in page
    assert "&lt;script&gt;" in page and "<script>" not in page and "\u202e" not in page
    assert "Ada Lovelace, Alan Turing" in page


def test_index_lists_every_edition_newest_first(tmp_path: Path) -> None:
    publish_site(small_edition(), older(), settings(), tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    newest = index.index('href="editions/2026-11-20/index.html"')
    oldest = index.index('href="editions/2026-11-19/index.html"')
    assert newest < oldest
    assert 'href="feed.xml"' in index and 'href="atom.xml"' in index
    assert '<link rel="canonical" href="https://papers.example.org/">' in index


def _links(page: Path) -> list[str]:
    import re

    html = page.read_text(encoding="utf-8")
    return [html_lib.unescape(m) for m in re.findall(r'(?:href|src|action)="([^"]*)"', html)]


def test_every_link_between_site_pages_resolves_from_disk(tmp_path: Path) -> None:
    """The archive opened from disk (file://): every link of a page that stays on
    the site names a file that exists; what leaves it (a paper's own link, the
    canonical URL, the sign-up page only `serve` answers) is absolute."""
    from urllib.parse import urlsplit

    site = tmp_path / "site"
    publish_site(edition_of([paper(40, "vision")], day=date(2026, 11, 19)), [], settings(), site)
    publish_site(small_edition(), older(), settings(), site)
    pages = [p for p in site.rglob("*.html") if p.name != "email.html"]
    names = {p.relative_to(site).as_posix() for p in pages}
    editions = {"editions/2026-11-19/index.html", "editions/2026-11-20/index.html"}
    assert {"index.html", *editions} < names
    assert len(pages) == 3 + 6 + 8 + 2 + 1  # + papers, topic pages, week and month, search
    checked = 0
    for page in pages:
        for link in _links(page):
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "javascript"):
                assert not link.startswith("https://papers.example.org/") or link in (
                    "https://papers.example.org/",
                    "https://papers.example.org/subscribe",
                    f"https://papers.example.org/{page.parent.relative_to(site).as_posix()}/",
                    f"https://papers.example.org/{page.relative_to(site).as_posix()}",
                ), f"{page}: {link} leaves the archive for a page of the site"
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {link} does not resolve"
            if parts.fragment:
                assert f'id="{parts.fragment}"' in target.read_text(encoding="utf-8"), link
            checked += 1
    assert checked > 20
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="https://papers.example.org/subscribe"' in index  # the sign-up page


def test_the_email_and_feeds_keep_absolute_links(tmp_path: Path) -> None:
    publish_site(small_edition(), older(), settings(), tmp_path)
    email = (tmp_path / "editions/2026-11-20/email.html").read_text(encoding="utf-8")
    hrefs = [h for h in _links(tmp_path / "editions/2026-11-20/email.html")]
    assert hrefs and all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), hrefs
    assert "https://papers.example.org/editions/2026-11-20/" in email
    feed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert feed.feed.link == "https://papers.example.org/"
    assert all(e.link.startswith("https://") for e in feed.entries)


def test_feeds_cover_history(tmp_path: Path) -> None:
    publish_site(small_edition(), older(), settings(), tmp_path)
    parsed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert len(parsed.entries) == 6


def test_history_holding_the_edition_itself_is_not_doubled(tmp_path: Path) -> None:
    publish_site(small_edition(), [small_edition(), *older()], settings(), tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.count("editions/2026-11-20/") == 1


def test_archived_email_links_to_generic_pages(tmp_path: Path) -> None:
    publish_site(small_edition(), [], settings(), tmp_path)
    html = (tmp_path / "editions/2026-11-20/email.html").read_text(encoding="utf-8")
    assert "%%" not in html and "https://papers.example.org/unsubscribe/" in html


def test_write_preview_files(tmp_path: Path) -> None:
    out = tmp_path / "preview"
    written = write_preview(small_edition(), older(), settings(), out)
    assert sorted(p.name for p in written) == [
        "atom.xml", "edition.json", "email.html", "email.txt", "feed.xml",
    ]  # fmt: skip
    assert from_json((out / "edition.json").read_text(encoding="utf-8")) == small_edition()
    assert clean_text(HOSTILE_TITLE) in (out / "email.txt").read_text(encoding="utf-8")
    assert len(feedparser.parse((out / "feed.xml").read_bytes()).entries) == 6


def test_second_edition_of_a_day_has_its_own_folder(tmp_path: Path) -> None:
    second = edition_of([paper(50, "llm")], number=2)
    publish_site(second, [small_edition()], settings(), tmp_path)
    assert (tmp_path / "editions/2026-11-20-2/index.html").exists()


def test_a_crash_mid_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "feed.xml"
    write_atomic(target, b"old complete feed")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(files_module.os, "replace", crash)
    with pytest.raises(OutputError, match="disk on fire"):
        write_atomic(target, b"new feed that never lands")
    assert target.read_bytes() == b"old complete feed"
    assert os.listdir(tmp_path) == ["feed.xml"]  # the temporary file is gone
