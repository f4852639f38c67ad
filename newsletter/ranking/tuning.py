"""The knobs of the ranking model, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """The knobs of the model.  The defaults were chosen on the *development* readers
    of ``bench/bench_ranking.py --tune`` (other topics, other words), never on the
    readers ``docs/ranking.md`` reports."""

    title_repeats: int = 3
    """How many times the title is read before the abstract (a reader judges by it)."""
    bigrams: bool = True
    min_df: int = 2
    """Papers a term must appear in to be a feature (from 20 corpus papers up)."""
    max_df: float = 0.5
    """Share of papers above which a term is too common to tell them apart."""
    topic_weight: float = 0.25
    """The value of a paper's primary topic column (its other topics: times
    ``secondary_share``)."""
    secondary_share: float = 0.5
    """A paper's other topics against its primary one, in the features and the prior."""
    regularisation: float = 10.0
    """LogisticRegression's ``C``."""
    random_negatives: int = 30
    """Random negatives drawn per profile (at least; twice the positives when more)."""
    random_weight: float = 0.25
    """Sample weight of a random (unvoted) paper against 1.0 for a voted one."""
    topic_prior: float = 0.0
    """Scale of the topic-prior column (``ranking/interests.py``) in each model.  0 (the
    default) leaves it out, and the model learns the topics from the tag columns
    alone: with 1 the development readers' mean NDCG@10 fell (ranking alone 0.605 →
    0.571, topics + ranking 0.733 → 0.727)."""
    prior_strength: float = 2.0
    """Pseudo-votes that shrink a topic's 👍 share towards the subscriber's overall one."""
    fusion_k: float = 20.0
    """The ``k`` of the rank fusion (``ranker.fuse``): how much the top places count
    more than the next ones (RRF's usual 60 flattens a 20-paper edition)."""
    blends: tuple[float, ...] = (0.75,)
    """The model's shares of the fused rank (``ranker.fuse``; 0 is the fallback, the
    copy's own order).  One value: every subscriber gets it.  Several: each
    subscriber's is chosen on their own latest votes (``ranker._choose_blend``).  On
    the development readers a fixed 0.75 scored best (topics + ranking 0.736, ranking
    alone 0.632; 1.0: 0.732 / 0.606; 0.5: 0.712 / 0.525) and the per-subscriber choice
    among 0, 0.25, 0.5, 0.75, 1 worse (0.678 / 0.582: a third of 10–40 votes is too
    little evidence), so the default is the fixed blend."""
    clean_folds: int = 0
    """Folds of the check of each 👍/👎 against the subscriber's other votes (0, the
    default: off): each vote is predicted by the model fitted without its fold
    (``solver.held_out_agreement``), and one predicted wrong (below ``clean_below``)
    counts ``clean_weight`` of a vote.  On the development readers (both sets of
    ``bench/ranking_eval.py``, mean NDCG@10 of topics + ranking and ranking alone over
    seeds 0–4) 5 folds below 0.4 scored 0.731 against 0.724 off, but the one-step
    approximation of the folds 0.718 and two steps 0.733: noise-sized and fragile, for
    2.5× the fitting cost, so it is off (docs/ranking.md, *Choosing the knobs*)."""
    clean_below: float = 0.4
    """A vote whose held-out probability of its own label is below this is taken for a
    slip of the thumb (or a change of mind) and counts ``clean_weight`` of a vote."""
    clean_weight: float = 0.1
    clean_steps: int = 50
    """Newton steps per fold of the check, from the model on every vote (1: the
    one-step approximation)."""
    validation_share: float = 1 / 3
    """The share of a subscriber's latest votes held out to choose their blend."""
