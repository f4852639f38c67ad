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
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Protocol

from newsletter.identity import (
    MIN_SHINGLES,
    Rarity,
    abstract_words,
    fold_text,
    normalize_text,
    without_closing_aside,
    word_pairs,
)
from newsletter.repair import repair_text

# A revision rarely keeps fewer of its abstract's word pairs than this…
REVISED_PAIRS = 0.3
# …or less of its rarity-weighted words than this (with a title that still matches).
REVISED_WORDS = 0.5
# Retitled beyond recognition: the abstract alone must then be this close.
IDENTICAL = 0.98
"""Word pairs and rare-weighted words both at least this: one abstract, retitled."""
RETITLED_WORDS = 0.7
# One title over abstracts sharing less than this (and few word pairs): two papers.
UNRELATED_WORDS = 0.35
# The shorter abstract must hold this many word pairs for containment to be weighed
# (a one-sentence abstract is enough; "Code is available." is not).
MIN_CONTAINED = 6
# Under one title, an abstract whose word pairs are this much inside the other's is
# the same abstract cut short (a feed truncating it).
CONTAINED = 0.8
# A title cut to its name before the colon over an abstract cut short: the shorter
# abstract this much inside the other (rare-weighted words), or, lightly reworded,
# CUT_WORDS_REWORDED of its weight and CUT_PAIRS_REWORDED of its word pairs.
CUT_WORDS = 0.85
CUT_WORDS_REWORDED = 0.7
CUT_PAIRS_REWORDED = 0.5
# Retitled and reworded: rare-weighted words at least this close, and this much of
# the smaller side's rare-word weight inside the other, with no anchor either side.
REWORDED_WORDS = 0.6
REWORDED_CONTAINED = 0.75
# Siblings naming each other share most of a title skeleton (a v2 under a new title
# made of its old abstract's words does not).
CROSS_TITLES = 0.3
# One title is the other's head, no anchor: rare-weighted words at least this close.
SUBTITLED_WORDS = 0.3
# A revision adds at most this many words to its title (that its abstract uses).
ADDED_MODIFIERS = 2
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
    title_tokens: tuple[str, ...] = ()  # content words of the normalized title, in order
    title_all: tuple[str, ...] = ()  # every word of the normalized title, in order
    colon_at: int | None = None  # how many of title_tokens come before the first colon
    named: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # "Orca3-Math": (orca3), (math)
    head_all: int | None = None  # how many of title_all come before the first colon
    full_title_key: str = ""  # the normalized title as listed, a closing aside included
    # The abstract's lists of three items or more ("spanning math, code, science and
    # law"): each list as the folded words of its items.
    lists: tuple[tuple[frozenset[str], ...], ...] = ()

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
    # A version's note ending the title ("… (Extended Version)") is not what the
    # paper is about: the title's words are read without it.
    full_title_key = title_key
    core = without_closing_aside(title, numbered=False)
    if core is not None:
        title_key = normalize_text(core)
    tokens = tuple(w for w in title_key.split() if w not in _TITLE_STOP)
    head_tokens = [w for w in normalize_text(head).split() if w not in _TITLE_STOP]
    return Profile(
        title_key=title_key,
        head=fold_text(head) if colon else "",
        title_words=frozenset(tokens),
        words=content,
        pairs=frozenset(word_pairs(words)),
        numbers=frozenset(_DIGITS.findall(" ".join(words))),
        title_tokens=tokens,
        title_all=tuple(title_key.split()),
        colon_at=len(head_tokens)
        if colon and head_tokens and len(head_tokens) < len(tokens)
        else None,
        named=_named_compounds(title),
        head_all=len(normalize_text(head).split()) if colon else None,
        lists=_lists(abstract),
        full_title_key=full_title_key,
    )


# A list item is a short phrase ("math", "low-light enhancement"); longer runs between
# commas are clauses, and a clause list is no list of subjects.
LIST_ITEM_WORDS = 4
_CLAUSE = re.compile(r"[.;:!?()\[\]]+")
_LAST_ITEM = re.compile(r"(?:^|,?\s+)(?:and|or|as well as)\s+", re.IGNORECASE)


def _lists(abstract: str) -> tuple[tuple[frozenset[str], ...], ...]:
    """The abstract's lists of at least three short items, one written
    "A, B(,) and C" or "A, B, C": each as its items' folded words (the first item
    keeps its last words, the last its first, so "spanning math" and "law
    items" give "math" and "law" their own items)."""
    found = []
    for clause in _CLAUSE.split(repair_text(abstract)):
        if clause.count(",") < 1:
            continue
        parts = [p.strip() for p in clause.split(",")]
        last = _LAST_ITEM.split(parts[-1], maxsplit=1)
        if len(last) == 2 and last[0]:
            parts[-1:] = last
        elif len(last) == 2:  # "A, B, and C": the last comma before the "and"
            parts[-1] = last[1]
        elif len(parts) < 3:
            continue
        items = [fold_text(p).split() for p in parts]
        if len(items) < 3 or any(not w or len(w) > LIST_ITEM_WORDS for w in items[1:-1]):
            continue
        first, end = items[0][-LIST_ITEM_WORDS:], items[-1][:LIST_ITEM_WORDS]
        if not first or not end:
            continue
        found.append(tuple(frozenset(w) for w in (first, *items[1:-1], end)))
    return tuple(found)


