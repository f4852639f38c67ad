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
    similarity: Any = None,
) -> list[str]:
    """One reason per row of ``words`` (the candidates' word columns, CSR), in ``order``;
    ``weights`` are the model's weights of those columns; ``topic_reasons`` (one per
    row, from :func:`topic_reasons`) what the topic interests added and their reason.
    ``similarity`` (candidates × liked papers, dense), when given, is ``words @
    liked.T`` already computed: delivery computes it once per edition for every liked
    paper and hands each subscriber their columns (``liked`` is then not read)."""
    if not has_positives:
        return [DISLIKED_ONLY] * len(order)
    if similarity is None and liked.shape[0]:
        similarity = np.asarray((words @ liked.T).toarray())
    if similarity is not None and similarity.shape[1]:
        best = similarity.argmax(axis=1)
        best_value = similarity[np.arange(similarity.shape[0]), best]
    else:
        best = best_value = np.zeros(words.shape[0])
    unlike = [i for i in order if not best_value[i] >= SIMILAR]
    matched = _matching_terms(words, unlike, weights, terms)
    found = []
    for i in order:
        if best_value[i] >= SIMILAR:
            found.append(f"because you liked “{liked_titles[int(best[i])]}”")
        else:
            push, match = matched[i]
            topic = topic_reasons[i] if topic_reasons else None
            found.append(topic[1] if topic is not None and topic[0] > push else match)
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
    words: Any, rows: Sequence[int], weights: Any, terms: Sequence[str]
) -> dict[int, tuple[float, str]]:
    """For each of ``rows`` (of ``words``, CSR): what its best matching terms added to
    the score, and the reason naming them.  One pass over the rows' non-zero columns
    (their value times the model's weight; the positive ones, best first, ties in
    column order), then at most ``4 * TERMS`` of them per row looked at by name."""
    if not len(rows):
        return {}
    indptr = words.indptr
    starts = indptr[rows]
    counts = indptr[np.asarray(rows) + 1] - starts
    total = int(counts.sum())
    # the rows' entries, concatenated: position in the CSR arrays, and which row
    owner = np.repeat(np.arange(len(rows)), counts)
    at = (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    )
    features = words.indices[at]
    pushes = words.data[at] * weights[features]
    keep = np.flatnonzero(pushes > 0)
    # by row, then push (largest first), then the column's place in the row: a stable
    # sort by push, then a stable sort of that by row
    by_push = keep[np.argsort(-pushes[keep], kind="stable")]
    order = by_push[np.argsort(owner[by_push], kind="stable")]
    bounds = np.searchsorted(owner[order], np.arange(len(rows) + 1)).tolist()
    names = features[order].tolist()
    values = pushes[order].tolist()
    found: dict[int, tuple[float, str]] = {}
    for r, row in enumerate(rows):
        start, end = bounds[r], bounds[r + 1]
        found[row] = named_terms(names[start:end], values[start:end], terms)
    return found


def named_terms(
    columns: Sequence[int], pushes: Sequence[float], terms: Sequence[str]
) -> tuple[float, str]:
    """What :func:`_matching_terms` gives one row, from its entries already sorted
    (``columns`` and their ``pushes``, largest first, at least the first ``4 * TERMS``)."""
    chosen: list[str] = []
    named: set[str] = set()  # the chosen terms (a unigram in a bigram is skipped)
    inside: set[str] = set()  # the words of the chosen terms (a bigram's own)
    push = 0.0
    for column, value in zip(columns[: 4 * TERMS], pushes, strict=False):
        if value <= 0 or len(chosen) == TERMS:
            break
        term = terms[column]
        parts = term.split()
        # as "any(term in c.split() or c in term.split() for c in chosen)"
        if term in inside or any(w in named for w in parts):
            continue
        chosen.append(term)
        named.add(term)
        inside.update(parts)
        push += value
    return push, ("matches: " + ", ".join(chosen) if chosen else NO_MATCH)
