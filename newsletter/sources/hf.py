"""The Hugging Face daily-papers JSON (``https://huggingface.co/api/daily_papers``).

The document is a list of items, each with a ``paper`` object::

    [{"paper": {"id": "2403.01234", "title": "...", "summary": "...",
                "authors": [{"name": "..."}], "upvotes": 12,
                "publishedAt": "2024-03-04T12:00:00.000Z"},
      "publishedAt": "2024-03-05T...", "title": "...", "numComments": 3}]

Items with the fields at the top level (no ``paper``) are read the same way,
and ``{"papers": [...]}`` is accepted too.  Every field is untrusted: wrong
types are ignored rather than trusted, and text is repaired like digest text.

Parsing is total.  A document nested deeper than the parser's recursion
limit, or not JSON, is an :class:`HfError` for the source.  Any failure in
one item skips that item with a warning naming it, and the other items are
used.

``upvotes`` is a count: a whole number in ``0..MAX_UPVOTES``, written as a
JSON number (``12``, also ``12.0``) or as a string of digits (``"12"``: some
mirrors serialise counts as strings).  Absent or ``null`` means no count.
Anything else is refused with one warning naming the item, and the paper is
kept without upvotes: a number out of range (``-7``, ``10**18``), too long to
read (5,000 digits would raise ``ValueError`` in Python's int parsing, so
such a literal is never converted), not whole (``3.7``), not finite
(``1e999`` reads as infinity), or not a number at all (``"NaN"``, ``true``,
``[1, 2]``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import date
from typing import Any

from newsletter.errors import InputError
from newsletter.identity import arxiv_abs_url, parse_arxiv_id
from newsletter.model import Digest, RawEntry
from newsletter.repair import repair_text
from newsletter.sources.feed import ParsedFeed, html_to_text, item_skipped

log = logging.getLogger(__name__)

MAX_UPVOTES = 10**9
"""Upvotes above this (or below 0) are not a count: dropped, with a warning."""


class _Unreadable:
    """An integer literal too long to be a count; kept as its first digits for messages."""

    def __init__(self, literal: str) -> None:
        self.shown = f"{literal[:12]}… ({len(literal)} digits)"


def _integer(literal: str) -> int | _Unreadable:
    # 19 digits is past any count and well inside Python's int limit of 4,300 digits.
    return int(literal) if len(literal.lstrip("-")) <= 19 else _Unreadable(literal)


class HfError(InputError):
    """The document is not the daily-papers JSON."""

    default_hint = "check the source's url: it should serve the daily-papers JSON"


def parse_hf(content: bytes, *, name: str) -> ParsedFeed:
    """Parse the daily-papers JSON into a digest named after the source."""
    try:
        data = json.loads(content.decode("utf-8-sig"), parse_int=_integer)
    except UnicodeDecodeError as exc:
        raise HfError(f"{name}: not UTF-8 JSON (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise HfError(
            f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint="is the url the daily-papers API?",
        ) from None
    except RecursionError:
        raise HfError(
            f"{name}: JSON nested too deeply to read", hint="is the url the daily-papers API?"
        ) from None
    except ValueError as exc:  # anything else the decoder refuses
        raise HfError(f"{name}: not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("papers"), list):
        data = data["papers"]
    if not isinstance(data, list):
        raise HfError(f"{name}: expected a JSON list of papers, got {type(data).__name__}")
    entries: list[RawEntry] = []
    warnings: list[str] = []
    skipped = 0
    for number, item in enumerate(data, 1):
        try:
            entry = _entry(item, name, number, warnings) if isinstance(item, dict) else None
        except Exception as exc:  # one hostile item must not cost the source its other items
            warnings.append(item_skipped(name, number, _label(item), exc))
            continue
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    if skipped:
        warnings.append(f"{name}: {skipped} items without a title were skipped")
    dates = sorted({e.digest_date for e in entries if e.digest_date})
    return ParsedFeed(
        digest=Digest(name=name, entries=tuple(entries), digest_date=dates[-1] if dates else None),
        warnings=tuple(warnings),
    )


def _entry(item: dict[str, Any], name: str, number: int, warnings: list[str]) -> RawEntry | None:
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    assert isinstance(paper, dict)
    title = repair_text(html_to_text(_text(paper.get("title")) or _text(item.get("title"))))
    if not title:
        return None
    abstract = repair_text(html_to_text(_text(paper.get("summary")) or _text(item.get("summary"))))
    arxiv = parse_arxiv_id(_text(paper.get("id")))
    upvotes = _upvotes(paper.get("upvotes"))
    if isinstance(upvotes, str):
        warnings.append(f"{name}: item {number}{_label(item)}: upvotes {upvotes}; ignored")
        upvotes = None
    return RawEntry(
        title=title,
        abstract=abstract,
        source=name,
        digest_date=_day(item.get("publishedAt")) or _day(paper.get("publishedAt")),
        url=arxiv_abs_url(arxiv.id) if arxiv else None,
        arxiv_id=arxiv.id if arxiv else None,
        arxiv_version=arxiv.version if arxiv else None,
        authors=_authors(paper.get("authors")),
        upvotes=upvotes,
    )


_DIGITS = re.compile(r"\s*([0-9]{1,19})\s*")


def _upvotes(value: Any) -> int | str | None:
    """A count, None when absent, or why it was refused (a string; see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, _Unreadable):
        return f"{value.shown} out of range"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"{_shown(value)} is not a number"
    if isinstance(value, int):
        count = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return f"{_shown(value)} is not a finite number"
        if not value.is_integer():
            return f"{_shown(value)} is not a whole number"
        if not 0 <= value <= MAX_UPVOTES:
            return f"{_shown(value)} out of range (0..{MAX_UPVOTES})"
        count = int(value)
    else:
        digits = _DIGITS.fullmatch(value) if value.isascii() else None
        if digits is None:
            return f"{_shown(value)} is not a number"
        count = int(digits[1])
    if not 0 <= count <= MAX_UPVOTES:
        return f"{count} out of range (0..{MAX_UPVOTES})"
    return count


def _shown(value: Any) -> str:
    """``value`` as JSON writes it, cut short for a warning (a container by its kind)."""
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    text = json.dumps(value[:41] if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:39] + "…"


def _label(item: Any) -> str:
    """`` (<arXiv id or title>)`` for an error message, one short line."""
    try:
        paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
        for value in (paper.get("id"), paper.get("title"), item.get("title")):
            if isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return f" ({text[:60]}{'…' if len(text) > 60 else ''})"
    except Exception:  # a label is a courtesy; the report line must not fail
        pass
    return ""


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
