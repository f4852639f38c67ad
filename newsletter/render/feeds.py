"""RSS 2.0, Atom, JSON Feed 1.1 and an OPML list, built in code (never with string templates).

* ``feed.xml`` (RSS 2.0), ``atom.xml`` (Atom, RFC 4287) and ``feed.json``
  (JSON Feed 1.1) carry the newest ``feeds.max_items`` papers over all
  editions; ``topics/<id>.xml`` and ``topics/<id>.json`` the newest
  ``feeds.max_items`` papers carrying that topic.  A topic feed is published
  only once the topic has a paper: an empty feed reads as broken in a reader
  ("no items").  The all-papers feeds are always published; before the first
  edition their description says why they are empty.  ``feeds.opml`` lists
  every published feed, so a reader subscribes to all topics at once.
* A paper is one item, however many editions it appears in: the first
  occurrence in newest-first order wins.
* Item ids (RSS ``guid``, Atom ``id``, JSON ``id``): the versionless arXiv
  abstract URL (``https://arxiv.org/abs/2403.01234``) when the arXiv id is
  known; otherwise the RSS guid is the identity key (``title:...``,
  ``isPermaLink="false"``) and the Atom and JSON id ``urn:uuid:`` + the UUID5
  of that key in :data:`PAPER_NAMESPACE` (a valid IRI whatever the key holds).
* What readers that know papers (Zotero, arXiv-aware readers) look for: one
  author element per author (Atom ``<author><name>``, RSS ``dc:creator``, JSON
  ``authors``) and no channel-level author email (Zotero copies a channel's
  author onto every item that has none); ``dc:identifier`` =
  ``doi:10.48550/arXiv.<id>`` (arXiv's DataCite DOI); the PDF as an enclosure
  (RSS ``<enclosure length="0">``, which the W3C validator accepts: arXiv
  does not say the size; Atom ``<link rel="enclosure" type="application/pdf">``;
  a JSON ``attachments`` entry); categories with schemes: our topic (scheme
  ``<base_url>topics/``) and each arXiv category (scheme
  ``http://arxiv.org/schemas/atom``, as arXiv's own feeds).
* Summary and content: the summary is the card's teaser (the sentence saying
  what the paper does, :func:`newsletter.render.teaser.contribution`), the
  content the full abstract.  RSS: ``description`` = teaser,
  ``content:encoded`` = abstract, both HTML-escaped (readers treat them as
  HTML, so ``<script>`` shows as text).  Atom and JSON: plain text
  (``type="text"``, ``summary`` / ``content_text``).
* Dates are the edition's date at midnight in ``newsletter.timezone`` (plus a
  minute per extra edition of that day); ``lastBuildDate`` and the Atom
  ``updated`` are the newest edition's, never the clock, so rebuilding the same
  editions gives the same bytes.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from xml.etree import ElementTree

from feedgen.feed import FeedGenerator
from lxml import etree

from newsletter import urls
from newsletter.config import Settings
from newsletter.identity import arxiv_abs_url, arxiv_pdf_url
from newsletter.model import Edition, Paper
from newsletter.render.archive import topic_dir
from newsletter.render.context import text_of
from newsletter.render.untrusted import clean_text, safe_url

PAPER_NAMESPACE = uuid.UUID("6f1c3a52-7d0e-5b8e-9a51-2c4e0b7d9f13")
"""Namespace of the UUID5 ids of papers without an arXiv id (fixed forever)."""
GENERATOR = "newsletter"
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
"""The category scheme arXiv's own Atom feeds give its categories (``cs.CL``)."""
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"


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


@dataclass(frozen=True)
class Record:
    """One paper as every feed writes it, cleaned once.

    ``guid`` is the RSS guid (``permalink`` when it is the arXiv URL), ``id``
    the Atom and JSON id; ``topics`` are (id, title) pairs, primary first.
    """

    guid: str
    permalink: bool
    id: str
    title: str
    link: str
    teaser: str
    abstract: str
    authors: tuple[str, ...]
    doi: str | None
    pdf: str | None
    topics: tuple[tuple[str, str], ...]
    categories: tuple[str, ...]
    published: datetime


def atom_id(key: str) -> str:
    """The Atom id of a paper key: ``urn:uuid:<uuid5(PAPER_NAMESPACE, key)>``."""
    return uuid.uuid5(PAPER_NAMESPACE, key).urn


