"""A stored vocabulary turns papers into rows without scikit-learn, float for float.

A run that reads its vocabulary from the store transforms the edition's papers with
our own code (``Vocabulary.text_rows``); these tests hold it to scikit-learn's
``TfidfVectorizer.transform`` on the seed digests, and check that such a run's
ranking path never imports scikit-learn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import render_kit

from newsletter.ranking import PaperText, Ranker, Tuning, Vote, persist, train
from newsletter.ranking.vocabulary import ENGLISH_STOP_WORDS, Vocabulary, text_of

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
ODD_TEXTS = [
    "",
    "the and of a",  # stop words only
    "x y z 1 2",  # no word of two characters
    "Ünïcode naïve CAFÉ café straße ΣΊΣΥΦΟΣ 東京 大学 snake_case x_1 2026 3D",
    "diffusion diffusion diffusion video-editing, in-painting! (LLM) LLMs",
    "Large language models. Large language models. Large language models. " * 9,
]


def _seed_papers(seeds_dir: Path) -> list[PaperText]:
    papers = []
    for path in sorted(seeds_dir.glob("*.txt")):
        edition = render_kit.seed_edition(path)
        papers += [PaperText(p.key, p.title, p.abstract, (), p.topics) for p in edition.papers]
    return papers


def _sklearn(texts: list[str], tuning: Tuning, big: bool):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        sublinear_tf=True,
        ngram_range=(1, 2 if tuning.bigrams else 1),
        min_df=tuning.min_df if big else 1,
        max_df=tuning.max_df if big else 1.0,
        stop_words="english",
        dtype=np.float64,
    ).fit(texts)


def test_our_stop_words_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as theirs

    assert theirs == ENGLISH_STOP_WORDS


@pytest.mark.parametrize(
    "tuning", [Tuning(), Tuning(bigrams=False, title_repeats=1)], ids=["bigrams", "unigrams"]
)
@pytest.mark.parametrize("size", [None, 12], ids=["all seeds", "12 papers"])
def test_a_stored_vocabulary_gives_scikit_learns_rows_float_for_float(
    tuning: Tuning, size: int | None, seeds_dir: Path
) -> None:
    papers = _seed_papers(seeds_dir)
    corpus = papers[:size] if size else papers[::2]  # the rest: papers it was not fitted on
    fitted = Vocabulary(corpus, tuning)
    stored = Vocabulary.restore(fitted.state(), tuning)
    vectorizer = _sklearn([text_of(p, tuning) for p in corpus], tuning, len(corpus) >= 20)
    assert fitted.terms[: fitted.words] == tuple(vectorizer.get_feature_names_out())
    texts = [text_of(p, tuning) for p in papers] + ODD_TEXTS
    theirs = vectorizer.transform(texts)
    for vocabulary in (fitted, stored):
        ours = vocabulary.text_rows(texts)
        assert ours.shape == theirs.shape
        assert np.array_equal(ours.indptr, theirs.indptr)
        assert np.array_equal(ours.indices, theirs.indices)
        assert np.array_equal(ours.data, theirs.data)  # equal floats, not close ones
        assert ours.nnz > 20 * len(papers)  # real rows were compared
    rows = stored.rows(papers)
    assert np.array_equal(rows[:, : stored.words].toarray(), theirs[: len(papers)].toarray())


def _ranked_from_store(folder: Path, seeds_dir: Path) -> dict[str, object]:
    """What a run that reads its vocabulary and models does with them, and whether it
    imported scikit-learn (run in a fresh interpreter by the test below)."""
    vocabulary = Vocabulary.restore((folder / "vocabulary").read_bytes(), Tuning())
    by_key = {p.key: p for p in _seed_papers(seeds_dir)}
    profiles = {}
    for model in sorted(folder.glob("model*")):
        blob = model.read_bytes()
        keys = persist.liked_keys(blob)
        liked = vocabulary.rows([by_key[k] for k in keys])[:, : vocabulary.words].tocsr()
        profiles[int(model.name[5:])] = persist.decode(blob, liked, [by_key[k].title for k in keys])
    ranker = Ranker(vocabulary, {}, profiles)
    edition = list(by_key.values())[-40:]
    ranked = ranker.rank_many(sorted(profiles), edition)
    return {
        "sklearn": "sklearn" in sys.modules,
        "ranked": {str(s): [[x.paper_key, x.reason] for x in v] for s, v in ranked.items()},
    }


def test_scoring_from_stored_models_never_imports_scikit_learn(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """The steady state of a run: vocabulary and models read as stored, the edition's
    papers turned into rows, scored and explained — all without scikit-learn, and the
    same orders and reasons as the same steps in a process that has it."""
    papers = _seed_papers(seeds_dir)
    corpus = papers[:-40]
    votes = {
        s: [Vote(p.key, i % 3 == 0, T0) for i, p in enumerate(corpus[s::7][:20])] for s in range(4)
    }
    ranker = train(corpus, votes, {})
    (tmp_path / "vocabulary").write_bytes(ranker.vocabulary.state())
    for s in range(4):
        profile = ranker.profile(s)
        assert profile is not None
        (tmp_path / f"model{s}").write_bytes(persist.encode(profile))
    folders = f"Path({str(tmp_path)!r}), Path({str(seeds_dir)!r})"
    probe = (
        "import json; from pathlib import Path; import test_ranking_vocabulary as t; "
        f"print(json.dumps(t._ranked_from_store({folders})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    found = json.loads(out.stdout)
    assert found["sklearn"] is False
    here = _ranked_from_store(tmp_path, seeds_dir)
    assert found["ranked"] == here["ranked"]
    reasons = {r.split(" ")[0] for v in here["ranked"].values() for _, r in v}  # type: ignore[attr-defined]
    assert "matches:" in reasons
