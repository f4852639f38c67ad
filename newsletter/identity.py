"""Paper identity: keys, normalized titles and abstract signatures.

Precedence (first that applies decides the key):

1. an arXiv id without version (from an id field or an ``arxiv.org/abs|pdf`` URL)
   → ``arxiv:2403.01234``;
2. otherwise the normalized title → ``title:<normalized title>``.

A key alone cannot recognise a retitled version or tell apart two papers with
the same title, so :mod:`newsletter.novelty` also finds *candidates* through
two indexes and then weighs the evidence (:mod:`newsletter.evidence`):

* a MinHash signature of the abstract's word pairs, whose bands are stored in an
  indexed table (near-identical abstracts);
* the pairs of the paper's rarest *terms* (content words of title and abstract,
  ranked by how few seen papers hold them): a version both retitled and heavily
  revised still shares two of its rarest words (its method, its dataset) with
  the paper it revises, where it may share no band at all.

Both lookups are a handful of B-tree probes whatever the number of papers seen.
The document frequencies that rank terms are kept in the database too.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from newsletter.repair import repair_text

# ---------------------------------------------------------------- arXiv ids

# A version is 1 to 4 digits; a longer one is not read (a 5,000-digit "version"
# would raise ValueError in int(), and no database column holds it).
_ARXIV_NEW = r"(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d{1,4})(?!\d))?"
_ARXIV_OLD = r"(?P<old>[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<vold>\d{1,4})(?!\d))?"
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(?:" + _ARXIV_NEW + "|" + _ARXIV_OLD + r")", re.IGNORECASE
)
_ARXIV_BARE = re.compile(r"^(?:arxiv:)?(?:" + _ARXIV_NEW + "|" + _ARXIV_OLD + r")$", re.IGNORECASE)


@dataclass(frozen=True)
class ArxivId:
    id: str
    version: int | None


def parse_arxiv_id(text: str) -> ArxivId | None:
    """An arXiv id from a bare id (``2403.01234v2``, ``arXiv:…``) or an arxiv.org URL."""
    text = text.strip()
    match = _ARXIV_BARE.match(text) or _ARXIV_URL.search(text)
    if not match:
        return None
    ident = match.group("id") or match.group("old")
    version = match.group("v") or match.group("vold")
    return ArxivId(ident, int(version) if version else None)


# ---------------------------------------------------------------- titles

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",
    }
)
# Cyrillic and Greek letters that look like Latin ones: folded for identity only,
# so "Transfоrmers" with a Cyrillic о is the same title as with a Latin o.
_CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοѵ",
    "ABEKMHOPCTXaeopcyxijsdqwABEZHIKMNOPTYXov",
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Fold a title to the form identity compares.

    Repairs digest artefacts (``x2013``, ``&amp;``), then folds as
    :func:`fold_text` does.  Idempotent.
    """
    folded = fold_text(repair_text(text))
    for _ in range(3):  # folding can expose a repairable form ("RIGHTARROW" → "rightarrow")
        again = fold_text(repair_text(folded))
        if again == folded:
            break
        folded = again
    return folded


def fold_text(text: str) -> str:
    """NFKC (full-width and ligature forms), accents stripped, casefolded, and every
    run of punctuation and whitespace folded to one space.  Idempotent."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
        # format characters (zero-width joiners, word joiner, bidi marks) are invisible
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        text = text.translate(_CONFUSABLES)
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFKC", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def title_key(title: str) -> str:
    return normalize_text(title)


def paper_key(normalized_title: str, arxiv_id: str | None) -> str:
    """The stable identity key (feed guid, store key) from a title_key() and an arXiv id."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    return f"title:{normalized_title}"


def arxiv_abs_url(arxiv_id: str, version: int | None = None) -> str:
    """The arXiv abstract page of a paper (of one version, if given): the one place
    that spells arXiv's URLs; :data:`_ARXIV_URL` reads them back."""
    return f"https://arxiv.org/abs/{arxiv_id}" + (f"v{version}" if version is not None else "")


