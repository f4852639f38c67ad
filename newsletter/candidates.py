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

import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence

from newsletter.identity import pairs_of_rarest, title_key

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

# A version that lost its subtitle ("Foo: A Bar for Baz" → "Foo") *and* most of
# its abstract (a feed cutting it to a sentence or two) shares no title hash, no
# MinHash band and, often, no pair of rare words with its first listing.  What it
# keeps is the name before the colon.  So every paper is indexed under one *title
# head* (table ``paper_title_heads``): the normalized title before its first colon
# (or spaced dash), or the whole title when it has none; an entry probes with its
# head and its whole title.  "Foo: A Bar", "Foo" and "Foo: Another Subtitle" meet.
#
# A head that many papers share ("Position: …", "Survey: …") would bring all of
# them in as candidates of every entry carrying it, so a head's posting list is
# kept to MAX_HEAD_POSTINGS + 1 rows and a head that reached that size is not
# looked up at all: a lookup returns at most MAX_HEAD_POSTINGS papers per key,
# however many papers are seen.
MAX_HEAD_POSTINGS = 8
_HEAD_SPLIT = re.compile(r"\s*:\s*|\s+[-\u2013\u2014]+\s+")


def title_head(title: str) -> str | None:
    """The normalized part of ``title`` before its first colon (or spaced dash),
    or None when there is none (or nothing before it)."""
    parts = _HEAD_SPLIT.split(title, maxsplit=1)
    if len(parts) < 2:
        return None
    head = title_key(parts[0])
    return head or None


def head_hash(normalized: str) -> int:
    """A signed 63-bit key for a normalized title or head (the index stores hashes)."""
    digest = hashlib.blake2b(normalized.encode(), digest_size=8, person=b"head").digest()
    return int.from_bytes(digest, "little", signed=True) >> 1


def head_index_key(title: str, tkey: str) -> int:
    """The one key a paper is indexed under: its title head, else its whole title."""
    return head_hash(title_head(title) or tkey)


def head_probe_keys(title: str, tkey: str) -> tuple[int, ...]:
    """The keys an entry looks up: its head (a first version with another subtitle,
    or none) and its whole title (a first version whose head this title is)."""
    head = title_head(title)
    return tuple(sorted({head_hash(tkey), *((head_hash(head),) if head else ())}))
