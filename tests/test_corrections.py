"""Operator corrections end to end: `newsletter papers same|distinct|decisions|undo`
and `newsletter explain`, as an operator runs them between daily runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ALIGN = (
    "We present a method for aligning large language models with human preferences "
    "using a small set of pairwise comparisons. Our approach trains a reward model on "
    "annotated dialogues and then optimises the policy with a clipped objective. "
    "Experiments on three benchmarks show consistent gains over supervised fine-tuning, "
    "and an ablation study isolates the effect of the comparison budget."
)
COAST = (
    "Remote sensing images of coastal regions change with tides, seasons and storms. "
    "We collect a dataset of forty thousand annotated satellite tiles and propose a "
    "segmentation network that fuses optical and radar channels. The network improves "
    "shoreline detection accuracy by seven points and transfers to unseen continents "
    "without retraining."
)
SPEECH = (
    "Streaming speech recognition must emit words before an utterance ends. We train a "
    "transducer whose encoder looks ahead a fixed number of frames and distil it from a "
    "full-context teacher. Word error rates drop by a tenth on two public corpora while "
    "latency stays under two hundred milliseconds on a phone."
)
PROTEIN = (
    "Protein language models learn structure from sequences alone. We fine-tune one on "
    "binding assays with a contrastive objective and predict affinities for unseen "
    "antibody targets, matching docking pipelines at a thousandth of their cost."
)
GRAPH = (
    "Graph neural networks struggle on molecules with long-range interactions. We add "
    "virtual nodes placed by a learned clustering and route messages through them, so "
    "distant atoms exchange information in two hops. On quantum chemistry benchmarks the "
    "model halves the error of message passing baselines at equal parameter count."
)
ROBOT = (
    "Household robots must fold garments they have never seen. We record a thousand "
    "human demonstrations with a wearable glove, learn a keypoint policy from them, and "
    "deploy it on a two-armed platform that folds shirts and towels with an eighty percent "
    "success rate on unseen items."
)


def newsletter(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("NEWSLETTER_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def digest(folder: Path, name: str, *papers: tuple[str, str]) -> str:
    body = "\n\n".join(f"{title}\n\n{abstract}" for title, abstract in papers)
    path = folder / name
    path.write_text(f"Daily Papers\n\nMar 11\n\n{body}\n", encoding="utf-8")
    return str(path)


def published(workdir: Path, day: str) -> list[str]:
    data = json.loads((workdir / "site" / "editions" / day / "edition.json").read_text())
    return sorted(p["title"] for s in data["sections"] for p in s["papers"])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    newsletter("init", str(tmp_path / "nl"), cwd=tmp_path)
    return tmp_path / "nl"


def test_a_wrong_merge_undone_by_the_operator_appears_in_the_next_edition(workdir: Path) -> None:
    first = digest(workdir, "d1.txt", ("Aligning Language Models with Pairwise Feedback", ALIGN))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    # a different paper that reuses the first one's abstract word for word: merged
    reused = "PrefSet: A Benchmark of Pairwise Preferences"
    second = digest(workdir, "d2.txt", (reused, ALIGN), ("Coastlines from Orbit", COAST))
    newsletter("run", second, "--date", "2026-03-12", cwd=workdir)
    assert published(workdir, "2026-03-12") == ["Coastlines from Orbit"]

    shown = newsletter("explain", "PrefSet", second, cwd=workdir).stdout
    assert "SEEN" in shown
    assert "'Aligning Language Models with Pairwise Feedback'" in shown
    assert "seen in edition 2026-03-11" in shown
    assert "word pairs 1.00" in shown

    said = newsletter(
        "papers", "distinct", reused, "Aligning Language Models with Pairwise Feedback", cwd=workdir
    ).stdout
    assert "decision #1: distinct" in said
    assert "lists 1 merged entry again" in said

    third = digest(workdir, "d3.txt", ("Streaming Speech with Lookahead", SPEECH))
    run = newsletter("run", third, "--date", "2026-03-13", cwd=workdir).stdout
    assert "operator corrections" in run
    assert published(workdir, "2026-03-13") == sorted([reused, "Streaming Speech with Lookahead"])

    # once sent, it is a seen paper like any other: not brought back again
    fourth = digest(workdir, "d4.txt", ("Binding Affinity from Sequence", PROTEIN))
    newsletter("run", fourth, "--date", "2026-03-14", cwd=workdir)
    assert published(workdir, "2026-03-14") == ["Binding Affinity from Sequence"]
    shown = newsletter("explain", "PrefSet", cwd=workdir).stdout
    assert "In the store:" in shown and "seen in edition 2026-03-13" in shown
    assert "operator decision #1" in shown


def test_same_makes_the_next_run_see_a_paper_and_undo_takes_it_back(workdir: Path) -> None:
    aligning = "Aligning Language Models with Pairwise Feedback"
    first = digest(workdir, "d1.txt", (aligning, ALIGN), ("Coastlines from Orbit", COAST))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    # listed once over Coastlines' abstract word for word: taken for it (a sighting)
    renamed = "Cheap Preference Learning for Chat Assistants"
    second = digest(
        workdir, "d2.txt", (renamed, COAST), ("Binding Affinity from Sequence", PROTEIN)
    )
    newsletter("run", second, "--date", "2026-03-12", cwd=workdir)
    assert published(workdir, "2026-03-12") == ["Binding Affinity from Sequence"]
    said = newsletter("papers", "same", renamed, aligning, cwd=workdir).stdout
    assert "listed and taken for title:coastlines from orbit" in said
    listed = newsletter("papers", "decisions", "--json", cwd=workdir).stdout
    [decision] = json.loads(listed)
    assert decision["verdict"] == "same"
    assert decision["first"] == "title:cheap preference learning for chat assistants"
    assert decision["second"] == "title:aligning language models with pairwise feedback"

    # the rules alone would call it new: another title over another abstract
    later = digest(workdir, "d3.txt", (renamed, SPEECH), ("Virtual Nodes for Molecules", GRAPH))
    preview = newsletter("preview", later, "--date", "2026-03-13", cwd=workdir).stdout
    assert "1 new paper;" in preview
    shown = newsletter("explain", "Cheap Preference", later, cwd=workdir).stdout
    assert "SEEN: operator decision #1: same paper" in shown

    newsletter("papers", "undo", "1", cwd=workdir)
    assert json.loads(newsletter("papers", "decisions", "--json", cwd=workdir).stdout) == []
    newsletter("run", later, "--date", "2026-03-13", cwd=workdir)
    assert published(workdir, "2026-03-13") == sorted(["Virtual Nodes for Molecules", renamed])


def test_undoing_a_same_brings_back_the_listing_it_dropped_once(workdir: Path) -> None:
    aligning = "Aligning Language Models with Pairwise Feedback"
    streaming = "Streaming Speech with Lookahead"
    first = digest(workdir, "d1.txt", (aligning, ALIGN), (streaming, SPEECH))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    # listed over Streaming's abstract: taken for it, so the store knows the name
    wrong = "Coastlines from Orbit"
    second = digest(workdir, "d2.txt", (wrong, SPEECH), ("Binding Affinity from Sequence", PROTEIN))
    newsletter("run", second, "--date", "2026-03-12", cwd=workdir)
    newsletter("papers", "same", wrong, aligning, cwd=workdir)
    third = digest(workdir, "d3.txt", (wrong, COAST), ("Virtual Nodes for Molecules", GRAPH))
    newsletter("run", third, "--date", "2026-03-13", cwd=workdir)
    assert published(workdir, "2026-03-13") == ["Virtual Nodes for Molecules"]

    said = newsletter("papers", "undo", "1", cwd=workdir).stdout
    assert "lists 1 merged entry again" in said
    # the next run's own digest does not list it: it comes back from the sighting
    fourth = digest(workdir, "d4.txt", ("Folding Laundry from Demonstrations", ROBOT))
    run = newsletter("run", fourth, "--date", "2026-03-14", cwd=workdir).stdout
    assert "operator corrections" in run
    assert published(workdir, "2026-03-14") == sorted(
        [wrong, "Folding Laundry from Demonstrations"]
    )

    fifth = digest(workdir, "d5.txt", ("Tidal Gauges at Scale", ALIGN.replace("three", "six")))
    newsletter("run", fifth, "--date", "2026-03-15", cwd=workdir, check=False)
    edition = workdir / "site" / "editions" / "2026-03-15" / "edition.json"
    assert not edition.exists() or wrong not in published(workdir, "2026-03-15")


# ---------------------------------------------------------------- names matching nothing, or severa


def decisions_in_force(workdir: Path) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(
        newsletter("papers", "decisions", "--all", "--json", cwd=workdir).stdout
    )
    return listed


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("verdict", ["same", "distinct"])
def test_a_name_that_matches_no_stored_paper_is_an_error_and_records_nothing(
    workdir: Path, verdict: str
) -> None:
    aligning = "Aligning Language Models with Pairwise Feedback"
    first = digest(workdir, "d1.txt", (aligning, ALIGN), ("Coastlines from Orbit", COAST))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    assert list(workdir.rglob("*.db")), "a real SQLite file"

    typo = "Aligning Language Models with Pairwise Feedbak"
    for names in ((typo, "Coastlines from Orbit"), (aligning, typo)):
        result = newsletter("papers", verdict, *names, cwd=workdir, check=False)
        assert result.returncode == 1, result.stderr
        [line] = error_lines(result)
        assert typo in line and "no paper in the store" in line
        assert result.stdout == ""
    for name in ("2403.01234", "arxiv:2403.01234", "https://arxiv.org/abs/2403.01234v2"):
        result = newsletter("papers", verdict, name, aligning, cwd=workdir, check=False)
        assert result.returncode == 1
        [line] = error_lines(result)
        assert name in line and "arxiv:2403.01234" in line
    assert decisions_in_force(workdir) == []


def test_a_title_several_seen_papers_carry_lists_them_and_records_nothing(workdir: Path) -> None:
    first = digest(
        workdir,
        "d1.txt",
        ("A Survey of Foundation Models", ALIGN),
        ("A Survey of Foundation Models", COAST),
        ("Coastlines from Orbit", SPEECH),
    )
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    for verdict in ("same", "distinct"):
        result = newsletter(
            "papers",
            verdict,
            "a survey of FOUNDATION models",
            "Coastlines from Orbit",
            cwd=workdir,
            check=False,
        )
        assert result.returncode == 1
        [line] = error_lines(result)
        assert "2 seen papers carry the title" in line
        assert line.count("title:a survey of foundation models") == 2
        assert line.count("seen in edition 2026-03-11") == 2
    assert decisions_in_force(workdir) == []
    # named by key, it is recorded
    said = newsletter(
        "papers",
        "distinct",
        "title:a survey of foundation models",
        "Coastlines from Orbit",
        cwd=workdir,
    ).stdout
    assert "decision #1: distinct" in said
    assert len(decisions_in_force(workdir)) == 1


def test_undo_of_a_decision_not_in_force_is_an_error(workdir: Path) -> None:
    aligning = "Aligning Language Models with Pairwise Feedback"
    first = digest(workdir, "d1.txt", (aligning, ALIGN), ("Coastlines from Orbit", COAST))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    result = newsletter("papers", "undo", "7", cwd=workdir, check=False)
    assert result.returncode == 1
    [line] = error_lines(result)
    assert "no decision #7 in force" in line
    newsletter("papers", "distinct", aligning, "Coastlines from Orbit", cwd=workdir)
    newsletter("papers", "undo", "1", cwd=workdir)
    again = newsletter("papers", "undo", "1", cwd=workdir, check=False)
    assert again.returncode == 1
    assert "no decision #1 in force" in error_lines(again)[0]
    [undone] = decisions_in_force(workdir)
    assert undone["revoked_at"]


def test_explain_after_the_run_says_when_and_why_a_paper_was_new(workdir: Path) -> None:
    first = digest(
        workdir,
        "d1.txt",
        ("Aligning Language Models with Pairwise Feedback", ALIGN),
        ("Coastlines from Orbit", COAST),
    )
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    shown = newsletter("explain", "Coastlines", first, cwd=workdir).stdout
    assert "first published in edition 2026-03-11 as NEW" in shown
    assert "same title" not in shown and "NEW: new" not in shown

    # an entry taken for another paper names the edition that paper was sent in
    second = digest(workdir, "d2.txt", ("PrefSet: A Benchmark of Pairwise Preferences", ALIGN))
    newsletter("run", second, "--date", "2026-03-12", cwd=workdir, check=False)
    shown = newsletter("explain", "PrefSet", cwd=workdir).stdout
    assert "Entries taken for another paper:" in shown
    assert (
        "taken for 'Aligning Language Models with Pairwise Feedback' "
        "(title:aligning language models with pairwise feedback, sent in edition 2026-03-11)"
    ) in shown


# ---------------------------------------------------------------- distinct means new


def test_an_entry_marked_distinct_is_new_not_taken_for_the_next_look_alike(workdir: Path) -> None:
    """Three papers over one abstract, lightly reworded, under titles sharing no word:
    the rules take each for whichever seen one is closest.  One "distinct" decision
    must make the entry new in the next run — not merged with the next look-alike,
    one run and one decision at a time (issue 12's third red team: a suite of six)."""
    aligning = "Aligning Language Models with Pairwise Feedback"
    prefset = "PrefSet: A Benchmark of Pairwise Preferences"
    cheap = "Cheap Preference Learning for Chat Assistants"
    first = digest(workdir, "d1.txt", (aligning, ALIGN))
    newsletter("run", first, "--date", "2026-03-11", cwd=workdir)
    second = ALIGN.replace("three benchmarks", "four benchmarks")
    newsletter(
        "run",
        digest(workdir, "d2.txt", (prefset, second), ("Coastlines from Orbit", COAST)),
        "--date",
        "2026-03-12",
        cwd=workdir,
    )
    assert published(workdir, "2026-03-12") == ["Coastlines from Orbit"]
    newsletter("papers", "distinct", prefset, aligning, cwd=workdir)
    third = ALIGN.replace("annotated dialogues", "labelled dialogues")
    d3 = digest(workdir, "d3.txt", (cheap, third), ("Streaming Speech with Lookahead", SPEECH))
    newsletter("run", d3, "--date", "2026-03-13", cwd=workdir)
    # PrefSet is back and new; "Cheap …" is taken for one of the two seen papers
    assert published(workdir, "2026-03-13") == sorted([prefset, "Streaming Speech with Lookahead"])
    shown = newsletter("explain", "Cheap Preference", cwd=workdir).stdout
    taken_for = aligning if f"taken for {aligning!r}" in shown else prefset
    assert f"taken for {taken_for!r}" in shown, shown

    said = newsletter("papers", "distinct", cheap, taken_for, cwd=workdir).stdout
    assert "lists 1 merged entry again" in said
    # explain says, before the run, why it will be new
    relisted = digest(workdir, "again.txt", (cheap, third))
    shown = newsletter("explain", "Cheap Preference", relisted, cwd=workdir).stdout
    assert "NEW: operator decision #2: marked distinct" in shown, shown
    assert "taken for no other paper by similarity" in shown
    assert "the rules alone would say: same abstract" in shown
    d4 = digest(workdir, "d4.txt", ("Binding Affinity from Sequence", PROTEIN))
    newsletter("run", d4, "--date", "2026-03-14", cwd=workdir)
    # new, though the *other* seen paper's abstract is as close as the one ruled out
    assert published(workdir, "2026-03-14") == sorted([cheap, "Binding Affinity from Sequence"])
    shown = newsletter("explain", "Cheap Preference", cwd=workdir).stdout
    assert "seen in edition 2026-03-14" in shown

    # listed again under its own title, it is seen as any paper is
    d6 = digest(workdir, "d6.txt", (cheap, third), ("Virtual Nodes for Molecules", GRAPH))
    newsletter("run", d6, "--date", "2026-03-15", cwd=workdir)
    assert published(workdir, "2026-03-15") == ["Virtual Nodes for Molecules"]
