"""Novelty: disguised repeats are recognised, look-alike new papers are not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from corpus_kit import Corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.identity import Decision, normalize_text, parse_arxiv_id, title_key
from newsletter.listings import new_papers
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.store import Database
from newsletter.store.papers import NewPaper, SeenPaper
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other", fallback=True),))

NOW = datetime(2026, 3, 11, tzinfo=UTC)
ABSTRACT_A = (
    "We present a method for aligning large language models with human preferences "
    "using a small set of pairwise comparisons. Our approach trains a reward model on "
    "annotated dialogues and then optimises the policy with a clipped objective. "
    "Experiments on three benchmarks show consistent gains over supervised fine-tuning, "
    "and an ablation study isolates the effect of the comparison budget."
)
ABSTRACT_B = (
    "Remote sensing images of coastal regions change with tides, seasons and storms. "
    "We collect a dataset of forty thousand annotated satellite tiles and propose a "
    "segmentation network that fuses optical and radar channels. The network improves "
    "shoreline detection accuracy by seven points and transfers to unseen continents "
    "without retraining."
)


def entry(title: str, abstract: str = ABSTRACT_A, **kw: object) -> RawEntry:
    return RawEntry(title=title, abstract=abstract, source="test.txt", **kw)  # type: ignore[arg-type]


class SeenIn:
    """The seen index of a database file, read as the pipeline reads it (a read per call)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def band_hits(self, bands: Sequence[int]) -> dict[int, list[int]]:
        with self.db.read() as tx:
            return tx.seen.band_hits(bands)

    def rare_pair_hits(self, pairs: Sequence[int]) -> dict[int, list[int]]:
        with self.db.read() as tx:
            return tx.seen.rare_pair_hits(pairs)

    def head_hits(self, heads: Sequence[int]) -> dict[int, list[int]]:
        with self.db.read() as tx:
            return tx.seen.head_hits(heads)

    def term_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        with self.db.read() as tx:
            return tx.seen.term_counts(hashes)

    def decisions_about(self, names: Sequence[str]) -> list[Decision]:
        with self.db.read() as tx:
            return tx.seen.decisions_about(names)

    def candidates(
        self,
        arxiv_ids: Sequence[str],
        title_hashes: Sequence[int],
        ids: Sequence[int],
        keys: Sequence[str] = (),
    ) -> list[SeenPaper]:
        with self.db.read() as tx:
            return tx.seen.candidates(arxiv_ids, title_hashes, ids, keys)


def seen_store(tmp_path: Path, *entries: RawEntry) -> SeenIn:
    db = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    verdicts = split(list(entries), None)
    news = [v for v in verdicts if v.new]
    papers = new_papers(verdicts, TAXONOMY)
    with db.write() as tx:
        tx.papers.bulk_seed(
            [NewPaper(p, v.title_key, v.signature) for v, p in zip(news, papers, strict=True)],
            NOW,
        )
    return SeenIn(db)


@pytest.mark.parametrize(
    "disguised",
    [
        "ALIGNING LANGUAGE MODELS WITH PAIRWISE FEEDBACK",
        "Aligning  Language Models   with Pairwise Feedback ",
        "Aligning Language Models with Pairwise Feedback.",
        "Aligning Language Models with Pairwise-Feedback",
        "Ａｌｉｇｎｉｎｇ Language Models with Pairwise Feedback",  # full-width
        "Aligning Language Models with Pairwise Feedback\u200b",
    ],
)
def test_disguised_title_is_recognised_as_seen(tmp_path: Path, disguised: str) -> None:
    store = seen_store(tmp_path, entry("Aligning Language Models with Pairwise Feedback"))
    [verdict] = split([entry(disguised)], store)
    assert not verdict.new, verdict.reason


def test_entity_artefact_and_curly_quotes_are_the_same_paper(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry('Chain-of-Thought x2013 it\'s "all" you need'))
    [verdict] = split([entry("Chain-of-Thought – it’s “all” you need")], store)
    assert not verdict.new


