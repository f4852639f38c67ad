"""Identity that weighs what is distinctive: series stay apart, revisions are recognised.

Series and families come from the project's own boilerplate (``identity_kit``);
revisions are made from the real seed papers.  "Across runs" means the first
papers were recorded in a real database (SQLite file or PostgreSQL) the way a
run records them, and the later ones are split against it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from identity_kit import (
    build,
    challenge_series,
    family_series,
    joint_challenge_series,
    listed_challenge_series,
    listed_family_series,
    listed_suite_series,
    record,
    revise,
    seed_papers,
    seen_split,
    suite_series,
    template_series,
)

from newsletter.config import NoveltySettings
from newsletter.evidence import judge, profile, weigh
from newsletter.identity import DOCUMENTS_TERM, Rarity, signature
from newsletter.model import RawEntry
from newsletter.novelty import MIN_BAND_HITS, split
from newsletter.store import Database
from newsletter.store.schema import paper_rare_pairs, papers, term_frequencies
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other"),))


def entries_of(listings: Sequence[object]) -> list[RawEntry]:
    return [RawEntry(x.title, x.abstract, "test.txt") for x in listings]  # type: ignore[attr-defined]


def judged(a: tuple[str, str], b: tuple[str, str], documents: int = 400) -> tuple[bool, str]:
    j = judge(weigh(profile(*a), profile(*b), Rarity(documents, {})), NoveltySettings())
    return j.same, j.reason


# ---------------------------------------------------------------- the rule, pure

ABSTRACT = (
    "We present Lumina, a method for aligning large language models with human "
    "preferences using a small set of pairwise comparisons. Lumina trains a reward model "
    "on annotated dialogues and then optimises the policy with a clipped objective. "
    "Experiments on three benchmarks show gains of 4.2 points over supervised fine-tuning."
)


def test_a_subtitle_added_to_a_revised_abstract_is_the_same_paper() -> None:
    revised = ABSTRACT.replace("4.2", "5.1").replace("three", "four") + " Code is released."
    same, reason = judged(
        ("Lumina: Aligning Language Models", ABSTRACT),
        ("Lumina: Aligning Language Models with Pairwise Feedback", revised),
    )
    assert same, reason


def test_titles_naming_what_only_their_abstracts_hold_are_two_papers() -> None:
    coder = ABSTRACT.replace("Lumina", "Lumina-Coder").replace("dialogues", "coder traces")
    math = ABSTRACT.replace("Lumina", "Lumina-Math").replace("dialogues", "math proofs")
    same, reason = judged(
        ("Lumina-Coder Technical Report", coder), ("Lumina-Math Technical Report", math)
    )
    assert not same
    assert "coder" in reason and "math" in reason


def test_titles_with_different_numbers_their_abstracts_repeat_are_two_editions() -> None:
    same, reason = judged(
        ("ORBIS 2024 Challenge on Image Denoising", "The ORBIS 2024 challenge. " + ABSTRACT),
        ("ORBIS 2025 Challenge on Image Denoising", "The ORBIS 2025 challenge. " + ABSTRACT),
    )
    assert not same
    assert "2024" in reason and "2025" in reason


def test_a_retitled_paper_with_its_abstract_unchanged_is_the_same_paper() -> None:
    same, reason = judged(("Version 7: a retitled paper", ABSTRACT), ("Lumina", ABSTRACT))
    assert same, reason


def test_one_title_over_an_unrelated_abstract_is_another_paper() -> None:
    other = (
        "Remote sensing images of coastal regions change with tides, seasons and storms. "
        "We collect forty thousand annotated satellite tiles and propose a segmentation "
        "network that fuses optical and radar channels to find shorelines."
    )
    same, reason = judged(("A Survey of Alignment", ABSTRACT), ("A Survey of Alignment", other))
    assert not same
    assert "unrelated" in reason


def test_boilerplate_weighs_little_once_the_series_is_in_view() -> None:
    """The rarity-weighted similarity of two series members drops as the store
    learns that their shared sentences are everywhere."""
    series = challenge_series(random.Random(1))
    a, b = series[0], series[1]
    fresh = weigh(profile(a.title, a.abstract), profile(b.title, b.abstract), Rarity(2, {}))
    terms_seen = {}
    from newsletter.identity import term_hash, terms, title_key

    for x in series:
        for t in terms(title_key(x.title), x.abstract):
            terms_seen[term_hash(t)] = terms_seen.get(term_hash(t), 0) + 1
    informed = weigh(
        profile(a.title, a.abstract), profile(b.title, b.abstract), Rarity(len(series), terms_seen)
    )
    assert fresh.word_similarity is not None and informed.word_similarity is not None
    assert informed.word_similarity < fresh.word_similarity - 0.1


FAMILY_TEMPLATE = (
    "We introduce {name}, a series of large language models specialised in {domain}. "
    "Built on Corvid2.5, {name} is further pretrained on a large corpus of {domain} data and "
    "aligned with supervised fine-tuning and reinforcement learning. {name} achieves the best "
    "results among open models on {domain} benchmarks. We release the models in several sizes."
)


def test_a_family_base_report_and_its_variants_on_one_template_stay_apart() -> None:
    """ "Corvid2.5 Technical Report" holds every word of "Corvid2.5-Coder Technical
    Report" but one, and their abstracts share one template: still two papers."""
    variants = [("Corvid2.5-Coder", "code"), ("Corvid2.5-Math", "mathematics")]
    entries = [
        RawEntry(f"{n} Technical Report", FAMILY_TEMPLATE.format(name=n, domain=d), "t.txt")
        for n, d in variants
    ]
    base = FAMILY_TEMPLATE.format(name="Corvid2.5", domain="general language")
    entries.append(
        RawEntry("Corvid2.5 Technical Report", base.replace("Built on Corvid2.5, ", ""), "t.txt")
    )
    verdicts = split(entries, None)
    assert [v.new for v in verdicts] == [True, True, True], [v.reason for v in verdicts]
    assert "variant" in verdicts[2].reason


