"""Build an edition from classified papers, and its ``edition.json`` form.

``edition.json`` schema (version 1)::

    {
      "schema": 1,
      "date": "2026-11-20",            # the edition date
      "number": 1,                     # 1, or 2+ for extra editions of a date (run --force)
      "note": "Markdown..." | null,    # the editor's note this edition opened with
      "paper_count": 42,
      "sections": [                    # taxonomy order; empty sections are left out
        {"topic": "llm", "title": "Language Models", "papers": [
          {"id": "arxiv:2403.01234",   # identity key: feed guid, never changes
           "title": "...", "abstract": "...", "url": "https://...",
           "topic": "llm",             # primary topic (this section)
           "topics": ["llm", "agents"],# every matching topic, primary first
           "source": "000_digest.txt", # input it came from
           "digest_date": "2026-03-11",# date printed in that digest, or null
           "arxiv_id": "2403.01234" | null, "authors": [...], "categories": [...],
           "upvotes": 12 | null}
        ]}
      ]
    }
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from newsletter.model import Edition, Paper, Section
from newsletter.topics import Taxonomy

SCHEMA_VERSION = 1


def build_edition(
    papers: Iterable[Paper], taxonomy: Taxonomy, edition_date: date, number: int = 1
) -> Edition:
    """Group papers into sections in taxonomy order, keeping each paper's input order."""
    by_topic: dict[str, list[Paper]] = {}
    for paper in papers:
        by_topic.setdefault(paper.topic, []).append(paper)
    sections = []
    for topic in taxonomy.topics:
        members = by_topic.pop(topic.id, [])
        if members:
            sections.append(Section(topic=topic.id, title=topic.title, papers=tuple(members)))
    for topic_id in sorted(by_topic):  # topics no longer in the taxonomy: keep, never drop papers
        sections.append(Section(topic=topic_id, title=topic_id, papers=tuple(by_topic[topic_id])))
    return Edition(date=edition_date, sections=tuple(sections), number=number)


def topics_of(edition: Edition) -> frozenset[str]:
    """Every topic a paper of the edition carries (primary or not): what it holds for
    subscribers, and what its topic feeds list."""
    return frozenset(t for p in edition.papers for t in p.topics)


def for_topics(edition: Edition, picked: frozenset[str], titles: Mapping[str, str]) -> Edition:
    """The edition as a subscriber who picked the topics ``picked`` reads it.

    Every paper *tagged* with a picked topic is in it — the same papers as those
    topics' feeds (``topics/<id>.xml``) — and each exactly once, in the section
    of its best-matching picked topic: the first of its topics (they are ordered
    by score, primary first) that the subscriber picked.  A paper filed under
    ``vision`` but also tagged ``llm`` reaches an ``llm`` subscriber in their
    Language Models section.  Sections follow ``titles`` (the taxonomy, in
    order), then any other topic of the edition; within a section, the papers
    whose primary topic it is come first, then the others, each in edition order.
    """
    order = [*titles, *(s.topic for s in edition.sections if s.topic not in titles)]
    named = {**{s.topic: s.title for s in edition.sections}, **titles}
    chosen: dict[str, list[Paper]] = {}
    for paper in edition.papers:
        best = next((t for t in paper.topics if t in picked), None)
        if best is not None:
            chosen.setdefault(best, []).append(paper)
    sections = tuple(
        Section(
            topic=topic,
            title=named.get(topic, topic),
            papers=tuple(  # its own papers first (a stable sort keeps edition order)
                [p for p in chosen[topic] if p.topic == topic]
                + [p for p in chosen[topic] if p.topic != topic]
            ),
        )
        for topic in [*order, *sorted(set(chosen) - set(order))]
        if chosen.get(topic)
    )
    return replace(edition, sections=sections)


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.key,
        "title": paper.title,
        "abstract": paper.abstract,
        "url": paper.url,
        "topic": paper.topic,
        "topics": list(paper.topics),
        "source": paper.source,
        "digest_date": paper.digest_date.isoformat() if paper.digest_date else None,
        "arxiv_id": paper.arxiv_id,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "upvotes": paper.upvotes,
    }


def paper_from_dict(data: dict[str, Any]) -> Paper:
    digest_date = data.get("digest_date")
    return Paper(
        key=data["id"],
        title=data["title"],
        abstract=data.get("abstract", ""),
        url=data["url"],
        source=data.get("source", ""),
        digest_date=date.fromisoformat(digest_date) if digest_date else None,
        arxiv_id=data.get("arxiv_id"),
        authors=tuple(data.get("authors", ())),
        categories=tuple(data.get("categories", ())),
        upvotes=data.get("upvotes"),
        topics=_topics(data["topic"], data.get("topics") or ()),
    )


def _topics(primary: str, topics: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``topics`` with ``primary`` first, as a Paper holds them."""
    return (primary, *(t for t in topics if t != primary))


def to_dict(edition: Edition) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "date": edition.date.isoformat(),
        "number": edition.number,
        "note": edition.note,
        "paper_count": edition.paper_count,
        "sections": [
            {
                "topic": s.topic,
                "title": s.title,
                "papers": [paper_to_dict(p) for p in s.papers],
            }
            for s in edition.sections
        ],
    }


def to_json(edition: Edition) -> str:
    """Deterministic JSON text of an edition (sorted keys, UTF-8, trailing newline)."""
    return json.dumps(to_dict(edition), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def from_json(text: str) -> Edition:
    return from_dict(json.loads(text))


def from_dict(data: dict[str, Any]) -> Edition:
    """The edition of :func:`to_dict`'s data (what :func:`from_json` reads)."""
    return Edition(
        date=date.fromisoformat(data["date"]),
        number=int(data.get("number", 1)),
        note=data.get("note"),
        sections=tuple(
            Section(
                topic=s["topic"],
                title=s["title"],
                papers=tuple(paper_from_dict(p) for p in s["papers"]),
            )
            for s in data["sections"]
        ),
    )
