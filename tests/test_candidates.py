"""Candidates: the store is probed only with rare pairs that cannot hit by chance.

The rule (``newsletter.candidates``) keeps the cost per paper flat as the
store grows; these tests pin that a pair of words many papers hold is not
looked up, that a pair only two versions hold always is, and that a revision
sharing only common words with its first version is still found through its
title or its abstract's MinHash bands.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from newsletter.candidates import CHANCE_BUDGET, chance_hits, store_probes
from newsletter.identity import Decision, pairs_of_rarest, signature, term_hash
from newsletter.listings import new_papers
from newsletter.model import RawEntry
from newsletter.novelty import MIN_BAND_HITS, SeenIndex, Verdict, split
from newsletter.store import Database
from newsletter.store.papers import NewPaper, SeenPaper
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other"),))
NOW = datetime(2026, 3, 11, tzinfo=UTC)

# Made-up words, so no stop word or real vocabulary interferes.
COMMON = [f"{a}{b}ola" for a in "bdfgklmnprstvz" for b in "aeiou"][:60]
RARE_TITLE = "Quokkanet sonar bathymetry for reef mapping"
RARE_WORDS = ["quokkanet", "zirconium", "bathymetry", "echogram", "sonar", "reef", "mapping"]


# ---------------------------------------------------------------- the rule, pure


def test_words_only_the_entry_and_its_first_version_hold_expect_no_chance_hit() -> None:
    assert chance_hits(2, 2, 1_000_000) == 0.0
    assert chance_hits(1, 2, 10) == 0.0
    assert chance_hits(502, 502, 1_000_000) == 500 * 500 / 1_000_000


def test_a_pair_of_words_hundreds_of_papers_hold_is_not_probed_but_a_rare_pair_is() -> None:
    rare_a, rare_b, common_a, common_b = (term_hash(w) for w in ("qa", "qb", "ca", "cb"))
    counts = {rare_a: 2, rare_b: 3, common_a: 500, common_b: 450}
    probed = set(store_probes([rare_a, rare_b, common_a, common_b], counts, 1_000_000))
    assert pairs_of_rarest([rare_a, rare_b])[0] in probed  # expects 0.000 chance hits
    assert pairs_of_rarest([common_a, common_b])[0] not in probed  # expects 0.22
    assert pairs_of_rarest([rare_a, common_a])[0] in probed  # 0 × 498: none
    # The same two common words in a store a thousand times smaller are rare enough.
    small = {h: max(2, n // 1000) for h, n in counts.items()}
    assert pairs_of_rarest([common_a, common_b])[0] in store_probes(list(small), small, 1000)


def test_the_budget_takes_the_pairs_expecting_fewest_chance_hits_first() -> None:
    terms = [term_hash(f"t{i}") for i in range(7)]  # 21 pairs
    documents = 1_000_000
    counts = {h: 2 + 10 * (i + 1) for i, h in enumerate(terms)}
    probed = store_probes(terms, counts, documents)
    expected = sorted(
        (chance_hits(counts[a], counts[b], documents), pairs_of_rarest((a, b))[0])
        for i, a in enumerate(terms)
        for b in terms[i + 1 :]
    )
    spent, kept = 0.0, []
    for cost, key in expected:
        if spent + cost > CHANCE_BUDGET:
            break
        spent, kept = spent + cost, [*kept, key]
    assert 0 < len(probed) < 21
    assert set(probed) == set(kept)
    assert sum(c for c, k in expected if k in probed) <= CHANCE_BUDGET


# ---------------------------------------------------------------- against a real store


class Recording:
    """The real seen index of a database, noting the rare pairs it was asked for."""

    def __init__(self, seen: SeenIndex) -> None:
        self.seen = seen
        self.pairs: list[int] = []

    def band_hits(self, bands: Sequence[int]) -> dict[int, list[int]]:
        return self.seen.band_hits(bands)

    def rare_pair_hits(self, pairs: Sequence[int]) -> dict[int, list[int]]:
        self.pairs.extend(pairs)
        return self.seen.rare_pair_hits(pairs)

    def head_hits(self, heads: Sequence[int]) -> dict[int, list[int]]:
        return self.seen.head_hits(heads)

    def term_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        return self.seen.term_counts(hashes)

    def decisions_about(self, names: Sequence[str]) -> list[Decision]:
        return self.seen.decisions_about(names)

    def candidates(
        self,
        arxiv_ids: Sequence[str],
        title_hashes: Sequence[int],
        ids: Sequence[int],
        keys: Sequence[str] = (),
    ) -> list[SeenPaper]:
        return self.seen.candidates(arxiv_ids, title_hashes, ids, keys)


def _common_abstract(rng: random.Random, extra: Sequence[str] = ()) -> str:
    words = rng.sample(COMMON, 40) + list(extra)
    rng.shuffle(words)
    return " ".join(words) + "."


def _store(tmp_path: Path, entries: Sequence[RawEntry]) -> Database:
    """A real SQLite store holding ``entries``, recorded as a run records them."""
    db = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    verdicts = split(list(entries), None)
    papers = {p.key: p for p in new_papers(verdicts, TAXONOMY)}
    with db.write() as tx:
        tx.papers.bulk_seed(
            [
                NewPaper(papers[v.key], v.title_key, v.signature, v.terms, v.rare_pairs)
                for v in verdicts
                if v.new
            ],
            NOW,
        )
    return db


def _split(db: Database, entries: Sequence[RawEntry]) -> tuple[list[Verdict], list[int]]:
    with db.read() as tx:
        seen = Recording(tx.seen)
        return split(list(entries), seen), seen.pairs


def _shared_bands(a: str, b: str) -> int:
    sa, sb = signature(a), signature(b)
    assert sa is not None and sb is not None
    return len(set(sa.bands()) & set(sb.bands()))


def test_versions_sharing_only_common_words_are_found_without_probing_rare_pairs(
    tmp_path: Path,
) -> None:
    """Every word of these papers is held by most of the store: no pair is worth a
    lookup, and the versions are found by their title and by their MinHash bands."""
    rng = random.Random(3)
    fillers = [
        RawEntry(" ".join(rng.sample(COMMON, 6)).capitalize(), _common_abstract(rng), "seen.txt")
        for _ in range(200)
    ]
    first = fillers[17]
    db = _store(tmp_path, fillers)
    cased = RawEntry(first.title.upper(), first.abstract.rsplit(" ", 3)[0] + ".", "v2.txt")
    retitled = RawEntry(first.title + " " + COMMON[-1], first.abstract, "v2.txt")
    for version in (cased, retitled):
        verdicts, probed = _split(db, [version])
        assert probed == []  # every pair expects many chance hits: none looked up
        assert not verdicts[0].new, verdicts[0].reason
        assert verdicts[0].same_as == f"title:{first.title.casefold()}"
    db.close()


def test_a_retitled_heavily_revised_version_is_found_through_its_rare_pair(
    tmp_path: Path,
) -> None:
    """Its words in another order (no two bands shared) and a subtitle added: only
    the pair of rare words it shares with its first version finds it, and that pair
    is looked up however common the rest of its words are."""
    rng = random.Random(4)
    fillers = [
        RawEntry(" ".join(rng.sample(COMMON, 6)).capitalize(), _common_abstract(rng), "seen.txt")
        for _ in range(200)
    ]
    original = RawEntry(RARE_TITLE, _common_abstract(rng, RARE_WORDS), "seen.txt")
    db = _store(tmp_path, [*fillers, original])
    words = original.abstract.rstrip(".").split()
    rng.shuffle(words)
    version = RawEntry(RARE_TITLE + " at scale", " ".join(words) + ".", "v2.txt")
    assert _shared_bands(version.abstract, original.abstract) < MIN_BAND_HITS
    verdicts, probed = _split(db, [version])
    assert not verdicts[0].new, verdicts[0].reason
    assert verdicts[0].same_as == f"title:{RARE_TITLE.casefold()}"
    rare = [term_hash(w) for w in RARE_WORDS]
    assert set(probed) & {pairs_of_rarest((a, b))[0] for a in rare for b in rare if a != b}
    common = [term_hash(w) for w in COMMON]
    assert not set(probed) & {pairs_of_rarest((a, b))[0] for a in common for b in common if a < b}
    db.close()
