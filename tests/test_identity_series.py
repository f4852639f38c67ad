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


# ---------------------------------------------------------------- a suite listing every member
# Issue 12's fourth red team: "<Suite>: <Area>" papers whose shared abstract lists every
# area ("… spanning math, code, science and law"), each with a sentence of its own that
# does not name its area: the area is in the title and, once, in the list.

AREAS = ("Math", "Code", "Science", "Law", "Medicine", "Finance")
OWN = (
    "This volume has {n} items written by domain experts and checked twice.",
    "Items were collected over {n} weeks from contributors in {k} countries.",
    "We release {n} problems together with worked reference answers.",
)


def _listing_suite(name: str, count: int, shape: str, rng: random.Random) -> list[tuple[str, str]]:
    areas = AREAS[:count]
    spanning = ", ".join(a.lower() for a in areas[:-1]) + " and " + areas[-1].lower()
    out = []
    for area in areas:
        title = {"colon": f"{name}: {area}", "bare": f"{name} {area}"}[shape]
        own = rng.choice(OWN).format(n=rng.randint(300, 3000), k=rng.randint(5, 40))
        out.append(
            (
                title,
                f"{name} is a benchmark suite for evaluating large language models, spanning "
                f"{spanning}. {own} Every item is screened for contamination and paired with "
                f"a rubric. We evaluate {rng.randint(10, 40)} open and proprietary models and "
                f"find the best still fails {rng.randint(10, 60)} percent of the items.",
            )
        )
    return out


@pytest.mark.parametrize("shape", ["colon", "bare"])
@pytest.mark.parametrize("count", [2, 6])
def test_suite_members_whose_abstracts_list_every_area_are_distinct(
    tmp_path: Path, shape: str, count: int
) -> None:
    pairs = _listing_suite("Orbis", count, shape, random.Random(count))
    one_run = split(entries(pairs), None)
    assert [(v.entry.title, v.reason) for v in one_run if not v.new] == []
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    record(store, entries(pairs[:1]), date(2026, 6, 1))
    later = seen_split(store, entries(pairs[1:]))
    again = seen_split(store, entries(pairs[:1]))
    store.close()
    assert [(v.entry.title, v.reason) for v in later if not v.new] == []
    assert [v.new for v in again] == [False]
    same, reason = judged(pairs[1], pairs[0])
    assert not same and "list" in reason, reason


def test_a_retitle_that_swaps_a_word_for_a_synonym_is_not_a_list_member() -> None:
    abstract = (
        "We propose a solver for sparse linear systems that is fast, accurate and easy to "
        "deploy. It factorises the matrix once and reuses the factors across right-hand "
        "sides, and it runs on commodity GPUs. On 40 benchmark matrices it is 3.1 times "
        "faster than the best direct solver while matching its accuracy."
    )
    same, reason = judged(
        ("A Quick Solver for Sparse Systems", abstract),
        (
            "A Fast Solver for Sparse Systems",
            abstract.replace("40", "42"),
        ),
    )
    assert same, reason


def test_a_member_relisted_with_its_subtitle_replaced_and_abstract_revised_is_seen() -> None:
    v1 = (
        "LUMEN 2024 Challenge on Raindrop Removal: Methods and Results",
        "This paper reviews the LUMEN 2024 challenge on raindrop removal, held with the "
        "VISTA workshop. The challenge aims to restore images taken through wet glass. It "
        "is one of the LUMEN 2024 challenges. 180 participants registered and 21 teams "
        "submitted results. We describe the data, the evaluation methods and the results "
        "of the top teams, which set the state of the art.",
    )
    v2 = (
        "LUMEN 2024 Challenge on Raindrop Removal: An Updated Release",
        "This paper surveys the LUMEN 2024 challenge on raindrop removal, held with the "
        "VISTA workshop. The challenge aims to restore photographs taken through wet glass. "
        "It is one of the LUMEN 2024 challenges. 183 participants registered and 24 teams "
        "submitted entries. We describe the data, the evaluation protocol and the "
        "solutions of the leading teams, and add a study of failure cases.",
    )
    same, reason = judged(v2, v1)
    assert same, reason
    # while a sibling track under the same skeleton stays its own paper
    sibling = (
        "LUMEN 2024 Challenge on Shadow Removal: Methods and Results",
        v1[1]
        .replace("raindrop removal", "shadow removal")
        .replace("taken through wet glass", "with cast shadows"),
    )
    same, reason = judged(sibling, v1)
    assert not same, reason


# ---------------------------------------------------------------- issue 12's fourth red team
# Challenge tracks whose one boilerplate names no track at all; a family whose
# abstracts name only the siblings (or describe the skill, never the slot word); and
# the revisions of such members, which must still be seen.

TRACK_NAMES = (
    "Image Denoising",
    "Image Deblurring",
    "Low-Light Image Enhancement",
    "Raindrop Removal",
    "Shadow Removal",
    "Video Frame Interpolation",
)


def _silent_challenge() -> list[tuple[str, str]]:
    return [
        (
            f"NTIRE 2025 Challenge on {track}: Methods and Results",
            "This paper reviews the NTIRE 2025 challenge, held with the workshop on new "
            "trends in image restoration and enhancement. This report describes one track "
            f"of the challenge and the solutions submitted to it. A total of {150 + i} "
            f"participants registered, and {20 + i} teams submitted valid solutions in the "
            "final phase. We describe the dataset, the evaluation protocol and the results.",
        )
        for i, track in enumerate(TRACK_NAMES)
    ]


