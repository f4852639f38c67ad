"""Train one linear model per subscriber on a shared vocabulary; rank with it.

:func:`train` fits the vocabulary once on the corpus (the store's papers:
:mod:`newsletter.ranking.vocabulary`), then, for each subscriber with votes, a
logistic regression on

- their 👍 papers and seeds (positives),
- their 👎 papers (explicit negatives, full weight),
- random papers they were shown and did not vote on ("cache negatives", at
  ``random_weight``: most of what a reader skips they did not dislike, but on
  average it is less wanted than what they liked); when those run short (a
  profile of seeds only) the draw is topped up from the rest of the corpus,

with balanced class weights, so that five 👍 against fifty negatives still
count.  A profile with only 👎 flips the draw: the random papers are the weak
positives, and the model learns "unlike what I disliked".  A profile whose every
corpus paper is voted one way (a tiny corpus) falls back to the centroid of its 👍.
With ``Tuning.topic_prior`` > 0 the model also gets the subscriber's topic prior
(:mod:`newsletter.ranking.interests`) as one more column, each training paper's
with its own vote left out; it is off by default (it did not help the readers of
``docs/ranking.md``), but the per-topic 👍 counts always give the topic reason.

Each model keeps only its non-zero weights (the features of the papers it was
trained on), so a thousand profiles cost a few megabytes, not a thousand dense
vocabulary-sized vectors.  Everything is deterministic for a given ``seed``: the
draws come from a generator seeded by ``(seed, subscriber)``, and the solver
(:mod:`newsletter.ranking.solver`) has no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsletter.errors import NewsletterError
from newsletter.ranking.interests import Interests, interests_of
from newsletter.ranking.reasons import (
    DISLIKED_ONLY,
    SIMILAR,
    best_terms,
    reasons_for,
    topic_reasons,
    worded_many,
)
from newsletter.ranking.tuning import Tuning
from newsletter.ranking.values import PaperText, Scored, Vote
from newsletter.ranking.vocabulary import Vocabulary


class RankingError(NewsletterError):
    """Nothing to train on: no papers to fit a vocabulary, or none with any words."""

    default_hint = "run an ingest first: the vocabulary is fitted on the store's papers"


@dataclass(frozen=True)
class _Profile:
    """One subscriber's model: sparse weights over the vocabulary, and what they liked
    (feature rows and titles, for the reasons)."""

    features: Any  # numpy int array: vocabulary columns with a non-zero weight
    weights: Any  # numpy float array, same length
    intercept: float
    liked: Any  # CSR matrix, the word columns of one row per liked paper
    liked_titles: tuple[str, ...]
    has_positives: bool
    interests: Interests
    prior_weight: float  # what one unit of the topic prior adds to the score
    liked_keys: tuple[str, ...] = ()  # the liked papers' keys (what a stored model keeps)
    blend: float = 1.0  # the model's share of the fused rank (:func:`fuse`); 0: the fallback


Ordered = tuple[list[str], list[float], list[str]]
"""One subscriber's candidates best first: their keys, fused scores and reasons."""


