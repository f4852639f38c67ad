"""A subscriber's topic interests: how much likelier they are to 👍 a paper of each topic.

The per-subscriber model reads the topic tags as features beside thousands of
words, and with a handful of votes under L2 regularisation it leans on the words.
A reader whose taste is nearly one topic is then learned worse than the topic
filter they could have picked.  The interests are the topic filter learned from
the votes instead: for each topic, the share of the subscriber's votes on papers
tagged with it that are 👍 (a paper's primary topic counts 1, its other topics
0.5; a random unvoted paper counts ``random_weight``, like in the model), shrunk
towards their overall share by ``prior_strength`` pseudo-votes, as a log-odds
ratio against that overall share.  A topic never voted on is 0; one whose papers
they always 👍 is high; one they always 👎 is negative.

A paper's prior is the sum of its tags' log-odds (primary 1, others 0.5).  It is
one more feature of the subscriber's model (scaled by ``topic_prior``), computed
for each training paper with its own vote left out, so the model learns per
subscriber how much the topics say about their taste: much for a reader of one
topic, little for one who follows words across topics.  It also gives the reason
"you liked 5 papers in vision" when the topic, not the words, put the paper where
it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Interests:
    """Per topic column of the vocabulary: the log-odds ratio of a 👍, and how many
    liked papers were tagged with it (for the reason)."""

    log_odds: Any  # numpy float array, one per topic column
    liked: Any  # numpy int array, one per topic column


def interests_of(
    liked: Any, negatives: Any, negative_weights: Any, strength: float
) -> tuple[Interests, Any, Any]:
    """The interests from the tag rows (CSR) of the liked papers and of the negatives
    (👎 and random papers, weighted by ``negative_weights``); and each of those
    papers' prior with its own vote left out (liked ones, then negatives), which is
    what the model is trained on, so it learns how far to trust the prior on papers
    it has not seen, not how well the prior recalls the votes it was made from."""
    liked_tags = liked.toarray()
    negative_tags = negatives.toarray()
    weights = np.asarray(negative_weights, dtype=np.float64)
    topics = liked.shape[1]
    liked_count, negative_count = liked.shape[0], float(weights.sum())
    if not liked_count or not negative_count:  # nothing to compare against
        empty = Interests(np.zeros(topics), np.zeros(topics, dtype=np.int64))
        return empty, np.zeros(liked.shape[0]), np.zeros(negatives.shape[0])
    liked_mass = liked_tags.sum(axis=0)
    negative_mass = weights @ negative_tags
    log_odds = _log_odds(liked_mass, negative_mass, liked_count, negative_count, strength)
    counts = (liked_tags > 0).sum(axis=0).astype(np.int64)
    liked_out = _log_odds(
        liked_mass - liked_tags, negative_mass, liked_count - 1, negative_count, strength
    )
    negative_out = _log_odds(
        liked_mass,
        negative_mass - weights[:, None] * negative_tags,
        liked_count,
        negative_count - weights[:, None],
        strength,
    )
    return (
        Interests(log_odds, counts),
        (liked_tags * liked_out).sum(axis=1),
        (negative_tags * negative_out).sum(axis=1),
    )


def _log_odds(
    liked: Any, negative: Any, liked_count: Any, negative_count: Any, strength: float
) -> Any:
    """Per topic: the smoothed log-odds of a 👍 against the overall share."""
    base = np.asarray(liked_count / (liked_count + negative_count), dtype=np.float64)
    rate = (liked + strength * base) / (liked + negative + strength)
    return _logit(rate) - _logit(base)


def _logit(p: Any) -> Any:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
