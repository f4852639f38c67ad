"""RSS and Atom feeds, arXiv's included, parsed by feedparser from fetched bytes.

feedparser is only ever given bytes (:mod:`newsletter.sources.fetch` fetched them):
given a URL it has no timeout, and given a string it may open a local file.
Its ``bozo`` flag does not mean the parse failed: a feed with entries and a
bozo flag (a wrong encoding declaration, a stray character) is used and the
problem is reported as a warning; a document with no entries and a bozo flag
is refused as malformed.

Every field is untrusted text: HTML in titles and summaries is reduced to its
text by :func:`html_to_text` (feedparser keeps ``<form>``/``<input>`` and does
not clean plain-text fields), then repaired like digest text.  feedparser's
own HTML passes (relative-URI resolution and its sanitizer) are turned off:
only text is kept, so they add nothing, and they garble markup they cannot
read.  Its ``_BaseHTMLProcessor._scan_name`` hands the *whole* buffer to
``handle_data`` when a ``<!`` declaration has no name (``<![ ``, ``<!]``), and
the buffer is emitted again at ``close()``: about 3x per pass, two passes, so
``<![CDATA[<![ &lt;![ <!]]>`` came out 9x its length (issue 10).  Without
them a description is read once, and a ``&lt;div&gt;`` x 100,000 summary takes
0.5 s instead of 3.4 s.

A document that declares entities (``<!ENTITY`` in a ``<!DOCTYPE`` internal
subset) is refused before parsing: nested declarations expand a few hundred
bytes into megabytes past ``fetch.max_mb`` (expat allows up to 8 MB before its
amplification limit; feedparser's own filter misses declarations that do
not start a line).  No real feed needs them.  The check reads the document
as feedparser will, after its character-encoding detection, so a UTF-16 or
UTF-7 document cannot slip one past.

Parsing is total: one item that cannot be read (whatever the exception) is
skipped with a warning naming the feed and the item, and the feed's other
items are used; a document that cannot be read at all is a :class:`FeedError`.

arXiv feeds (``rss.arxiv.org`` and the ``export.arxiv.org`` Atom API) carry
more than the title and abstract, and all of it is read:

- the arXiv id and version, from the guid (``oai:arXiv.org:2403.01234v2``),
  the id or the link;
- the categories (``cs.CL``), primary first: topic hints for the classifier;
- the announce type (``new``, ``cross``, ``replace``, ``replace-cross``).  A
  replacement keeps its arXiv id, so novelty sees a replaced paper already
  sent as seen; a replacement of a paper never sent is new to the reader;
- the authors (``dc:creator`` as one comma-separated string, or Atom authors);
- the ``Announce Type: ... Abstract:`` preamble of the description is removed.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from newsletter.errors import InputError
from newsletter.identity import arxiv_abs_url, parse_arxiv_id
from newsletter.model import Digest, RawEntry
from newsletter.repair import repair_text

log = logging.getLogger(__name__)

_OAI_PREFIX = re.compile(r"^oai:arxiv\.org:", re.IGNORECASE)
_ARXIV_PREAMBLE = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
_CATEGORY = re.compile(r"^[a-z-]+(?:\.[A-Za-z-]+)?$")


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's entries as a digest, and what was odd about it."""

    digest: Digest
    warnings: tuple[str, ...] = ()


class FeedError(InputError):
    """The document is not a usable feed."""

    default_hint = "check the source's url: it should serve RSS or Atom"


# A numeric character reference; those naming no character are replaced (below).
_CHARREF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")


def _charref(match: re.Match[bytes]) -> bytes:
    digits = match[1] or match[2]
    code = int(digits, 16 if match[1] else 10) if len(digits) <= 8 else -1
    if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return match[0]
    return b"&#xFFFD;"


