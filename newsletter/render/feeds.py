"""RSS 2.0 and Atom feeds, built with feedgen (never with string templates).

* ``feed.xml`` (RSS 2.0) and ``atom.xml`` (Atom, RFC 4287) carry the newest
  ``feeds.max_items`` papers over all editions; ``topics/<id>.xml`` (RSS 2.0)
  the newest ``feeds.max_items`` papers carrying that topic, one file for every
  topic of the taxonomy (so a reader can subscribe before a topic has papers).
* A paper is one item, however many editions it appears in: the first
  occurrence in newest-first order wins.
* RSS ``guid`` is the paper's identity key (``arxiv:2403.01234``) with
  ``isPermaLink="false"``; Atom ``id`` is ``urn:uuid:`` + the UUID5 of that key
  in :data:`PAPER_NAMESPACE`: the same paper always has the same id, and the
  id is a valid IRI whatever characters the key contains.
* Dates are the edition's date at midnight in ``newsletter.timezone`` (plus a
  minute per extra edition of that day); ``lastBuildDate`` and the Atom
  ``updated`` are the newest edition's, never the clock, so rebuilding the same
  editions gives the same bytes.
* Text is untrusted: titles are plain text; the RSS description is the
  abstract HTML-escaped (readers treat it as HTML, so ``<script>`` shows as
  text); the Atom summary is ``type="text"``.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from newsletter import urls
from newsletter.config import Settings
from newsletter.model import Edition, Paper
from newsletter.render.untrusted import clean_text, safe_url

PAPER_NAMESPACE = uuid.UUID("6f1c3a52-7d0e-5b8e-9a51-2c4e0b7d9f13")
"""Namespace of the UUID5 Atom ids of papers (fixed forever: changing it re-sends every item)."""
GENERATOR = "newsletter"


@dataclass(frozen=True)
class Item:
    """A paper with the edition it was published in."""

    paper: Paper
    edition: Edition


@dataclass(frozen=True)
class Channel:
    """What a feed file says about itself."""

    title: str
    description: str
    self_url: str
    path: str


def atom_id(key: str) -> str:
    """The Atom id of a paper key: ``urn:uuid:<uuid5(PAPER_NAMESPACE, key)>``."""
    return uuid.uuid5(PAPER_NAMESPACE, key).urn


def items(editions: Iterable[Edition], limit: int, topic: str | None = None) -> list[Item]:
    """The newest ``limit`` distinct papers of ``editions`` (newest first), maybe of one topic."""
    seen: set[str] = set()
    found: list[Item] = []
    for edition in editions:
        for paper in edition.papers:
            if paper.key in seen:
                continue
            if topic is not None and topic not in paper.topics:
                continue
            seen.add(paper.key)
            found.append(Item(paper, edition))
            if len(found) >= limit:
                return found
    return found


def published(edition: Edition, zone: tzinfo) -> datetime:
    """When an edition counts as published: midnight, plus a minute per extra edition that day."""
    return datetime.combine(edition.date, time(0, 0), tzinfo=zone) + timedelta(
        minutes=max(edition.number, 1) - 1
    )


class _Builder:
    """Shared per-run values: the site, the topic titles, the clock of the newest edition."""

    def __init__(self, editions: Sequence[Edition], settings: Settings) -> None:
        self.editions = editions
        self.site = settings.site.base
        self.name = clean_text(settings.newsletter.name)
        self.language = settings.newsletter.language
        self.zone = settings.newsletter.timezone
        self.limit = settings.feeds.max_items
        self.titles = {t.id: clean_text(t.title) for t in settings.taxonomy.topics}
        self.updated = (
            published(editions[0], self.zone)
            if editions
            else datetime(1970, 1, 1, tzinfo=self.zone)
        )
        self._rss_entries: dict[tuple[str, str], FeedEntry] = {}

    def topics(self) -> Iterator[str]:
        """Every taxonomy topic, then any other topic a paper carries (sorted)."""
        yield from self.titles
        extra = {t for e in self.editions for p in e.papers for t in p.topics}
        yield from sorted(extra - set(self.titles))

    def link(self, item: Item) -> str:
        archive = f"{self.site.edition_url(item.edition)}#{urls.paper_anchor(item.paper.key)}"
        return safe_url(item.paper.url, archive)

    def generator(self, channel: Channel) -> FeedGenerator:
        fg = FeedGenerator()
        fg.title(channel.title)
        fg.description(channel.description)
        fg.language(self.language)
        fg.link(href=channel.self_url, rel="self")
        fg.link(href=self.site.url(""), rel="alternate")  # last: feedgen's RSS <link>
        fg.lastBuildDate(self.updated)
        fg.generator(GENERATOR)
        return fg

    def _rss_entry(self, item: Item) -> FeedEntry:
        """The RSS entry of an item, built once and shared by every feed that lists it."""
        cache_key = (item.paper.key, urls.edition_slug(item.edition))
        entry = self._rss_entries.get(cache_key)
        if entry is None:
            paper = item.paper
            entry = FeedEntry()
            entry.title(clean_text(paper.title) or "(untitled)")
            entry.link(href=self.link(item))
            entry.guid(paper.key, permalink=False)
            entry.description(html.escape(clean_text(paper.abstract)) or "(no abstract)")
            for topic in dict.fromkeys(paper.topics):
                entry.category(term=self.titles.get(topic, clean_text(topic)))
            entry.pubDate(published(item.edition, self.zone))
            self._rss_entries[cache_key] = entry
        return entry

    def rss(self, channel: Channel, chosen: list[Item]) -> bytes:
        fg = self.generator(channel)
        for item in chosen:
            fg.add_entry(self._rss_entry(item), order="append")
        return bytes(fg.rss_str(pretty=True))

    def atom(self, channel: Channel, chosen: list[Item]) -> bytes:
        fg = self.generator(channel)
        fg.id(channel.self_url)
        fg.author(name=self.name, uri=self.site.url(""))
        for item in chosen:
            paper = item.paper
            entry = fg.add_entry(order="append")
            entry.id(atom_id(paper.key))
            entry.title(clean_text(paper.title) or "(untitled)")
            entry.link(href=self.link(item), rel="alternate")
            entry.summary(clean_text(paper.abstract) or "(no abstract)", type="text")
            for topic in dict.fromkeys(paper.topics):
                entry.category(
                    term=topic,
                    label=self.titles.get(topic, clean_text(topic)),
                    scheme=self.site.url("topics/"),
                )
            when = published(item.edition, self.zone)
            entry.published(when)
            entry.updated(when)
        return bytes(fg.atom_str(pretty=True))


def build_feeds(editions: Sequence[Edition], settings: Settings) -> dict[str, bytes]:
    """Every feed file over ``editions`` (newest first): relative path → bytes."""
    b = _Builder(editions, settings)
    newest = items(editions, b.limit)
    description = f"New research papers from {b.name}, grouped by topic."
    files = {
        urls.FEED_RSS: b.rss(
            Channel(b.name, description, b.site.url(urls.FEED_RSS), urls.FEED_RSS), newest
        ),
        urls.FEED_ATOM: b.atom(
            Channel(b.name, description, b.site.url(urls.FEED_ATOM), urls.FEED_ATOM), newest
        ),
    }
    for topic in b.topics():
        path = urls.topic_feed(topic)
        title = b.titles.get(topic, clean_text(topic))
        channel = Channel(
            f"{b.name}: {title}", f"New research papers on {title}.", b.site.url(path), path
        )
        files[path] = b.rss(channel, items(editions, b.limit, topic))
    return files
