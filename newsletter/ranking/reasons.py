"""The one-line reason a ranked paper is where it is, in words a reader checks at a glance.

First choice: the liked paper most like the candidate, by cosine similarity of
their TF-IDF rows, when it is at least :data:`SIMILAR` ("because you liked
“X”").  Otherwise the candidate's terms that pushed it up most (its weight in
the model times its TF-IDF value, positive ones only; a unigram already inside a
chosen bigram is skipped): "matches: diffusion, video editing, inpainting".
When the paper's topics (the model's weights on its tags, and the topic prior of
``ranking/interests.py``) pushed it up more than those terms did, the reason
names the topic instead: "you liked 5 papers in vision".
Titles are untrusted text: the renderer escapes them like any other field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SIMILAR = 0.2
"""Cosine similarity from which a liked paper is named as the reason."""
TERMS = 3
"""How many matching terms a reason names."""
NO_MATCH = "no strong match with your votes"
DISLIKED_ONLY = "ranked by the papers you marked 👎"


def reasons_for(
    words: Any,
    order: Sequence[int],
    weights: Any,
    liked: Any,
    liked_titles: Sequence[str],
    terms: Sequence[str],
    *,
    has_positives: bool,
    topic_reasons: Sequence[tuple[float, str] | None] = (),
) -> list[str]:
    """One reason per row of ``words`` (the candidates' word columns, CSR), in ``order``;
    ``weights`` are the model's weights of those columns; ``topic_reasons`` (one per
    row, from :func:`topic_reasons`) what the topic interests added and their reason."""
    if not has_positives:
        return [DISLIKED_ONLY] * len(order)
    if liked.shape[0]:
        similarity = np.asarray((words @ liked.T).toarray())
        best = similarity.argmax(axis=1)
        best_value = similarity[np.arange(similarity.shape[0]), best]
    else:
        best = best_value = np.zeros(words.shape[0])
    found = []
    for i in order:
        if best_value[i] >= SIMILAR:
            found.append(f"because you liked “{liked_titles[int(best[i])]}”")
        else:
            start, end = words.indptr[i], words.indptr[i + 1]
            push, matched = _matching_terms(
                words.indices[start:end], words.data[start:end], weights, terms
            )
            topic = topic_reasons[i] if topic_reasons else None
            found.append(topic[1] if topic is not None and topic[0] > push else matched)
    return found


def topic_reasons(
    tags: Any, per_topic: Any, liked: Any, topics: Sequence[str]
) -> list[tuple[float, str] | None]:
    """Per candidate (rows of ``tags``, CSR): what its topics added to its score
    (``per_topic``: what one unit of each tag adds, from the model's topic weights and
    the topic prior), and "you liked N papers in <topic>" for the tag that added most;
    None when the topics added nothing, or that topic holds fewer than two of the
    ``liked`` papers (a count per topic)."""
    if not tags.shape[1]:  # no paper of the corpus has a topic
        return [None] * tags.shape[0]
    pushes = tags.toarray() * per_topic  # candidates × topics: a few columns
    total = pushes.sum(axis=1)
    best = pushes.argmax(axis=1)
    found: list[tuple[float, str] | None] = []
    for i, j in enumerate(best):
        if total[i] <= 0 or pushes[i, j] <= 0 or liked[j] < 2:
            found.append(None)
        else:
            found.append((float(total[i]), f"you liked {int(liked[j])} papers in {topics[j]}"))
    return found


def _matching_terms(
    features: Any, values: Any, weights: Any, terms: Sequence[str]
) -> tuple[float, str]:
    """What the best matching terms added to the score, and the reason naming them."""
    pushes = values * weights[features]
    chosen: list[str] = []
    push = 0.0
    for j in np.argsort(-pushes, kind="stable")[: 4 * TERMS]:
        if pushes[j] <= 0 or len(chosen) == TERMS:
            break
        term = terms[features[j]]
        if any(term in c.split() or c in term.split() for c in chosen):
            continue
        chosen.append(term)
        push += float(pushes[j])
    return push, ("matches: " + ", ".join(chosen) if chosen else NO_MATCH)