def arxiv_pdf_url(arxiv_id: str) -> str:
    """The PDF of a paper's newest version on arXiv."""
    return f"https://arxiv.org/pdf/{arxiv_id}"


@dataclass(frozen=True)
class Decision:
    """An operator's word on two papers, each named as :func:`names_of` names them:
    ``same`` (one paper) or ``distinct`` (two)."""

    id: int
    first: str
    second: str
    verdict: str  # "same" | "distinct"
    first_title: str = ""
    second_title: str = ""
    decided_at: str = ""
    revoked_at: str | None = None

    def about(self, one: Iterable[str], other: Iterable[str]) -> bool:
        a, b = set(one), set(other)
        return (self.first in a and self.second in b) or (self.second in a and self.first in b)


def decision_reason(decision_id: int) -> str:
    """How a verdict's reason opens when an operator decision made it (sightings
    keep the reason, so an undone "same" finds the entries it took)."""
    return f"operator decision #{decision_id}:"


def names_of(key: str | None, arxiv_id: str | None, tkey: str) -> frozenset[str]:
    """Every name a decision may use for a paper: its key, ``arxiv:<id>``, ``title:<key>``."""
    names = {f"title:{tkey}"}
    if key:
        names.add(key)
    if arxiv_id:
        names.add(f"arxiv:{arxiv_id}")
    return frozenset(names)


def arxiv_search_url(title: str) -> str:
    """A link for a paper that has none: an arXiv title search."""
    from urllib.parse import quote_plus

    return f"https://arxiv.org/search/?searchtype=title&query={quote_plus(title)}"


# ---------------------------------------------------------------- abstracts

# Bump when the signature changes: stored signatures must then be recomputed.
SIGNATURE_VERSION = 1
NUM_HASHES = 60
ROWS_PER_BAND = 3
NUM_BANDS = NUM_HASHES // ROWS_PER_BAND
_PRIME = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_rng = np.random.Generator(np.random.PCG64(20260311))
_A = _rng.integers(1, 1 << 31, size=NUM_HASHES, dtype=np.uint64)
_B = _rng.integers(0, 1 << 31, size=NUM_HASHES, dtype=np.uint64)
_M1, _M2 = (np.uint64(v) for v in _rng.integers(1, 1 << 28, size=2, dtype=np.uint64))

# Words that carry no identity: common to almost every abstract.
_STOP = frozenset(
    "a an and are as at be been by can for from has have in into is it its of on or our "
    "that the their these this to we which with while was were also than then such both "
    "over via not more most new show shows".split()
)
# Signatures of abstracts shorter than this many word pairs are too noisy to trust.
MIN_SHINGLES = 8


@dataclass(frozen=True)
class Signature:
    """MinHash of an abstract's word pairs; ``bands`` index it, ``values`` compare it."""

    values: bytes  # NUM_HASHES little-endian uint32

    def bands(self) -> tuple[int, ...]:
        """One signed 63-bit key per band: (band number, its rows) hashed together."""
        return _bands(self.values)

    def similarity(self, other: Signature) -> float:
        """Estimated Jaccard index of the two abstracts' word-pair sets."""
        mine = np.frombuffer(self.values, dtype="<u4")
        theirs = np.frombuffer(other.values, dtype="<u4")
        return float(np.count_nonzero(mine == theirs)) / NUM_HASHES


def abstract_words(abstract: str) -> list[str]:
    """Words of the folded abstract, stop words left out (numbers kept), in order.

    Sources repair abstracts when they read them; the remaining artefacts
    touch a word pair or two, which the similarity thresholds absorb, so the
    (costly) repair is not run again here.
    """
    return [w for w in fold_text(abstract).split() if w not in _STOP]