def test_retitled_version_with_same_abstract_is_seen(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("Pairwise Feedback for Alignment"))
    [verdict] = split([entry("PrefAlign: Cheap Human Preference Alignment of LLMs")], store)
    assert not verdict.new
    assert "abstract" in verdict.reason


def test_revised_abstract_with_same_title_is_seen(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("Pairwise Feedback for Alignment"))
    revised = ABSTRACT_A.replace("three benchmarks", "five benchmarks") + " Code is released."
    [verdict] = split([entry("Pairwise Feedback for Alignment", revised)], store)
    assert not verdict.new


def test_same_title_with_unrelated_abstract_is_a_different_paper(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("A Survey of Foundation Models"))
    [verdict] = split([entry("A Survey of Foundation Models", ABSTRACT_B)], store)
    assert verdict.new
    assert verdict.key != "title:a survey of foundation models"


def test_near_identical_title_of_a_different_paper_is_new(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("A Survey of Foundation Models"))
    [verdict] = split([entry("A Survey on Foundation Models", ABSTRACT_B)], store)
    assert verdict.new


def test_same_arxiv_id_is_seen_whatever_the_title(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("Old title", arxiv_id="2403.01234"))
    [verdict] = split([entry("Completely new title", ABSTRACT_B, arxiv_id="2403.01234")], store)
    assert not verdict.new
    assert verdict.reason.startswith("same arXiv id")


def test_different_arxiv_ids_are_different_papers_even_with_one_title(tmp_path: Path) -> None:
    store = seen_store(tmp_path, entry("Same title", arxiv_id="2403.01234"))
    [verdict] = split([entry("Same title", arxiv_id="2403.09999")], store)
    assert verdict.new


def test_paper_listed_twice_in_one_run_appears_once() -> None:
    verdicts = split(
        [entry("Pairwise Feedback for Alignment"), entry("PAIRWISE FEEDBACK FOR ALIGNMENT")], None
    )
    assert [v.new for v in verdicts] == [True, False]
    assert "earlier in this run" in verdicts[1].reason


def test_paper_without_url_links_to_an_arxiv_title_search() -> None:
    [paper] = new_papers(split([entry("Pairwise Feedback & Alignment")], None), TAXONOMY)
    assert paper.url.startswith("https://arxiv.org/search/?")
    assert "Pairwise+Feedback+%26+Alignment" in paper.url


def test_arxiv_ids_are_read_from_urls_and_bare_ids() -> None:
    assert parse_arxiv_id("https://arxiv.org/abs/2403.01234v3") is not None
    parsed = parse_arxiv_id("https://arxiv.org/pdf/2403.01234v3")
    assert parsed is not None and (parsed.id, parsed.version) == ("2403.01234", 3)
    assert parse_arxiv_id("arXiv:2401.00001").id == "2401.00001"  # type: ignore[union-attr]
    assert parse_arxiv_id("hep-th/9901001v2").id == "hep-th/9901001"  # type: ignore[union-attr]
    assert parse_arxiv_id("not an id") is None


# ----------------------------------------------------------- against the digests


def _seed_papers(corpus: Corpus) -> list[RawEntry]:
    from newsletter.sources.text import read_digest

    entries: list[RawEntry] = []
    for path in corpus.files:
        entries.extend(read_digest(path, date(2026, 11, 20)).entries)
    return entries


def test_digests_split_into_the_known_counts(corpus: Corpus) -> None:
    verdicts = split(_seed_papers(corpus), None)
    assert sum(v.new for v in verdicts) == corpus.distinct


