"""Split a run's entries into novel papers and papers seen before.

An entry repeats a paper when (first rule that applies decides):

1. the operator said so: ``newsletter papers same`` / ``papers distinct``
   record a decision about two papers, and it outranks every rule below; an
   entry marked distinct from anything is taken for no other paper by
   similarity either (only a listing under its own title or arXiv id repeats it);
2. both carry an arXiv id: the ids are equal (versions ignored);
3. the evidence says so (:func:`newsletter.evidence.judge`): one title over
   related abstracts; or another title — a subtitle added or dropped, words
   changed — over abstracts whose rare words agree, unless the titles differ in
   numbers or each names what only its own abstract holds (series members).

Candidates come from the store in a few batched, indexed queries — arXiv id,
title hash, abstract MinHash bands (two shared), pairs of rare terms (one
shared pair: a version both retitled and heavily revised, which may share no
band at all; only pairs that cannot hit by chance, :mod:`newsletter.candidates`),
title heads (the name before the colon: a version that dropped its subtitle and
most of its abstract; never a head many papers share) and operator decisions —
so the cost per paper does not grow with the number of papers seen.  The store
is probed by the store's counts alone, so what an entry finds there never
depends on the other entries of its run.  Entries repeated inside one run are caught the same way
against the papers accepted earlier in the run (on all their pairs).  When
several candidates are the same paper, the closest one is named.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from newsletter.candidates import (
    MAX_HEAD_POSTINGS,
    head_index_key,
    head_probe_keys,
    store_probes,
)
from newsletter.config import NoveltySettings
from newsletter.evidence import Evidence, Judgement, Profile, judge, profile, weigh
from newsletter.identity import (
    DOCUMENTS_TERM,
    RARE_INDEXED,
    RARE_PROBED,
    Decision,
    Rarity,
    Signature,
    abstract_words,
    decision_reason,
    names_of,
    normalize_text,
    pairs_of_rarest,
    paper_key,
    rarest,
    signature_of_words,
    term_hash,
    terms_of_words,
    title_key,
)
from newsletter.model import RawEntry
from newsletter.store.papers import SeenPaper, title_hash

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Decision",
    "SeenBefore",
    "SeenIndex",
    "Verdict",
    "names_of",
    "split",
]


@dataclass(frozen=True)
class Verdict:
    """What novelty decided for one entry, and why (for summaries and ``explain``).

    ``key`` is the paper's identity key: a new one, or the key of the paper the
    entry repeats.  The :class:`~newsletter.model.Paper` itself is made once,
    from all of its listings, by :mod:`newsletter.listings`.  ``compared_with``
    is the paper ``evidence`` is about: the one it repeats, or for a new paper
    the closest seen one that was ruled out (None when no candidate came up).
    """

    entry: RawEntry
    key: str
    new: bool
    reason: str
    same_as: str | None
    title_key: str
    signature: Signature | None
    terms: tuple[int, ...] = ()
    rare_pairs: tuple[int, ...] = ()
    evidence: Evidence | None = None
    compared_with: str | None = None
    compared_where: str | None = None  # "seen before" | "earlier in this run"


class SeenIndex(Protocol):
    """What novelty needs of the store (the store implements it)."""

    def band_hits(self, bands: Sequence[int]) -> dict[int, list[int]]: ...

    def rare_pair_hits(self, pairs: Sequence[int]) -> dict[int, list[int]]: ...

    def head_hits(self, heads: Sequence[int]) -> dict[int, list[int]]: ...

    def term_counts(self, hashes: Sequence[int]) -> dict[int, int]: ...

    def decisions_about(self, names: Sequence[str]) -> list[Decision]: ...

    def candidates(
        self,
        arxiv_ids: Sequence[str],
        title_hashes: Sequence[int],
        ids: Sequence[int],
        keys: Sequence[str] = (),
    ) -> list[SeenPaper]: ...


# A seen paper found only through the abstract index is a candidate when it
# shares this many bands with the entry.  One shared band happens by chance
# between unrelated abstracts (about 1 pair in 70,000), so with millions of
# papers seen every entry would drag in dozens of candidates; two shared
# bands almost never happen by chance, and still catch 95% of pairs with a
# similarity of 0.6 and all from 0.7 up.  What two bands miss (a version
# retitled and heavily revised) the rare-pair index finds.
MIN_BAND_HITS = 2
_STORED, _RUN = "seen before", "earlier in this run"  # where a candidate was found


@dataclass
class _Known:
    """A paper that can be repeated: seen before, or accepted earlier in the run."""

    paper: SeenPaper
    names: frozenset[str]
    _profile: Profile | None = None

    @property
    def profile(self) -> Profile:
        """Computed on first comparison: most papers are never compared."""
        if self._profile is None:
            self._profile = profile(
                self.paper.title or self.paper.title_key,
                self.paper.abstract,
                title_key=self.paper.title_key,
            )
        return self._profile


@dataclass
class _Index:
    """Papers by arXiv id, title hash, title head, band and rare pair, for matching in memory."""

    by_arxiv: dict[str, list[_Known]] = field(default_factory=dict)
    by_title: dict[int, list[_Known]] = field(default_factory=dict)
    by_head: dict[int, list[_Known]] = field(default_factory=dict)
    by_band: dict[int, list[_Known]] = field(default_factory=dict)
    by_pair: dict[int, list[_Known]] = field(default_factory=dict)
    by_name: dict[str, list[_Known]] = field(default_factory=dict)

    def add(self, known: _Known, pairs: Iterable[int] = ()) -> None:
        paper = known.paper
        if paper.arxiv_id:
            self.by_arxiv.setdefault(paper.arxiv_id, []).append(known)
        self.by_title.setdefault(title_hash(paper.title_key), []).append(known)
        head = head_index_key(paper.title or paper.title_key, paper.title_key)
        self.by_head.setdefault(head, []).append(known)
        if paper.signature is not None:
            for band in paper.signature.bands():
                self.by_band.setdefault(band, []).append(known)
        for pair in pairs:
            self.by_pair.setdefault(pair, []).append(known)
        for name in known.names:
            self.by_name.setdefault(name, []).append(known)

    def lookup(self, probe: _Probe, pairs: Sequence[int]) -> list[_Known]:
        found: dict[str, _Known] = {}
        lists: list[list[_Known]] = []
        if probe.entry.arxiv_id:
            lists.append(self.by_arxiv.get(probe.entry.arxiv_id, []))
        lists.append(self.by_title.get(title_hash(probe.title_key), []))
        heads = (self.by_head.get(head, []) for head in probe.heads)
        lists.extend(h for h in heads if len(h) <= MAX_HEAD_POSTINGS)  # as the store does
        lists.extend(self.by_band.get(band, []) for band in probe.bands)
        lists.extend(self.by_pair.get(pair, []) for pair in pairs)
        lists.extend(self.by_name.get(name, []) for name in probe.decided_names)
        for known_list in lists:
            for k in known_list:
                found.setdefault(k.paper.key, k)
        return list(found.values())


@dataclass
class _Probe:
    """One entry and everything identity computed for it."""

    entry: RawEntry
    title_key: str
    words: list[str]
    signature: Signature | None
    terms: tuple[int, ...]
    names: frozenset[str]
    bands: tuple[int, ...] = ()
    heads: tuple[int, ...] = ()  # title-head keys looked up (candidates.head_probe_keys)
    probe_pairs: tuple[int, ...] = ()
    store_pairs: tuple[int, ...] = ()  # the probe pairs looked up in the store (candidates.py)
    index_pairs: tuple[int, ...] = ()
    decisions: tuple[Decision, ...] = ()
    decided_names: tuple[str, ...] = ()
    _profile: Profile | None = None

    @property
    def profile(self) -> Profile:
        """Computed on first comparison: most new papers meet no candidate."""
        if self._profile is None:
            self._profile = profile(
                self.entry.title, self.entry.abstract, title_key=self.title_key, words=self.words
            )
        return self._profile


def _probe(entry: RawEntry) -> _Probe:
    tkey = title_key(entry.title)
    words = abstract_words(entry.abstract)
    sig = signature_of_words(words)
    return _Probe(
        entry=entry,
        title_key=tkey,
        words=words,
        signature=sig,
        terms=tuple(sorted({term_hash(t) for t in terms_of_words(tkey, words)})),
        names=names_of(paper_key(tkey, entry.arxiv_id), entry.arxiv_id, tkey),
        bands=sig.bands() if sig else (),
        heads=head_probe_keys(entry.title, tkey),
    )


class SeenBefore:
    """The seen index as it stood before the paper numbered ``first_id`` was
    recorded: later papers are not candidates (term counts stay as they are now).
    ``explain`` uses it to say why a paper already sent was new when it came."""

    def __init__(self, seen: SeenIndex, first_id: int) -> None:
        self._seen = seen
        self._first_id = first_id

    def band_hits(self, bands: Sequence[int]) -> dict[int, list[int]]:
        return self._older(self._seen.band_hits(bands))

    def rare_pair_hits(self, pairs: Sequence[int]) -> dict[int, list[int]]:
        return self._older(self._seen.rare_pair_hits(pairs))

    def head_hits(self, heads: Sequence[int]) -> dict[int, list[int]]:
        return self._older(self._seen.head_hits(heads))

    def term_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        return self._seen.term_counts(hashes)

    def decisions_about(self, names: Sequence[str]) -> list[Decision]:
        return self._seen.decisions_about(names)

    def candidates(
        self,
        arxiv_ids: Sequence[str],
        title_hashes: Sequence[int],
        ids: Sequence[int],
        keys: Sequence[str] = (),
    ) -> list[SeenPaper]:
        found = self._seen.candidates(arxiv_ids, title_hashes, ids, keys)
        return [p for p in found if p.id < self._first_id]

    def _older(self, hits: dict[int, list[int]]) -> dict[int, list[int]]:
        return {k: [i for i in ids if i < self._first_id] for k, ids in hits.items()}


DEFAULT_THRESHOLDS = NoveltySettings()
"""``[novelty]`` as its defaults, for callers without a config."""


def split(
    entries: Sequence[RawEntry],
    seen: SeenIndex | None,
    thresholds: NoveltySettings = DEFAULT_THRESHOLDS,
) -> list[Verdict]:
    """One verdict per entry, in input order; new ∪ repeated = entries."""
    probes = [_probe(entry) for entry in entries]
    ranking, rarity = _rarity(seen, probes)
    for p in probes:
        # Entries of one run meet each other on the counts of the store and the run
        # together.  The store is probed by the store's counts alone — so whether an
        # entry finds a seen paper never depends on the other entries of its run —
        # and only with terms the store holds: a seen paper is filed under pairs of
        # its own terms, all counted, so a word new to the store (a sentence the
        # revision added) can never hit and would only push a rare one out.
        ranked = rarest(p.terms, ranking.counts, RARE_PROBED)
        p.probe_pairs = pairs_of_rarest(ranked)
        p.index_pairs = pairs_of_rarest(ranked[:RARE_INDEXED])
        held = [h for h in p.terms if rarity.counts.get(h, 0) > 0]
        alone = rarest(held, rarity.counts, RARE_PROBED)
        p.store_pairs = store_probes(alone, rarity.counts, rarity.documents)
    _attach_decisions(seen, probes)
    stored = _Index()
    if seen is not None and probes:
        decided = {n for p in probes for n in p.decided_names}
        ids, pair_hits = _index_candidates(seen, probes)
        pairs_of: dict[int, list[int]] = {}
        for pair, hit_ids in pair_hits.items():
            for paper_id in hit_ids:
                pairs_of.setdefault(paper_id, []).append(pair)
        for paper in seen.candidates(
            sorted(
                {p.entry.arxiv_id for p in probes if p.entry.arxiv_id}
                | {n.removeprefix("arxiv:") for n in decided if n.startswith("arxiv:")}
            ),
            sorted(
                {title_hash(p.title_key) for p in probes}
                | {title_hash(n.removeprefix("title:")) for n in decided if n.startswith("title:")}
            ),
            ids,
            sorted(decided),
        ):
            stored.add(
                _Known(paper, names_of(paper.key, paper.arxiv_id, paper.title_key)),
                pairs_of.get(paper.id, ()),
            )
    taken = {k.paper.key for ks in stored.by_title.values() for k in ks}
    batch = _Index()
    verdicts: list[Verdict] = []
    for p in probes:
        verdict = _match(p, stored, batch, rarity, thresholds)
        if verdict.new:
            key = _unique_key(paper_key(p.title_key, p.entry.arxiv_id), p.entry, taken)
            taken.add(key)
            known = SeenPaper(
                id=-1,
                key=key,
                arxiv_id=p.entry.arxiv_id,
                title_key=p.title_key,
                signature=p.signature,
                abstract=p.entry.abstract,
                title=p.entry.title,
            )
            batch.add(_Known(known, p.names | {key}, p._profile), p.index_pairs)
            verdict = Verdict(
                entry=p.entry,
                key=key,
                new=True,
                reason=verdict.reason,
                same_as=None,
                title_key=p.title_key,
                signature=p.signature,
                terms=p.terms,
                rare_pairs=p.index_pairs,
                evidence=verdict.evidence,
                compared_with=verdict.compared_with,
                compared_where=verdict.compared_where,
            )
        verdicts.append(verdict)
    return _indexed_as_stored(verdicts, probes, rarity.counts)


def _indexed_as_stored(
    verdicts: list[Verdict], probes: Sequence[_Probe], stored: Mapping[int, int]
) -> list[Verdict]:
    """Give each new paper the rare pairs it is stored under: the pairs of its
    rarest terms by the counts the store will hold once the run is recorded (the
    store's, plus the run's *new* papers).  Those are the counts a later run probes
    with, so the pairs a paper is filed under match the ones its next version
    looks up, whatever other entries — repeats, say — its own run listed."""
    added = Counter(h for v, p in zip(verdicts, probes, strict=True) if v.new for h in p.terms)
    out = list(verdicts)
    for i, (v, p) in enumerate(zip(verdicts, probes, strict=True)):
        if v.new:
            after = {h: stored.get(h, 0) + added[h] for h in p.terms}
            pairs = pairs_of_rarest(rarest(p.terms, after, RARE_INDEXED))
            out[i] = dataclasses.replace(v, rare_pairs=pairs)
    return out


@dataclass(frozen=True)
class _Comparison:
    """The entry against one candidate: same paper or not, why, and how close."""

    other: _Known
    where: str
    same: bool
    reason: str
    rank: float  # among matches: operator decision, then arXiv id, then closest abstract
    evidence: Evidence | None
    decision: Decision | None = None
    # the rules took it for this paper, but the entry is marked distinct (_compare)
    overruled: bool = False


def _match(
    p: _Probe,
    stored: _Index,
    batch: _Index,
    rarity: Rarity,
    thresholds: NoveltySettings,
) -> Verdict:
    """The verdict for one entry: the closest candidate judged the same paper, if any.

    For a new paper the verdict keeps the evidence of the closest candidate
    ruled out (an operator's "distinct" first), so ``explain`` can show why.
    """
    compared = [
        _compare(p, other, where, rarity, thresholds)
        for index, where, pairs in ((stored, _STORED, p.store_pairs), (batch, _RUN, p.probe_pairs))
        for other in index.lookup(p, pairs)
    ]
    matches = [c for c in compared if c.same]
    if matches:
        best = max(matches, key=lambda c: c.rank)
        return Verdict(
            entry=p.entry,
            key=best.other.paper.key,
            new=False,
            reason=f"{best.reason}, {best.where}",
            same_as=best.other.paper.key,
            title_key=p.title_key,
            signature=p.signature,
            terms=p.terms,
            evidence=best.evidence,
            compared_with=best.other.paper.key,
            compared_where=best.where,
        )
    if not compared:
        return _new(p, "no seen paper or earlier entry is a candidate", None)
    nearest = max(compared, key=_closeness)
    return _new(p, f"{nearest.reason} (vs {nearest.other.paper.key})", nearest)


def _closeness(c: _Comparison) -> tuple[int, float]:
    """Which ruled-out candidate ``explain`` shows: a merge the operator's "distinct"
    overruled first (it says why the entry is new), then one a decision names."""
    rank = 2 if c.overruled else 1 if c.decision else 0
    if c.evidence is None:
        return (rank, 0.0)
    e = c.evidence
    return (rank, e.word_similarity or e.title_similarity)


def _compare(
    p: _Probe, other: _Known, where: str, rarity: Rarity, thresholds: NoveltySettings
) -> _Comparison:
    decision = _decision_for(p, other)
    arxiv_id, other_arxiv = p.entry.arxiv_id, other.paper.arxiv_id
    evidence = (
        None if arxiv_id and arxiv_id == other_arxiv else weigh(p.profile, other.profile, rarity)
    )
    if decision is not None:
        same = decision.verdict == "same"
        reason = f"{decision_reason(decision.id)} " + (
            "same paper" if same else f"distinct papers{_DISTINCT_MEANS}"
        )
        return _Comparison(other, where, same, reason, 4.0, evidence, decision)
    if arxiv_id and other_arxiv:
        if arxiv_id == other_arxiv:
            return _Comparison(other, where, True, "same arXiv id", 3.0, None)
        return _Comparison(other, where, False, "another arXiv id", 0.0, evidence)
    assert evidence is not None
    judged: Judgement = judge(evidence, thresholds)
    closeness = evidence.word_similarity if evidence.word_similarity is not None else 0.5
    marked = _marked_distinct(p)
    if judged.same and marked is not None and not (p.names & other.names):
        # The operator called this entry a paper of its own: it is new, not folded
        # into whichever *other* look-alike the rules reach for next (a suite of six
        # would otherwise need five decisions, one run at a time).  Listed again
        # under its own title or arXiv id it is seen, as any paper is.
        return _Comparison(
            other,
            where,
            False,
            f"{decision_reason(marked.id)} marked distinct ({marked.first} / {marked.second})"
            f"{_DISTINCT_MEANS}; the rules alone would say: {judged.reason}",
            1.0 + closeness,
            evidence,
            marked,
            overruled=True,
        )
    return _Comparison(other, where, judged.same, judged.reason, 1.0 + closeness, evidence)


def _decision_for(p: _Probe, other: _Known) -> Decision | None:
    """The newest operator decision about this entry and this candidate."""
    for decision in p.decisions:
        if decision.about(p.names, other.names):
            return decision
    return None


_DISTINCT_MEANS = (
    ", so a paper of its own: taken for no other paper by similarity, "
    "only listed again under its own title or arXiv id"
)


def _marked_distinct(p: _Probe) -> Decision | None:
    """The newest "distinct" decision naming this entry, if any (see :func:`_compare`)."""
    for decision in p.decisions:
        if decision.verdict == "distinct":
            return decision
    return None


def _new(p: _Probe, reason: str, nearest: _Comparison | None) -> Verdict:
    """A provisional verdict for a new paper (``split`` gives it its key)."""
    return Verdict(
        entry=p.entry,
        key="",
        new=True,
        reason=reason,
        same_as=None,
        title_key=p.title_key,
        signature=p.signature,
        evidence=nearest.evidence if nearest else None,
        compared_with=nearest.other.paper.key if nearest else None,
        compared_where=nearest.where if nearest else None,
    )


def _rarity(seen: SeenIndex | None, probes: Sequence[_Probe]) -> tuple[Rarity, Rarity]:
    """Document frequencies of the probes' terms: (the store's counts plus this run's,
    which rank the rare words a paper is indexed and found by; the store's counts
    alone, as they stood before the run, which weigh the evidence).  The evidence
    never counts the run's own entries, so the verdict on two listings does not
    move with the other entries of the digest."""
    batch = Counter(h for p in probes for h in p.terms)
    if seen is None:
        return Rarity(len(probes), dict(batch)), Rarity()
    stored = seen.term_counts(sorted({DOCUMENTS_TERM, *batch}))
    documents = stored.get(DOCUMENTS_TERM, 0)
    counts = {h: stored.get(h, 0) + n for h, n in batch.items()}
    before = {h: n for h, n in stored.items() if h != DOCUMENTS_TERM}
    return Rarity(documents + len(probes), counts), Rarity(documents, before)


def _attach_decisions(seen: SeenIndex | None, probes: Sequence[_Probe]) -> None:
    """Give each probe the operator decisions about it (newest first), and the
    names of the papers it was decided to be."""
    if seen is None or not probes:
        return
    found = seen.decisions_about(sorted({n for p in probes for n in p.names}))
    found.sort(key=lambda d: -d.id)
    for p in probes:
        mine = [d for d in found if d.first in p.names or d.second in p.names]
        p.decisions = tuple(mine)
        p.decided_names = tuple(
            sorted(
                {d.second if d.first in p.names else d.first for d in mine if d.verdict == "same"}
            )
        )


def _index_candidates(
    seen: SeenIndex, probes: Sequence[_Probe]
) -> tuple[list[int], dict[int, list[int]]]:
    """Ids of seen papers sharing MIN_BAND_HITS bands, a store pair or a title head
    with an entry; ids by pair."""
    hits = seen.band_hits(sorted({b for p in probes for b in p.bands}))
    wanted: set[int] = set()
    for p in probes:
        counts = Counter(paper_id for band in p.bands for paper_id in hits.get(band, ()))
        wanted.update(pid for pid, n in counts.items() if n >= MIN_BAND_HITS)
    pair_hits = seen.rare_pair_hits(sorted({pair for p in probes for pair in p.store_pairs}))
    for ids in pair_hits.values():
        wanted.update(ids)
    for ids in seen.head_hits(sorted({h for p in probes for h in p.heads})).values():
        wanted.update(ids)
    return sorted(wanted), pair_hits


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
