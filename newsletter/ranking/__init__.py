"""Ranking: each subscriber's papers ordered by what they liked, with a reason per paper.

Offline and on this machine's CPU only: a TF-IDF vocabulary fitted on the
store's papers, one linear model per subscriber with votes (👍 positives, 👎
negatives, random negatives drawn from papers shown but not voted), scored by
the model's decision function.  No model download, no network.  A subscriber
with no votes has no model, and :meth:`Ranker.rank` returns ``[]`` for them:
the caller keeps the digest order.

- :mod:`newsletter.ranking.values`: the values in and out (``PaperText``,
  ``Vote``, ``Scored``).
- :mod:`newsletter.ranking.ranker`: :func:`train` and the :class:`Ranker` it
  returns; ``RankingError`` when there is nothing to train on.
- :mod:`newsletter.ranking.reasons`: the one-line reason a paper is ranked where
  it is ("because you liked “X”", or the terms that matched).

The method and its evaluation against digest order and topic-only filtering
are in ``docs/ranking.md``.  scikit-learn is imported inside the functions that
use it, so commands that never rank (``newsletter --help``) do not pay for it.

Owns: the per-subscriber models, their training and scoring, and the reasons.

May import: the core values (``errors``).  Never ``store``, ``config``,
``render``, ``delivery``, ``web``, ``pipeline`` or ``cli``: the caller reads votes
and papers from the store and hands them in as values.
"""

from __future__ import annotations

from newsletter.ranking.ranker import Ranker, RankingError, train
from newsletter.ranking.tuning import Tuning
from newsletter.ranking.values import PaperText, Scored, Vote

__all__ = ["PaperText", "Ranker", "RankingError", "Scored", "Tuning", "Vote", "train"]
