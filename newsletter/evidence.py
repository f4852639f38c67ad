"""Evidence that two listings are one paper, and the rule that weighs it.

Abstract similarity alone cannot tell a revision from a sibling: the reports
of one challenge, the technical reports of one model family and the papers of
a group that reuses an abstract template share most of their sentences, yet
each is a paper of its own.  What a boilerplate series cannot fake is where
its members *differ*:

* **the titles** — a revision adds or drops a subtitle, expands a word,
  rephrases; series members each hold words the other lacks ("Qwen2.5-Coder"
  vs "Qwen2.5-Math", "Challenge on Image Denoising" vs "… on Low-Light
  Enhancement"), and those words are what their own abstracts are about.  A
  title-only word that only its own abstract holds is an *anchor*; anchors on
  both sides mean two subjects.  Differing numbers in titles ("NTIRE 2024" vs
  "NTIRE 2025", "(×2)" vs "(×4)", "Qwen2" vs "Qwen3") mean two editions.
* **rarity** — words weigh by how few papers hold them (document frequencies
  kept in the store, plus the run in view), so a template sentence repeated by
  a whole series counts for little and a model or dataset name for much.

A revision changes numbers in its abstract, drops or adds a sentence and swaps
words; it keeps the words that are rare (its method, its data), so its
rarity-weighted word similarity stays high even when few word pairs survive.
Every function here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from newsletter.identity import (
    MIN_SHINGLES,
    Rarity,
    abstract_words,
    fold_text,
    normalize_text,
    word_pairs,
)

# A revision rarely keeps fewer of its abstract's word pairs than this…
REVISED_PAIRS = 0.3
# …or less of its rarity-weighted words than this (with a title that still matches).
REVISED_WORDS = 0.5
# Retitled beyond recognition: the abstract alone must then be this close.
RETITLED_WORDS = 0.7
# One title over abstracts sharing less than this (and few word pairs): two papers.
UNRELATED_WORDS = 0.35
# Titles sharing at least this share of their words "still match" (Jaccard).
MATCHING_TITLE = 0.5
# Words shown per side as "differing" (the rarest first).
SHOWN = 6


class Thresholds(Protocol):
    """The operator's knobs (``[novelty]`` in config.toml: ``config.NoveltySettings``)."""

    @property
    def same_abstract(self) -> float: ...

    @property
    def different_abstract(self) -> float: ...


@dataclass(frozen=True)
class Profile:
    """A listing as identity compares it (computed once per entry or candidate)."""

    title_key: str
    head: str  # the normalized title before its first colon ("" without one): a name
    title_words: frozenset[str]  # content words of the normalized title, numbers included
    words: frozenset[str]  # content words of the abstract, bare numbers left out
    pairs: frozenset[str]  # the abstract's word pairs
    numbers: frozenset[str]  # the abstract's tokens holding a digit ("2024", "qwen2")

    @property
    def comparable(self) -> bool:
        """The abstract is long enough for its similarity to mean something."""
        return len(self.pairs) >= MIN_SHINGLES


def profile(
    title: str,
    abstract: str,
    *,
    title_key: str | None = None,
    words: Sequence[str] | None = None,
) -> Profile:
    """``title`` as listed (its colon marks a name), ``abstract`` as repaired;
    ``title_key`` and the abstract's ``words`` when the caller has them already."""
    if title_key is None:
        title_key = normalize_text(title)
    if words is None:
        words = abstract_words(abstract)
    head, colon, _ = title.partition(":")
    content = frozenset(w for w in words if not w.isdigit())
    return Profile(
        title_key=title_key,
        head=fold_text(head) if colon else "",
        title_words=frozenset(w for w in title_key.split() if w not in _TITLE_STOP),
        words=content,
        pairs=frozenset(word_pairs(words)),
        numbers=frozenset(_DIGITS.findall(" ".join(words))),
    )


_DIGITS = re.compile(r"\S*\d\S*")


