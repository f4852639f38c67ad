"""The Hugging Face daily-papers JSON (``https://huggingface.co/api/daily_papers``).

The document is a list of items, each with a ``paper`` object::

    [{"paper": {"id": "2403.01234", "title": "...", "summary": "...",
                "authors": [{"name": "..."}], "upvotes": 12,
                "publishedAt": "2024-03-04T12:00:00.000Z"},
      "publishedAt": "2024-03-05T...", "title": "...", "numComments": 3}]

Items with the fields at the top level (no ``paper``) are read the same way,
and ``{"papers": [...]}`` is accepted too.  Every field is untrusted: wrong
types are ignored rather than trusted, and text is repaired like digest text.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from newsletter.errors import InputError
from newsletter.identity import parse_arxiv_id
from newsletter.model import Digest, RawEntry
from newsletter.repair import repair_text
from newsletter.sources.feed import ParsedFeed, html_to_text

log = logging.getLogger(__name__)


class HfError(InputError):
    """The document is not the daily-papers JSON."""

    default_hint = "check the source's url: it should serve the daily-papers JSON"


def parse_hf(content: bytes, *, name: str) -> ParsedFeed:
    """Parse the daily-papers JSON into a digest named after the source."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise HfError(f"{name}: not UTF-8 JSON (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise HfError(
            f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint="is the url the daily-papers API?",
        ) from None
    if isinstance(data, dict) and isinstance(data.get("papers"), list):
        data = data["papers"]
    if not isinstance(data, list):
        raise HfError(f"{name}: expected a JSON list of papers, got {type(data).__name__}")
    entries: list[RawEntry] = []
    skipped = 0
    for item in data:
        entry = _entry(item, name) if isinstance(item, dict) else None
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    warnings = (f"{name}: {skipped} items without a title were skipped",) if skipped else ()
    dates = sorted({e.digest_date for e in entries if e.digest_date})
    return ParsedFeed(
        digest=Digest(name=name, entries=tuple(entries), digest_date=dates[-1] if dates else None),
        warnings=warnings,
    )


def _entry(item: dict[str, Any], name: str) -> RawEntry | None:
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    assert isinstance(paper, dict)
    title = repair_text(html_to_text(_text(paper.get("title")) or _text(item.get("title"))))
    if not title:
        return None
    abstract = repair_text(html_to_text(_text(paper.get("summary")) or _text(item.get("summary"))))
    arxiv = parse_arxiv_id(_text(paper.get("id")))
    upvotes = paper.get("upvotes")
    return RawEntry(
        title=title,
        abstract=abstract,
        source=name,
        digest_date=_day(item.get("publishedAt")) or _day(paper.get("publishedAt")),
        url=f"https://arxiv.org/abs/{arxiv.id}" if arxiv else None,
        arxiv_id=arxiv.id if arxiv else None,
        arxiv_version=arxiv.version if arxiv else None,
        authors=_authors(paper.get("authors")),
        upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _authors(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = []
    for author in value:
        raw = author.get("name") if isinstance(author, dict) else author
        text = repair_text(_text(raw))
        if text:
            names.append(text)
    return tuple(dict.fromkeys(names))


def _day(value: Any) -> date | None:
    text = _text(value)
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None
