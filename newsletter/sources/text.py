"""Text digests: the "Daily Papers" page saved as plain text.

The format (see ``shared/seeds/README.md``)::

    new                                      <- page chrome, optional
    Get trending papers in your email inbox!
    Subscribe
    Daily Papers                             <- in some files only
    byAK and the research community
    Mar 11                                   <- month and day, no year

    Title of the first paper

    Abstract of the first paper, one long line.

    Title of the second paper
    ...

Blocks are runs of non-blank lines separated by blank lines; after the header
they alternate title, abstract.  Real files bend that shape, so the parser
reads blocks by what they look like rather than by position alone:

*Missing abstract.*  After a title, the next block is its abstract only if it
reads like prose: at least ``ABSTRACT_MIN_CHARS`` long, or ending in a full
stop (not an ellipsis), or holding a URL.  Titles are short, end without a
full stop (a trailing ``?`` or ``!`` is still a title) and carry no URL, so a
title followed by another title gives an entry with an empty abstract.

*Abstract in paragraphs.*  A block in a title's place that is long
(``CONTINUATION_MIN_CHARS``) and has a sentence break is a further paragraph
of the previous abstract, not a title: no real title looks like that.

*Title and abstract without a blank line.*  A block of several lines whose
first line reads as a title and whose rest reads as an abstract is split.
Other multi-line blocks are wrapped text and are joined with spaces.

*Truncation.*  A file whose last entry is a title without an abstract was cut
off (a download or copy that stopped early).  The whole file is refused, so
none of its papers is marked seen and a complete copy can be ingested later.
An abstract cut mid-word cannot be told from the page's own truncation of
long abstracts (every real digest ends that way, without a final newline), so
it is accepted.

Errors are :class:`~newsletter.errors.DigestError` with ``where`` set to
``name`` or ``name:line``; every error refuses the whole file.
"""

from __future__ import annotations

import glob
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from newsletter.errors import DigestError
from newsletter.identity import arxiv_abs_url
from newsletter.model import Digest, RawEntry
from newsletter.repair import repair_text

__all__ = [
    "ABSTRACT_MIN_CHARS",
    "CONTINUATION_MIN_CHARS",
    "MAX_DIGEST_BYTES",
    "expand_inputs",
    "parse_digest",
    "read_bytes",
    "read_digest",
]

log = logging.getLogger(__name__)

MAX_DIGEST_BYTES = 20 * 1024 * 1024
"""Larger files are refused unread: a real digest is well under 1 MB."""

ABSTRACT_MIN_CHARS = 300
"""A block after a title at least this long is its abstract, however it ends."""

CONTINUATION_MIN_CHARS = 500
"""A block in a title's place this long, with a sentence break, continues the abstract."""

_BOM = b"\xef\xbb\xbf"
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NEWLINE_BYTES = re.compile(rb"\r\n|\r|\n")
_BINARY_SAMPLE = 65536
_BINARY_CONTROL_SHARE = 0.05

_CHROME = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "daily papers",
        "byak and the research community",
        "by ak and the research community",
    }
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DATE_LINE = re.compile(r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>[0-9]{1,2})")
_ENDS_WITH_FULL_STOP = re.compile(r"(?<!\.)\.[\"')\]]?$")
_SENTENCE_BREAK = re.compile(r"[a-z0-9)\]][.!?]\s+[A-Z]")
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf)/(?P<id>[0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})"
    r"(?:v(?P<version>[0-9]{1,4})(?![0-9]))?",  # a longer "version" is not one (identity.py)
    re.IGNORECASE,
)


@dataclass
class _Block:
    """A run of non-blank lines; ``line`` is the 1-based number of its first."""

    line: int
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class _Entry:
    """An entry being assembled: its title, the line of the title, abstract paragraphs."""

    title: str
    line: int
    abstract: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Public API


