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
    """The value of a paper's primary topic column (its other topics: half)."""
    regularisation: float = 10.0
    """LogisticRegression's ``C``."""
    random_negatives: int = 30
    """Random negatives drawn per profile (at least; twice the positives when more)."""
    random_weight: float = 0.25
    """Sample weight of a random (unvoted) paper against 1.0 for a voted one."""
    topic_prior: float = 1.0
    """Weight of the subscriber's topic interests (``ranking/interests.py``) added to
    the model's score; 0 turns them off."""
    prior_strength: float = 2.0
    """Pseudo-votes that shrink a topic's 👍 share towards the subscriber's overall one."""