def test_disguised_digest_papers_are_all_recognised(tmp_path: Path, corpus: Corpus) -> None:
    """Every digest paper, disguised four ways, is recognised; look-alikes stay new."""
    originals = list({title_key(e.title): e for e in _seed_papers(corpus)}.values())
    store = seen_store(tmp_path, *originals)
    disguised = []
    for i, e in enumerate(originals):
        sentences = re.split(r"(?<=\.) ", e.abstract)
        revised = " ".join(s for k, s in enumerate(sentences) if k != 1 or len(sentences) < 3)
        variants = [
            RawEntry(e.title.upper(), e.abstract, "x"),
            RawEntry("  " + e.title.replace(" ", "  ").replace(":", " :") + " ", e.abstract, "x"),
            RawEntry(f"Version {i}: a retitled paper", e.abstract, "x"),
            RawEntry(e.title, revised + " We release our code.", "x"),
        ]
        disguised.extend(variants)
    verdicts = split(disguised, store)
    missed = [v.entry.title for v in verdicts if v.new]
    assert missed == []


def test_lookalike_titles_with_other_abstracts_stay_new(tmp_path: Path, corpus: Corpus) -> None:
    """Seen: half the papers.  New: their titles, slightly changed, on unseen abstracts."""
    # distinct papers, not distinct titles: a retitled repeat shares its original's abstract
    originals = [v.entry for v in split(_seed_papers(corpus), None) if v.new]
    half = len(originals) // 2
    store = seen_store(tmp_path, *originals[:half])
    lookalikes = []
    for seen, unseen in zip(originals[:half], originals[half:], strict=False):
        title = re.sub(r"\b(of|for|with|on|in)\b", "towards", seen.title, count=1)
        if title == seen.title:
            title = seen.title + " 2"
        lookalikes.append(RawEntry(title, unseen.abstract, "x"))
    wrongly_seen = [v.entry.title for v in split(lookalikes, store) if not v.new]
    assert wrongly_seen == []


# ----------------------------------------------------------- properties


@settings(max_examples=200)
@given(st.text())
def test_normalizing_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["Alpha", "Beta", "ALPHA", "Gamma!"]), st.booleans()), max_size=12
    )
)
def test_new_and_repeated_partition_the_input(items: list[tuple[str, bool]]) -> None:
    entries = [entry(t, ABSTRACT_A if flag else ABSTRACT_B) for t, flag in items]
    verdicts = split(entries, None)
    assert [v.entry for v in verdicts] == entries
    new_keys = [v.key for v in verdicts if v.new]
    assert len(new_keys) == len(set(new_keys))
    assert all(v.same_as in new_keys for v in verdicts if not v.new)


@pytest.mark.parametrize(
    "disguised",
    [
        "Aligning Language Mo\u200ddels with Pairwise Feedback",  # zero-width joiner
        "Aligning Language Models w\u2060ith Pairwise Feedback",  # word joiner
        "Aligning Language M\u043edels with Pairwise Feedback",  # Cyrillic o
        "\u0410ligning Language Models with Pairwise Feedback",  # Cyrillic A
    ],
)
def test_invisible_characters_and_homoglyphs_do_not_hide_a_seen_title(
    tmp_path: Path, disguised: str
) -> None:
    store = seen_store(tmp_path, entry("Aligning Language Models with Pairwise Feedback", ""))
    [verdict] = split([entry(disguised, "")], store)
    assert not verdict.new, verdict.reason


def test_two_surveys_with_nearly_the_same_title_are_both_new_and_retitles_are_not() -> None:
    """The own digests' documented cases (tests/digests/README.md), by name."""
    from corpus_kit import OWN_CORPUS

    verdicts = split(_seed_papers(OWN_CORPUS), None)
    by_title = {v.entry.title: v for v in verdicts}
    assert by_title["A Survey of Instruction Tuning Datasets"].new
    assert by_title["A Survey on Instruction Tuning Datasets"].new
    for retitled in (
        "TempoDiff: Flicker-Free Video Generation by Sharing Noise Across Frames",
        "Pointing While Describing: Grounded Captioning for Vision-Language Models",
    ):
        assert not by_title[retitled].new, retitled