def read_digest(path: Path, edition_date: date) -> Digest:
    """Read one digest file; the whole file is refused with a ``DigestError`` if unusable."""
    return parse_digest(read_bytes(path), name=path.name, edition_date=edition_date)


def read_bytes(path: Path) -> bytes:
    """The bytes of a digest file (size-checked), so a caller can hash what it parses."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_DIGEST_BYTES:
            raise DigestError(
                name,
                f"file is {size / 1e6:.1f} MB, more than the {MAX_DIGEST_BYTES // 2**20} MB limit",
                hint="a text digest is a few hundred KB; is this the right file?",
            )
        return path.read_bytes()
    except OSError as exc:
        raise DigestError(name, f"cannot read: {exc.strerror or exc}", hint=str(path)) from exc


def parse_digest(data: bytes, *, name: str, edition_date: date) -> Digest:
    """Parse the bytes of a text digest into a :class:`Digest`.

    ``edition_date`` supplies the year the digest's "Mar 11" date line lacks:
    the year that puts the date closest to, and not after, the edition.
    """
    text = _decode(data, name)
    lines = _NEWLINE.split(text)
    digest_date, body_start = _read_header(lines, name, edition_date)
    blocks = _blocks(lines, body_start)
    entries = _assemble(blocks, name)
    if not entries:
        raise DigestError(
            name, "no entries: nothing after the header", hint="is this a saved digest page?"
        )
    _check_shape(entries, name)
    last = entries[-1]
    if not last.abstract:
        raise DigestError(
            f"{name}:{last.line}",
            f"truncated last entry: {_shorten(last.title)!r} has no abstract",
            hint="the file looks cut off; save the digest again in full",
        )
    log.debug("%s: %d entries dated %s", name, len(entries), digest_date)
    return Digest(
        name=name,
        entries=tuple(_raw_entry(e, name, digest_date) for e in entries),
        digest_date=digest_date,
    )


def expand_inputs(specs: Sequence[str | Path], base_dir: Path) -> tuple[list[Path], list[str]]:
    """Turn input specs (files, folders, globs) into digest files and problems.

    A folder stands for its ``*.txt`` files, a spec with ``*``, ``?`` or ``[``
    is a glob; relative specs are relative to ``base_dir``.  Files come back
    sorted by file name, then path (digests are named so that this is their
    date order), each once.  A spec that matches nothing is a problem, not an
    error, so the other inputs still run.
    """
    found: dict[Path, Path] = {}
    problems: list[str] = []
    for spec in specs:
        matches = _expand_one(spec, base_dir)
        if not matches:
            problems.append(f"{spec}: no files match")
        for match in matches:
            found.setdefault(match.resolve(), match)
    files = sorted(found.values(), key=lambda p: (p.name, str(p)))
    return files, problems


# ---------------------------------------------------------------------------
# Inputs


def _expand_one(spec: str | Path, base_dir: Path) -> list[Path]:
    text = str(spec)
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not glob.has_magic(text):
        if path.is_dir():
            return sorted(p for p in path.glob("*.txt") if p.is_file())
        return [path] if path.is_file() else []
    matches: list[Path] = []
    for hit in sorted(glob.glob(str(path), recursive=True)):
        hit_path = Path(hit)
        if hit_path.is_dir():
            matches.extend(sorted(p for p in hit_path.glob("*.txt") if p.is_file()))
        elif hit_path.is_file():
            matches.append(hit_path)
    return matches


# ---------------------------------------------------------------------------
# Bytes to text


def _decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (BOM optional), refusing empty, binary and mis-encoded files."""
    data = data.removeprefix(_BOM)
    if not data.strip():
        raise DigestError(name, "empty file", hint="the digest has no content; save it again")
    if b"\x00" in data:
        raise DigestError(
            name,
            "binary file (contains NUL bytes), not a text digest",
            hint="if it is UTF-16 text, save it as UTF-8",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_NEWLINE_BYTES.split(data[: exc.start]))
        raise DigestError(
            f"{name}:{line}",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02X})",
            hint="save the file as UTF-8",
        ) from exc
    if _control_share(text[:_BINARY_SAMPLE]) > _BINARY_CONTROL_SHARE:
        raise DigestError(name, "binary file (mostly control characters), not a text digest")
    return text


