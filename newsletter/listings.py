"""Where a :class:`~newsletter.model.Paper` is made: once, complete, from its listings.

A run can list one paper several times: the saved digest and the arXiv feed,
or the Hugging Face list.  :mod:`newsletter.novelty` decides which entries
are the same paper (a ``Verdict`` that is not new and is ``same_as`` a new
one "earlier in this run").  Here the listings of each new paper are merged
and the paper is made from the merged listing:

- **the listing**: the first listing decides; a later one fills in only what
  the first lacks: an arXiv id (with the link that came with it), upvotes,
  authors, categories;
- **the URL**: the listing's own link, else its arXiv abstract page, else an
  arXiv title search (:func:`link`);
- **the topics**: classified on the merged title, abstract and categories
  (:func:`newsletter.topics.classify`), primary first.

Nothing fixes a paper up later: every later stage reads these fields as they
are.

Every listing is first *bounded* (:func:`bounded`, applied by the pipeline to
each listing before novelty compares it, and again here so that no ``Paper``
can be made without it): whatever its source kind, its text loses every
bidirectional control and each field is cut to a fixed size, with one warning
naming the listing.  A source can be hostile (entity expansion once turned an
885-byte feed into 1 MB titles) and one field must not crowd the real papers
out of the edition, the email's byte budget or the novelty index:

========================  =====================================================
field                     bound
========================  =====================================================
``title``                 :data:`MAX_TITLE` characters (cut, with "…")
``abstract``              :data:`MAX_ABSTRACT` characters (cut, with "…")
``authors``               :data:`MAX_AUTHORS` names of :data:`MAX_AUTHOR` characters
``categories``            :data:`MAX_CATEGORIES` terms of :data:`MAX_CATEGORY` characters
``url``                   :data:`MAX_URL` characters; a longer link is not used
========================  =====================================================

The bidirectional controls (:data:`newsletter.repair.BIDI_CONTROLS`: the
embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, and the
marks U+200E, U+200F and U+061C) are removed here, once, so ``edition.json``,
the feeds, the site and the email all carry the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from newsletter.identity import arxiv_abs_url, arxiv_search_url
from newsletter.model import Paper, RawEntry
from newsletter.novelty import Verdict
from newsletter.repair import drop_bidi_controls
from newsletter.topics import Taxonomy, classify

MAX_TITLE = 1_000
"""Longest title kept, in characters (arXiv's longest are under 300)."""
MAX_ABSTRACT = 10_000
"""Longest abstract kept, in characters (arXiv caps abstracts at 1,920)."""
MAX_AUTHORS = 200
"""Most author names kept (a large collaboration keeps its first 200)."""
MAX_AUTHOR = 200
"""Longest author name kept, in characters."""
MAX_CATEGORIES = 20
"""Most categories kept."""
MAX_CATEGORY = 64
"""Longest category kept, in characters; a longer one is dropped (a cut term names nothing)."""
MAX_URL = 2_048
"""Longest link kept; a longer one is not used (a cut URL is broken): the arXiv page or a
title search instead."""


def link(entry: RawEntry) -> str:
    """The paper's URL: its own link, its arXiv abstract page, or an arXiv title search."""
    if entry.url:
        return entry.url
    if entry.arxiv_id:
        return arxiv_abs_url(entry.arxiv_id)
    return arxiv_search_url(entry.title)


def merge(first: RawEntry, later: RawEntry) -> RawEntry:
    """``first`` with what ``later`` (another listing of the same paper) adds to it.

    The link of ``first`` stays, unless ``first`` had neither a link nor an
    arXiv id and ``later`` knows the id: then the link (or the abstract page)
    of ``later``, which names the paper, replaces a title search.
    """
    adopt_id = first.arxiv_id is None and later.arxiv_id is not None
    return replace(
        first,
        arxiv_id=later.arxiv_id if adopt_id else first.arxiv_id,
        arxiv_version=later.arxiv_version if adopt_id else first.arxiv_version,
        url=later.url if adopt_id and first.url is None else first.url,
        upvotes=first.upvotes if first.upvotes is not None else later.upvotes,
        authors=first.authors or later.authors,
        categories=first.categories or later.categories,
    )


def bounded(entry: RawEntry, warnings: list[str] | None = None) -> RawEntry:
    """``entry`` without bidirectional controls and with every field within its bound.

    Each field cut (or link dropped) adds one line to ``warnings`` naming the
    listing: ``feed: item 2611.00100: title cut to 1,000 characters (it had
    1,000,007)``.  Idempotent: a bounded listing comes back as it is.
    """
    found: list[str] = []
    title = _cut(_text(entry.title), MAX_TITLE, "title", found)
    abstract = _cut(_text(entry.abstract), MAX_ABSTRACT, "abstract", found)
    authors = tuple(a for a in (_text(a) for a in entry.authors) if a)
    if len(authors) > MAX_AUTHORS:
        found.append(f"authors: kept the first {MAX_AUTHORS:,} of {len(authors):,} names")
        authors = authors[:MAX_AUTHORS]
    if any(len(a) > MAX_AUTHOR for a in authors):
        found.append(f"author names cut to {MAX_AUTHOR:,} characters")
        authors = tuple(_cut(a, MAX_AUTHOR, "", None) for a in authors)
    categories = tuple(c for c in entry.categories if len(c) <= MAX_CATEGORY)
    if len(categories) < len(entry.categories):
        found.append(f"categories longer than {MAX_CATEGORY} characters dropped")
    if len(categories) > MAX_CATEGORIES:
        found.append(f"categories: kept the first {MAX_CATEGORIES} of {len(categories):,}")
        categories = categories[:MAX_CATEGORIES]
    url = entry.url
    if url is not None and len(url) > MAX_URL:
        found.append(f"link of {len(url):,} characters (over {MAX_URL:,}) not used")
        url = None
    if not found and (title, abstract, authors, categories, url) == (
        entry.title,
        entry.abstract,
        entry.authors,
        entry.categories,
        entry.url,
    ):
        return entry
    if warnings is not None:
        where = f"{entry.source}: {_label(entry)}"
        warnings += [f"{where}: {problem}" for problem in found]
    return replace(
        entry, title=title, abstract=abstract, authors=authors, categories=categories, url=url
    )


def _text(text: str) -> str:
    """``text`` without bidirectional controls (whitespace refolded where one was removed)."""
    cleaned = drop_bidi_controls(text)
    return cleaned if cleaned == text else " ".join(cleaned.split())


def _cut(text: str, limit: int, field: str, found: list[str] | None) -> str:
    if len(text) <= limit:
        return text
    if found is not None:
        found.append(f"{field} cut to {limit:,} characters (it had {len(text):,})")
    return text[: limit - 1].rstrip() + "…"


def _label(entry: RawEntry) -> str:
    """The listing in a warning: its arXiv id, else the start of its title, else its line."""
    if entry.arxiv_id:
        return f"item {entry.arxiv_id}"
    if entry.line is not None:
        return f"line {entry.line}"
    title = " ".join(entry.title.split())
    return f"item {title[:60]!r}" + ("…" if len(title) > 60 else "")


def make_paper(
    entry: RawEntry, key: str, taxonomy: Taxonomy, warnings: list[str] | None = None
) -> Paper:
    """The paper of a (merged) listing under identity ``key``, its topics classified.

    The listing is bounded first (:func:`bounded`; what it cuts is added to
    ``warnings``), so no paper carries an unbounded field, whoever calls.
    """
    entry = bounded(entry, warnings)
    return Paper(
        key=key,
        title=entry.title,
        abstract=entry.abstract,
        url=link(entry),
        source=entry.source,
        topics=classify(entry.title, entry.abstract, entry.categories, taxonomy).topics,
        digest_date=entry.digest_date,
        arxiv_id=entry.arxiv_id,
        authors=entry.authors,
        categories=entry.categories,
        upvotes=entry.upvotes,
    )


def new_papers(
    verdicts: Sequence[Verdict], taxonomy: Taxonomy, warnings: list[str] | None = None
) -> list[Paper]:
    """One paper per new verdict, in their order, each from all of its listings."""
    merged = {v.key: v.entry for v in verdicts if v.new}
    for v in verdicts:
        if not v.new and v.same_as in merged:
            merged[v.same_as] = merge(merged[v.same_as], v.entry)
    return [make_paper(entry, key, taxonomy, warnings) for key, entry in merged.items()]