class Ranker:
    """What :func:`train` returns: the fitted vocabulary and the profiles.  Read-only
    once made (it keeps a few candidate lists' rows; safe to share between threads)."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        rows: Mapping[str, int],
        profiles: Mapping[int, _Profile],
        rows_cache: dict[tuple[str, ...], tuple[Any, Any, Any]] | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        self._rows = dict(rows)
        self._profiles = dict(profiles)
        self._cache = {} if rows_cache is None else rows_cache
        """Candidates' rows by their keys; a caller making one Ranker per batch of
        subscribers over one vocabulary shares one, so an edition is read once."""

    @property
    def vocabulary(self) -> Vocabulary:
        """The columns every profile's weights are over."""
        return self._vocabulary

    def profile(self, subscriber: int) -> _Profile | None:
        """``subscriber``'s model (what :mod:`newsletter.ranking.persist` stores)."""
        return self._profiles.get(subscriber)

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
        if subscriber not in self._profiles or not candidates:
            return []
        return self.rank_many([subscriber], candidates)[subscriber]

    def scores(self, subscribers: Sequence[int], candidates: Sequence[PaperText]) -> Any:
        """The scores of ``candidates`` (columns) for each of ``subscribers`` (rows, each
        with a model), as one product: the weights times the candidates' rows
        (:func:`_weights_times_rows`: the floats of the stacked sparse product), plus
        each intercept and topic prior — no product per subscriber."""
        matrix, _, tags = self._candidate_rows(candidates)
        profiles = [self._profiles[s] for s in subscribers]
        if not profiles:
            return np.zeros((0, len(candidates)))
        scores = _weights_times_rows(profiles, matrix, len(self._vocabulary.terms))
        scores += np.array([[p.intercept] for p in profiles])
        odds = np.stack([p.prior_weight * p.interests.log_odds for p in profiles])
        if odds.shape[1]:
            scores += odds @ np.asarray(tags.toarray()).T
        return scores

    def rank_many(
        self, subscribers: Sequence[int], candidates: Sequence[PaperText]
    ) -> dict[int, list[Scored]]:
        """:meth:`rank` for many subscribers at once (their scores: :meth:`scores`); the
        subscribers without a model are left out."""
        chosen = [s for s in subscribers if s in self._profiles]
        if not chosen or not candidates:
            return {}
        table = self.scores(chosen, candidates)
        return {s: self.explained(s, candidates, table[i]) for i, s in enumerate(chosen)}

    def explained(
        self,
        subscriber: int,
        candidates: Sequence[PaperText],
        scores: Any,
        similarity: Any = None,
    ) -> list[Scored]:
        """``candidates`` best first by ``scores`` (ties: the candidates' order), each with
        its reason — the per-subscriber part, for the papers a message shows only.
        ``similarity``: the candidates' cosine similarity to the profile's liked papers
        (candidates × liked, dense) when the caller has it already (delivery computes it
        once per edition, for every liked paper); otherwise computed here."""
        profile = self._profiles[subscriber]
        _, words, tags = self._candidate_rows(candidates)
        weights = np.zeros(len(self._vocabulary.terms), dtype=np.float64)
        weights[profile.features] = profile.weights
        scores = fuse(
            np.asarray(scores, dtype=np.float64), profile.blend, self._vocabulary.tuning.fusion_k
        )
        order = [int(i) for i in np.lexsort((np.arange(len(candidates)), -scores))]
        reasons = reasons_for(
            words,
            order,
            weights[: self._vocabulary.words] * self._vocabulary.nameable(),
            profile.liked,
            profile.liked_titles,
            self._vocabulary.terms,
            has_positives=profile.has_positives,
            topic_reasons=topic_reasons(
                tags,
                self._vocabulary.tuning.topic_weight * weights[self._vocabulary.words :]
                + profile.prior_weight * profile.interests.log_odds,
                profile.interests.liked,
                self._vocabulary.topics,
            ),
            similarity=similarity,
        )
        return [
            Scored(candidates[i].key, float(scores[i]), reason)
            for i, reason in zip(order, reasons, strict=True)
        ]

    def explained_many(
        self,
        subscribers: Sequence[int],
        candidates: Sequence[PaperText],
        scores: Any,
        similarity: Sequence[Any],
    ) -> dict[int, list[Scored]]:
        """:meth:`explained` for many subscribers at once, the same papers, scores and
        reasons (a test checks): ``scores`` one row per subscriber, ``similarity`` each
        one's candidates × liked papers.  The fusion, the order, the topic reasons, the
        liked paper nearest each candidate and the terms' pushes are array operations
        over the whole batch (:meth:`ordered_many`)."""
        return {
            s: [Scored(k, v, r) for k, v, r in zip(*found, strict=True)]
            for s, found in self.ordered_many(subscribers, candidates, scores, similarity).items()
        }

    def ordered_many(
        self,
        subscribers: Sequence[int],
        candidates: Sequence[PaperText],
        scores: Any,
        similarity: Sequence[Any],
    ) -> dict[int, Ordered]:
        """What :meth:`explained_many` gives, as three lists per subscriber — the keys
        best first, their fused scores, their reasons — and no object per card (what
        delivery reads: a message needs the order and the reasons only)."""
        if not subscribers:
            return {}
        profiles = [self._profiles[s] for s in subscribers]
        vocabulary = self._vocabulary
        n_words = vocabulary.words
        _, words, tags = self._candidate_rows(candidates)
        count, n = len(profiles), len(candidates)
        dense = np.zeros((count, len(vocabulary.terms)), dtype=np.float64)
        for b, profile in enumerate(profiles):
            dense[b, profile.features] = profile.weights
        # the fused score and the order, as :func:`fuse` and :meth:`explained` make them
        model = np.asarray(scores, dtype=np.float64)
        position = np.arange(n, dtype=np.float64)
        by_model = np.empty((count, n))
        rows = np.arange(count)[:, None]
        by_model[rows, np.argsort(-model, axis=1, kind="stable")] = position
        blend = np.array([p.blend for p in profiles], dtype=np.float64)[:, None]
        k = vocabulary.tuning.fusion_k
        fused = blend / (k + 1 + by_model) + (1 - blend) / (k + 1 + position)
        orders = np.argsort(-fused, axis=1, kind="stable").tolist()
        # the topic reasons (:func:`topic_reasons`), every subscriber at once
        per_topic = vocabulary.tuning.topic_weight * dense[:, n_words:] + np.array(
            [p.prior_weight * p.interests.log_odds for p in profiles]
        ).reshape(count, -1)
        topics: list[dict[int, tuple[float, str]]] = [{} for _ in range(count)]
        if tags.shape[1]:
            pushes = tags.toarray()[None, :, :] * per_topic[:, None, :]
            total = pushes.sum(axis=2)
            best = pushes.argmax(axis=2)
            top = np.take_along_axis(pushes, best[:, :, None], axis=2)[:, :, 0]
            # the pairs whose best topic the subscriber liked twice or more, gathered at
            # once (not a numpy scalar read per pair)
            at_b, at_i = np.nonzero((total > 0) & (top > 0))
            at_j = best[at_b, at_i]
            counts = np.array([p.interests.liked for p in profiles]).reshape(count, -1)
            liked_n = counts[at_b, at_j]
            kept = liked_n >= 2
            names = vocabulary.topics
            for b, i, j, liked, value in zip(
                at_b[kept].tolist(),
                at_i[kept].tolist(),
                at_j[kept].tolist(),
                liked_n[kept].tolist(),
                total[at_b[kept], at_i[kept]].tolist(),
                strict=True,
            ):
                topics[b][i] = (value, f"you liked {liked} papers in {names[j]}")
        # the terms' pushes: each candidate's words times each subscriber's weights, and
        # each pair's best terms (:func:`best_terms`: largest first, ties in column order)
        indptr, features, values = words.indptr, words.indices, words.data
        push_all = dense[:, features] * (values * vocabulary.nameable()[features])[None, :]
        terms = vocabulary.terms
        parts = vocabulary.word_columns()
        keys = [p.key for p in candidates]
        out: dict[int, Ordered] = {}
        # at most a few million pushes laid out at once (a batch of 128 on 60 cards: one)
        width = int(np.diff(indptr).max()) if n and len(features) else 1
        step = max(1, 2_000_000 // max(1, n * width))
        for first in range(0, count, step):
            last = min(count, first + step)
            pushed, chosen, clashed = best_terms(
                push_all[first:last], indptr, features, parts, terms
            )
            pushed_rows = pushed.tolist()
            chosen_rows = chosen.tolist()  # per pair, TERMS columns (-1 past the last)
            fused_rows = fused[first:last].tolist()
            by_row: dict[int, dict[int, tuple[float, str]]] = {}
            for (row, card), answer in clashed.items():
                by_row.setdefault(row, {})[card] = answer
            for b in range(first, last):
                subscriber, profile = subscribers[b], profiles[b]
                order = orders[b]
                scored = fused_rows[b - first]
                if not profile.has_positives:
                    out[subscriber] = (
                        [keys[i] for i in order],
                        [scored[i] for i in order],
                        [DISLIKED_ONLY] * n,
                    )
                    continue
                # every card's "matches: …" at once, then what beats it: a clash's own
                # walk, a topic pushing more than the terms, the liked paper nearest it
                their_push = pushed_rows[b - first]
                said = worded_many(chosen_rows[b - first], terms)
                clashes = by_row.get(b - first)
                if clashes is not None:
                    for i, (push, match) in clashes.items():
                        their_push[i] = push
                        said[i] = match
                for i, (value, text) in topics[b].items():
                    if value > their_push[i]:
                        said[i] = text
                near = similarity[b]
                if near.shape[1]:
                    nearest = near.argmax(axis=1)
                    titles = profile.liked_titles
                    for i in np.flatnonzero(near[np.arange(n), nearest] >= SIMILAR).tolist():
                        said[i] = f"because you liked “{titles[int(nearest[i])]}”"
                out[subscriber] = (
                    list(map(keys.__getitem__, order)),
                    list(map(scored.__getitem__, order)),
                    list(map(said.__getitem__, order)),
                )
        return out

    def _candidate_rows(self, candidates: Sequence[PaperText]) -> tuple[Any, Any, Any]:
        """Feature rows of the candidates, their word columns alone, and their tag rows.
        A few candidate lists' rows are kept: every subscriber of one run ranks the
        same edition, or a few topic sets of it."""
        keys = tuple(p.key for p in candidates)
        found = self._cache.get(keys)
        if found is not None:
            return found
        matrix = self._vocabulary.rows(candidates)
        words = matrix[:, : self._vocabulary.words].tocsr()
        tags = self._vocabulary.tags(candidates)
        if len(self._cache) >= 16:
            self._cache.clear()
        self._cache[keys] = (matrix, words, tags)
        return matrix, words, tags


def train(
    corpus: Sequence[PaperText],
    votes: Mapping[int, Sequence[Vote]],
    shown: Mapping[int, Sequence[str]],
    *,
    seed: int = 0,
    tuning: Tuning = Tuning(),  # noqa: B008 (frozen: one shared default is safe)
    topics: Mapping[int, frozenset[str] | None] | None = None,
) -> Ranker:
    """Fit the vocabulary on ``corpus`` and one model per subscriber in ``votes``.

    ``votes`` maps a subscriber id to their votes (a later vote on the same paper
    replaces an earlier one); ``shown`` maps a subscriber id to the keys of papers
    they were shown (voted ones are left out of the random draw); ``topics`` maps a
    subscriber id to the topics they picked (absent or None: every topic), which
    their ranking will reorder: their blend is validated on that edition's papers
    in its order (:func:`_choose_blend`).  Votes on papers
    not in the corpus are ignored; a subscriber left with none gets no model.
    Raises :class:`RankingError` when the corpus is empty or has no words.
    """
    papers = list({p.key: p for p in corpus}.values())
    if not papers:
        raise RankingError("cannot train the ranking: the corpus has no papers")
    try:
        vocabulary = Vocabulary(papers, tuning)
    except ValueError as exc:  # "empty vocabulary": every text is stop words or nothing
        raise RankingError(
            f"cannot train the ranking: the {len(papers)} corpus papers have no usable words"
        ) from exc
    rows = {p.key: i for i, p in enumerate(papers)}
    corpus_rows = vocabulary.corpus
    profiles = fit_profiles(
        vocabulary,
        papers,
        (corpus_rows, vocabulary.corpus_tags),
        votes,
        shown,
        seed,
        tuning,
        topics=topics,
    )
    return Ranker(vocabulary, rows, profiles)


def fit_profiles(
    vocabulary: Vocabulary,
    papers: Sequence[PaperText],
    matrices: tuple[Any, Any] | None,
    votes: Mapping[int, Sequence[Vote]],
    shown: Mapping[int, Sequence[str]],
    seed: int = 0,
    tuning: Tuning = Tuning(),  # noqa: B008 (frozen: one shared default is safe)
    *,
    topics: Mapping[int, frozenset[str] | None] | None = None,
) -> dict[int, _Profile]:
    """One model per subscriber in ``votes`` over an already fitted ``vocabulary``
    (a stored one is kept between runs): what :func:`train` does after fitting it.
    ``papers`` are the corpus (distinct keys); ``matrices`` their feature and tag rows
    when known (None: computed here); ``topics`` as for :func:`train`.  A subscriber
    with no usable vote is left out."""
    if matrices is None:
        matrices = (vocabulary.rows(papers), vocabulary.tags(papers))
    corpus_rows = matrices[0]
    rows = {p.key: i for i, p in enumerate(papers)}
    words = corpus_rows[:, : vocabulary.words].tocsr()
    titles = [p.title for p in papers]
    profiles: dict[int, _Profile] = {}
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # tiny BLAS calls: threads only wait on each other
        for subscriber, theirs in votes.items():
            fitted = _fit(
                subscriber,
                theirs,
                shown.get(subscriber, ()),
                rows,
                matrices,
                seed,
                tuning,
                _edition_rank(papers, (topics or {}).get(subscriber)),
            )
            if fitted is not None:
                model, liked, interests, prior_weight, blend = fitted
                profiles[subscriber] = _Profile(
                    features=model[0],
                    weights=model[1],
                    intercept=model[2],
                    liked=words[liked],
                    liked_titles=tuple(titles[i] for i in liked),
                    has_positives=bool(liked),
                    interests=interests,
                    prior_weight=prior_weight,
                    liked_keys=tuple(papers[i].key for i in liked),
                    blend=blend,
                )
    return profiles


_Model = tuple[Any, Any, float]  # non-zero feature columns, their weights, intercept
_Fitted = tuple[_Model, list[int], Interests, float, float]
"""+ liked rows, interests, prior weight, and the blend (the model's share of the rank)."""


def _weights_times_rows(profiles: Sequence[_Profile], matrix: Any, terms: int) -> Any:
    """Each profile's weights times each candidate's row (profiles × candidates): what
    the stacked sparse weights times the rows (sparse × sparse) give, float for float.

    The weights are laid out dense (a block of profiles at a time, at most
    :data:`_DENSE_CELLS` cells), and the candidates' sparse rows multiply each block:
    every score is the same products (a weight times a TF-IDF value) added in the same
    order — ascending column, as a profile keeps its features and a row its columns;
    the extra terms are exact zeros — as the sparse product, whose two passes over
    every profile's thousands of weights were most of a batch's scoring (fifty votes
    touch most columns of a small vocabulary: the weights are nearly dense anyway)."""
    step = max(1, _DENSE_CELLS // max(1, terms))
    out = np.empty((len(profiles), matrix.shape[0]), dtype=np.float64)
    for first in range(0, len(profiles), step):
        block = profiles[first : first + step]
        dense = np.zeros((len(block), terms), dtype=np.float64)
        for b, profile in enumerate(block):
            dense[b, profile.features] = profile.weights
        out[first : first + len(block)] = np.asarray(matrix @ np.ascontiguousarray(dense.T)).T
    return out


_DENSE_CELLS = 1_000_000
"""The most weights :func:`_weights_times_rows` lays out dense at once (8 MB, and as much
for its transposed copy: a large vocabulary is scored a few profiles at a time)."""


def fuse(model: Any, blend: float, k: float) -> Any:
    """The fused score of candidates (in the caller's order) from the model's scores:
    a weighted reciprocal-rank fusion ``blend / (k + rank by model) + (1 - blend) /
    (k + position)`` (ranks from 1, ties in the caller's order).  ``blend`` = 1 is the
    model's order, 0 the *fallback*: the caller's order — the edition's, which for a
    subscriber with topics is the topic filter's.  Ranks, not raw scores, so that one
    scale fits every subscriber whatever the spread of their model's scores."""
    n = len(model)
    position = np.arange(n, dtype=np.float64)
    by_model = np.empty(n)
    by_model[np.lexsort((position, -np.asarray(model, dtype=np.float64)))] = position
    return blend / (k + 1 + by_model) + (1 - blend) / (k + 1 + position)


def _fit(
    subscriber: int,
    votes: Sequence[Vote],
    shown: Sequence[str],
    rows: Mapping[str, int],
    matrices: tuple[Any, Any],
    seed: int,
    tuning: Tuning,
    edition_rank: Callable[[int], tuple[int, ...] | None] | None,
) -> _Fitted | None:
    """One subscriber's model, their liked rows, their topic interests, the weight
    of the topic prior and the blend chosen on their own later votes
    (:func:`_choose_blend`), or None when none of their votes is on a corpus paper."""
    latest: dict[str, bool] = {}
    when: dict[str, tuple[bool, Any]] = {}  # a paper's place in time: its latest vote's
    for vote in sorted(votes, key=lambda v: v.at):
        if vote.paper_key in rows:
            latest[vote.paper_key] = vote.liked
            when[vote.paper_key] = (not vote.seeded, vote.at)  # seeds before any vote
    if not latest:
        return None
    rng = np.random.default_rng([seed % 2**32, subscriber % 2**63])
    timeline = [(rows[k], latest[k]) for k in sorted(latest, key=lambda k: when[k])]
    fitted = _logistic(timeline, latest, shown, rows, matrices, rng, tuning)
    blend = _choose_blend(timeline, latest, shown, rows, matrices, rng, tuning, edition_rank)
    return (*fitted, blend)


def _choose_blend(
    timeline: Sequence[tuple[int, bool]],
    voted: Mapping[str, bool],
    shown: Sequence[str],
    rows: Mapping[str, int],
    matrices: tuple[Any, Any],
    rng: np.random.Generator,
    tuning: Tuning,
    edition_rank: Callable[[int], tuple[int, ...] | None] | None,
) -> float:
    """The model's share of the fused rank (:func:`fuse`), chosen on the subscriber's
    own votes in time order: a model trained on their earlier votes (all but the
    latest ``validation_share``) ranks the later ones that their copy would hold (with
    topics: those of their topic edition, in its order), fused at each of
    ``Tuning.blends``; the best NDCG@10 (their 👍 as the gain) wins.  A subscriber with
    topics keeps the fallback — the topic filter's order — on a tie or without
    evidence (no 👍 before, or later votes all of one kind), so the model must beat
    the topic filter on votes it was not trained on; one without topics keeps the
    model then (their fallback, the digest's order, knows nothing of them).  Seeds
    are "papers I like", not judgements in time: they stay in training."""
    blends = sorted(set(tuning.blends))
    # Without evidence, or on a tie: the topic filter for a subscriber with topics (a
    # handful of votes rarely beats it), the model for one without (their fallback is
    # the digest's order, which knows nothing of them).
    with_topics = edition_rank is not None
    default = blends[0] if with_topics else blends[-1]
    if len(blends) == 1:
        return blends[0]
    folds = 1  # two rolling folds were no better on the development readers
    n = len(timeline)
    held_count = round(n * tuning.validation_share)
    totals = dict.fromkeys(blends, 0.0)
    evidence = False
    place = edition_rank or (lambda _row: (0,))
    for f in range(folds):
        lo = n - held_count + (held_count * f) // folds
        hi = n - held_count + (held_count * (f + 1)) // folds
        earlier, later = timeline[:lo], timeline[lo:hi]
        # what their ranking will reorder: the later papers of their topic edition, in
        # its order (a picked topic's own papers first, then those it only tags)
        placed = [(at, j, item) for j, item in enumerate(later) if (at := place(item[0]))]
        later = [item for _, _, item in sorted(placed, key=lambda x: (x[0], x[1]))]
        kinds = {ok for _, ok in later}
        if len(kinds) < 2 or not any(ok for _, ok in earlier):
            continue
        evidence = True
        model, _, interests, prior_weight = _logistic(
            earlier, voted, shown, rows, matrices, rng, tuning
        )
        matrix, tags = matrices
        held = [i for i, _ in later]
        weights = np.zeros(matrix.shape[1])
        weights[model[0]] = model[1]
        topical = np.asarray(tags[held] @ interests.log_odds).ravel()
        scores = np.asarray(matrix[held] @ weights).ravel() + model[2] + prior_weight * topical
        gains = [ok for _, ok in later]
        for b in blends:
            fused = fuse(scores, b, tuning.fusion_k)
            order = sorted(range(len(held)), key=lambda i: (-fused[i], i))
            ranked = [gains[i] for i in order]
            totals[b] += _ndcg(ranked)
    if not evidence:
        return default

    return max(blends, key=lambda b: (round(totals[b], 9), -b if with_topics else b))


def _edition_rank(
    papers: Sequence[PaperText], picked: frozenset[str] | None
) -> Callable[[int], tuple[int, ...] | None] | None:
    """For a corpus row: its place in the topic edition of ``picked`` (``(0,)`` for a
    paper whose primary topic is picked, ``(1,)`` for one only tagged with one), or
    None when it is not in that edition; None (no function) without topics."""
    if picked is None:
        return None

    def place(row: int) -> tuple[int, ...] | None:
        tagged = papers[row].topics
        if not any(t in picked for t in tagged):
            return None
        return (0,) if tagged[0] in picked else (1,)

    return place


def _ndcg(relevant: Sequence[bool], at: int = 10) -> float:
    gain = sum(1 / np.log2(i + 2) for i, r in enumerate(relevant[:at]) if r)
    ideal = sum(1 / np.log2(i + 2) for i in range(min(at, sum(relevant))))
    return float(gain / ideal) if ideal else 0.0


def _logistic(
    timeline: Sequence[tuple[int, bool]],
    voted: Mapping[str, bool],
    shown: Sequence[str],
    rows: Mapping[str, int],
    matrices: tuple[Any, Any],
    rng: np.random.Generator,
    tuning: Tuning,
) -> tuple[_Model, list[int], Interests, float]:
    """The model on the votes of ``timeline`` (corpus row, 👍), with random negatives
    drawn from the shown papers not in ``voted`` (every vote, held-out ones too)."""
    matrix, tags = matrices
    liked = sorted(i for i, ok in timeline if ok)
    disliked = sorted(i for i, ok in timeline if not ok)
    randoms = _draw(rng, max(tuning.random_negatives, 2 * len(liked)), voted, shown, rows)
    negatives = disliked + randoms
    negative_weights = np.array([1.0] * len(disliked) + [tuning.random_weight] * len(randoms))
    interests, liked_prior, negative_prior = interests_of(
        tags[liked], tags[negatives], negative_weights, tuning.prior_strength
    )
    if not randoms and not (liked and disliked):
        # every paper of the corpus is voted, all one way: the centroid of the 👍
        centroid = _sparse(np.asarray(matrix[liked].mean(axis=0)).ravel(), 0.0)
        return centroid, liked, interests, 0.0
    pos, neg = (liked, disliked + randoms) if liked else (randoms, disliked)
    explicit = {*liked, *disliked}
    index = pos + neg
    labels = np.array([1] * len(pos) + [0] * len(neg))
    weight = np.array([1.0 if i in explicit else tuning.random_weight for i in index])
    from newsletter.ranking.solver import gram_of, held_out_agreement, logistic

    # The solver works in the span of these papers (an n × n system), so the size of
    # the vocabulary only costs the two sparse products; a column none of them uses
    # gets weight 0 and is not kept.
    # The topic prior, each paper's with its own vote left out, as one more column
    # (zero without a 👍: then ``pos`` are the random papers, and there is no prior).
    prior = np.concatenate([liked_prior, negative_prior]) if liked else np.zeros(len(index))
    extra = tuning.topic_prior * prior[:, None] if tuning.topic_prior and prior.any() else None
    features = matrix[index]
    gram, start = gram_of(features, extra), None
    if tuning.clean_folds and liked and disliked:
        # votes their other votes contradict (likely a slip of the thumb) count less
        voted_at = np.flatnonzero([i in explicit for i in index])
        agree, start = held_out_agreement(
            gram,
            labels,
            weight,
            tuning.regularisation,
            voted_at,
            tuning.clean_folds,
            tuning.clean_steps,
        )
        weight = weight.copy()
        weight[voted_at[agree < tuning.clean_below]] *= tuning.clean_weight
    coef, intercept, extra_coef = logistic(
        features, labels, weight, tuning.regularisation, extra=extra, gram=gram, start=start
    )
    prior_weight = float(extra_coef[0]) * tuning.topic_prior if extra is not None else 0.0
    fitted = _sparse(coef, intercept)
    return fitted, liked, interests, prior_weight


def _sparse(coef: Any, intercept: float) -> _Model:
    features = np.flatnonzero(coef)
    return features.astype(np.int32), coef[features], intercept


def _draw(
    rng: np.random.Generator,
    count: int,
    voted: Mapping[str, bool],
    shown: Sequence[str],
    rows: Mapping[str, int],
) -> list[int]:
    """``count`` random unvoted corpus rows: from what was shown first, then the rest."""
    pool = [k for k in dict.fromkeys(shown) if k in rows and k not in voted]
    picked = [pool[i] for i in rng.permutation(len(pool))[:count]]
    if len(picked) < count:
        taken = set(picked)
        rest = [k for k in rows if k not in voted and k not in taken]
        picked += [rest[i] for i in rng.permutation(len(rest))[: count - len(picked)]]
    return sorted(rows[k] for k in picked)