@functools.lru_cache(maxsize=100_000)
def _bands(values: bytes) -> tuple[int, ...]:
    out = []
    for b in range(NUM_BANDS):
        chunk = values[b * ROWS_PER_BAND * 4 : (b + 1) * ROWS_PER_BAND * 4]
        digest = hashlib.blake2b(bytes([b]) + chunk, digest_size=8).digest()
        out.append(int.from_bytes(digest, "little", signed=True) >> 1)
    return tuple(out)


def shingles(abstract: str) -> set[str]:
    """Word pairs of the folded abstract, stop words left out."""
    return word_pairs(abstract_words(abstract))


def word_pairs(words: Sequence[str]) -> set[str]:
    """The pairs of neighbouring words of :func:`abstract_words`."""
    return {f"{a} {b}" for a, b in itertools.pairwise(words)}


@functools.lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")


def signature(abstract: str) -> Signature | None:
    """The abstract's MinHash over its word pairs, or None when too short to compare."""
    return signature_of_words(abstract_words(abstract))


def signature_of_words(words: Sequence[str]) -> Signature | None:
    """:func:`signature` from the abstract's :func:`abstract_words`.

    A pair's hash mixes its two (cached, random) word hashes, so the work per
    abstract is a few vectorised passes instead of one hash call per pair.
    """
    if len(words) < 2:
        return None
    word_hashes = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    pairs = np.unique(((word_hashes[:-1] * _M1 + word_hashes[1:] * _M2) % _PRIME) & _MASK32)
    if len(pairs) < MIN_SHINGLES:
        return None
    permuted: npt.NDArray[np.uint64] = (_A[:, None] * pairs[None, :] + _B[:, None]) % _PRIME
    mins = (permuted & _MASK32).min(axis=1).astype("<u4")
    return Signature(mins.tobytes())


def title_similarity(a: str, b: str) -> float:
    """Jaccard index of two normalized titles' word sets (cheap, for tie-breaks)."""
    wa, wb = set(a.split()), set(b.split())
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


# ---------------------------------------------------------------- terms and their rarity

# Bump when terms or the rare-pair selection change: stored pairs must then be recomputed.
TERMS_VERSION = 1
# A paper is indexed under every pair of its RARE_INDEXED rarest terms (6 rows);
# an entry probes every pair of its RARE_PROBED rarest (21 keys).  Probing more
# than is indexed absorbs the words a revision adds (new to the store, so they
# rank rarest) and the ones it drops.
RARE_INDEXED = 4
RARE_PROBED = 7
# The reserved term hash under which the store keeps the number of documents counted.
DOCUMENTS_TERM = 0


def content_words(text: str) -> list[str]:
    """The folded words of ``text`` that can carry identity: stop words and bare
    numbers left out (a revision changes numbers; a series member changes them too)."""
    return [w for w in fold_text(text).split() if w not in _STOP and not w.isdigit()]


def terms(title_key: str, abstract: str) -> frozenset[str]:
    """A paper's distinct content words (normalized title and abstract, bare
    numbers left out): what document frequencies count and rare pairs are chosen from."""
    return terms_of_words(title_key, abstract_words(abstract))


def terms_of_words(title_key: str, words: Sequence[str]) -> frozenset[str]:
    """:func:`terms` from the abstract's :func:`abstract_words`."""
    found = {w for w in words if len(w) > 1 and not w.isdigit()}
    found.update(w for w in title_key.split() if len(w) > 1 and w not in _STOP and not w.isdigit())
    return frozenset(found)


@functools.lru_cache(maxsize=400_000)
def term_hash(term: str) -> int:
    """A signed 63-bit hash of a term, never :data:`DOCUMENTS_TERM`."""
    digest = hashlib.blake2b(term.encode(), digest_size=8, person=b"term").digest()
    value = int.from_bytes(digest, "little", signed=True) >> 1
    return value or 1