SUITE_TEMPLATE = (
    "We present {name}, one of the Lodestar evaluations of foundation models, beside "
    "Lodestar-Reasoning, Lodestar-Medicine and Lodestar-Safety. {name} targets {focus}, with "
    "3,100 items written and verified by specialists, each screened for leakage into public "
    "training data. We evaluate 21 open and closed models and release the data and a leaderboard."
)


def test_series_members_whose_abstracts_name_each_other_are_two_papers() -> None:
    """Each side's subject word is in the other abstract too (the abstracts list the
    siblings), so only the titles' shape tells them apart: one skeleton, one slot."""
    same, reason = judged(
        (
            "Lodestar-Medicine: Measuring Foundation Models on Medicine",
            SUITE_TEMPLATE.format(name="Lodestar-Medicine", focus="clinical questions"),
        ),
        (
            "Lodestar-Reasoning: Measuring Foundation Models on Reasoning",
            SUITE_TEMPLATE.format(name="Lodestar-Reasoning", focus="multi-step deduction"),
        ),
    )
    assert not same
    assert "slot" in reason and "medicine" in reason and "reasoning" in reason


def test_a_base_report_naming_its_variants_and_a_variant_report_are_two_papers() -> None:
    base = (
        "In this report we introduce Heron3, open foundation models that also serve as the "
        "base of Heron3-Math and Heron3-Coder. Heron3 is pretrained on 14 trillion tokens and "
        "tuned with preference optimisation; the weights are released under an open licence."
    )
    math = base.replace("Heron3, open foundation models", "Heron3-Math, open maths models")
    same, reason = judged(("Heron3-Math Technical Report", math), ("Heron3 Technical Report", base))
    assert not same
    assert "variant" in reason and "math" in reason


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Pruning Expert Routers with RL", "Pruning Expert Routers with Reinforcement Learning"),
        ("Sparse 3D Scene Graphs", "Sparse Three-Dimensional Scene Graphs"),
        ("Grounded LLMs for Tables", "Grounded Large Language Models for Tables"),
        ("Fast NeRF Editing", "Fast Neural Radiance Fields Editing"),
        ("Modelling Tides with Diffusion", "Modeling Tides with Diffusion"),
    ],
)
def test_an_acronym_expanded_or_a_word_respelt_is_not_a_series_slot(short: str, long: str) -> None:
    revised = ABSTRACT.replace("4.2", "4.6") + " We add an ablation."
    same, reason = judged((long, revised), (short, ABSTRACT))
    assert same, reason