# What feedparser's XML parser would take for an entity declaration (see above).
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def parse_feed(content: bytes, *, name: str, content_type: str = "") -> ParsedFeed:
    """Parse fetched feed bytes into a digest named after the source.

    A character reference to no character (a surrogate such as ``&#xD800;``,
    or past U+10FFFF) would make feedparser's fallback parser fail on the
    whole document; it becomes U+FFFD first, so it costs one title a
    character, not the feed its items.
    """
    headers = {"content-type": content_type} if content_type else {}
    content = _CHARREF.sub(_charref, content)
    try:
        _refuse_entity_declarations(content, headers, name)
        parsed: Any = feedparser.parse(
            content, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except (ValueError, LookupError, TypeError) as exc:
        # feedparser reports problems through ``bozo`` but lets a few escape on
        # hostile bytes: an encoding name with a NUL (in the XML declaration or
        # the server's Content-Type) raises ValueError.  Found by fuzzing.
        raise FeedError(
            f"{name}: not a usable RSS/Atom feed ({type(exc).__name__}: {exc})",
            hint="open the url in a browser; is it a feed?",
        ) from None
    warnings: list[str] = []
    feed_date = _date_of(parsed.feed)
    entries: list[RawEntry] = []
    skipped = 0
    for number, item in enumerate(parsed.entries, 1):
        try:
            entry = _entry(item, name, feed_date)
        except Exception as exc:  # one hostile item must not cost the feed its other items
            warnings.append(item_skipped(name, number, _label(item), exc))
            continue
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    if parsed.get("bozo"):
        problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
        if not entries:
            raise FeedError(
                f"{name}: not a usable RSS/Atom feed ({problem})",
                hint="open the url in a browser; is it a feed?",
            )
        warnings.append(f"{name}: feed is not well-formed, read anyway ({problem})")
    if skipped:
        warnings.append(f"{name}: {skipped} entries without a title were skipped")
    if not entries and parsed.get("version", "") == "":
        raise FeedError(f"{name}: not an RSS or Atom feed", hint="is the url right?")
    return ParsedFeed(
        digest=Digest(name=name, entries=tuple(entries), digest_date=feed_date),
        warnings=tuple(warnings),
    )


def _refuse_entity_declarations(content: bytes, headers: dict[str, str], name: str) -> None:
    """FeedError if the document, decoded as feedparser decodes it, declares entities."""
    decoded = convert_to_utf8(dict(headers), content, {})
    doctype = _DOCTYPE.search(decoded)
    if doctype and _ENTITY_DECLARATION.search(decoded, doctype.end()):
        raise FeedError(
            f"{name}: refused: the document declares entities (<!ENTITY in its DOCTYPE), "
            "which can expand it past any size limit",
            hint="a real feed declares no entities; is the url right?",
        )


def _entry(item: Any, name: str, feed_date: date | None) -> RawEntry | None:
    title = repair_text(html_to_text(str(item.get("title", ""))))
    if not title:
        return None
    summary = html_to_text(str(item.get("summary", "") or item.get("description", "")))
    announce = str(item.get("arxiv_announce_type", "") or "").strip().lower() or None
    preamble = _ARXIV_PREAMBLE.match(summary)
    if preamble:
        announce = announce or preamble["type"].lower()
        summary = summary[preamble.end() :]
    arxiv = None
    for candidate in (str(item.get("id", "")), str(item.get("link", ""))):
        arxiv = parse_arxiv_id(_OAI_PREFIX.sub("", candidate.strip()))
        if arxiv:
            break
    link = str(item.get("link", "") or "")
    url = link if link.startswith(("http://", "https://")) else None
    if arxiv is not None:
        url = arxiv_abs_url(arxiv.id)
    return RawEntry(
        title=title,
        abstract=repair_text(summary),
        source=name,
        digest_date=_date_of(item) or feed_date,
        url=url,
        arxiv_id=arxiv.id if arxiv else None,
        arxiv_version=arxiv.version if arxiv else None,
        authors=_authors(item),
        categories=_categories(item),
        announce=announce,
    )


def item_skipped(name: str, number: int, label: str, exc: BaseException) -> str:
    """The one line that reports an item skipped because reading it failed."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return f"{name}: item {number}{label} skipped: {reason}"


def _label(item: Any) -> str:
    """`` (<id or title>)`` for an error message, one short line whatever the item holds."""
    try:
        for key in ("id", "link", "title"):
            value = item.get(key) if isinstance(item, dict) else None
            if isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return f" ({text[:60]}{'…' if len(text) > 60 else ''})"
    except Exception:  # a label is a courtesy; the report line must not fail
        pass
    return ""


def _authors(item: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in item.get("authors", []) or []:
        text = repair_text(html_to_text(str(author.get("name", "") or "")))
        names += [part.strip() for part in text.split(",")] if "," in text else [text]
    if not names and item.get("author"):
        names = [p.strip() for p in repair_text(html_to_text(str(item["author"]))).split(",")]
    return tuple(dict.fromkeys(n for n in names if n))


def _categories(item: Any) -> tuple[str, ...]:
    """arXiv categories, primary first (the Atom API names it; RSS lists it first)."""
    found: list[str] = []
    primary = item.get("arxiv_primary_category")
    if isinstance(primary, dict) and primary.get("term"):
        found.append(str(primary["term"]))
    for tag in item.get("tags", []) or []:
        term = str(tag.get("term", "") or "").strip()
        if term and _CATEGORY.match(term):
            found.append(term)
    return tuple(dict.fromkeys(found))


def _date_of(item: Any) -> date | None:
    for key in ("published_parsed", "updated_parsed"):
        # dict.get: feedparser's own get() maps a missing "updated" to "published"
        # with a DeprecationWarning (found by fuzzing: an unparseable pubDate).
        value = dict.get(item, key) if isinstance(item, dict) else item.get(key)
        if value:
            try:
                return date(value[0], value[1], value[2])
            except (TypeError, ValueError):
                continue
    return None


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment; tags, scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# A closed tag, end tag, comment or declaration; an unclosed "<" stays as text.
_MARKUP = re.compile(r"<[A-Za-z/!?][^<>]*>")


def html_to_text(fragment: str) -> str:
    """The text of an HTML fragment (plain text passes through, entities decoded).

    Total: html.parser raises on some malformed markup (``AssertionError`` on
    ``<![`` not followed by a known keyword, a crash fuzzing found); then the
    markup is cut out by pattern instead, so a hostile title costs nothing.
    """
    if "<" not in fragment and "&" not in fragment:
        return fragment
    parser = _TextOnly()
    try:
        parser.feed(fragment)
        parser.close()
    except Exception:
        return " ".join(html.unescape(_MARKUP.sub(" ", fragment)).split())
    return " ".join("".join(parser.parts).split())