def arxiv_doi(arxiv_id: str) -> str:
    """``doi:10.48550/arXiv.<id>``: the DataCite DOI arXiv registers for every paper."""
    return f"doi:10.48550/arXiv.{arxiv_id}"


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
        self.scheme = self.site.url("topics/")
        self._records: dict[tuple[str, str], Record] = {}

    def topics(self) -> Iterator[str]:
        """Every taxonomy topic, then any other topic a paper carries (sorted)."""
        yield from self.titles
        extra = {t for e in self.editions for p in e.papers for t in p.topics}
        yield from sorted(extra - set(self.titles))

    def record(self, item: Item) -> Record:
        """The feed record of an item, built once and shared by every feed that lists it."""
        cache_key = (item.paper.key, urls.edition_slug(item.edition))
        found = self._records.get(cache_key)
        if found is None:
            paper = item.paper
            archive = f"{self.site.edition_url(item.edition)}#{urls.paper_anchor(paper.key)}"
            text = text_of(paper)  # made at ingest (or now, the same text)
            abstract = text.abstract
            arxiv = paper.arxiv_id or None
            abs_url = arxiv_abs_url(arxiv) if arxiv else None
            found = Record(
                guid=abs_url or paper.key,
                permalink=abs_url is not None,
                id=abs_url or atom_id(paper.key),
                title=text.title or "(untitled)",
                link=safe_url(paper.url, archive),
                teaser=text.teaser or "(no abstract)",
                abstract=abstract or "(no abstract)",
                authors=text.authors,
                doi=arxiv_doi(arxiv) if arxiv else None,
                pdf=arxiv_pdf_url(arxiv) if arxiv else None,
                topics=tuple(
                    (t, self.titles.get(t, clean_text(t))) for t in dict.fromkeys(paper.topics)
                ),
                categories=tuple(
                    c for c in dict.fromkeys(clean_text(c) for c in paper.categories) if c
                ),
                published=published(item.edition, self.zone),
            )
            self._records[cache_key] = found
        return found

    def generator(self, channel: Channel) -> FeedGenerator:
        fg = FeedGenerator()
        fg.load_extension("dc", atom=True, rss=True)
        fg.title(channel.title)
        fg.description(channel.description)
        fg.language(self.language)
        fg.link(href=channel.self_url, rel="self")
        fg.link(href=self.site.url(""), rel="alternate")  # last: feedgen's RSS <link>
        fg.lastBuildDate(self.updated)
        fg.generator(GENERATOR)
        return fg

    def rss(self, channel: Channel, chosen: list[Item]) -> bytes:
        fg = self.generator(channel)
        for item in chosen:
            r = self.record(item)
            entry = fg.add_entry(order="append")
            entry.title(r.title)
            entry.link(href=r.link)
            entry.guid(r.guid, permalink=r.permalink)
            entry.description(html.escape(r.teaser))
            entry.content(html.escape(r.abstract))
            for _, title in r.topics:
                entry.category(term=title, scheme=self.scheme)
            for category in r.categories:
                entry.category(term=category, scheme=ARXIV_SCHEME)
            if r.pdf:
                entry.enclosure(url=r.pdf, length="0", type="application/pdf")
            for author in r.authors:
                entry.dc.dc_creator(author, replace=False)
            if r.doi:
                entry.dc.dc_identifier(r.doi)
            entry.pubDate(r.published)
        return bytes(fg.rss_str(pretty=True))

    def atom(self, channel: Channel, chosen: list[Item]) -> bytes:
        fg = self.generator(channel)
        fg.id(channel.self_url)
        fg.author(name=self.name, uri=self.site.url(""))  # no email: readers copy it to items
        for item in chosen:
            r = self.record(item)
            entry = fg.add_entry(order="append")
            entry.id(r.id)
            entry.title(r.title)
            entry.link(href=r.link, rel="alternate")
            for author in r.authors:
                entry.author(name=author)
            if r.doi:
                entry.dc.dc_identifier(r.doi)
            entry.summary(r.teaser, type="text")
            entry.content(r.abstract, type="text")
            for topic, title in r.topics:
                entry.category(term=topic, label=title, scheme=self.scheme)
            for category in r.categories:
                entry.category(term=category, scheme=ARXIV_SCHEME)
            entry.published(r.published)
            entry.updated(r.published)
        return _with_enclosures(bytes(fg.atom_str(pretty=True)), [self.record(i) for i in chosen])

    def json_feed(self, channel: Channel, chosen: list[Item], home: str) -> bytes:
        """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
        entries = []
        for item in chosen:
            r = self.record(item)
            entry: dict[str, object] = {
                "id": r.id,
                "url": r.link,
                "title": r.title,
                "summary": r.teaser,
                "content_text": r.abstract,
                "date_published": r.published.isoformat(),
            }
            if r.authors:
                entry["authors"] = [{"name": a} for a in r.authors]
            entry["tags"] = [title for _, title in r.topics] + list(r.categories)
            if r.pdf:
                entry["attachments"] = [{"url": r.pdf, "mime_type": "application/pdf"}]
            if r.doi:
                # JSON Feed has no DOI field: the resolver's URL as the page elsewhere,
                # and the bare DOI in an extension object (the spec's "_" prefix).
                doi = r.doi.removeprefix("doi:")
                entry["external_url"] = f"https://doi.org/{doi}"
                entry["_paper"] = {"doi": doi}
            entries.append(entry)
        feed = {
            "version": JSON_FEED_VERSION,
            "title": channel.title,
            "description": channel.description,
            "home_page_url": home,
            "feed_url": channel.self_url,
            "language": self.language,
            "items": entries,
        }
        return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _with_enclosures(atom: bytes, records: Sequence[Record]) -> bytes:
    """``atom`` with each entry's PDF as ``<link rel="enclosure" type="application/pdf">``.

    Written here because feedgen (1.0) drops the ``rel`` of every entry link but
    the first kind, which would make the PDF a second "alternate" (an error).
    """
    if not any(r.pdf for r in records):
        return atom
    root = etree.fromstring(atom)
    for element, r in zip(root.iterfind(f"{{{ATOM_NS}}}entry"), records, strict=True):
        if r.pdf:
            alternate = element.find(f"{{{ATOM_NS}}}link")
            link = etree.Element(
                f"{{{ATOM_NS}}}link",
                href=r.pdf,
                rel="enclosure",
                type="application/pdf",
                title="PDF",
            )
            link.tail = alternate.tail if alternate is not None else None
            if alternate is not None:
                alternate.addnext(link)
            else:
                element.append(link)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def opml(title: str, feeds: Sequence[tuple[str, str, str]], updated: datetime) -> bytes:
    """An OPML 2.0 subscription list: (title, RSS URL, home URL) per feed."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = updated.strftime("%a, %d %b %Y %H:%M:%S %z")
    body = ElementTree.SubElement(root, "body")
    group = ElementTree.SubElement(body, "outline", text=title, title=title)
    for name, xml_url, home in feeds:
        ElementTree.SubElement(
            group, "outline", type="rss", text=name, title=name, xmlUrl=xml_url, htmlUrl=home
        )
    ElementTree.indent(root)
    written: bytes = ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written + b"\n"


