"""Our logistic regression (newsletter.ranking.solver) finds liblinear's optimum.

The per-subscriber models were fitted by scikit-learn's ``LogisticRegression``
(liblinear, L2, balanced class weights, sample weights, the intercept a regularised
constant column); the solver minimises the same strictly convex objective, so on
the same samples it must give the same weights.  Checked on real profiles: the
TF-IDF rows of the seed digests' papers, with 👍, 👎 and down-weighted random papers
as the ranking draws them.  And a run that trains the ranking no longer loads
scikit-learn's estimators.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from newsletter.ranking import PaperText, Tuning
from newsletter.ranking.solver import logistic
from newsletter.ranking.vocabulary import Vocabulary
from newsletter.sources.text import read_digest


def _seed_papers(seeds: Path) -> list[PaperText]:
    papers: dict[str, PaperText] = {}
    for i, path in enumerate(sorted(seeds.glob("*.txt"))):
        for entry in read_digest(path, date(2026, 3, 11 + i)).entries:
            papers.setdefault(entry.title, PaperText(entry.title, entry.title, entry.abstract))
    return list(papers.values())


def _profiles(papers: list[PaperText], count: int) -> list[tuple[list[int], list[int], list[int]]]:
    """(👍 rows, 👎 rows, random rows) of ``count`` readers of a word each, as the
    ranking draws them: 👍 on papers with the word, 👎 on some without, random others."""
    rng = random.Random(15)
    words = ["diffusion", "language", "video", "reasoning", "segmentation", "quantization"]
    out = []
    for i in range(count):
        word = words[i % len(words)]
        has = [j for j, p in enumerate(papers) if word in f"{p.title} {p.abstract}".lower()]
        hasnt = [j for j in range(len(papers)) if j not in set(has)]
        liked = rng.sample(has, min(len(has), rng.randint(3, 25)))
        disliked = rng.sample(hasnt, rng.randint(0, 20))
        rest = [j for j in hasnt if j not in set(disliked)]
        out.append((liked, disliked, rng.sample(rest, max(30, 2 * len(liked)))))
    return out


@pytest.mark.parametrize("regularisation", [10.0, 1.0])
def test_the_solver_gives_liblinears_weights_on_real_profiles(
    seeds_dir: Path, regularisation: float
) -> None:
    from sklearn.linear_model import LogisticRegression

    papers = _seed_papers(seeds_dir)
    matrix = Vocabulary(papers, Tuning()).rows(papers)
    for liked, disliked, randoms in _profiles(papers, 12):
        index = liked + disliked + randoms
        labels = np.array([1] * len(liked) + [0] * (len(disliked) + len(randoms)))
        weight = np.array([1.0] * (len(liked) + len(disliked)) + [0.25] * len(randoms))
        features = matrix[index]
        coef, intercept, _ = logistic(features, labels, weight, regularisation)
        reference = LogisticRegression(
            C=regularisation, class_weight="balanced", solver="liblinear", tol=1e-12, max_iter=10**4
        ).fit(features, labels, sample_weight=weight)
        ours = np.append(coef, intercept)
        theirs = np.append(reference.coef_.ravel(), reference.intercept_)
        assert np.abs(ours - theirs).max() <= 1e-6 * np.abs(theirs).max()
        # and the ranking it gives is the same
        scores = matrix @ coef + intercept
        assert np.array_equal(
            np.argsort(-scores)[:10], np.argsort(-reference.decision_function(matrix))[:10]
        )


def test_the_extra_columns_are_weighted_as_if_they_were_features(seeds_dir: Path) -> None:
    """The topic-prior column (dense, beside the sparse words) is one more feature."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    papers = _seed_papers(seeds_dir)
    matrix = Vocabulary(papers, Tuning()).rows(papers)
    liked, disliked, randoms = _profiles(papers, 1)[0]
    index = liked + disliked + randoms
    labels = np.array([1] * len(liked) + [0] * (len(disliked) + len(randoms)))
    weight = np.array([1.0] * (len(liked) + len(disliked)) + [0.25] * len(randoms))
    extra = np.where(labels[:, None] > 0, 1.5, -0.5) + np.linspace(0, 1, len(index))[:, None]
    coef, intercept, extra_coef = logistic(matrix[index], labels, weight, 10.0, extra=extra)
    both = sparse.hstack([matrix[index], sparse.csr_matrix(extra)], format="csr")
    reference = LogisticRegression(
        C=10.0, class_weight="balanced", solver="liblinear", tol=1e-12, max_iter=10**4
    ).fit(both, labels, sample_weight=weight)
    ours = np.concatenate([coef, extra_coef, [intercept]])
    theirs = np.append(reference.coef_.ravel(), reference.intercept_)
    assert np.abs(ours - theirs).max() <= 1e-6 * np.abs(theirs).max()


