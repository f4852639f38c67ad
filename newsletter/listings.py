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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from newsletter.identity import arxiv_abs_url, arxiv_search_url
from newsletter.model import Paper, RawEntry
from newsletter.novelty import Verdict
from newsletter.topics import Taxonomy, classify


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


def make_paper(entry: RawEntry, key: str, taxonomy: Taxonomy) -> Paper:
    """The paper of a (merged) listing under identity ``key``, its topics classified."""
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


def new_papers(verdicts: Sequence[Verdict], taxonomy: Taxonomy) -> list[Paper]:
    """One paper per new verdict, in their order, each from all of its listings."""
    merged = {v.key: v.entry for v in verdicts if v.new}
    for v in verdicts:
        if not v.new and v.same_as in merged:
            merged[v.same_as] = merge(merged[v.same_as], v.entry)
    return [make_paper(entry, key, taxonomy) for key, entry in merged.items()]
