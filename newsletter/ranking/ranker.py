"""Train one linear model per subscriber on a shared TF-IDF vocabulary; rank with it.

:func:`train` fits the vocabulary once on the corpus (the store's papers), then,
for each subscriber with votes, a logistic regression on

- their 👍 papers and seeds (positives),
- their 👎 papers (explicit negatives, full weight),
- random papers they were shown and did not vote on ("cache negatives", at half
  weight: most of what a reader skips they did not dislike, but on average it is
  less wanted than what they liked); when those run short (a profile of seeds
  only) the draw is topped up from the rest of the corpus,

with balanced class weights, so that five 👍 against fifty negatives still
count.  A profile with only 👎 flips the draw: the random papers are the weak
positives, and the model learns "unlike what I disliked".  A profile whose every
paper is voted (a tiny corpus) falls back to the centroid of its 👍 papers.

Each model keeps only its non-zero weights (the features of the papers it was
trained on), so a thousand profiles cost a few megabytes, not a thousand dense
vocabulary-sized vectors.  Everything is deterministic for a given ``seed``:
the draws come from a generator seeded by ``(seed, subscriber)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsletter.errors import NewsletterError
from newsletter.ranking.reasons import reasons_for
from newsletter.ranking.values import PaperText, Scored, Vote

RANDOM_NEGATIVES = 30
"""Random negatives drawn per profile (at least; twice the positives when more)."""
RANDOM_WEIGHT = 0.5
"""Sample weight of a random (unvoted) paper against 1.0 for a voted one."""
REGULARISATION = 1.0
"""LogisticRegression's ``C``."""


class RankingError(NewsletterError):
    """Nothing to train on: no papers to fit a vocabulary, or none with any words."""

    default_hint = "run an ingest first: the vocabulary is fitted on the store's papers"


@dataclass(frozen=True)
class _Profile:
    """One subscriber's model: sparse weights over the vocabulary, and what they liked
    (rows of the corpus matrix and titles, for the reasons)."""

    features: Any  # numpy int array: vocabulary indices with a non-zero weight
    weights: Any  # numpy float array, same length
    intercept: float
    liked: Any  # scipy CSR matrix, one L2-normalised row per liked paper
    liked_titles: tuple[str, ...]
    has_positives: bool


def _text(paper: PaperText) -> str:
    """What the vectorizer reads: the title twice (it is what a reader judges by),
    then the abstract."""
    return f"{paper.title}. {paper.title}. {paper.abstract}"


class Ranker:
    """What :func:`train` returns: the fitted vocabulary and the profiles.  Read-only
    once made; one may be shared by threads that only call :meth:`rank`."""

    def __init__(
        self,
        vectorizer: Any,
        rows: Mapping[str, int],
        matrix: Any,
        profiles: Mapping[int, _Profile],
    ) -> None:
        self._vectorizer = vectorizer
        self._rows = dict(rows)
        self._matrix = matrix
        self._profiles = dict(profiles)
        self._terms: Any = vectorizer.get_feature_names_out()
        self._last: tuple[tuple[str, ...], Any] | None = None

    @property
    def subscribers(self) -> frozenset[int]:
        """The subscribers who have a model."""
        return frozenset(self._profiles)

    def has_model(self, subscriber: int) -> bool:
        """Whether ``subscriber`` had any usable vote (a vote on a paper of the corpus)."""
        return subscriber in self._profiles

    def rank(self, subscriber: int, candidates: Sequence[PaperText]) -> list[Scored]:
        """``candidates`` best first for ``subscriber``, each with its score and reason;
        ``[]`` when the subscriber has no model (the caller keeps the digest order).
        Ties keep the candidates' order."""
        profile = self._profiles.get(subscriber)
        if profile is None or not candidates:
            return []
        matrix = self._candidate_matrix(candidates)
        weights = np.zeros(len(self._terms), dtype=np.float64)
        weights[profile.features] = profile.weights
        scores = np.asarray(matrix @ weights).ravel() + profile.intercept
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
        reasons = reasons_for(
            matrix,
            order,
            weights,
            profile.liked,
            profile.liked_titles,
            self._terms,
            has_positives=profile.has_positives,
        )
        return [
            Scored(candidates[i].key, float(scores[i]), reason)
            for i, reason in zip(order, reasons, strict=True)
        ]

    def _candidate_matrix(self, candidates: Sequence[PaperText]) -> Any:
        """TF-IDF rows of the candidates: the corpus's own rows where the paper is in it,
        the rest transformed; the last edition's matrix is kept, since every
        subscriber of one run ranks the same candidates."""
        keys = tuple(p.key for p in candidates)
        last = self._last
        if last is not None and last[0] == keys:
            return last[1]
        from scipy import sparse

        missing = [p for p in candidates if p.key not in self._rows]
        extra = self._vectorizer.transform([_text(p) for p in missing]) if missing else None
        extra_at = {p.key: i for i, p in enumerate(missing)}
        rows = [
            self._matrix[self._rows[k]] if k in self._rows else extra[extra_at[k]] for k in keys
        ]
        matrix = sparse.vstack(rows, format="csr")
        self._last = (keys, matrix)
        return matrix


