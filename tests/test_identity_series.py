"""Series shapes of issue 12's second red team: a joint challenge track beside its
single tracks, "X-Bench: Math" beside "X-Bench: Code", a model's technical report
beside its variants', a workshop's "Findings of …" reports — and the v2s that look
like them (a word or two added to the title over a revised abstract), which must
still be recognised.  Each pair is judged by the pure rule and through a split."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from identity_kit import (
    add_title_words,
    colon_suite_series,
    findings_series,
    joint_challenge_series,
    record,
    seed_papers,
    seen_split,
    shared_word_suite_series,
    stem_family_series,
)

from newsletter.config import NoveltySettings
from newsletter.evidence import judge, profile, weigh
from newsletter.identity import Rarity
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.store import Database

SINGLE = "NTIRE 2025 Challenge on Image Denoising: Methods and Results"
JOINT = "NTIRE 2025 Joint Challenge on Image Denoising and Deblurring: Methods and Results"
BOILERPLATE = (
    "This paper reviews the NTIRE 2025 challenge on {track}, held in conjunction with the "
    "New Trends in Image Restoration and Enhancement workshop at CVPR 2025. The challenge "
    "aims to {goal}. It is one of the NTIRE 2025 challenges, which cover image denoising, "
    "image deblurring, joint denoising and deblurring, super-resolution and shadow removal. "
    "{n} participants registered and {m} teams submitted valid entries to the final "
    "testing phase. This report describes the data, the evaluation protocol and the "
    "solutions of the top-ranked teams, which gauge the state of the art."
)
SINGLE_ABSTRACT = BOILERPLATE.format(
    track="image denoising", goal="remove real camera noise at sigma 50", n=290, m=22
)
JOINT_ABSTRACT = BOILERPLATE.format(
    track="joint image denoising and deblurring",
    goal="restore images degraded by both camera noise and motion blur in one model",
    n=210,
    m=17,
)


def judged(a: tuple[str, str], b: tuple[str, str]) -> tuple[bool, str]:
    j = judge(weigh(profile(*a), profile(*b), Rarity(400, {})), NoveltySettings())
    return j.same, j.reason


def entries(pairs: list[tuple[str, str]]) -> list[RawEntry]:
    return [RawEntry(t, a, "d.txt") for t, a in pairs]


# ---------------------------------------------------------------- a joint track


def test_a_joint_track_report_is_not_its_single_track_sibling() -> None:
    """The red team's pair: the joint title holds every word of the single one, the
    abstracts share their boilerplate (and both name deblurring)."""
    joint, single = (JOINT, JOINT_ABSTRACT), (SINGLE, SINGLE_ABSTRACT)
    for first, second in ((joint, single), (single, joint)):
        same, reason = judged(first, second)
        assert not same, reason
        assert "second subject" in reason and "deblurring" in reason
    # without the list, the single track's abstract never writes "denoising and
    # deblurring": the joint title reads as a variant of the single one
    plain = SINGLE_ABSTRACT.replace("joint denoising and deblurring, ", "")
    same, reason = judged(joint, (SINGLE, plain))
    assert not same, reason
    verdicts = split(entries([(SINGLE, SINGLE_ABSTRACT), (JOINT, JOINT_ABSTRACT)]), None)
    assert [v.new for v in verdicts] == [True, True], verdicts[1].reason


def test_a_joint_report_relisted_under_its_own_title_is_still_seen() -> None:
    revised = JOINT_ABSTRACT.replace("210", "214").replace("17 teams", "18 teams")
    same, reason = judged((JOINT, revised), (JOINT, JOINT_ABSTRACT))
    assert same, reason


def test_one_abstract_under_a_title_that_adds_and_is_one_paper() -> None:
    """Word for word the same abstract: a retitle, even when the new title joins a
    subject with "and" (the second-subject rule reads differing abstracts only)."""
    title = "Restoring Old Photographs and Scans with Diffusion Priors"
    same, reason = judged((title, JOINT_ABSTRACT), (SINGLE, JOINT_ABSTRACT))
    assert same, reason


@pytest.mark.parametrize(
    "generator",
    [
        joint_challenge_series,
        colon_suite_series,
        stem_family_series,
        findings_series,
        shared_word_suite_series,
    ],
)
def test_new_series_shapes_stay_distinct_in_one_run_and_across_runs(
    generator: object, tmp_path: Path
) -> None:
    members = generator(random.Random(11))  # type: ignore[operator]
    pairs = [(m.title, m.abstract) for m in members]
    merged = [(v.entry.title, v.reason) for v in split(entries(pairs), None) if not v.new]
    assert merged == []
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    half = len(pairs) // 2
    record(store, entries(pairs[:half]), date(2026, 3, 11))
    later = seen_split(store, entries(pairs[half:]))
    store.close()
    assert [(v.entry.title, v.reason) for v in later if not v.new] == []


# ---------------------------------------------------------------- the v2 side


def test_a_v2_adding_a_title_word_over_a_revised_abstract_is_seen(seeds_dir: Path) -> None:
    """The v2 that looks like a joint track: a word or two put into the title (one its
    abstract used already, or new — then perhaps in an added sentence), the abstract
    revised.  Every one is seen, by the pure rule and from a store."""
    papers_ = seed_papers(seeds_dir)[:150]
    rng = random.Random(21)
    revised = [add_title_words(p.title, p.abstract, rng) for p in papers_]
    missed = [
        (t, reason)
        for (t, a), p in zip(revised, papers_, strict=True)
        for same, reason in [judged((t, a), (p.title, p.abstract))]
        if not same
    ]
    assert missed == []
    assert sum(t != p.title for (t, _), p in zip(revised, papers_, strict=True)) == len(papers_)


def test_a_v2_adding_modifiers_its_new_sentence_uses_is_the_same_paper() -> None:
    old_title = "Union of Experts: Adapting Hierarchical Routing to Decomposed Transformers"
    new_title = (
        "Union of Scalable Robust Experts: Adapting Hierarchical Routing to Decomposed Transformers"
    )
    old = (
        "Mixture-of-experts models route each token to a few experts, but routing is flat "
        "and costly at scale. We decompose a dense transformer into equivalent experts and "
        "route hierarchically, first to a group and then within it. On language modelling "
        "and image classification the union of experts matches dense quality at 42 percent "
        "of the compute, and beats flat routing by 1.3 points."
    )
    new = (
        old.replace("42", "38").replace("1.3", "1.6").replace("costly", "expensive")
        + " This version also makes the approach scalable and robust at no loss of accuracy."
    )
    same, reason = judged((new_title, new), (old_title, old))
    assert same, reason


# ---------------------------------------------------------------- other series shapes


def test_suite_members_named_by_subtitle_are_distinct_even_when_they_list_each_other() -> None:
    def abstract(area: str, focus: str, others: str) -> str:
        return (
            f"We introduce Helix-Bench: {area}, a benchmark for evaluating large language "
            f"models on {focus}. It contains 1200 problems, each verified by two annotators "
            "and paired with an automatic checker. We evaluate 24 open and proprietary models "
            "and find that the best reaches only 41 percent. We release the benchmark, the "
            f"evaluation harness and a leaderboard. Its siblings are {others}."
        )

    math = ("Helix-Bench: Math", abstract("Math", "olympiad algebra", "Helix-Bench: Code"))
    code = ("Helix-Bench: Code", abstract("Code", "program synthesis", "Helix-Bench: Math"))
    for a, b in ((math, code), (code, math)):
        same, reason = judged(a, b)
        assert not same, reason
        assert "names the other title" in reason


def test_a_variant_report_is_not_the_base_models_report() -> None:
    base = (
        "Qwen3 Technical Report",
        "We present Qwen3, the latest model in the Qwen series, a dense and mixture-of-experts "
        "language model family trained on 36 trillion tokens with a thinking mode and a "
        "non-thinking mode. Qwen3 achieves competitive results on reasoning and coding "
        "benchmarks against larger models. All models are released under Apache 2.0.",
    )
    vl = (
        "Qwen3-VL Technical Report",
        "We present Qwen3-VL, the latest vision-language model in the Qwen series, built on "
        "Qwen3 with a vision encoder for images, documents and video, trained on 2 trillion "
        "multimodal tokens with a thinking mode and a non-thinking mode. Qwen3-VL achieves "
        "competitive results on visual question answering benchmarks against larger models. "
        "All models are released under Apache 2.0.",
    )
    for a, b in ((base, vl), (vl, base)):
        same, reason = judged(a, b)
        assert not same, reason


def test_findings_of_a_task_and_of_its_low_resource_track_are_two_reports() -> None:
    def abstract(task: str, goal: str) -> str:
        return (
            f"This paper presents the results of the {task} shared task, organised as part "
            f"of the WMT 2025 conference. Participants were asked to {goal}. We received 64 "
            "submissions from 21 teams, evaluated with automatic metrics and human "
            "judgements, and we analyse what worked."
        )

    general = (
        "Findings of the WMT 2025 Shared Task on Machine Translation",
        abstract("machine translation", "translate news and social media text"),
    )
    low = (
        "Findings of the WMT 2025 Shared Task on Low-Resource Machine Translation",
        abstract("low-resource machine translation", "translate into languages with little data"),
    )
    for a, b in ((general, low), (low, general)):
        same, reason = judged(a, b)
        assert not same, reason


@pytest.mark.xfail(
    strict=True,
    reason="known limit: when every abstract lists every sibling by name, a title inside "
    "another ('X: Code' / 'X: Code Repair') leaves nothing pairwise to tell them apart",
)
def test_nested_siblings_whose_abstracts_list_every_sibling_are_distinct() -> None:
    listing = "Helix-Bench: Code, Helix-Bench: Code Repair and Helix-Bench: Math"

    def abstract(area: str, focus: str) -> str:
        return (
            f"We introduce Helix-Bench: {area}, a benchmark for evaluating large language "
            f"models on {focus}. It contains 1200 problems, each verified by two annotators. "
            "We evaluate 24 open and proprietary models and find that the best reaches only "
            f"41 percent. We release the benchmark and a leaderboard. The suite: {listing}."
        )

    code = ("Helix-Bench: Code", abstract("Code", "program synthesis"))
    repair = ("Helix-Bench: Code Repair", abstract("Code Repair", "fixing real bugs"))
    same, _ = judged(repair, code)
    assert not same


# ------------------------------------------------------------- a sibling's word in boilerplate


def _volume(area: str, *, named: bool = True) -> tuple[str, str]:
    """Issue 12's third red team's shape: one template, the area the whole subtitle,
    and a closing sentence holding "code" — the Code member's subject — in every member."""
    opening = (
        f"This volume, ReasonBench: {area}, contains 2,000 expert-written problems in "
        f"{area.lower()}"
        if named
        else f"This volume contains 2,000 expert-written problems in {area.lower()}"
    )
    return (
        f"ReasonBench: {area}",
        "We introduce ReasonBench, a benchmark suite for evaluating long-horizon reasoning "
        f"of large language models. {opening} with verified solutions and fine-grained "
        "rubrics. We evaluate 30 frontier and open models and find that even the strongest "
        "reach only moderate accuracy, with failures concentrated in multi-step planning. "
        "All problems, rubrics and evaluation code are released.",
    )


