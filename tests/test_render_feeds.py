"""RSS 2.0 and Atom feeds: parsed back with feedparser and lxml."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import feedparser
from lxml import etree
from render_kit import HOSTILE_TITLE, edition_of, paper, settings, small_edition

from newsletter.render import build_feeds
from newsletter.render.feeds import atom_id
from newsletter.render.untrusted import clean_text

ATOM = "{http://www.w3.org/2005/Atom}"


def three_editions() -> list:
    """Newest first; paper 1 appears again in the newest edition."""
    return [
        edition_of([paper(20, "vision"), paper(1, "llm")], day=date(2026, 11, 22)),
        edition_of([paper(10, "llm"), paper(11, "vision", extra=("llm",))], day=date(2026, 11, 21)),
        small_edition(),
    ]


def test_feed_files() -> None:
    files = build_feeds(three_editions(), settings())
    assert {"feed.xml", "atom.xml", "topics/llm.xml", "topics/vision.xml"} <= set(files)
    assert "topics/other.xml" in files and "topics/generative.xml" in files


def test_rss_items_parse_back_with_guid_link_date_and_categories() -> None:
    parsed = feedparser.parse(build_feeds(three_editions(), settings())["feed.xml"])
    assert not parsed.bozo and parsed.version == "rss20"
    keys = [e.id for e in parsed.entries]
    assert len(keys) == len(set(keys)) == 8  # 2 + 2 + 5 - the repeated paper
    assert keys[:2] == ["arxiv:2403.00001", "arxiv:2403.00020"]  # section order
    first = parsed.entries[1]
    assert first.guidislink is False
    assert first.link == "https://arxiv.org/abs/2403.00020"
    assert first.published_parsed[:3] == (2026, 11, 22)
    assert [t.term for t in first.tags] == ["Computer Vision"]
    assert parsed.feed.link == "https://papers.example.org/"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["https://papers.example.org/feed.xml"]


def test_atom_ids_are_urns_of_the_key() -> None:
    parsed = feedparser.parse(build_feeds(three_editions(), settings())["atom.xml"])
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.entries[1].id == atom_id("arxiv:2403.00020")
    assert all(e.id.startswith("urn:uuid:") for e in parsed.entries)
    assert atom_id("title:x y") == atom_id("title:x y") != atom_id("title:x z")
    assert parsed.feed.updated_parsed[:3] == (2026, 11, 22)
    assert parsed.feed.id == "https://papers.example.org/atom.xml"


def test_channel_dates_come_from_the_newest_edition_not_the_clock() -> None:
    rss = etree.fromstring(build_feeds(three_editions(), settings())["feed.xml"])
    assert rss.findtext("channel/lastBuildDate") == "Sun, 22 Nov 2026 00:00:00 +0000"
    assert build_feeds(three_editions(), settings()) == build_feeds(three_editions(), settings())


def test_feeds_keep_the_newest_max_items() -> None:
    files = build_feeds(three_editions(), settings(feeds__max_items=3))
    rss = etree.fromstring(files["feed.xml"])
    assert [g.text for g in rss.iter("guid")] == [
        "arxiv:2403.00001", "arxiv:2403.00020", "arxiv:2403.00010",
    ]  # fmt: skip
    atom = etree.fromstring(files["atom.xml"])
    assert len(atom.findall(f"{ATOM}entry")) == 3


def test_topic_feeds_hold_every_paper_carrying_the_topic() -> None:
    files = build_feeds(three_editions(), settings())
    llm = feedparser.parse(files["topics/llm.xml"])
    keys = {e.id for e in llm.entries}
    assert "arxiv:2403.00011" in keys  # primary vision, also llm
    assert "arxiv:2403.00020" not in keys
    assert llm.feed.title == "Test Papers: Language Models"
    assert (
        feedparser.parse(files["topics/other.xml"]).entries[0].id
        == "title:a paper without an arxiv id"
    )


def test_hostile_text_is_plain_text_in_both_feeds() -> None:
    files = build_feeds([small_edition()], settings())
    clean = clean_text(HOSTILE_TITLE)
    for name in ("feed.xml", "atom.xml"):
        assert b"\xe2\x80\xae" not in files[name]  # U+202E
        parsed = feedparser.parse(files[name])
        entry = next(
            e for e in parsed.entries if e.id in ("arxiv:2403.00002", atom_id("arxiv:2403.00002"))
        )
        assert entry.title == clean
        if name == "atom.xml":  # plain text: the markup is the text itself
            assert entry.summary_detail.type == "text/plain"
            assert "<img src=x onerror=alert(1)>" in entry.summary
        else:  # HTML: the markup is escaped, so a reader shows it as text
            assert "&lt;img src=x onerror=alert(1)&gt;" in entry.summary
    rss = etree.fromstring(files["feed.xml"])
    item = next(i for i in rss.iter("item") if i.findtext("guid") == "arxiv:2403.00002")
    # the description is HTML: the abstract's markup is escaped inside it
    assert "&lt;img src=x onerror=alert(1)&gt;" in item.findtext("description")
    summary = etree.fromstring(files["atom.xml"]).find(f"{ATOM}entry/{ATOM}summary")
    assert summary is not None and summary.get("type") == "text"


def test_unsafe_link_points_to_the_edition_page() -> None:
    rss = etree.fromstring(build_feeds([small_edition()], settings())["feed.xml"])
    item = next(i for i in rss.iter("item") if i.findtext("guid") == "arxiv:2403.00003")
    assert item.findtext("link", "").startswith(
        "https://papers.example.org/editions/2026-11-20/#paper-"
    )


def test_no_editions_gives_valid_empty_feeds() -> None:
    files = build_feeds([], settings())
    assert feedparser.parse(files["feed.xml"]).entries == []
    assert etree.fromstring(files["atom.xml"]).tag == f"{ATOM}feed"


def test_second_edition_of_a_day_is_a_minute_later() -> None:
    first = small_edition()
    second = replace(edition_of([paper(30, "llm")]), number=2)
    parsed = feedparser.parse(build_feeds([second, first], settings())["feed.xml"])
    assert parsed.entries[0].published_parsed[3:5] == (0, 1)