@dataclass(frozen=True)
class Rarity:
    """How many papers hold each term (by :func:`term_hash`), out of ``documents``.

    Built from the store's counts plus the entries of the run being split, so a
    boilerplate sentence that a whole series repeats weighs little as soon as
    the series is in view, even on a fresh database.
    """

    documents: int = 0
    counts: Mapping[int, int] = field(default_factory=dict)
    _weights: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def frequency(self, term: str) -> int:
        return self.counts.get(term_hash(term), 0)

    def weight(self, term: str) -> float:
        """Inverse document frequency, smoothed: 0 < weight ≤ log(2 + documents); every
        word weighs the same (log 2) before any paper is counted."""
        found = self._weights.get(term)
        if found is None:
            found = self._weights[term] = math.log1p(
                (1 + self.documents) / (1 + self.frequency(term))
            )
        return found

    def is_common(self, term: str) -> bool:
        """Held by more than half the papers (and by more than five): a word like
        "model" or "training", which says nothing of what a paper is about."""
        return self.frequency(term) > max(5, self.documents // 2)


def rarest(term_hashes: Iterable[int], counts: Mapping[int, int], k: int) -> list[int]:
    """The ``k`` rarest terms, rarest first, ties broken by hash (the same order in every run)."""
    return [h for _, h in heapq.nsmallest(k, ((counts.get(h, 0), h) for h in set(term_hashes)))]


def rare_pairs(term_hashes: Iterable[int], counts: Mapping[int, int], k: int) -> tuple[int, ...]:
    """Keys of every pair of the ``k`` rarest terms: the rare-term index's rows or probes."""
    return pairs_of_rarest(rarest(term_hashes, counts, k))


def pairs_of_rarest(chosen: Sequence[int]) -> tuple[int, ...]:
    """Keys of every pair of ``chosen`` terms (a prefix of :func:`rarest`)."""
    ordered = sorted(chosen)
    return tuple(sorted({_pair_key(a, b) for a, b in itertools.combinations(ordered, 2)}))


def _pair_key(a: int, b: int) -> int:
    digest = hashlib.blake2b(
        a.to_bytes(8, "little", signed=True) + b.to_bytes(8, "little", signed=True),
        digest_size=8,
        person=b"pair",
    ).digest()
    return int.from_bytes(digest, "little", signed=True) >> 1


# ---------------------------------------------------------------- title heads
# (here, beside title_key, so that the store indexes what candidates probe)

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
# A version's note at the end of its title: "(Extended Version)", "(Student Abstract)".
_CLOSING_ASIDE = re.compile(r"\s*\(([^()]*)\)\s*$")


def without_closing_aside(title: str, *, numbered: bool = True) -> str | None:
    """``title`` without the parenthetical closing it ("Foo (Extended Version)" →
    "Foo"), or None when there is none or nothing before it; ``numbered=False``
    keeps an aside holding a digit ("(×4)", "(2024)"), which names what it is."""
    found = _CLOSING_ASIDE.search(title)
    if found is None or not title[: found.start()].strip():
        return None
    if not numbered and (
        any(ch.isdigit() for ch in found.group(1)) or not re.search("[A-Za-z]", found.group(1))
    ):
        return None
    return title[: found.start()]


def title_head(title: str) -> str | None:
    """The normalized part of ``title`` before its first colon (or spaced dash), or
    before a closing parenthesis ("Foo Technical Report (Extended Version)"); None
    when there is none (or nothing before it)."""
    parts = _HEAD_SPLIT.split(title, maxsplit=1)
    if len(parts) < 2:
        core = without_closing_aside(title)
        parts = [core, ""] if core is not None else parts
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
    keys = {tkey, *((head,) if head else ())}
    # "Towards Foo: …" beside "Foo: …": a version that gained or lost a leading
    # "Towards" (which comparison sets aside) is looked up under both forms.
    for key in list(keys):
        first, _, rest = key.partition(" ")
        if first in _LEADING and rest:
            keys.add(rest)
        else:
            keys.add(f"towards {key}")
    return tuple(sorted(head_hash(k) for k in keys))


_LEADING = frozenset(("towards", "toward"))
