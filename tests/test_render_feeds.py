"""RSS 2.0, Atom, JSON Feed and OPML: parsed back with feedparser, lxml and json."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import feedparser
from lxml import etree
from render_kit import HOSTILE_TITLE, edition_of, paper, settings, small_edition

from newsletter.render import build_feeds
from newsletter.render.feeds import ARXIV_SCHEME, atom_id
from newsletter.render.untrusted import clean_text

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
ABS = "https://arxiv.org/abs/"


def three_editions() -> list:
    """Newest first; paper 1 appears again in the newest edition."""
    return [
        edition_of([paper(20, "vision"), paper(1, "llm")], day=date(2026, 11, 22)),
        edition_of([paper(10, "llm"), paper(11, "vision", extra=("llm",))], day=date(2026, 11, 21)),
        small_edition(),
    ]


def test_feed_files() -> None:
    files = build_feeds(three_editions(), settings())
    assert {"feed.xml", "atom.xml", "feed.json", "feeds.opml"} <= set(files)
    assert {"topics/llm.xml", "topics/llm.json", "topics/vision.xml"} <= set(files)
    assert "topics/other.xml" in files and "topics/generative.xml" in files


def test_a_topic_without_papers_has_no_feed_yet() -> None:
    files = build_feeds([edition_of([paper(1, "llm")])], settings())
    assert "topics/llm.xml" in files and "topics/llm.json" in files
    assert "topics/other.xml" not in files and "topics/other.json" not in files
    outlines = etree.fromstring(files["feeds.opml"]).iter("outline")
    assert "https://papers.example.org/topics/other.xml" not in {o.get("xmlUrl") for o in outlines}


def test_rss_items_parse_back_with_guid_link_date_and_categories() -> None:
    parsed = feedparser.parse(build_feeds(three_editions(), settings())["feed.xml"])
    assert not parsed.bozo and parsed.version == "rss20"
    keys = [e.id for e in parsed.entries]
    assert len(keys) == len(set(keys)) == 8  # 2 + 2 + 5 - the repeated paper
    assert keys[:2] == [f"{ABS}2403.00001", f"{ABS}2403.00020"]  # section order
    first = parsed.entries[1]
    assert first.id == first.link == "https://arxiv.org/abs/2403.00020"  # versionless abs page
    assert first.link == "https://arxiv.org/abs/2403.00020"
    assert first.published_parsed[:3] == (2026, 11, 22)
    assert [(t.term, t.scheme) for t in first.tags] == [
        ("Computer Vision", "https://papers.example.org/topics/")
    ]
    assert parsed.feed.link == "https://papers.example.org/"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["https://papers.example.org/feed.xml"]


def test_atom_ids_are_arxiv_urls_else_urns_of_the_key() -> None:
    parsed = feedparser.parse(build_feeds(three_editions(), settings())["atom.xml"])
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.entries[1].id == f"{ABS}2403.00020"
    no_arxiv = next(e for e in parsed.entries if not e.id.startswith(ABS))
    assert no_arxiv.id == atom_id("title:a paper without an arxiv id")
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
        f"{ABS}2403.00001", f"{ABS}2403.00020", f"{ABS}2403.00010",
    ]  # fmt: skip
    atom = etree.fromstring(files["atom.xml"])
    assert len(atom.findall(f"{ATOM}entry")) == 3


def test_topic_feeds_hold_every_paper_carrying_the_topic() -> None:
    files = build_feeds(three_editions(), settings())
    llm = feedparser.parse(files["topics/llm.xml"])
    keys = {e.id for e in llm.entries}
    assert f"{ABS}2403.00011" in keys  # primary vision, also llm
    assert f"{ABS}2403.00020" not in keys
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
        entry = next(e for e in parsed.entries if e.id == f"{ABS}2403.00002")
        assert entry.title == clean
        if name == "atom.xml":  # plain text: the markup is the text itself
            assert entry.summary_detail.type == "text/plain"
            assert "<b>bold</b>" in entry.summary
            assert "<img src=x onerror=alert(1)>" in entry.content[0].value
        else:  # HTML: the markup is escaped, so a reader shows it as text
            assert "&lt;b&gt;bold&lt;/b&gt;" in entry.summary
            assert "&lt;img src=x onerror=alert(1)&gt;" in entry.content[0].value
    rss = etree.fromstring(files["feed.xml"])
    item = next(i for i in rss.iter("item") if i.findtext("guid") == f"{ABS}2403.00002")
    # the description is HTML: the teaser's markup is escaped inside it
    assert "&lt;b&gt;bold&lt;/b&gt;" in item.findtext("description")
    summary = etree.fromstring(files["atom.xml"]).find(f"{ATOM}entry/{ATOM}summary")
    assert summary is not None and summary.get("type") == "text"


def test_unsafe_link_points_to_the_edition_page() -> None:
    rss = etree.fromstring(build_feeds([small_edition()], settings())["feed.xml"])
    item = next(i for i in rss.iter("item") if i.findtext("guid") == f"{ABS}2403.00003")
    assert item.findtext("link", "").startswith(
        "https://papers.example.org/editions/2026-11-20/#paper-"
    )


def test_no_editions_gives_valid_empty_feeds_that_say_why() -> None:
    files = build_feeds([], settings())
    parsed = feedparser.parse(files["feed.xml"])
    assert parsed.entries == [] and "No edition has been published yet" in parsed.feed.description
    assert json.loads(files["feed.json"])["items"] == []
    assert etree.fromstring(files["atom.xml"]).tag == f"{ATOM}feed"


def test_second_edition_of_a_day_is_a_minute_later() -> None:
    first = small_edition()
    second = replace(edition_of([paper(30, "llm")]), number=2)
    parsed = feedparser.parse(build_feeds([second, first], settings())["feed.xml"])
    assert parsed.entries[0].published_parsed[3:5] == (0, 1)


def scholarly() -> list:
    """One arXiv paper with four authors and a category, one paper without an id."""
    return [
        edition_of(
            [
                paper(
                    7,
                    "llm",
                    authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
                    categories=("cs.CL", "cs.LG"),
                ),
                replace(paper(8, "llm"), key="title:no id", arxiv_id=None, url="https://e.org/8"),
            ]
        )
    ]


def test_rss_item_carries_authors_doi_pdf_and_arxiv_categories() -> None:
    rss = etree.fromstring(build_feeds(scholarly(), settings())["feed.xml"])
    assert rss.find("channel/managingEditor") is None and rss.find("channel/webMaster") is None
    first, second = rss.iter("item")
    assert [c.text for c in first.iter(f"{DC}creator")] == [
        "Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra",
    ]  # fmt: skip
    assert first.findtext(f"{DC}identifier") == "doi:10.48550/arXiv.2403.00007"
    enclosure = first.find("enclosure")
    assert enclosure is not None and enclosure.get("url") == "https://arxiv.org/pdf/2403.00007"
    assert enclosure.get("type") == "application/pdf"
    arxiv = [c.text for c in first.iter("category") if c.get("domain") == ARXIV_SCHEME]
    assert arxiv == ["cs.CL", "cs.LG"]
    assert first.findtext("description") == "We present method 7."  # the teaser
    assert "Code and models are released" in first.findtext(f"{CONTENT}encoded")
    assert second.find(f"{DC}identifier") is None and second.find("enclosure") is None
    assert second.findtext("guid") == "title:no id"


def test_atom_entry_has_an_author_per_author_a_pdf_enclosure_and_a_text_summary() -> None:
    atom = etree.fromstring(build_feeds(scholarly(), settings())["atom.xml"])
    feed_author = atom.find(f"{ATOM}author")
    assert feed_author is not None and feed_author.find(f"{ATOM}email") is None
    entry = atom.find(f"{ATOM}entry")
    assert entry is not None
    names = [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")]
    assert names == ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]
    links = {(x.get("rel"), x.get("href")) for x in entry.findall(f"{ATOM}link")}
    assert links == {
        (None, f"{ABS}2403.00007"),
        ("enclosure", "https://arxiv.org/pdf/2403.00007"),
    }
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type") == "text"
    assert summary.text == "We present method 7."
    content = entry.find(f"{ATOM}content")
    assert content is not None and "raw numbers of every table" in (content.text or "")
    schemes = {(c.get("term"), c.get("scheme")) for c in entry.findall(f"{ATOM}category")}
    assert ("llm", "https://papers.example.org/topics/") in schemes
    assert ("cs.CL", ARXIV_SCHEME) in schemes
    # the DOI as Zotero reads it, in Atom as in RSS; none for the paper without an id
    assert entry.findtext(f"{DC}identifier") == "doi:10.48550/arXiv.2403.00007"
    second = atom.findall(f"{ATOM}entry")[1]
    assert second.find(f"{DC}identifier") is None


def test_json_feed_is_version_1_1_with_authors_summary_and_pdf() -> None:
    files = build_feeds(scholarly(), settings())
    feed = json.loads(files["feed.json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://papers.example.org/feed.json"
    first, second = feed["items"]
    assert first["id"] == f"{ABS}2403.00007"
    assert [a["name"] for a in first["authors"]][:1] == ["Ada Lovelace"]
    assert first["summary"] == "We present method 7."
    assert "raw numbers" in first["content_text"]
    assert first["attachments"] == [
        {"url": "https://arxiv.org/pdf/2403.00007", "mime_type": "application/pdf"}
    ]
    assert first["date_published"].startswith("2026-11-20T00:00:00")
    assert "authors" not in second and "attachments" not in second
    assert first["_paper"] == {"doi": "10.48550/arXiv.2403.00007"}
    assert first["external_url"] == "https://doi.org/10.48550/arXiv.2403.00007"
    assert "_paper" not in second and "external_url" not in second
    topic = json.loads(files["topics/llm.json"])
    assert [i["id"] for i in topic["items"]] == [i["id"] for i in feed["items"]]


def test_opml_lists_every_published_topic_feed() -> None:
    files = build_feeds(three_editions(), settings())
    outlines = list(etree.fromstring(files["feeds.opml"]).iter("outline"))
    listed = {o.get("xmlUrl") for o in outlines if o.get("type") == "rss"}
    topic_feeds = {f"https://papers.example.org/{p}" for p in files if p.startswith("topics/")}
    assert {u for u in topic_feeds if u.endswith(".xml")} | {
        "https://papers.example.org/feed.xml"
    } == listed
    # each topic feed's page is that topic's archive page, not the home page
    pages = {o.get("xmlUrl"): o.get("htmlUrl") for o in outlines if o.get("type") == "rss"}
    assert pages["https://papers.example.org/topics/llm.xml"] == (
        "https://papers.example.org/topics/llm/"
    )
