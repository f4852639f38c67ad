"""The shapes a red team found the rules getting wrong (issue 12): a version both
retitled and reworded, an abstract a feed cut short, two surveys sharing a
boilerplate opening under one title, and a verdict that moved with the other
entries of the digest."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from identity_kit import (
    boilerplate_surveys,
    challenge_series,
    family_series,
    record,
    reword,
    seed_papers,
    seen_split,
    template_series,
    truncate,
)

from newsletter.config import NoveltySettings
from newsletter.evidence import judge, profile, weigh
from newsletter.identity import Rarity
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.store import Database
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other"),))

TITLE = "Lumina: Aligning Language Models with Pairwise Feedback"
ABSTRACT = (
    "We present Lumina, a method for aligning large language models with human "
    "preferences using a small set of pairwise comparisons. Lumina trains a reward model "
    "on annotated dialogues and then optimises the policy with a clipped objective. "
    "Experiments on three benchmarks show gains of 4.2 points over supervised fine-tuning. "
    "An analysis of the reward model shows that it generalises to unseen annotators."
)


def _entries(pairs: list[tuple[str, str]], name: str = "d.txt") -> list[RawEntry]:
    return [RawEntry(t, a, name) for t, a in pairs]


def test_an_abstract_cut_short_under_its_title_is_the_same_paper() -> None:
    title, first = truncate(TITLE, ABSTRACT) or ("", "")
    e = weigh(profile(title, first), profile(TITLE, ABSTRACT), Rarity())
    assert e.pair_containment == 1.0
    j = judge(e, NoveltySettings())
    assert j.same, j.reason
    assert "holds the other" in j.reason


def test_surveys_sharing_a_boilerplate_opening_under_one_title_are_two_papers() -> None:
    surveys = boilerplate_surveys()
    verdicts = split(_entries([(s.title, s.abstract) for s in surveys]), None)
    assert all(v.new for v in verdicts), [v.reason for v in verdicts]
    assert len({v.key for v in verdicts}) == len(surveys)


def test_surveys_sharing_a_boilerplate_opening_stay_apart_across_runs(tmp_path: Path) -> None:
    surveys = boilerplate_surveys()
    store = Database.open(f"sqlite:///{tmp_path / 's.db'}")
    record(store, _entries([(s.title, s.abstract) for s in surveys[0::2]]), date(2026, 3, 2))
    later = seen_split(store, _entries([(s.title, s.abstract) for s in surveys[1::2]]))
    store.close()
    assert all(v.new for v in later), [v.reason for v in later]


def test_retitled_and_reworded_versions_are_seen_across_runs(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """A new title made of the abstract's own words, sentences reordered, halves of
    each sentence swapped, neighbouring words transposed: almost no word pair
    survives, yet at least 99% are recognised from the store."""
    papers_ = seed_papers(seeds_dir)[:120]
    store = Database.open(f"sqlite:///{tmp_path / 'r.db'}")
    record(store, list(papers_), date(2026, 3, 11))
    rng = random.Random(3)
    made = [(p, reword(p.title, p.abstract, rng)) for p in papers_]
    pairs = [(p, m) for p, m in made if m is not None]
    verdicts = seen_split(store, _entries([m for _, m in pairs], "v2.txt"))
    store.close()
    right = sum(not v.new for v in verdicts)
    assert right >= 0.99 * len(pairs), [v.reason for v in verdicts if v.new]
    assert len(pairs) >= 90


def test_a_pair_is_judged_alike_whatever_else_the_digest_holds(tmp_path: Path) -> None:
    """The same two listings, with different neighbours in the digest (a series
    sharing their words, or nothing): the same verdict and the same evidence."""
    store = Database.open(f"sqlite:///{tmp_path / 'n.db'}")
    rng = random.Random(4)
    background = [*template_series(), *family_series(rng)]
    record(store, _entries([(x.title, x.abstract) for x in background]), date(2026, 3, 1))
    record(store, _entries([(TITLE, ABSTRACT)]), date(2026, 3, 2))
    reworded = reword(TITLE, ABSTRACT, random.Random(5))
    assert reworded is not None
    revised = (TITLE, reworded[1])  # found by its title; judged by its abstract
    neighbours = [
        (x.title, x.abstract.replace("challenge", "alignment challenge with pairwise feedback"))
        for x in challenge_series(random.Random(6))
    ]
    alone = seen_split(store, _entries([revised]))[0]
    crowded = seen_split(store, _entries([*neighbours, revised]))[-1]
    # within one run too: the first version and its revision listed together
    fresh_alone = split(_entries([(TITLE, ABSTRACT), revised]), None)[-1]
    fresh_crowded = split(_entries([(TITLE, ABSTRACT), *neighbours, revised]), None)[-1]
    store.close()
    assert not alone.new, alone.reason
    for a, b in ((alone, crowded), (fresh_alone, fresh_crowded)):
        assert (a.new, a.reason) == (b.new, b.reason)
        assert a.evidence is not None and b.evidence is not None
        assert a.evidence.word_similarity == b.evidence.word_similarity
        assert a.evidence.word_containment == b.evidence.word_containment


def test_one_abstract_under_a_title_rewritten_as_another_slot_is_one_paper() -> None:
    """A retitle whose two titles read as one skeleton with a slot filled differently,
    each filling held by the abstract, over one abstract word for word: the series rule
    must not split it (series members' abstracts differ where each names its filling)."""
    abstract = (
        "We present a single transformer for scalable vision-language modeling, trained "
        "from first principles on image-text pairs without a separate vision encoder. "
        "The model reads raw patches and text tokens in one sequence and reaches 71.3 on "
        "the VQA benchmark, matching modular systems twice its size. We analyse which "
        "design choices matter most and release the training recipe."
    )
    old = RawEntry("A Single Transformer for Scalable Vision-Language Modeling", abstract, "a")
    new = RawEntry("Rethinking Vision-Language Modeling from First Principles", abstract, "b")
    e = weigh(profile(new.title, new.abstract), profile(old.title, old.abstract), Rarity())
    j = judge(e, NoveltySettings())
    assert j.same, j.reason
    first, second = split([old, new], None)
    assert first.new and not second.new, second.reason
