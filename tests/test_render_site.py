"""The web archive and the preview folder: layout, content, atomic writes."""

from __future__ import annotations

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
    newest = index.index("https://papers.example.org/editions/2026-11-20/")
    oldest = index.index("https://papers.example.org/editions/2026-11-19/")
    assert newest < oldest
    assert "https://papers.example.org/feed.xml" in index
    assert "https://papers.example.org/atom.xml" in index


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