@dataclass(frozen=True)
class Evidence:
    """What comparing two listings found, ``here`` (the entry) against ``there``."""

    title_relation: str  # "same", "nested" (one holds the other's words) or "reworded"
    same_name: bool  # both titles open with one name before a colon ("QMoE: …")
    title_similarity: float
    pair_similarity: float | None  # Jaccard of word pairs; None: an abstract too short
    word_similarity: float | None  # rarity-weighted Jaccard of words
    title_only: tuple[tuple[str, ...], tuple[str, ...]]
    title_numbers: tuple[tuple[str, ...], tuple[str, ...]]
    number_anchors: tuple[tuple[str, ...], tuple[str, ...]]  # title numbers only one abstract has
    anchors: tuple[tuple[str, ...], tuple[str, ...]]
    differing: tuple[tuple[str, ...], tuple[str, ...]]  # rarest words only in each abstract

    def describe(self) -> str:
        """One line for ``explain``: the similarities and where the two differ."""
        parts = [f"titles {self.title_relation} ({self.title_similarity:.2f})"]
        if self.pair_similarity is not None and self.word_similarity is not None:
            parts.append(
                f"abstracts: word pairs {self.pair_similarity:.2f}, "
                f"rare-weighted words {self.word_similarity:.2f}"
            )
        else:
            parts.append("abstracts too short to compare")
        here, there = self.title_only
        if here or there:
            parts.append(f"title words only here {_words(here)}, only there {_words(there)}")
        here, there = self.differing
        if here or there:
            parts.append(f"abstract words only here {_words(here)}, only there {_words(there)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Judgement:
    same: bool
    reason: str


def weigh(here: Profile, there: Profile, rarity: Rarity) -> Evidence:
    only_here = here.title_words - there.title_words
    only_there = there.title_words - here.title_words
    if here.title_key == there.title_key or not (only_here or only_there):
        relation = "same"
    elif not only_here or not only_there:
        relation = "nested"
    else:
        relation = "reworded"
    union = here.title_words | there.title_words
    title_similarity = len(here.title_words & there.title_words) / len(union) if union else 1.0
    pair_similarity = word_similarity = None
    if here.comparable and there.comparable:
        pair_similarity = _jaccard(here.pairs, there.pairs)
        word_similarity = _weighted_jaccard(here.words, there.words, rarity)
    return Evidence(
        title_relation=relation,
        same_name=bool(here.head) and here.head == there.head,
        title_similarity=title_similarity,
        pair_similarity=pair_similarity,
        word_similarity=word_similarity,
        title_only=(_sorted(only_here), _sorted(only_there)),
        title_numbers=(_numbers(only_here), _numbers(only_there)),
        number_anchors=(
            _sorted(n for n in _numbers(only_here) if n in here.numbers - there.numbers),
            _sorted(n for n in _numbers(only_there) if n in there.numbers - here.numbers),
        ),
        anchors=(
            _anchors(only_here, here, there, rarity),
            _anchors(only_there, there, here, rarity),
        ),
        differing=(
            _rarest(here.words - there.words, rarity),
            _rarest(there.words - here.words, rarity),
        ),
    )


def judge(evidence: Evidence, thresholds: Thresholds) -> Judgement:
    """Same paper or not, with the reason ``explain`` shows.  First rule that applies:

    1. one title: the same paper, unless the abstracts are unrelated (a reused title);
    2. titles holding different numbers ("NTIRE 2024" / "NTIRE 2025", "Qwen2" /
       "Qwen3") that their own abstracts repeat, or differing only in numbers on
       both sides: two editions;
    3. each title is about what only its own abstract holds (*anchors*, below):
       two subjects;
    4. retitled: the same paper when the abstracts are near-identical, or fairly
       close while the titles still match (one holds the other's words, both open
       with one name before a colon, or most words shared).
    """
    e = evidence
    pairs, words = e.pair_similarity, e.word_similarity
    if e.title_relation == "same":
        if (
            pairs is not None
            and words is not None
            and pairs < thresholds.different_abstract
            and words < UNRELATED_WORDS
        ):
            return Judgement(False, f"one title over unrelated abstracts ({_sims(e)})")
        return Judgement(True, "same title")
    numbers_here, numbers_there = e.title_numbers
    only_here, only_there = e.title_only
    only_numbers = set(only_here) <= set(numbers_here) and set(only_there) <= set(numbers_there)
    anchored = any(e.number_anchors)
    if (numbers_here and numbers_there and (anchored or only_numbers)) or (
        only_numbers and anchored
    ):
        return Judgement(
            False,
            f"titles differ in numbers ({_words(numbers_here)} vs {_words(numbers_there)})",
        )
    anchors_here, anchors_there = e.anchors
    numbers_anchored_here, numbers_anchored_there = e.number_anchors
    if (anchors_here or numbers_anchored_here) and (anchors_there or numbers_anchored_there):
        return Judgement(
            False,
            "each title names what only its own abstract holds "
            f"({_words(anchors_here + numbers_anchored_here)} vs "
            f"{_words(anchors_there + numbers_anchored_there)})",
        )
    if pairs is None or words is None:
        return Judgement(False, "other title, abstracts too short to compare")
    if pairs >= thresholds.same_abstract or words >= RETITLED_WORDS:
        return Judgement(True, f"same abstract ({_sims(e)})")
    # A title that names what the other abstract lacks ("Corvid2-Med" vs "Corvid2")
    # does not "still match", however many words the two share.
    titles_match = not (anchors_here or anchors_there) and (
        e.title_relation == "nested" or e.same_name or e.title_similarity >= MATCHING_TITLE
    )
    if titles_match and (pairs >= REVISED_PAIRS or words >= REVISED_WORDS):
        return Judgement(True, f"similar title and abstract ({_sims(e)})")
    return Judgement(False, f"different abstracts ({_sims(e)})")


# ---------------------------------------------------------------- helpers

# Title words that say nothing about a paper's subject.
_TITLE_STOP = frozenset(
    "a an and are as at be by for from in into is it its of on or the to via with towards "
    "toward using through based".split()
)


def _holds(p: Profile, word: str) -> bool:
    """The abstract holds ``word``, or its plural or singular ("transformer(s)")."""
    words = p.words
    if word in words or word + "s" in words or word + "es" in words:
        return True
    if len(word) > 3 and word.endswith("s") and word[:-1] in words:
        return True
    return len(word) > 4 and word.endswith("es") and word[:-2] in words


def _anchors(
    only: frozenset[str], mine: Profile, theirs: Profile, rarity: Rarity
) -> tuple[str, ...]:
    """The title-only words this abstract holds and the other does not — when they
    are at least half of the title-only words this abstract holds.

    A series member's title words are its subject, absent from its sibling's
    abstract ("denoising" vs "depth completion"); a revision's old title words
    mostly live on in the new abstract, so the odd word a revision dropped does
    not make the old title "about something else".  Words most papers hold
    ("model") are left out.
    """
    held = [w for w in only if not w.isdigit() and _holds(mine, w) and not rarity.is_common(w)]
    anchors = [w for w in held if not _holds(theirs, w)]
    return _sorted(anchors) if anchors and 2 * len(anchors) >= len(held) else ()


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def _numbers(words: frozenset[str]) -> tuple[str, ...]:
    return _sorted(w for w in words if _has_digit(w))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _weighted_jaccard(a: frozenset[str], b: frozenset[str], rarity: Rarity) -> float:
    shared = sum(rarity.weight(w) for w in a & b)
    total = shared + sum(rarity.weight(w) for w in a ^ b)
    return shared / total if total else 0.0


def _rarest(words: frozenset[str], rarity: Rarity) -> tuple[str, ...]:
    return tuple(sorted(words, key=lambda w: (-rarity.weight(w), w))[:SHOWN])


def _sorted(words: object) -> tuple[str, ...]:
    return tuple(sorted(words))  # type: ignore[call-overload]


def _words(words: tuple[str, ...]) -> str:
    return "'" + " ".join(words) + "'" if words else "none"


def _sims(e: Evidence) -> str:
    return f"word pairs {e.pair_similarity:.2f}, rare-weighted words {e.word_similarity:.2f}"