VOLUMES = ("Math", "Code", "Science", "Law", "Medicine", "Finance")


@pytest.mark.parametrize("named", [True, False])
def test_a_member_whose_subject_the_boilerplate_holds_is_not_its_sibling(named: bool) -> None:
    """ "code" is in every member's abstract ("evaluation code"), so the Code member has
    no anchor against Math; yet each writes its own area where the template puts the
    subject ("ReasonBench: Code", "problems in code") and the other never does."""
    code = _volume("Code", named=named)
    for area in VOLUMES:
        if area == "Code":
            continue
        for a, b in ((code, _volume(area, named=named)), (_volume(area, named=named), code)):
            same, reason = judged(a, b)
            assert not same, (a[0], b[0], reason)
            assert "a series" in reason


def test_the_suite_with_a_sibling_word_in_its_boilerplate_is_split_in_one_run_and_across(
    tmp_path: Path,
) -> None:
    pairs = [_volume(area) for area in VOLUMES]
    assert [v.new for v in split(entries(pairs), None)] == [True] * len(pairs)
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    record(store, entries(pairs[:1]), date(2026, 6, 1))  # Math first, as the red team ran it
    later = seen_split(store, entries(pairs[1:]))
    again = seen_split(store, entries(pairs[:1]))
    store.close()
    assert [(v.entry.title, v.reason) for v in later if not v.new] == []
    assert [v.new for v in again] == [False]  # Math listed again is still seen


def test_a_volume_relisted_with_numbers_revised_is_still_seen() -> None:
    title, abstract = _volume("Code")
    revised = abstract.replace("2,000", "2,400").replace("30 frontier", "34 frontier")
    same, reason = judged((title, revised), (title, abstract))
    assert same, reason
    # and retitled with the subtitle replaced, over the same abstract: a retitle
    same, reason = judged(("ReasonBench: Programming", abstract), (title, abstract))
    assert same, reason