def _control_share(sample: str) -> float:
    controls = sum(
        1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v"
    )
    return controls / max(len(sample), 1)


# ---------------------------------------------------------------------------
# Header


def _read_header(lines: list[str], name: str, edition_date: date) -> tuple[date | None, int]:
    """Skip page chrome and read the date line; return the date and the first body line index.

    Chrome is only recognised before the first other line, so a paper titled
    "Subscribe" later in the file is still a paper.  A file with the page
    header but no date line is accepted with no date.  A file with neither is
    not a digest (a README, notes, a wrong file dropped into the folder) and
    is refused, naming its first line.
    """
    chrome = False
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if line.casefold() in _CHROME:
            chrome = True
            continue
        match = _DATE_LINE.fullmatch(line)
        if match and match["month"].casefold() in _MONTHS:
            month = _MONTHS[match["month"].casefold()]
            found = _infer_date(month, int(match["day"]), edition_date)
            if found is None:
                raise DigestError(f"{name}:{index + 1}", f"no such date {line!r}")
            return found, index + 1
        if not chrome:
            raise DigestError(
                f"{name}:{index + 1}",
                "not a text digest: it starts with "
                f"{_shorten(line)!r}, not with the page header or a date line like 'Mar 11'",
                hint="a digest is a saved Daily Papers page: header, date line, "
                "then title and abstract blocks",
            )
        return None, index
    return None, len(lines)


_MARKUP = re.compile(r"#{1,6}\s|```|~~~|\|.*\|$|<[A-Za-z!/]|[-*+]\s+\[[ xX]\]")
"""A Markdown heading, code fence, table row, HTML tag or task item: never a paper title."""