def test_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="both classes"):
        logistic(np.eye(3), np.ones(3), np.ones(3), 1.0)


def test_training_the_ranking_loads_no_scikit_learn_estimator() -> None:
    """The models are fitted by our solver: training imports no ``sklearn.linear_model``
    (nor the SVM/liblinear module behind it)."""
    probe = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from newsletter.ranking import PaperText, Vote, train\n"
        "papers = [PaperText(f'p{i}', f'speech audio model {i}' if i % 2 else f'image diffusion"
        " {i}', 'speech audio recognition' if i % 2 else 'diffusion image generation')"
        " for i in range(30)]\n"
        "at = datetime(2026, 3, 11, tzinfo=UTC)\n"
        "votes = {1: [Vote(f'p{i}', i % 2 == 1, at) for i in range(10)]}\n"
        "ranker = train(papers, votes, {1: [p.key for p in papers]})\n"
        "assert ranker.has_model(1)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sklearn.linear_model',"
        " 'sklearn.svm'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "[]"


SPEECH = [
    "streaming speech recognition of audio with conformers",
    "multilingual speech translation from raw spoken audio",
    "speech enhancement removes noise from recorded audio",
    "self-supervised speech encoders for audio recognition",
    "speaker diarization of meeting audio for speech recognition",
    "neural vocoders turn acoustic features into speech audio",
    "keyword spotting in streaming speech audio on devices",
]
DIFFUSION = [
    "text-guided image editing with diffusion models",
    "video diffusion with temporal attention across frames",
    "fast sampling for latent diffusion image generation",
    "inpainting missing image regions with masked diffusion",
    "consistency distillation of image diffusion models",
    "diffusion transformers for high-resolution image synthesis",
]
OTHER = [
    "message passing over molecular graphs predicts properties",
    "a robot learns grasping with reinforcement learning",
    "dense passage retrieval trained with hard negatives",
    "four-bit quantization of large language models",
]


def test_a_slip_of_the_thumb_is_predicted_wrong_by_the_other_votes() -> None:
    """A 👎 on a speech paper from a reader who 👍 speech papers and 👎 diffusion ones
    is the vote a model fitted without it disagrees with (below ``clean_below``),
    while every consistent vote is predicted right: what ``Tuning.clean_folds`` uses
    to count such a vote less."""
    from newsletter.ranking.solver import gram_of, held_out_agreement

    papers = [
        PaperText(f"{kind}:{i}", text, f"{text}. {field}")
        for kind, texts, field in (
            ("speech", SPEECH, "We study speech and audio models for spoken language."),
            ("diffusion", DIFFUSION, "We study diffusion models for image generation."),
            ("other", OTHER, "We study learning."),
        )
        for i, text in enumerate(texts)
    ]
    matrix = Vocabulary(papers, Tuning()).rows(papers)
    voted = len(SPEECH) + len(DIFFUSION)  # the speech papers, then the diffusion ones
    slip = len(SPEECH) - 1  # the last speech paper: 👎
    labels = np.array([1] * slip + [0] * (len(papers) - slip))
    weight = np.array([1.0] * voted + [0.25] * len(OTHER))
    agree, _ = held_out_agreement(gram_of(matrix), labels, weight, 10.0, np.arange(voted), 5)
    assert agree[slip] < Tuning().clean_below
    assert (np.delete(agree, slip) > 0.5).all()  # every consistent vote predicted right