def _named_compounds(title: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Hyphenated words of the title whose first part is a name — holding a digit or
    a capital after its first letter ("Orca3-Math", "HelixBench-Code",
    "Qwen2.5-Coder-Instruct"): (the name's folded words, the later parts' words)."""
    found = []
    for token in repair_text(title).translate(_DASHES).split():
        parts = [p for p in token.strip(":;,.()[]").split("-") if p]
        if len(parts) < 2 or not _name_like(parts[0]):
            continue
        name = tuple(fold_text(parts[0]).split())
        rest = tuple(w for part in parts[1:] for w in fold_text(part).split())
        if name and rest:
            found.append((name, rest))
    return tuple(found)


def _name_like(word: str) -> bool:
    return any(ch.isdigit() for ch in word) or any(ch.isupper() for ch in word[1:])


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})


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
    bound: tuple[tuple[str, ...], tuple[str, ...]]  # anchors that name a variant of a shared name
    differing: tuple[tuple[str, ...], tuple[str, ...]]  # rarest words only in each abstract
    # One title skeleton with a slot filled differently on each side ("HelixBench-
    # Medicine … on Medicine" / "HelixBench-Reasoning … on Reasoning"): the slot
    # words, each held by its own abstract; empty unless both sides have one.
    slots: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    # Words one title joins to a name the other title holds ("Orca3-Math" beside
    # "Orca3"), each held by its own abstract: a variant of that name.
    variant: tuple[str, ...] = ()
    # Words one title joins with "and" to what the other title names ("… on Image
    # Denoising and Deblurring" beside "… on Image Denoising"), written in its own
    # abstract next to the word they are joined to: a second subject.
    second_subject: tuple[str, ...] = ()
    # One name before a colon, another subtitle ("OrbitBench: Math" / "OrbitBench:
    # Code"), and each abstract names the other title ("… OrbitBench: Code …"):
    # the subtitle words the two titles do not share.
    names_other: tuple[str, ...] = ()
    # How much of the shorter abstract the longer one holds (|A∩B| / min(|A|, |B|)) —
    # word pairs, and rarity-weighted words; None when the shorter is too short.
    # A truncated abstract (a feed cutting it short) is contained whole in the full one.
    pair_containment: float | None = None
    word_containment: float | None = None
    # One title is the other's name before its colon, whole ("Foo" / "Foo: A Bar
    # for Baz"): a version that dropped (or gained) its subtitle.
    subtitle_dropped: bool = False
    # Each title's own words are other items of one list an abstract writes
    # ("Orbis: Math" / "Orbis: Code" over "… spanning math, code, science and law"):
    # the words, each side's.
    listed: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    # One name before both colons, and only one title's subtitle names what only its
    # own abstract holds, while the other's new subtitle names nothing its abstract
    # is about ("…: Methods and Results" / "…: An Updated Release"): a version that
    # replaced its subtitle, not a second subject.
    subtitle_replaced: bool = False
    # The titles are one as listed, no closing aside set aside ("Foo (Extended Version)"
    # beside "Foo" is one title to the rules, but not a reused title).
    exact_title: bool = True
    # Each title's own words are in the *other* abstract and not in its own ("Lumen2-
    # Coder" over an abstract naming "Lumen2-Math" as its sibling, and back): two
    # members naming each other.  And the name variants two titles give one name
    # ("Lumen2-Coder" / "Lumen2-Math"): the parts after the name, each side's.
    cross_named: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    renamed_variant: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

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
    shown_here = here.title_words - there.title_words
    shown_there = there.title_words - here.title_words
    # An acronym expanded ("RL" / "Reinforcement Learning", "3D" / "Three-Dimensional")
    # or a word spelt another way ("Modelling") is the same title word.
    spelt_here, spelt_there = _spellings(here, there)
    only_here, only_there = shown_here - spelt_here, shown_there - spelt_there
    if here.title_key == there.title_key or not (only_here or only_there):
        relation = "same"
    elif not only_here or not only_there:
        relation = "nested"
    else:
        relation = "reworded"
    anchors_here = _anchors(only_here, here, there, rarity)
    anchors_there = _anchors(only_there, there, here, rarity)
    shared = here.title_words & there.title_words
    union = here.title_words | there.title_words
    title_similarity = len(here.title_words & there.title_words) / len(union) if union else 1.0
    slots: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    listed: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if relation == "reworded":
        slots = _series_slots(here, there, only_here, only_there)
        if not (slots[0] and slots[1]):
            slots = _subject_slots(here, there, only_here, only_there)
        listed = _listed_slots(here, there, only_here, only_there)
    cross_named: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    renamed_variant: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if relation == "reworded" and len(shared) >= 2 and title_similarity >= CROSS_TITLES:
        cross_named = (
            _named_by_other(only_here, here, there, rarity),
            _named_by_other(only_there, there, here, rarity),
        )
        renamed_variant = _variants_of_one_name(here, there)
    variant: tuple[str, ...] = ()
    second: tuple[str, ...] = ()
    if relation == "nested":
        variant = _variant(here, there, only_here) or _variant(there, here, only_there)
        second = _second_subject(here, there, only_here) or _second_subject(there, here, only_there)
        variant = variant or _phrase_variant(here, there, only_here)
        variant = variant or _phrase_variant(there, here, only_there)
    if relation == "reworded" and here.head_all and there.head_all and here.head != there.head:
        # Subtitles replaced ("…: An Extended Study" / "…: Methods and Results") hide
        # a second subject the heads still show ("… Enhancement and Denoising" /
        # "… Enhancement"): the same reading, on the names before the colons.
        h, t = _head_only(here), _head_only(there)
        oh, ot = h.title_words - t.title_words, t.title_words - h.title_words
        if not oh or not ot:
            second = _second_subject(h, t, oh) or _second_subject(t, h, ot)
    names_other: tuple[str, ...] = ()
    if relation != "same" and here.head and here.head == there.head:
        names_other = _names_each_other(here, there)
    pair_similarity = word_similarity = None
    if here.comparable and there.comparable:
        pair_similarity = _jaccard(here.pairs, there.pairs)
        word_similarity = _weighted_jaccard(here.words, there.words, rarity)
    pair_containment = word_containment = None
    if min(len(here.pairs), len(there.pairs)) >= MIN_CONTAINED:
        pair_containment = _containment(here.pairs, there.pairs)
        word_containment = _weighted_containment(here.words, there.words, rarity)
    return Evidence(
        title_relation=relation,
        same_name=bool(here.head) and here.head == there.head,
        title_similarity=title_similarity,
        pair_similarity=pair_similarity,
        word_similarity=word_similarity,
        pair_containment=pair_containment,
        word_containment=word_containment,
        subtitle_dropped=bool(
            (there.head and there.head == here.title_key)
            or (here.head and here.head == there.title_key)
        ),
        title_only=(_sorted(shown_here), _sorted(shown_there)),
        title_numbers=(_numbers(only_here), _numbers(only_there)),
        number_anchors=(
            _sorted(n for n in _numbers(only_here) if n in here.numbers - there.numbers),
            _sorted(n for n in _numbers(only_there) if n in there.numbers - here.numbers),
        ),
        anchors=(anchors_here, anchors_there),
        bound=(_bound(anchors_here, here, shared), _bound(anchors_there, there, shared)),
        differing=(
            _rarest(here.words - there.words, rarity),
            _rarest(there.words - here.words, rarity),
        ),
        slots=slots,
        listed=listed,
        cross_named=cross_named,
        renamed_variant=renamed_variant,
        exact_title=here.full_title_key == there.full_title_key,
        subtitle_replaced=_subtitle_replaced(
            here, there, (anchors_here, only_there), (anchors_there, only_here)
        ),
        variant=variant,
        second_subject=second,
        names_other=names_other,
    )


def judge(evidence: Evidence, thresholds: Thresholds) -> Judgement:
    """Same paper or not, with the reason ``explain`` shows.  First rule that applies:

    1. one title: the same paper, unless the abstracts are unrelated (a reused title);
    2. titles holding different numbers ("NTIRE 2024" / "NTIRE 2025", "Qwen2" /
       "Qwen3") that their own abstracts repeat, or differing only in numbers on
       both sides: two editions;
    3. each title is about what only its own abstract holds (*anchors*, below):
       two subjects; or one title holds the other's words plus an anchor its
       abstract writes next to a word both titles share — a variant of one name
       ("Qwen2.5-Coder" beside "Qwen2.5"): two papers; likewise a word the title
       puts next to a shared one that its abstract writes there too and the other
       abstract never does ("Competition Math" beside "Math", "Low-Resource
       Machine Translation" beside "Machine Translation"), even when both
       abstracts hold the word itself;
    4. one abstract word for word (word pairs and rare-weighted words both at
       least :data:`IDENTICAL`) under two titles: a retitle, whatever the titles;
       else the titles are one skeleton with a slot filled differently on each side
       ("<Name>-<X> Technical Report", "<Challenge> on <X>: Methods and Results"),
       each filling held by its own abstract, and the swap is not an acronym
       expansion or a spelling variant: two members of a series, however alike
       their abstracts (siblings' abstracts often name one another, or list every
       track); or one title joins a word to a name the other title holds
       ("Orca3-Math" beside "Orca3"): a variant; or one title holds the other's
       words and joins a subject to them with "and" ("… Joint Challenge on Image
       Denoising and Deblurring" beside "… Challenge on Image Denoising"), a
       subject its abstract writes next to the word it is joined to: a joint
       report, a paper of its own however much boilerplate the abstracts share
       (a revision adds modifiers and subtitles, not a second subject); or one
       name opens both titles and each abstract names the other title ("X-Bench:
       Math" listing "X-Bench: Code"): a suite.  These read the two titles and
       abstracts only — never the store's counts — so the verdict is the same in
       one run and across runs, on a fresh store or a large one;
    5. retitled: the same paper when the abstracts are near-identical, or fairly
       close while the titles still match (one holds the other's words, both open
       with one name before a colon, or most words shared); or when one title adds
       a modifier or two its revised abstract uses ("Union of Scalable Robust
       Experts") and no number, over abstracts as close as a revision's on both
       measures.
    """
    e = evidence
    pairs, words = e.pair_similarity, e.word_similarity
    if e.title_relation == "same":
        if e.pair_containment is not None and e.pair_containment >= CONTAINED:
            return Judgement(True, f"same title, one abstract holds the other ({_contained(e)})")
        if pairs is not None and words is not None:
            if pairs < thresholds.different_abstract and words < UNRELATED_WORDS:
                return Judgement(False, f"one title over unrelated abstracts ({_sims(e)})")
            if (
                e.exact_title
                and thresholds.different_abstract <= pairs < thresholds.same_abstract
                and words < REVISED_WORDS
            ):
                # A shared opening ("Large language models have transformed …") kept
                # word for word over two different bodies: the word pairs it shares are
                # that opening, and the rest of each abstract is what the other lacks.
                # (A revision reworded throughout shares few pairs, not a block of them.)
                return Judgement(
                    False, f"one title over abstracts sharing only boilerplate ({_sims(e)})"
                )
        return Judgement(True, "same title")
    numbers_here, numbers_there = e.title_numbers
    only_here, only_there = e.title_only
    only_numbers = set(only_here) <= set(numbers_here) and set(only_there) <= set(numbers_there)
    anchored = any(e.number_anchors)
    years = bool(_years(numbers_here) and _years(numbers_there))  # "LUMEN 2024" / "LUMEN 2025"
    if (numbers_here and numbers_there and (anchored or only_numbers or years)) or (
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
            f"({_words(_sorted({*anchors_here, *numbers_anchored_here}))} vs "
            f"{_words(_sorted({*anchors_there, *numbers_anchored_there}))})",
        )
    if e.subtitle_dropped and _cut_short(e):
        # "Foo" over the first sentence or two of "Foo: A Bar for Baz"'s abstract: a
        # listing that lost its subtitle and most of its abstract.  Before the variant
        # rule: a subtitle's words are often written next to the name ("Foo, a bar
        # for …"), which the variant rule reads as "Qwen2.5-Coder" beside "Qwen2.5".
        return Judgement(True, f"subtitle dropped, one abstract holds the other ({_contained(e)})")
    if (
        e.subtitle_dropped
        and not (anchors_here or anchors_there)
        and words is not None
        and words >= SUBTITLED_WORDS
    ):
        # "Foo Technical Report" and "Foo Technical Report: An Updated Release": the
        # very title, with a subtitle its abstract says nothing of, over an abstract
        # revised however heavily (a sibling renames the title; it does not append).
        return Judgement(True, f"the same title with a subtitle added ({_sims(e)})")
    bound_here, bound_there = e.bound
    if e.title_relation == "nested" and (bound_here or bound_there or e.variant):
        return Judgement(
            False,
            "a title names a variant of what both titles share "
            f'({_words(e.variant or bound_here or bound_there)}, as "Qwen2.5-Coder" of "Qwen2.5")',
        )
    # (before the identical-abstract rule: a family may share one abstract word for
    # word, and a retitle keeps the name of what it releases)
    variant_here, variant_there = e.renamed_variant
    if variant_here and variant_there:
        return Judgement(
            False,
            f"the titles name two variants of one name ({_words(variant_here)} vs "
            f'{_words(variant_there)}, as "Lumen2-Coder" and "Lumen2-Math")',
        )
    if pairs is not None and words is not None and min(pairs, words) >= IDENTICAL:
        # one abstract word for word under two titles: a retitle; series members'
        # abstracts differ at least where each names its own slot's filling
        return Judgement(True, f"identical abstracts under another title ({_sims(e)})")
    if e.names_other:
        return Judgement(
            False,
            "one name, another subtitle, and each abstract names the other title "
            f'({_words(e.names_other)}, as a suite\'s "X-Bench: Math" names "X-Bench: Code")',
        )
    if e.second_subject:
        return Judgement(
            False,
            f"a title adds a second subject to the other's ({_words(e.second_subject)}, "
            'as "… Denoising and Deblurring" of "… Denoising"), which its abstract is about',
        )
    slots_here, slots_there = e.slots
    if slots_here and slots_there:
        return Judgement(
            False,
            "one title skeleton with a slot filled differently, each filling its own "
            f"abstract's subject ({_words(slots_here)} vs {_words(slots_there)}): a series",
        )
    crossed_here, crossed_there = e.cross_named
    if crossed_here and crossed_there:
        return Judgement(
            False,
            "each title names what only the other abstract holds "
            f"({_words(crossed_here)} vs {_words(crossed_there)}): siblings naming each other",
        )
    listed_here, listed_there = e.listed
    if listed_here and listed_there:
        return Judgement(
            False,
            "each title names another item of one list the abstracts write "
            f'({_words(listed_here)} vs {_words(listed_there)}, as a suite\'s "X: Math" and '
            '"X: Code" over "… spanning math, code and law"): a series',
        )
    if pairs is None or words is None:
        return Judgement(False, "other title, abstracts too short to compare")
    if pairs >= thresholds.same_abstract or words >= RETITLED_WORDS:
        return Judgement(True, f"same abstract ({_sims(e)})")
    if (
        words >= REWORDED_WORDS
        and e.word_containment is not None
        and e.word_containment >= REWORDED_CONTAINED
        and not (anchors_here or anchors_there)
    ):
        # Retitled and reworded (sentences reordered, words swapped): few word pairs
        # survive, but one abstract's rare words are nearly all in the other.
        return Judgement(True, f"same words, reworded ({_sims(e)}, {_contained(e)})")
    # A title that names what the other abstract lacks ("Corvid2-Med" vs "Corvid2")
    # does not "still match", however many words the two share.
    titles_match = (not (anchors_here or anchors_there) or e.subtitle_replaced) and (
        e.title_relation == "nested" or e.same_name or e.title_similarity >= MATCHING_TITLE
    )
    if titles_match and (pairs >= REVISED_PAIRS or words >= REVISED_WORDS):
        return Judgement(True, f"similar title and abstract ({_sims(e)})")
    # A revision that adds a modifier or two to its title ("Union of Scalable Robust
    # Experts") and uses them in its revised abstract: the longer title names what
    # the other abstract lacks, but neither a variant of a name nor a second subject
    # (the rules above), so the abstracts decide — both measures as close as a
    # revision's, not just one.
    added = [a for a in (anchors_here, anchors_there) if a]
    if (
        e.title_relation == "nested"
        and len(added) == 1
        and len(added[0]) <= ADDED_MODIFIERS
        and not any(e.title_numbers)  # "Corvid2.5-VL" beside "Corvid2": another release
        and pairs >= REVISED_PAIRS
        and words >= REVISED_WORDS
    ):
        return Judgement(
            True, f"a title adds {_words(added[0])} to the other's, revised abstract ({_sims(e)})"
        )
    return Judgement(False, f"different abstracts ({_sims(e)})")


# ---------------------------------------------------------------- helpers

# Title words that say nothing about a paper's subject.
_TITLE_STOP = frozenset(
    "a an and are as at be by for from in into is it its of on or the to via with towards "
    "toward using through based".split()
)


def _cut_short(e: Evidence) -> bool:
    """The shorter abstract lies inside the longer one (see :data:`CUT_WORDS`)."""
    pairs, words = e.pair_containment, e.word_containment
    if pairs is None or words is None:
        return False
    return words >= CUT_WORDS or (words >= CUT_WORDS_REWORDED and pairs >= CUT_PAIRS_REWORDED)


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


def _subtitle_replaced(
    here: Profile,
    there: Profile,
    here_side: tuple[tuple[str, ...], frozenset[str]],
    there_side: tuple[tuple[str, ...], frozenset[str]],
) -> bool:
    """Both titles open with one name before a colon; one side's anchors all lie in
    its subtitle, the other side has none, and the other title's own words are not
    in its abstract at all: the subtitle was replaced by one about the version
    ("An Updated Release", "Revised and Extended"), and the abstract revised so that
    the old subtitle's words left it.  (Anchors on both sides are two subjects,
    rule 3; a new subtitle its abstract is about is weighed as any title is.)"""
    if not here.head or here.head != there.head:
        return False
    (anchors_a, only_b), (anchors_b, only_a) = here_side, there_side
    if bool(anchors_a) == bool(anchors_b):
        return False
    mine, theirs, anchors, their_only = (
        (here, there, anchors_a, only_b) if anchors_a else (there, here, anchors_b, only_a)
    )
    if mine.colon_at is None or not set(anchors) <= set(mine.title_tokens[mine.colon_at :]):
        return False
    new = [w for w in their_only if not _has_digit(w)]
    return bool(new) and not any(_holds(theirs, w) for w in new)


_YEAR = re.compile(r"(?:19|20)\d\d")


def _years(numbers: tuple[str, ...]) -> tuple[str, ...]:
    """The title numbers that are years: a revision keeps its title's year (its
    abstract's numbers may all change); another edition of a series changes it."""
    return tuple(n for n in numbers if _YEAR.fullmatch(n))


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def _bound(anchors: tuple[str, ...], mine: Profile, shared: frozenset[str]) -> tuple[str, ...]:
    """Anchors that the abstract writes next to a word both titles share: the name
    of a variant ("qwen2.5 coder", "stereo image super-resolution"), not a word a
    revision's subtitle happens to repeat."""
    return tuple(
        a
        for a in anchors
        if any(f"{w} {a}" in mine.pairs or f"{a} {w}" in mine.pairs for w in shared)
    )


def _numbers(words: frozenset[str]) -> tuple[str, ...]:
    return _sorted(w for w in words if _has_digit(w))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _weighted_jaccard(a: frozenset[str], b: frozenset[str], rarity: Rarity) -> float:
    shared = sum(rarity.weight(w) for w in a & b)
    total = shared + sum(rarity.weight(w) for w in a ^ b)
    return shared / total if total else 0.0


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0


def _weighted_containment(a: frozenset[str], b: frozenset[str], rarity: Rarity) -> float:
    shared = sum(rarity.weight(w) for w in a & b)
    smaller = min(sum(rarity.weight(w) for w in a), sum(rarity.weight(w) for w in b))
    return shared / smaller if smaller else 0.0


def _rarest(words: frozenset[str], rarity: Rarity) -> tuple[str, ...]:
    return tuple(sorted(words, key=lambda w: (-rarity.weight(w), w))[:SHOWN])


def _sorted(words: object) -> tuple[str, ...]:
    return tuple(sorted(words))  # type: ignore[call-overload]


def _words(words: tuple[str, ...]) -> str:
    return "'" + " ".join(words) + "'" if words else "none"


def _contained(e: Evidence) -> str:
    return (
        f"word pairs {e.pair_containment or 0:.2f} contained, "
        f"rare-weighted words {e.word_containment or 0:.2f}"
    )


def _sims(e: Evidence) -> str:
    return f"word pairs {e.pair_similarity:.2f}, rare-weighted words {e.word_similarity:.2f}"


# ---------------------------------------------------------------- series shapes

# A series slot is a few words ("Image Deblurring", "Long-Context"), not a rewrite.
SLOT_WORDS = 5
# Words that name the kind of thing a paper makes, not its subject: no two members
# of a series differ by them ("… Model" / "… Network"), while a revision swaps them.
# A fixed list, not the store's counts, so a verdict does not move with the store.
GENERIC = frozenset(
    "model models network networks method methods approach approaches framework "
    "frameworks pipeline pipelines system systems technique techniques learning training".split()
)


def _series_slots(
    here: Profile, there: Profile, only_here: frozenset[str], only_there: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words filling one title skeleton's slot differently on each side, when
    the two titles are series members; ``((), ())`` when they are not.

    Members of a series share a skeleton — "<Challenge> on <X>: Methods and
    Results", "<Name>-<X> Technical Report", "<Bench>-<X>: … on <X>" — and
    differ in a few words on each side (a *slot*) that name each paper's
    subject, so each abstract holds its own filling.  Not a slot: an acronym
    expanded ("RL" / "Reinforcement Learning"), a spelling variant ("Modeling" /
    "Modelling", "Pretraining" / "Pre-Training"), numbers (rule 2 weighs them),
    a subtitle or a name replaced whole (a retitled version), or titles that
    share less than they differ in.
    """
    a, b = here.title_tokens, there.title_tokens
    only_a = {w for w in only_here if not _has_digit(w) and w not in GENERIC}
    only_b = {w for w in only_there if not _has_digit(w) and w not in GENERIC}
    if not only_a or not only_b:
        return (), ()
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    shared = sum(block.size for block in matcher.get_matching_blocks())
    # (one word of slack: a joint track's "Joint" beside its five-word slot)
    if shared < 2 or len(a) - shared > shared + 1 or len(b) - shared > shared + 1:
        return (), ()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 - i1 > SLOT_WORDS or j2 - j1 > SLOT_WORDS:
            return (), ()
        if _whole_segment(here, i1, i2) or _whole_segment(there, j1, j2):
            return (), ()
    filled_a = _sorted(w for w in only_a if _holds(here, w))
    filled_b = _sorted(w for w in only_b if _holds(there, w))
    return (filled_a, filled_b) if filled_a and filled_b else ((), ())


def _subject_slots(
    here: Profile, there: Profile, only_here: frozenset[str], only_there: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The slot words of two titles that share a word or more and differ in a few,
    when each abstract writes its own slot word *as its subject* and the other
    abstract never writes it so; ``((), ())`` otherwise.

    :func:`_series_slots` reads the titles and only asks each abstract to hold its
    filling; it leaves out a subtitle replaced whole ("ReasonBench: Math" /
    "ReasonBench: Code"), which a retitled version does too.  And the anchors of
    rule 3 need each filling to be absent from the other abstract, which a
    template defeats when its boilerplate holds a sibling's word ("… and
    evaluation code are released" in every member, so "code" is everywhere).
    What the boilerplate cannot fake is the *use*: a member writes its slot word
    where the template puts the subject —

    * after the name both titles open with ("ReasonBench: Math",
      "ReasonBench-Math"), or
    * beside a word that is no title's, where the other abstract writes its own
      slot word beside that same word ("problems in math" / "problems in code"),

    — and the other abstract has no such use of it.  A revision that swaps a
    title word rewrites the phrase its title names ("fast training" /
    "efficient training", a title word beside it), not a template sentence, and
    its abstract seldom names its title's new subtitle after the name while the
    old abstract names the old one.  Both sides must show a use.
    """
    slot_a = {w for w in only_here if not _has_digit(w) and w not in GENERIC}
    slot_b = {w for w in only_there if not _has_digit(w) and w not in GENERIC}
    if not slot_a or not slot_b or max(len(slot_a), len(slot_b)) > SLOT_WORDS:
        return (), ()
    a, b = here.title_tokens, there.title_tokens
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if not any(block.size for block in matcher.get_matching_blocks()):
        return (), ()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and (i2 - i1 > SLOT_WORDS or j2 - j1 > SLOT_WORDS):
            return (), ()
    name = _shared_name(here, there)
    uses_a = _subject_uses(here, there, slot_a, slot_b, name)
    uses_b = _subject_uses(there, here, slot_b, slot_a, name)
    return (uses_a, uses_b) if uses_a and uses_b else ((), ())


def _named_by_other(
    only: frozenset[str], mine: Profile, theirs: Profile, rarity: Rarity
) -> tuple[str, ...]:
    """This title's own words that the *other* abstract holds and this one does not."""
    return _sorted(
        w
        for w in only
        if not _has_digit(w)
        and w not in GENERIC
        and not rarity.is_common(w)
        and _holds(theirs, w)
        and not _holds(mine, w)
    )


def _variants_of_one_name(here: Profile, there: Profile) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The parts two titles join to one name ("Lumen2-Coder" / "Lumen2-Math": (coder),
    (math)) when they differ on both sides in words that are not numbers, generic
    words, or one another's spelling or abbreviation; ``((), ())`` otherwise.  A
    revision keeps the name of what it releases; a sibling report renames it."""
    for name, rest_a in here.named:
        for other, rest_b in there.named:
            if name != other:
                continue
            a = {w for w in rest_a if w not in rest_b and not _has_digit(w) and w not in GENERIC}
            b = {w for w in rest_b if w not in rest_a and not _has_digit(w) and w not in GENERIC}
            if not a or not b:
                continue
            if any(
                _spelling_variant(x, y) or x.startswith(y) or y.startswith(x) for x in a for y in b
            ):
                continue
            if any(x in there.title_words for x in a) or any(y in here.title_words for y in b):
                continue
            return _sorted(a), _sorted(b)
    return (), ()


def _head_only(p: Profile) -> Profile:
    """``p`` as if its title were its name before the colon."""
    tokens = p.title_tokens[: p.colon_at] if p.colon_at is not None else p.title_tokens
    return replace(
        p,
        title_all=p.title_all[: p.head_all],
        title_tokens=tokens,
        title_words=frozenset(tokens),
        colon_at=None,
        head_all=None,
    )


def _listed_slots(
    here: Profile, there: Profile, only_here: frozenset[str], only_there: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each title's slot words (as :func:`_subject_slots` takes them) that one list of
    either abstract holds as *different* items; ``((), ())`` unless both sides have one.

    A suite's boilerplate may list every member's subject ("spanning math, code,
    science and law") and its members then differ only in which item their titles
    name — the subject being nowhere else in their abstracts, no use of it can
    tell them apart.  A title that picks one item of a list and a sibling title
    that picks another are two members.  A revision swaps a title word for a
    synonym or a rephrasing; it seldom swaps it for the next item of a list its
    own abstract writes.
    """
    slot_a = {w for w in only_here if not _has_digit(w) and w not in GENERIC}
    slot_b = {w for w in only_there if not _has_digit(w) and w not in GENERIC}
    if not slot_a or not slot_b or max(len(slot_a), len(slot_b)) > SLOT_WORDS:
        return (), ()
    if not here.title_words & there.title_words:
        return (), ()
    for items in (*here.lists, *there.lists):
        with_a = {i for i, item in enumerate(items) if _item_holds(item, slot_a)}
        with_b = {i for i, item in enumerate(items) if _item_holds(item, slot_b)}
        if with_a and with_b and not with_a & with_b:
            found_a = {w for w in slot_a for i in with_a if _item_holds(items[i], {w})}
            found_b = {w for w in slot_b for i in with_b if _item_holds(items[i], {w})}
            return _sorted(found_a), _sorted(found_b)
    return (), ()


def _item_holds(item: frozenset[str], words: set[str]) -> bool:
    return any(w in item or w + "s" in item or (w.endswith("s") and w[:-1] in item) for w in words)


def _shared_name(here: Profile, there: Profile) -> str | None:
    """The last word of the name both titles open with before a colon, if any."""
    if here.colon_at is None or there.colon_at is None or not here.head:
        return None
    if here.head != there.head:
        return None
    return here.title_tokens[here.colon_at - 1]


def _subject_uses(
    mine: Profile, theirs: Profile, slot: set[str], other_slot: set[str], name: str | None
) -> tuple[str, ...]:
    """``mine``'s slot words its abstract writes as the subject (see
    :func:`_subject_slots`), in word pairs ``theirs`` lacks."""
    titled = set(mine.title_words) | set(theirs.title_words)
    found: set[str] = set()
    for pair in mine.pairs:
        if pair in theirs.pairs:
            continue
        left, _, right = pair.partition(" ")
        for word, context, after in ((right, left, True), (left, right, False)):
            if word not in slot or context in slot or context in other_slot:
                continue
            if after and context == name:
                found.add(word)  # "ReasonBench: Math", "ReasonBench-Math"
                continue
            if context in titled:
                continue
            for other in other_slot:
                twin = f"{context} {other}" if after else f"{other} {context}"
                if twin in theirs.pairs and twin not in mine.pairs:
                    found.add(word)  # "problems math" beside "problems code"
                    break
    return _sorted(found)


def _whole_segment(p: Profile, start: int, end: int) -> bool:
    """Words ``start:end`` of the title are all of its name or all of its subtitle."""
    if p.colon_at is None or start == end:
        return False
    return (start, end) in ((0, p.colon_at), (p.colon_at, len(p.title_tokens)))


def _variant(mine: Profile, theirs: Profile, only: frozenset[str]) -> tuple[str, ...]:
    """Words ``mine`` joins by a hyphen to a name ``theirs`` holds ("Orca3-Math" beside
    "Orca3 Technical Report"), held by ``mine``'s own abstract."""
    found = {
        w
        for name, rest in mine.named
        if set(name) <= theirs.title_words
        for w in rest
        if w in only and not _has_digit(w) and _holds(mine, w)
    }
    return _sorted(found)


# Words that join a second subject to a title's own ("Denoising and Deblurring").
_COORDINATORS = frozenset(("and", "plus"))


def _second_subject(longer: Profile, shorter: Profile, only: frozenset[str]) -> tuple[str, ...]:
    """Words ``longer``'s title adds to ``shorter``'s after a coordinator ("… Image
    Denoising *and Deblurring*", "… Raindrop Removal *and Shadow Removal*"), which
    ``longer``'s abstract writes next to the title word the addition follows
    ("denoising and deblurring"): a second subject, not a modifier or a rewording.

    Not a second subject: a subtitle the other title lacks (words after a colon
    that ``shorter`` has none of), an acronym spelt out or a spelling variant
    (``only`` excludes them), numbers, generic words ("… and Model"), or a word
    ``longer``'s abstract does not hold ("… and Beyond").
    """
    a, b = shorter.title_all, longer.title_all
    if len(b) <= len(a):
        return ()
    found: set[str] = set()
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "insert" or i1 == 0:
            continue  # (a title opening with new words renames, it does not join)
        if shorter.head_all is None and longer.head_all is not None and j1 >= longer.head_all:
            continue  # a subtitle added whole
        run = b[j1:j2]
        joined = next((k for k, w in enumerate(run) if w in _COORDINATORS), None)
        if joined is None:
            continue
        # "Denoising [and Deblurring]": the subject follows, joined to the word before;
        # "[Denoising and] Deblurring": it comes first, joined to the word after.
        sides = [(run[joined + 1 :], a[i1 - 1], True)]
        if joined == len(run) - 1 and i1 < len(a):
            sides.append((run[:joined], a[i1], False))
        for words, neighbour, after in sides:
            subject = [w for w in words if w not in _TITLE_STOP]
            new = [
                w
                for w in subject
                if w in only and not _has_digit(w) and w not in GENERIC and _holds(longer, w)
            ]
            if not new:
                continue
            # the abstract joins the two subjects as the title does
            edge = subject[0] if after else subject[-1]
            forms = (edge, edge + "s", edge + "es")
            written = (f"{neighbour} {x}" if after else f"{x} {neighbour}" for x in forms)
            if any(pair in longer.pairs for pair in written):
                found.update(new)
    return _sorted(found)


def _names_each_other(here: Profile, there: Profile) -> tuple[str, ...]:
    """The subtitle words of both titles when one name opens both ("OrbitBench:
    Math" / "OrbitBench: Competition Math") and each abstract writes the *other*
    title as a name — the name's last word, then the other subtitle's first ("…
    alongside OrbitBench: Competition Math"): members of a suite listing each
    other.  Both ways, and only where the two subtitles open differently: an
    abstract names its own title, and a revision's abstract may describe its
    new subtitle ("Foo, a sparse attention …") but does not name its old one.
    """
    if here.colon_at is None or there.colon_at is None:
        return ()
    mine, theirs = here.title_tokens[here.colon_at :], there.title_tokens[there.colon_at :]
    if not mine or not theirs or max(len(mine), len(theirs)) > SLOT_WORDS:
        return ()
    name = here.title_tokens[here.colon_at - 1]
    if there.title_tokens[there.colon_at - 1] != name or mine[0] == theirs[0]:
        return ()
    if f"{name} {theirs[0]}" in here.pairs and f"{name} {mine[0]}" in there.pairs:
        return _sorted(set(mine) ^ set(theirs))
    return ()


def _phrase_variant(longer: Profile, shorter: Profile, only: frozenset[str]) -> tuple[str, ...]:
    """Words ``longer``'s title puts next to a title word both share ("Competition
    Math" beside "Math", "Low-Resource Machine Translation" beside "Machine
    Translation") and writes next to it in its own abstract too, where
    ``shorter``'s abstract never does: the name of a variant, even when both
    abstracts hold the word itself (a suite's template names it elsewhere).

    A revision adding a modifier to its title rarely rewrites its abstract's
    phrase to match (the kit's "v2-titled" listings do not); a subtitle added
    whole is not a variant.
    """
    tokens = longer.title_tokens
    shared = shorter.title_words
    if not shared <= longer.title_words:
        # nested only once a word is read as spelt another way ("Efficient" inside
        # "EfficientViM"): a word swapped, as a rename swaps it, not a variant
        return ()
    found = set()
    for i, w in enumerate(tokens):
        if w not in only or _has_digit(w) or w in GENERIC:
            continue
        if shorter.colon_at is None and longer.colon_at is not None and i >= longer.colon_at:
            continue
        written = []
        if i + 1 < len(tokens) and tokens[i + 1] in shared:
            written.append(f"{w} {tokens[i + 1]}")
        if i > 0 and tokens[i - 1] in shared:
            written.append(f"{tokens[i - 1]} {w}")
        if any(p in longer.pairs and p not in shorter.pairs for p in written):
            found.add(w)
    return _sorted(found)


def _spellings(here: Profile, there: Profile) -> tuple[frozenset[str], frozenset[str]]:
    """Each title's words the other lacks that only abbreviate or spell another way
    words of the other title: an acronym and its expansion, a plural, a British
    spelling, a word run together."""
    only_a = here.title_words - there.title_words
    only_b = there.title_words - here.title_words
    spelt_a: set[str] = set()
    spelt_b: set[str] = set()
    for mine, theirs, spelt, spelt_other, other in (
        (only_a, only_b, spelt_a, spelt_b, there),
        (only_b, only_a, spelt_b, spelt_a, here),
    ):
        for w in sorted(mine):
            spelled = [v for v in theirs if _spelling_variant(w, v)]
            expanded = _expansion(w, other.title_all)
            if spelled or expanded is not None:
                spelt.add(w)
                spelt_other.update(spelled, (x for x in expanded or () if x in theirs))
    return frozenset(spelt_a), frozenset(spelt_b)


_NUMBER_WORDS = {
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}
_SPELLINGS = (("isation", "ization"), ("ise", "ize"), ("our", "or"), ("yse", "yze"), ("tre", "ter"))


def _spelling_variant(a: str, b: str) -> bool:
    """One word written two ways: singular/plural, British/American, a doubled
    consonant or one letter apart in a long word ("modelling" / "modeling")."""
    if len(a) < 4 or len(b) < 4 or _has_digit(a) or _has_digit(b):
        return False
    for x, y in ((a, b), (b, a)):
        if y in (x + "s", x + "es"):
            return True
        for british, american in _SPELLINGS:
            if british in x and x.replace(british, american) == y:
                return True
    return min(len(a), len(b)) >= 6 and _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _expansion(word: str, tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """The run of ``tokens`` that ``word`` abbreviates — an acronym of their initials
    or leading letters ("rl": reinforcement learning, "nerf": neural radiance
    fields, "llms": large language models, "3d": three dimensional), a word run
    together ("pretraining": pre training) or cut short ("math": mathematical) —
    or None."""
    if not word.isalnum() or len(word) < 2:
        return None
    # Every way to abbreviate starts with the first token's first letter (or the
    # digit standing for it): tokens starting otherwise are skipped unexamined.
    initial, number = word[0], _NUMBER_WORDS.get(word[0])
    for start in range(len(tokens)):
        first = tokens[start]
        if first == word or not first or (first[0] != initial and first != number):
            continue
        if len(word) >= 4 and first.startswith(word):
            return (first,)
        for end in range(start + 2, min(len(tokens), start + len(word) + 2) + 1):
            window = tokens[start:end]
            if window[0] in _TITLE_STOP or window[-1] in _TITLE_STOP:
                continue
            if "".join(window) == word or _acronym(word, window):
                return window
    return None


def _acronym(letters: str, words: Sequence[str]) -> bool:
    """``letters`` spell ``words``, each word giving a non-empty leading part (stop
    words may give none), a digit standing for its number word, a final "s" the plural."""
    if not words:
        return letters in ("", "s")
    if not letters:
        return all(w in _TITLE_STOP for w in words)
    word, rest = words[0], words[1:]
    if word in _TITLE_STOP and _acronym(letters, rest):
        return True
    if _NUMBER_WORDS.get(letters[0]) == word and _acronym(letters[1:], rest):
        return True
    size = 1
    while size <= min(len(word), len(letters)) and letters[:size] == word[:size]:
        if _acronym(letters[size:], rest):
            return True
        size += 1
    return False
