"""What an entry looks up in the store's two bounded indexes: the rare pairs that
cannot hit by chance, and its title heads (below, "title heads").

An entry probes the rare-pair index with every pair of its
:data:`~newsletter.identity.RARE_PROBED` rarest terms (21 keys), to find a
version both retitled and heavily revised.  Each seen paper a probe returns
is fetched and weighed by the full evidence rules, so a probe that returns
papers *by chance* costs as much as one that finds the paper's own first
version — and chance grows with the store: two words held by ``df_a`` and
``df_b`` of ``N`` papers co-occur by chance in about ``df_a × df_b / N`` of
them, which, for a vocabulary that stops growing, rises linearly with ``N``
(0.012 chance candidates per entry at 10,000 papers seen, 1.4 at 1,000,000 on
the benchmark's synthetic vocabulary).

So the entry probes the store only with the pairs whose *expected chance
hits* stay inside a budget of :data:`CHANCE_BUDGET` seen papers per entry,
taken in order of fewest expected hits.  The chance hits are counted among
the *other* papers holding each word: a word's count includes the entry
itself and, when the entry revises a seen paper, that paper — so a pair of
words only the two versions hold expects no chance hit and is always probed,
whatever the size of the store.  What the budget leaves out are pairs of
words held by hundreds of papers, which say little about which paper this
is; a version that shares only such words with its first version is still
found through its title or its abstract's MinHash bands.

The budget bounds the cost, not the verdicts: a candidate found is still
weighed in full (:func:`newsletter.evidence.judge`).  Only the lookup in the
store is budgeted; entries of the same run are matched on all their pairs
(the run, not the store, bounds what they can hit).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from newsletter.identity import MAX_HEAD_POSTINGS as MAX_HEAD_POSTINGS
from newsletter.identity import head_hash as head_hash
from newsletter.identity import head_index_key as head_index_key
from newsletter.identity import head_probe_keys as head_probe_keys
from newsletter.identity import pairs_of_rarest
from newsletter.identity import title_head as title_head

# Expected chance candidates one entry may bring in from the store through the
# rare-pair index (under independent words): about one in fifty entries.
CHANCE_BUDGET = 0.02
# Holders of a word not counted as chance: the entry itself and the paper it may revise.
OWN_HOLDERS = 2


def chance_hits(df_a: int, df_b: int, documents: int) -> float:
    """Seen papers expected to hold both words by chance, besides the entry and
    the paper it may revise (``df``: papers holding each word, the entry included)."""
    others_a, others_b = max(0, df_a - OWN_HOLDERS), max(0, df_b - OWN_HOLDERS)
    return others_a * others_b / max(1, documents)


def store_probes(
    ranked: Sequence[int],
    counts: Mapping[int, int],
    documents: int,
    budget: float = CHANCE_BUDGET,
) -> tuple[int, ...]:
    """The keys of the pairs of ``ranked`` terms (rarest first) an entry probes the
    store with: fewest expected chance hits first, while their sum stays within
    ``budget``.  Pairs expecting none are always probed."""
    scored = sorted(
        (chance_hits(counts.get(a, 0), counts.get(b, 0), documents), pairs_of_rarest((a, b))[0])
        for a, b in itertools.combinations(sorted(set(ranked)), 2)
    )
    chosen: list[int] = []
    spent = 0.0
    for expected, key in scored:
        if expected > 0 and spent + expected > budget:
            break
        spent += expected
        chosen.append(key)
    return tuple(sorted(chosen))


# ---------------------------------------------------------------- title heads