def build_feeds(editions: Sequence[Edition], settings: Settings) -> dict[str, bytes]:
    """Every feed file over ``editions`` (newest first): relative path → bytes."""
    b = _Builder(editions, settings)
    newest = items(editions, b.limit)
    home = b.site.url("")
    description = f"New research papers from {b.name}, grouped by topic."
    if not newest:
        description += " No edition has been published yet: papers appear here with the first."
    files = {
        urls.FEED_RSS: b.rss(
            Channel(b.name, description, b.site.url(urls.FEED_RSS), urls.FEED_RSS), newest
        ),
        urls.FEED_ATOM: b.atom(
            Channel(b.name, description, b.site.url(urls.FEED_ATOM), urls.FEED_ATOM), newest
        ),
        urls.FEED_JSON: b.json_feed(
            Channel(b.name, description, b.site.url(urls.FEED_JSON), urls.FEED_JSON), newest, home
        ),
    }
    listed = [(f"{b.name}: all papers", b.site.url(urls.FEED_RSS), home)]
    for topic in b.topics():
        chosen = items(editions, b.limit, topic)
        if not chosen:
            continue  # published with its first paper
        title = b.titles.get(topic, clean_text(topic))
        path = urls.topic_feed(topic)
        channel = Channel(
            f"{b.name}: {title}", f"New research papers on {title}.", b.site.url(path), path
        )
        files[path] = b.rss(channel, chosen)
        json_path = urls.topic_json_feed(topic)
        files[json_path] = b.json_feed(
            Channel(channel.title, channel.description, b.site.url(json_path), json_path),
            chosen,
            home,
        )
        listed.append((channel.title, channel.self_url, b.site.url(topic_dir(topic))))
    files[urls.FEEDS_OPML] = opml(f"{b.name} feeds", listed, b.updated)
    return files
