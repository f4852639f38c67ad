"""Split a run's entries into novel papers and papers seen before.

An entry repeats a paper when (first rule that applies decides):

1. both carry an arXiv id: the ids are equal (versions ignored);
2. their normalized titles are equal, unless both abstracts are long enough to
   compare and share almost nothing (``different_abstract``): two different
   papers that happen to share a title;
3. their abstracts are near-identical (``same_abstract``): a retitled version;
   or the abstracts are fairly close and the titles share most words: a
   version both retitled and revised.

Candidates come from the store in a few batched, indexed queries (arXiv id,
title hash, MinHash bands), so the cost per paper does not grow with the
number of papers seen.  Entries repeated inside one run are caught the same
way against the papers accepted earlier in the run.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from newsletter.config import NoveltySettings
from newsletter.identity import (
    Signature,
    normalize_text,
    paper_key,
    signature,
    title_key,
    title_similarity,
)
from newsletter.model import RawEntry
from newsletter.store.papers import SeenPaper, title_hash

# Retitled *and* revised: abstracts at least this close and titles sharing most words.
_REVISED_ABSTRACT = 0.3
_REVISED_TITLE = 0.5


@dataclass(frozen=True)
class Verdict:
    """What novelty decided for one entry, and why (for summaries and ``explain``).

    ``key`` is the paper's identity key: a new one, or the key of the paper the
    entry repeats.  The :class:`~newsletter.model.Paper` itself is made once,
    from all of its listings, by :mod:`newsletter.listings`.
    """

    entry: RawEntry
    key: str
    new: bool
    reason: str
    same_as: str | None
    title_key: str
    signature: Signature | None


class SeenIndex(Protocol):
    """What novelty needs of the store (the store implements it)."""

    def band_hits(self, bands: Sequence[int]) -> dict[int, list[int]]: ...

    def candidates(
        self, arxiv_ids: Sequence[str], title_hashes: Sequence[int], ids: Sequence[int]
    ) -> list[SeenPaper]: ...


# A seen paper found only through the abstract index is a candidate when it
# shares this many bands with the entry.  One shared band happens by chance
# between unrelated abstracts (about 1 pair in 70,000), so with millions of
# papers seen every entry would drag in dozens of candidates; two shared
# bands almost never happen by chance, and still catch 95% of pairs with a
# similarity of 0.6 and all from 0.7 up (a retitled version is near 1).
MIN_BAND_HITS = 2


@dataclass
class _Index:
    """Papers by arXiv id, title hash and band, for matching in memory."""

    by_arxiv: dict[str, list[SeenPaper]] = field(default_factory=dict)
    by_title: dict[int, list[SeenPaper]] = field(default_factory=dict)
    by_band: dict[int, list[SeenPaper]] = field(default_factory=dict)

    def add(self, paper: SeenPaper) -> None:
        if paper.arxiv_id:
            self.by_arxiv.setdefault(paper.arxiv_id, []).append(paper)
        self.by_title.setdefault(title_hash(paper.title_key), []).append(paper)
        if paper.signature is not None:
            for band in paper.signature.bands():
                self.by_band.setdefault(band, []).append(paper)

    def lookup(self, arxiv_id: str | None, thash: int, bands: Sequence[int]) -> list[SeenPaper]:
        found: dict[str, SeenPaper] = {}
        if arxiv_id:
            for p in self.by_arxiv.get(arxiv_id, ()):
                found.setdefault(p.key, p)
        for p in self.by_title.get(thash, ()):
            found.setdefault(p.key, p)
        for band in bands:
            for p in self.by_band.get(band, ()):
                found.setdefault(p.key, p)
        return list(found.values())


def same_paper(
    arxiv_id: str | None,
    tkey: str,
    sig: Signature | None,
    other: SeenPaper,
    thresholds: NoveltySettings,
) -> str | None:
    """Why the entry is ``other`` (a short reason), or None when it is a different paper."""
    if arxiv_id and other.arxiv_id:
        return "same arXiv id" if arxiv_id == other.arxiv_id else None
    similarity = sig.similarity(other.signature) if sig and other.signature else None
    if tkey == other.title_key:
        if similarity is not None and similarity < thresholds.different_abstract:
            return None
        return "same title"
    if similarity is None:
        return None
    if similarity >= thresholds.same_abstract:
        return f"same abstract ({similarity:.2f})"
    if (
        similarity >= _REVISED_ABSTRACT
        and title_similarity(tkey, other.title_key) >= _REVISED_TITLE
    ):
        return f"similar title and abstract ({similarity:.2f})"
    return None


DEFAULT_THRESHOLDS = NoveltySettings()
"""``[novelty]`` as its defaults, for callers without a config."""


def split(
    entries: Sequence[RawEntry],
    seen: SeenIndex | None,
    thresholds: NoveltySettings = DEFAULT_THRESHOLDS,
) -> list[Verdict]:
    """One verdict per entry, in input order; new ∪ repeated = entries."""
    probes = [(entry, title_key(entry.title), signature(entry.abstract)) for entry in entries]
    stored = _Index()
    if seen is not None and probes:
        for paper in seen.candidates(
            sorted({e.arxiv_id for e, _, _ in probes if e.arxiv_id}),
            sorted({title_hash(t) for _, t, _ in probes}),
            _band_candidates(seen, [s for _, _, s in probes]),
        ):
            stored.add(paper)
    taken = {p.key for ps in stored.by_title.values() for p in ps}
    batch = _Index()
    verdicts: list[Verdict] = []
    for entry, tkey, sig in probes:
        thash = title_hash(tkey)
        bands = sig.bands() if sig else ()
        verdict = None
        for index, where in ((stored, "seen before"), (batch, "earlier in this run")):
            for other in index.lookup(entry.arxiv_id, thash, bands):
                reason = same_paper(entry.arxiv_id, tkey, sig, other, thresholds)
                if reason:
                    verdict = Verdict(
                        entry=entry,
                        key=other.key,
                        new=False,
                        reason=f"{reason}, {where}",
                        same_as=other.key,
                        title_key=tkey,
                        signature=sig,
                    )
                    break
            if verdict:
                break
        if verdict is None:
            key = _unique_key(paper_key(tkey, entry.arxiv_id), entry, taken)
            taken.add(key)
            batch.add(
                SeenPaper(id=-1, key=key, arxiv_id=entry.arxiv_id, title_key=tkey, signature=sig)
            )
            verdict = Verdict(
                entry=entry,
                key=key,
                new=True,
                reason="new",
                same_as=None,
                title_key=tkey,
                signature=sig,
            )
        verdicts.append(verdict)
    return verdicts


def _band_candidates(seen: SeenIndex, signatures: Sequence[Signature | None]) -> list[int]:
    """Ids of seen papers sharing at least MIN_BAND_HITS bands with some entry."""
    per_entry = [sig.bands() if sig else () for sig in signatures]
    hits = seen.band_hits(sorted({b for bands in per_entry for b in bands}))
    wanted: set[int] = set()
    for bands in per_entry:
        counts = Counter(paper_id for band in bands for paper_id in hits.get(band, ()))
        wanted.update(pid for pid, n in counts.items() if n >= MIN_BAND_HITS)
    return sorted(wanted)


def _unique_key(key: str, entry: RawEntry, taken: set[str]) -> str:
    """Keys are unique: a different paper with an already-used title gets a suffix.

    The suffix is derived from its abstract, so the same paper always gets the
    same key.  Very long titles are cut so the key fits an indexed column.
    """
    if len(key) > 250:
        key = key[:234] + "~" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
    if key not in taken:
        return key
    digest = hashlib.blake2b(normalize_text(entry.abstract).encode(), digest_size=4).hexdigest()
    candidate = f"{key}~{digest}"
    counter = 2
    while candidate in taken:
        candidate = f"{key}~{digest}-{counter}"
        counter += 1
    return candidate
