"""Titles, abstracts and URLs come from the outside world: make them inert data.

Escaping for HTML and XML is done where the text is written (Jinja autoescape,
lxml inside feedgen).  What escaping cannot fix is done here, once, before any
template sees the text:

* C0/C1 control characters (other than whitespace) are removed: XML 1.0 forbids
  most of them, and in a terminal or a mail client they are at best noise;
* the bidirectional controls (:data:`newsletter.repair.BIDI_CONTROLS`:
  embeddings, overrides, isolates and the marks U+200E, U+200F, U+061C) are
  removed: one U+202E in a title would mirror the rest of the line, and of the
  page around it (a "Trojan Source" style spoof).  A paper's text has lost
  them already where the paper was made (:mod:`newsletter.listings`), so
  ``edition.json`` agrees with every page; this catches the rest (names,
  notes, templates' own values);
* any run of whitespace, newlines included, becomes one space, so a title can
  never forge a line of its own in the plain-text part;
* URLs that are not absolute ``http(s)`` (``javascript:``, ``data:``, relative
  paths) are replaced by a fallback the caller chooses;
* ``%%`` is broken up (a word joiner between the signs in text, ``%25%25`` in a
  URL): a recipient's links are spliced into the rendered email where their
  markers stand (``%%UNSUBSCRIBE_URL%%``, ``%%VOTE_TOKEN%%``…,
  :mod:`newsletter.render.recipients`), so an abstract that wrote one would have
  carried each reader's own unsubscribe link or vote token to wherever it points.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from newsletter.repair import BIDI_CONTROLS

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff" + "".join(sorted(BIDI_CONTROLS)) + "]"
)
_SPACE = re.compile(r"\s+")
MARKER_SIGNS = "%%"
"""What every recipient marker starts and ends with (never left whole in outside text)."""
_JOINED = "%\u2060%"  # WORD JOINER: the same two signs to a reader, no marker to a splice


def defuse(text: str) -> str:
    """``text`` with no ``%%`` left whole: it can never name a recipient marker."""
    return text.replace(MARKER_SIGNS, _JOINED) if MARKER_SIGNS in text else text


def clean_text(text: str) -> str:
    """The text without control or bidi characters, whitespace folded to single spaces."""
    if text.isprintable():  # the usual case: no controls, no whitespace but " "
        if "  " not in text and not text.startswith(" ") and not text.endswith(" "):
            return defuse(text)
    else:
        text = _INVISIBLE.sub("", text)
    return defuse(" ".join(text.split()))


def safe_url(url: str | None, fallback: str) -> str:
    """``url`` if it is an absolute http(s) URL without spaces or controls, else ``fallback``."""
    if not url:
        return fallback
    url = url.strip()
    if _INVISIBLE.search(url) or _SPACE.search(url):
        return fallback
    try:
        parts = urlsplit(url)
    except ValueError:
        return fallback
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return fallback
    return url.replace(MARKER_SIGNS, "%25%25") if MARKER_SIGNS in url else url