def train(
    corpus: Sequence[PaperText],
    votes: Mapping[int, Sequence[Vote]],
    shown: Mapping[int, Sequence[str]],
    *,
    seed: int = 0,
) -> Ranker:
    """Fit the vocabulary on ``corpus`` and one model per subscriber in ``votes``.

    ``votes`` maps a subscriber id to their votes (a later vote on the same paper
    replaces an earlier one); ``shown`` maps a subscriber id to the keys of papers
    they were shown (voted ones are left out of the random draw).  Votes on papers
    not in the corpus are ignored; a subscriber left with none gets no model.
    Raises :class:`RankingError` when the corpus is empty or has no words.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    papers = list({p.key: p for p in corpus}.values())
    if not papers:
        raise RankingError("cannot train the ranking: the corpus has no papers")
    big = len(papers) >= 20
    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        ngram_range=(1, 2),
        min_df=2 if big else 1,
        max_df=0.5 if big else 1.0,
        stop_words="english",
        dtype=np.float64,
    )
    try:
        matrix = vectorizer.fit_transform([_text(p) for p in papers]).tocsr()
    except ValueError as exc:  # "empty vocabulary": every text is stop words or nothing
        raise RankingError(
            f"cannot train the ranking: the {len(papers)} corpus papers have no usable words"
        ) from exc
    rows = {p.key: i for i, p in enumerate(papers)}
    titles = [p.title for p in papers]
    profiles: dict[int, _Profile] = {}
    for subscriber, theirs in votes.items():
        profile = _fit(subscriber, theirs, shown.get(subscriber, ()), rows, matrix, titles, seed)
        if profile is not None:
            profiles[subscriber] = profile
    return Ranker(vectorizer, rows, matrix, profiles)


def _fit(
    subscriber: int,
    votes: Sequence[Vote],
    shown: Sequence[str],
    rows: Mapping[str, int],
    matrix: Any,
    titles: Sequence[str],
    seed: int,
) -> _Profile | None:
    """One subscriber's model, or None when none of their votes is on a corpus paper."""
    latest: dict[str, bool] = {}
    for vote in sorted(votes, key=lambda v: v.at):
        if vote.paper_key in rows:
            latest[vote.paper_key] = vote.liked
    if not latest:
        return None
    liked = [rows[k] for k, ok in latest.items() if ok]
    disliked = [rows[k] for k, ok in latest.items() if not ok]
    rng = np.random.default_rng([seed % 2**32, subscriber % 2**63])
    randoms = _draw(rng, max(RANDOM_NEGATIVES, 2 * len(liked)), latest, shown, rows)
    liked_rows = matrix[liked] if liked else matrix[[]]
    liked_titles = tuple(titles[i] for i in liked)
    if not randoms and not (liked and disliked):
        # every paper of the corpus is voted, all one way: the centroid of the 👍
        return _centroid(liked_rows, liked_titles)
    pos, neg = (liked, disliked + randoms) if liked else (randoms, disliked)
    explicit = {*liked, *disliked}
    index = pos + neg
    labels = np.array([1] * len(pos) + [0] * len(neg))
    weight = np.array([1.0 if i in explicit else RANDOM_WEIGHT for i in index])
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=REGULARISATION, class_weight="balanced", solver="liblinear", random_state=seed
    )
    model.fit(matrix[index], labels, sample_weight=weight)
    coef = np.asarray(model.coef_).ravel()
    features = np.flatnonzero(coef)
    return _Profile(
        features=features.astype(np.int32),
        weights=coef[features],
        intercept=float(model.intercept_[0]),
        liked=liked_rows,
        liked_titles=liked_titles,
        has_positives=bool(liked),
    )


def _draw(
    rng: np.random.Generator,
    count: int,
    voted: Mapping[str, bool],
    shown: Sequence[str],
    rows: Mapping[str, int],
) -> list[int]:
    """``count`` random unvoted corpus rows: from what was shown first, then the rest."""
    seen: set[str] = set()
    pool = [k for k in shown if k in rows and k not in voted and not (k in seen or seen.add(k))]
    picked = [pool[i] for i in rng.permutation(len(pool))[:count]] if pool else []
    if len(picked) < count:
        taken = set(picked)
        rest = [k for k in rows if k not in voted and k not in taken]
        more = count - len(picked)
        picked += [rest[i] for i in rng.permutation(len(rest))[:more]] if rest else []
    return sorted(rows[k] for k in picked)


def _centroid(liked: Any, titles: tuple[str, ...]) -> _Profile:
    mean = np.asarray(liked.mean(axis=0)).ravel()
    features = np.flatnonzero(mean)
    return _Profile(
        features=features.astype(np.int32),
        weights=mean[features],
        intercept=0.0,
        liked=liked,
        liked_titles=titles,
        has_positives=True,
    )