SKILLS = {"Coder": "code generation", "Math": "mathematical reasoning", "VL": "image understanding"}


def _family(shape: str) -> list[tuple[str, str]]:
    out = []
    for variant, skill in SKILLS.items():
        others = ", ".join(f"Lumen2-{v}" for v in SKILLS if v != variant)
        said = f"It is tuned for {skill}." if shape == "skill" else f"Its siblings are {others}."
        out.append(
            (
                f"Lumen2-{variant} Technical Report",
                f"We present a member of the Lumen2 family of open models, trained on 2 "
                f"trillion further tokens. {said} The models keep the general abilities of "
                "Lumen2 and lead open models of their size; the weights are released under "
                "a permissive licence.",
            )
        )
    return out


@pytest.mark.parametrize(
    "series",
    [
        pytest.param(
            "silent-challenge",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known limit: one boilerplate naming no track, titles differing in a "
                "slot no abstract writes, reads as a retitle (docs/novelty.md)",
            ),
        ),
        "family-siblings",
        "family-skill",
    ],
)
def test_members_whose_abstracts_do_not_name_their_own_subject_are_distinct(
    tmp_path: Path, series: str
) -> None:
    pairs = {
        "silent-challenge": _silent_challenge,
        "family-siblings": lambda: _family("siblings"),
        "family-skill": lambda: _family("skill"),
    }[series]()
    assert [(v.entry.title, v.reason) for v in split(entries(pairs), None) if not v.new] == []
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    record(store, entries(pairs[:1]), date(2026, 6, 1))
    later = seen_split(store, entries(pairs[1:]))
    store.close()
    assert [(v.entry.title, v.reason) for v in later if not v.new] == []


def test_revisions_of_series_members_are_seen_in_one_run_and_across(tmp_path: Path) -> None:
    rng = random.Random(12)
    members = [
        (
            title,
            abstract.replace(
                "one track", f"the {title.split(' on ')[1].split(':')[0].lower()} track"
            ),
        )
        for title, abstract in _silent_challenge()[:3]
    ] + _family("siblings")
    revised = []
    for title, abstract in members:
        text = abstract.replace("2025", "2025").replace("registered", "signed up")
        text = text.replace("We describe", "This version corrects the results table; we describe")
        text = text.replace("We present", "This updated report presents")
        if "Technical Report" in title:
            revised.append((f"{title}: An Updated Release", text))
        else:
            revised.append((f"{title} (Extended Version)", text))
    rng.shuffle(revised)
    one_run = split(entries(members + revised), None)
    assert [v.new for v in one_run] == [True] * len(members) + [False] * len(revised)
    by_key = {v.key: v.entry.title for v in one_run[: len(members)]}
    for v in one_run[len(members) :]:  # each revision is its own member's, not a sibling's
        assert by_key[v.same_as or ""] in v.entry.title, (v.entry.title, v.reason)
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    record(store, entries(members), date(2026, 6, 1))
    later = seen_split(store, entries(revised))
    store.close()
    assert [(v.entry.title, v.reason) for v in later if v.new] == []


# ---------------------------------------------------------------- issue 12's fifth red team


@pytest.mark.parametrize(
    ("first", "later"),
    [
        (
            "Factorized-Dreamer: Training a Video Generator",
            "Towards Factorized-Dreamer: Training a Video Generator",
        ),
        (
            "Towards Video-Infinity: Distributed Long Video Generation",
            "Video-Infinity: Distributed Long Video Generation",
        ),
        (
            "A Multi-Level Framework for Training Transformers",
            "Towards A Multi-Level Framework for Training Transformers",
        ),
    ],
)
def test_a_version_that_gained_or_lost_a_leading_towards_is_a_candidate(
    first: str, later: str
) -> None:
    from newsletter.identity import head_index_key, head_probe_keys, title_key

    assert head_index_key(first, title_key(first)) in head_probe_keys(later, title_key(later))


def test_an_extended_version_over_a_revised_abstract_is_not_a_reused_title() -> None:
    v1 = (
        "Adaptive Gradient Descent for Sparse Models",
        "We study adaptive step sizes for training sparse neural networks. Our method keeps a "
        "running estimate of curvature per block and scales each update by it. On three "
        "pruning benchmarks it reaches dense accuracy at 90 percent sparsity, and it halves "
        "the tuning budget of the learning rate. Code is released.",
    )
    v2 = (
        "Adaptive Gradient Descent for Sparse Models (Extended Version)",
        "This extended version adds a convergence proof. We study adaptive step sizes for "
        "training sparse networks: the method tracks curvature per block and rescales every "
        "update by it. Across four pruning benchmarks it matches dense accuracy at 95 percent "
        "sparsity and cuts learning-rate tuning by half.",
    )
    same, reason = judged(v2, v1)
    assert same, reason


def test_a_family_sharing_one_abstract_word_for_word_is_still_a_family() -> None:
    abstract = (
        "This report presents the Corvid3 family of open models: Corvid3-Coder, Corvid3-Math, "
        "Corvid3-VL, Corvid3-Audio and Corvid3-Med, each tuned from the Corvid3 base on a "
        "further 500 billion tokens. Weights are released under a permissive licence."
    )
    pairs = [(f"Corvid3-{v} Technical Report", abstract) for v in ("Coder", "Math", "VL", "Audio")]
    assert [v.new for v in split(entries(pairs), None)] == [True] * 4
    # while one report retitled over its own abstract is still one paper
    same, reason = judged(("Corvid3-Coder: Technical Report", abstract), pairs[0])
    assert same, reason
