"""A subscriber's topics: every paper tagged with one reaches them, once, where it fits best.

The email and the topic feeds agree on what a topic holds: a subscriber on
``llm,vision`` gets exactly the papers of ``topics/llm.xml`` and
``topics/vision.xml`` (of that edition), each in one section only.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import feedparser
from corpus_kit import OWN_CORPUS
from delivery_kit import add_subscribers, bodies, maildir_messages, make_settings
from render_kit import edition_of, paper, settings

from newsletter import pipeline
from newsletter.edition import for_topics
from newsletter.render import render_email
from newsletter.render.untrusted import clean_text

DAY = date(2026, 11, 20)
READERS = {
    "llm@example.org": frozenset({"llm"}),
    "vision@example.org": frozenset({"vision"}),
    "both@example.org": frozenset({"llm", "vision"}),
}


def sections_of(text: str) -> dict[str, list[str]]:
    """Section title → paper titles, read from a digest's plain-text part."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    title: list[str] | None = None
    for line in text.splitlines():
        heading = re.fullmatch(r"== (.+) \(\d+\) ==", line)
        if heading:
            current = found.setdefault(heading.group(1), [])
            continue
        if current is None:
            continue
        if line.startswith("* "):
            title = [line[2:]]
        elif title is not None and line.startswith("  ") and not line.startswith("  http"):
            title.append(line.strip())
        elif title is not None:
            current.append(" ".join(title))
            title = None
    return found


def test_three_readers_get_every_paper_tagged_with_their_topics_once(tmp_path: Path) -> None:
    settings_ = make_settings(tmp_path)
    add_subscribers(settings_, list(READERS.items()))
    report = pipeline.run(settings_, [str(OWN_CORPUS.folder)], DAY)
    assert report.delivery is not None and report.delivery.sent == 3
    site = settings_.output.site_dir
    edition = json.loads((site / "editions" / DAY.isoformat() / "edition.json").read_text())
    papers = [p for s in edition["sections"] for p in s["papers"]]
    titles = {t.id: t.title for t in settings_.taxonomy.topics}
    feeds = {
        topic: {
            e.id for e in feedparser.parse((site / "topics" / f"{topic}.xml").read_bytes()).entries
        }
        for topic in ("llm", "vision")
    }
    # the case that mattered: papers tagged with a topic that is not their section
    assert any(p["topic"] != "llm" and "llm" in p["topics"] for p in papers)
    assert any(p["topic"] != "vision" and "vision" in p["topics"] for p in papers)
    messages = {m["To"]: m for m in maildir_messages(tmp_path / "subscribers" / "outbox")}
    for address, picked in READERS.items():
        text, html = bodies(messages[address])
        shown = sections_of(text)
        listed = [title for section in shown.values() for title in section]
        assert len(listed) == len(set(listed)), f"{address}: a paper twice"
        tagged = [p for p in papers if set(p["topics"]) & picked]
        assert sorted(listed) == sorted(clean_text(p["title"]) for p in tagged), address
        assert {p["id"] for p in tagged} == set().union(*(feeds[t] for t in picked)), address
        for p in tagged:
            best = next(t for t in p["topics"] if t in picked)
            assert clean_text(p["title"]) in shown[titles[best]], (address, p["title"], best)
            assert html.count(f">{clean_text(p['title'])}<") == 1, (address, p["title"])
        assert f"{len(tagged)} new papers" in str(messages[address]["Subject"])


def test_a_paper_goes_to_the_section_of_its_best_matching_picked_topic() -> None:
    edition = edition_of(
        [
            paper(1, "multimodal", extra=("vision", "llm")),  # vision outscores llm here
            paper(2, "llm"),
            paper(3, "vision"),
            paper(4, "generative", extra=("llm",)),
            paper(5, "generative"),
        ]
    )
    titles = {"llm": "Language Models", "vision": "Computer Vision", "generative": "Gen"}
    both = for_topics(edition, frozenset({"llm", "vision"}), titles)
    assert [(s.topic, [p.key[-1] for p in s.papers]) for s in both.sections] == [
        ("llm", ["2", "4"]),  # its own papers first, then those tagged with it
        ("vision", ["3", "1"]),
    ]
    only_llm = for_topics(edition, frozenset({"llm"}), titles)
    assert [p.key[-1] for p in only_llm.papers] == ["2", "4", "1"]  # edition order after its own
    assert for_topics(edition, frozenset({"audio"}), titles).sections == ()


def test_a_section_made_only_of_tagged_papers_links_to_the_edition_page() -> None:
    """No paper is filed under `vision` on the edition page, so there is no #topic-vision."""
    edition = edition_of([paper(1, "llm", extra=("vision",)), paper(2, "llm")])
    email = render_email(edition, settings(), topics=frozenset({"vision"}))
    assert "Paper number 1" in email.html and "Paper number 2" not in email.html
    assert "#topic-vision" not in email.html
    assert "https://papers.example.org/editions/2026-11-20/" in email.html