def test_a_subtitle_replaced_whole_is_a_retitled_version_not_a_series() -> None:
    revised = ABSTRACT.replace("three benchmarks", "four benchmarks")
    same, reason = judged(
        ("Lumina Pairwise Preference Alignment: A Unified View", revised),
        ("Lumina Pairwise Preference Alignment: Analysis", ABSTRACT),
    )
    assert same, reason


def test_series_verdicts_do_not_depend_on_the_store_or_on_how_runs_are_cut(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """The same family, listed in one run or one member per run, on an empty store
    or on one holding a hundred other papers: every member is new every time."""
    family = entries_of(listed_family_series(random.Random(8))[:3])
    outcomes = []
    for filler in ((), seed_papers(seeds_dir)[:100]):
        one = Database.open(f"sqlite:///{tmp_path / f'one-{len(filler)}.db'}")
        if filler:
            record(one, filler, date(2026, 3, 10))
        outcomes.append([v.new for v in record(one, family, date(2026, 3, 11))])
        one.close()
        each = Database.open(f"sqlite:///{tmp_path / f'each-{len(filler)}.db'}")
        if filler:
            record(each, filler, date(2026, 3, 10))
        outcomes.append(
            [record(each, [e], date(2026, 3, 11 + i))[0].new for i, e in enumerate(family)]
        )
        each.close()
    assert outcomes == [[True, True, True]] * 4


# ---------------------------------------------------------------- series, one run and across runs

SERIES = {
    "challenge": challenge_series,
    "family": family_series,
    "suite": suite_series,
    "template": lambda rng: template_series(),
    "challenge-listed": listed_challenge_series,
    "family-listed": listed_family_series,
    "suite-listed": listed_suite_series,
    "challenge-joint": joint_challenge_series,
}


@pytest.mark.parametrize("kind", sorted(SERIES))
def test_series_members_stay_distinct_within_one_run(kind: str) -> None:
    members = SERIES[kind](random.Random(3))
    verdicts = split(entries_of(members), None)
    merged = [(v.entry.title, v.reason) for v in verdicts if not v.new]
    assert merged == []


@pytest.mark.parametrize("kind", sorted(SERIES))
def test_series_members_stay_distinct_across_runs(kind: str, tmp_path: Path) -> None:
    members = SERIES[kind](random.Random(4))
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    half = len(members) // 2
    record(store, entries_of(members[:half]), date(2026, 3, 11))
    later = seen_split(store, entries_of(members[half:]))
    store.close()
    merged = [(v.entry.title, v.reason) for v in later if not v.new]
    assert merged == []


def test_a_challenge_series_recorded_then_listed_again_is_seen_member_by_member(
    tmp_path: Path,
) -> None:
    members = challenge_series(random.Random(5))
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    first = record(store, entries_of(members), date(2026, 3, 11))
    again = seen_split(store, entries_of(members))
    store.close()
    assert [v.same_as for v in again] == [v.key for v in first]


# ---------------------------------------------------------------- revisions across runs


def test_heavily_revised_versions_are_seen_across_runs(db_url: str, seeds_dir: Path) -> None:
    """Retitled, numbers changed, a sentence dropped and one added, a dozen words
    swapped: every one is recognised from the store, including those that share
    fewer than two MinHash bands with their first version (the old hole)."""
    papers_ = seed_papers(seeds_dir)[:120]
    store = Database.open(db_url)
    record(store, papers_, date(2026, 3, 11))
    rng = random.Random(9)
    revised = [RawEntry(*revise(p.title, p.abstract, rng, "heavy"), "v2.txt") for p in papers_]
    verdicts = seen_split(store, revised)
    store.close()
    missed = [v.entry.title for v in verdicts if v.new]
    assert missed == []
    below_two_bands = [
        v
        for v, p in zip(verdicts, papers_, strict=True)
        if _shared_bands(v.entry.abstract, p.abstract) < MIN_BAND_HITS and v.entry.title != p.title
    ]
    assert below_two_bands, "the corpus should hold versions the band index alone misses"
    assert all(not v.new for v in below_two_bands)


def _shared_bands(a: str, b: str) -> int:
    sa_, sb = signature(a), signature(b)
    if sa_ is None or sb is None:
        return 0
    return len(set(sa_.bands()) & set(sb.bands()))


def test_identity_quality_meets_its_goals_on_the_generated_corpus(seeds_dir: Path) -> None:
    """One run over the whole corpus: no series member merged, every v2 recognised —
    but for the retitled-and-reworded ones, of which at least 95% (in one run on an
    empty store every word weighs the same, and a few are not even candidates)."""
    corpus = build(seeds_dir)
    listings = [*corpus.originals, *corpus.series, *corpus.positives, *corpus.negatives]
    verdicts = split(entries_of(listings), None)
    label_of = {}
    wrong, missed, reworded, members = [], [], [], []
    listed: set[str] = set()
    for x, v in zip(listings, verdicts, strict=True):
        if x.kind == "v2-reworded":
            reworded.append(not v.new)
        if x.kind == "v2-member" and x.label in listed:
            members.append(not v.new)
        if v.new:
            label_of[v.key] = x.label
            if x.label in listed and x.kind.startswith("v2") and x.kind not in LOOSER:
                missed.append(x.title)
        elif label_of[v.same_as or ""] != x.label and not (
            x.kind == "v2-member" and x.label in listed
        ):
            # (a member's revision taken for a sibling is still not sent again: counted
            # in the benchmark's precision, not here)
            wrong.append((x.kind, x.title))
        listed.add(x.label)
    assert wrong == []
    assert missed == []
    assert len(reworded) > 200
    assert sum(reworded) >= 0.95 * len(reworded)
    # heavy revisions of boilerplate series members: some lose the one sentence that
    # named their member, and their abstract is then any sibling's (docs/novelty.md)
    assert len(members) > 30
    assert sum(members) >= 0.85 * len(members)


# Revisions judged by a share, not one by one (see the test below).
LOOSER = ("v2-reworded", "v2-member")


# ---------------------------------------------------------------- the store keeps the counts


def test_term_frequencies_count_the_papers_marked_seen_in_the_same_transaction(
    db_url: str,
) -> None:
    store = Database.open(db_url)
    entries = entries_of(family_series(random.Random(2)))
    record(store, entries, date(2026, 3, 11))
    with store.read() as tx:
        counts = tx.identity.term_counts([DOCUMENTS_TERM])
        seen = tx.papers.count()
    with store.engine.connect() as conn:  # the index table itself, read independently
        pairs = conn.execute(sa.select(sa.func.count()).select_from(paper_rare_pairs)).scalar()
    assert counts[DOCUMENTS_TERM] == seen == len(entries)
    assert pairs and pairs >= len(entries)
    store.close()


def test_upgrading_a_database_counts_the_papers_it_already_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Database.connect(url)
    assert store.migrate(to=3) == [1, 2, 3]
    with store.engine.begin() as conn:  # papers as 0.1.0 wrote them: no identity index
        for i, x in enumerate(family_series(random.Random(6))[:5]):
            conn.execute(
                papers.insert().values(
                    key=f"title:p{i}",
                    title_hash=i,
                    title_key=f"p{i}",
                    title=x.title,
                    abstract=x.abstract,
                    url="u",
                    source="s",
                    seen_at=sa.func.now(),
                )
            )
    assert store.migrate(to=4) == [4]
    with store.engine.connect() as conn:
        documents = conn.execute(
            sa.select(term_frequencies.c.papers).where(term_frequencies.c.term == DOCUMENTS_TERM)
        ).scalar()
        pairs = conn.execute(sa.select(sa.func.count()).select_from(paper_rare_pairs)).scalar()
    store.close()
    assert documents == 5
    assert pairs == 5 * 6
