"""The identity rule novelty used before issue 12, kept to measure against.

Reproduces ``newsletter/novelty.py`` at commit 76bfc1b, in memory: same arXiv
id; one title unless the abstracts' MinHash similarity is below 0.25; another
title when the similarity is at least 0.5, or at least 0.3 with titles sharing
half their words.  Candidates: arXiv id, title hash and MinHash bands — any
shared band within a run, two shared bands for papers of earlier runs (the
store's rule).  Only the benchmark imports this.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsletter.identity import Signature, signature, title_key, title_similarity
from newsletter.model import RawEntry

SAME_ABSTRACT = 0.5
DIFFERENT_ABSTRACT = 0.25
REVISED_ABSTRACT = 0.3
REVISED_TITLE = 0.5
MIN_BAND_HITS = 2


@dataclass(frozen=True)
class Known:
    key: str
    arxiv_id: str | None
    title_key: str
    signature: Signature | None


@dataclass
class LegacyIndex:
    """Papers seen so far, indexed as the old store and run index were."""

    papers: list[Known] = field(default_factory=list)
    by_title: dict[str, list[Known]] = field(default_factory=dict)
    by_arxiv: dict[str, list[Known]] = field(default_factory=dict)
    by_band: dict[int, list[Known]] = field(default_factory=dict)

    def add(self, known: Known) -> None:
        self.papers.append(known)
        self.by_title.setdefault(known.title_key, []).append(known)
        if known.arxiv_id:
            self.by_arxiv.setdefault(known.arxiv_id, []).append(known)
        if known.signature is not None:
            for band in known.signature.bands():
                self.by_band.setdefault(band, []).append(known)

    def lookup(
        self, arxiv_id: str | None, tkey: str, bands: Sequence[int], min_hits: int
    ) -> list[Known]:
        found: dict[str, Known] = {}
        for k in self.by_arxiv.get(arxiv_id or "", []) + self.by_title.get(tkey, []):
            found.setdefault(k.key, k)
        hits = Counter(k.key for b in bands for k in self.by_band.get(b, []))
        for b in bands:
            for k in self.by_band.get(b, []):
                if hits[k.key] >= min_hits:
                    found.setdefault(k.key, k)
        return list(found.values())


def same_paper(arxiv_id: str | None, tkey: str, sig: Signature | None, other: Known) -> bool:
    if arxiv_id and other.arxiv_id:
        return arxiv_id == other.arxiv_id
    similarity = sig.similarity(other.signature) if sig and other.signature else None
    if tkey == other.title_key:
        return not (similarity is not None and similarity < DIFFERENT_ABSTRACT)
    if similarity is None:
        return False
    if similarity >= SAME_ABSTRACT:
        return True
    return (
        similarity >= REVISED_ABSTRACT and title_similarity(tkey, other.title_key) >= REVISED_TITLE
    )


def split(
    entries: Sequence[RawEntry], stored: LegacyIndex, keys: Sequence[str]
) -> list[str | None]:
    """For each entry, the key of the paper it repeats (None: new).  New papers
    join ``stored`` under ``keys[i]`` once the run is over (as a recorded run)."""
    batch = LegacyIndex()
    out: list[str | None] = []
    accepted: list[Known] = []
    for entry, key in zip(entries, keys, strict=True):
        tkey = title_key(entry.title)
        sig = signature(entry.abstract)
        bands = sig.bands() if sig else ()
        match = None
        for index, min_hits in ((stored, MIN_BAND_HITS), (batch, 1)):
            for other in index.lookup(entry.arxiv_id, tkey, bands, min_hits):
                if same_paper(entry.arxiv_id, tkey, sig, other):
                    match = other.key
                    break
            if match:
                break
        out.append(match)
        if match is None:
            known = Known(key, entry.arxiv_id, tkey, sig)
            batch.add(known)
            accepted.append(known)
    for known in accepted:
        stored.add(known)
    return out