def _check_shape(entries: list[_Entry], name: str) -> None:
    """Refuse a file whose body is markup, not papers (a Markdown page after a date line).

    A heading, code fence, table row, HTML tag or task item is never a paper
    title; a few of them mean the file is a page of notes or docs.
    """
    markup = [e for e in entries if _MARKUP.match(e.title)]
    if len(markup) >= max(2, len(entries) // 5):
        first = markup[0]
        raise DigestError(
            f"{name}:{first.line}",
            f"not a text digest: {len(markup)} of its {len(entries)} titles are Markdown "
            f"or HTML markup, such as {_shorten(first.title)!r}",
            hint="a digest is a saved Daily Papers page: header, date line, "
            "then title and abstract blocks",
        )


def _infer_date(month: int, day: int, edition_date: date) -> date | None:
    """The date with this month and day closest to, and not after, ``edition_date``.

    Feb 29 goes back to the nearest leap year (at most eight years: 1900 and
    2100 are not leap years).  ``None`` if no year has such a day.
    """
    for year in range(edition_date.year, edition_date.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= edition_date:
            return candidate
    return None


# ---------------------------------------------------------------------------
# Blocks and entries


def _blocks(lines: list[str], start: int) -> list[_Block]:
    """Group non-blank lines into blocks; a line that repairs to nothing counts as blank."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line or (not _has_alnum(line) and not repair_text(line)):
            current = None
            continue
        if current is None:
            current = _Block(line=index + 1, lines=[])
            blocks.append(current)
        current.lines.append(line)
    return blocks


def _has_alnum(line: str) -> bool:
    """Cheap test that a line is not blank after repair (repairing every line is slower)."""
    return any(ch.isalnum() for ch in line)


def _looks_like_abstract(text: str) -> bool:
    """Prose, not a title: long, ending in a full stop, two sentences, holding a URL,
    or opening as an abstract does ("We propose …") in sentence case."""
    return (
        len(text) >= ABSTRACT_MIN_CHARS
        or _ENDS_WITH_FULL_STOP.search(text) is not None
        or _SENTENCE_BREAK.search(text) is not None
        or "://" in text
        or _opens_like_an_abstract(text)
    )


_ABSTRACT_OPENING = re.compile(
    r"(?:we|here,? we|in this (?:paper|work),? we|this (?:paper|work))\s+"
    r"(?:propose|present|introduce|study|show|investigate|describe|develop|demonstrate"
    r"|explore|address|consider|analy[sz]e|report|examine|tackle|design|revisit|release)s?\b",
    re.IGNORECASE,
)
OPENING_MIN_WORDS = 8
"""An abstract cut short of its full stop is still told from a title by its opening
("We propose …"), when it has this many words and few of them capitalised."""


def _opens_like_an_abstract(text: str) -> bool:
    """A short abstract missing its final full stop: a saved page can lose it, and
    taking the abstract for the next paper's title would drop a paper's abstract
    and invent a paper.  Title-cased lines ("We Need Better Benchmarks for …")
    stay titles."""
    words = text.split()
    if len(words) < OPENING_MIN_WORDS or not _ABSTRACT_OPENING.match(text):
        return False
    capitalised = sum(1 for w in words[1:] if w[:1].isupper())
    return capitalised * 4 <= len(words) - 1


def _looks_like_continuation(text: str) -> bool:
    """A further abstract paragraph where a title was expected."""
    return len(text) >= CONTINUATION_MIN_CHARS and _SENTENCE_BREAK.search(text) is not None


def _assemble(blocks: list[_Block], name: str) -> list[_Entry]:
    """Pair blocks into entries by their shape (see the module docstring)."""
    entries: list[_Entry] = []
    for block in blocks:
        current = entries[-1] if entries else None
        if current is None:
            if _looks_like_continuation(block.text):
                raise DigestError(
                    f"{name}:{block.line}",
                    "an abstract where the first title was expected",
                    hint="the first paper's title seems to be missing",
                )
            entries.append(_start_entry(block))
        elif not current.abstract and _looks_like_abstract(block.text):
            current.abstract.append(block.text)
        elif current.abstract and _looks_like_continuation(block.text):
            log.debug("%s:%d: abstract continues in a new paragraph", name, block.line)
            current.abstract.append(block.text)
        else:
            entries.append(_start_entry(block))
    return entries


def _start_entry(block: _Block) -> _Entry:
    """A title block, split when its title and abstract share it without a blank line."""
    if len(block.lines) > 1:
        first, rest = block.lines[0], " ".join(block.lines[1:])
        if not _looks_like_abstract(first) and _looks_like_abstract(rest):
            return _Entry(title=first, line=block.line, abstract=[rest])
    return _Entry(title=block.text, line=block.line)


_OWN_LINK = re.compile(r"(?:paper|arxiv|link|pdf)\s*:\s*(https?://\S*arxiv\.org/\S+)", re.I)


def _raw_entry(entry: _Entry, name: str, digest_date: date | None) -> RawEntry:
    abstract = " ".join(entry.abstract)
    # The paper's own link is in its title block or labelled ("Paper: <url>",
    # "arXiv: <url>"); a link inside the prose is a citation of another paper,
    # never this paper's identity.
    own = [entry.title, *_OWN_LINK.findall(abstract)]
    url, arxiv_id, version = _arxiv_link(" ".join(own))
    return RawEntry(
        title=repair_text(entry.title),
        abstract=repair_text(abstract),
        source=name,
        digest_date=digest_date,
        url=url,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        line=entry.line,
    )


def _arxiv_link(text: str) -> tuple[str | None, str | None, int | None]:
    """The first arXiv abs/pdf link in the entry, as a canonical abs URL, id and version."""
    match = _ARXIV_URL.search(text)
    if match is None:
        return None, None, None
    arxiv_id = match["id"]
    version = int(match["version"]) if match["version"] else None
    return arxiv_abs_url(arxiv_id, version), arxiv_id, version


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
