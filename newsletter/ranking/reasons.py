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

import re
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


FILLER = frozenset(
    """
    able according achieve achieved achieves achieving additionally address addresses
    allow allows approach approaches based base best better broad called capture captured
    captures case cases combine combined combines common compared comparison consider
    consistently demonstrate demonstrates demonstrated different effective effectively
    efficient enable enables entire especially existing extensive extensively finally
    given good high highly improve improved improves improving include including large
    lead leads leverage leveraging make makes making method methods model models new
    novel obtain offer offers outperform outperforms overall paper particular perform
    performance performs present presents previous prior propose proposed proposes
    provide provides recent remains respectively result results set shows significant
    significantly simple specifically state strong study substantially superior
    task tasks techniques terms use used uses using various way ways work works
    art available code com experiment experiments fine furthermore github http https
    introduce introduces like multi org pre recently www
    """.split()
)
"""Words a reason never names alone, nor as every word of a term: the filler of
abstracts ("respectively", "captures", "entire", "base"), which match a reader's
votes by accident and say nothing about why a paper is shown."""


def nameable(terms: Sequence[str]) -> Any:
    """1.0 per term a reason may name, 0.0 otherwise: a term with a number-like word
    ("84", "2024", "10x", "13b", "1st": :data:`_NUMBER_LIKE`), or one made of filler
    words only (:data:`FILLER`: "respectively", "github", "state art").
    The model still scores with every term; only its reasons skip these, so a reason
    reads "matches: diffusion, video editing", not "matches: 84, base, captures"."""
    found = np.ones(len(terms), dtype=np.float64)
    for j, term in enumerate(terms):
        parts = term.split()
        if any(_NUMBER_LIKE.match(w) for w in parts) or all(w in FILLER for w in parts):
            found[j] = 0.0
    return found


_NUMBER_LIKE = re.compile(r"^(?:[^a-z]*|\d+(?:st|nd|rd|th|[a-z]))$")
"""A word that is a number in all but name: no letter at all ("84", "0 5"), or digits
and one unit or ordinal ("10x", "13b", "410m", "1st")."""


def word_columns(terms: Sequence[str], words: int) -> Any:
    """Per word column (the first ``words`` of ``terms``), the columns of its words as
    unigrams (``words × 2``, int64): ``[j, -1]`` for the unigram ``j``, a bigram's two
    words' columns (-1 for a word that is not a term of its own); ``[-2, -2]`` for a
    term of more words (its rows are named by :func:`named_terms`).  What
    :func:`best_terms` needs to tell, with array operations, whether two terms clash
    (a unigram inside a chosen bigram, or a bigram around a chosen unigram)."""
    index = {t: j for j, t in enumerate(terms[:words])}
    found = np.full((words, 2), -1, dtype=np.int64)
    for j, term in enumerate(terms[:words]):
        parts = term.split()
        if len(parts) == 1:
            found[j, 0] = j
        elif len(parts) == 2:
            found[j] = [index.get(parts[0], -1), index.get(parts[1], -1)]
        else:
            found[j] = -2
    return found


def best_terms(
    pushes: Any, indptr: Any, features: Any, parts: Any, terms: Sequence[str]
) -> tuple[Any, Any, dict[tuple[int, int], tuple[float, str]]]:
    """:func:`named_terms` for every subscriber and candidate at once: ``pushes`` is
    ``subscribers × entries`` (each candidate's word entries, CSR ``indptr`` and
    ``features``, times each subscriber's weights), ``parts`` :func:`word_columns`.

    Returns the pushes of the chosen terms (``subscribers × candidates``), the chosen
    columns (``subscribers × candidates × TERMS``, -1 past the last), and, for the
    pairs with a term of more than two words, :func:`named_terms`'s answer itself.
    The best :data:`TERMS` entries of every pair are found by as many rounds of
    ``argmax`` (its first maximum: ties in column order, as the stable sort); when
    no two of them clash, they are the chosen ones and their pushes are added in
    that order (as :func:`named_terms` adds them).  The clashing pairs take the next
    ones the same way, up to ``4 * TERMS``, and walk them as :func:`named_terms`
    does, all pairs at once."""
    count = pushes.shape[0]
    n = len(indptr) - 1
    total = pushes.shape[1]
    lengths = np.diff(indptr)
    width = int(lengths.max()) if n and total else 0
    chosen = np.full((count, n, TERMS), -1, dtype=np.int64)
    push = np.zeros((count, n), dtype=np.float64)
    if not width or not count:
        return push, chosen, {}
    starts = np.asarray(indptr[:-1], dtype=np.int64)
    padded = np.full((count, n, width), -np.inf, dtype=np.float64)
    padded[:, np.repeat(np.arange(n), lengths), np.arange(total) - np.repeat(starts, lengths)] = (
        pushes
    )
    places = np.empty((count, n, TERMS), dtype=np.int64)
    values = np.empty((count, n, TERMS), dtype=np.float64)
    for t in range(TERMS):
        at = padded.argmax(axis=2)
        value = np.take_along_axis(padded, at[:, :, None], axis=2)[:, :, 0]
        places[:, :, t], values[:, :, t] = at, value
        kept = value > 0
        chosen[:, :, t] = np.where(kept, features[np.minimum(starts[None, :] + at, total - 1)], -1)
        push += np.where(kept, value, 0.0)
        np.put_along_axis(padded, at[:, :, None], -np.inf, axis=2)
    # a clash: a unigram among a chosen bigram's words, or a term of more words
    own = parts[np.maximum(chosen, 0)]  # count × n × TERMS × 2
    clash = np.zeros((count, n), dtype=bool)
    for a in range(TERMS):
        clash |= (chosen[:, :, a] >= 0) & (own[:, :, a, 0] == -2)
        for b in range(a + 1, TERMS):
            ca, cb = chosen[:, :, a], chosen[:, :, b]
            clash |= (cb >= 0) & (
                (ca == own[:, :, b, 0])
                | (ca == own[:, :, b, 1])
                | (cb == own[:, :, a, 0])
                | (cb == own[:, :, a, 1])
            )
    named: dict[tuple[int, int], tuple[float, str]] = {}
    if clash.any():
        bs, cs = np.nonzero(clash)
        rest = padded[bs, cs]  # their entries but the best TERMS
        more_places = [places[bs, cs]]
        more_values = [values[bs, cs]]
        rows = np.arange(len(bs))
        for _ in range(3 * TERMS):
            at = rest.argmax(axis=1)
            more_places.append(at[:, None])
            more_values.append(rest[rows, at][:, None])
            rest[rows, at] = -np.inf
        top_places = np.hstack(more_places)
        top_values = np.hstack(more_values)
        columns = features[np.minimum(starts[cs][:, None] + top_places, total - 1)]
        # :func:`named_terms`'s walk, all clashing pairs at once: an entry is taken when
        # it pushes, fewer than TERMS are taken, and it clashes with none of them
        size = lengths[cs]
        taken = np.full((len(bs), TERMS), -1, dtype=np.int64)
        count_taken = np.zeros(len(bs), dtype=np.int64)
        total_push = np.zeros(len(bs), dtype=np.float64)
        complex_ = np.zeros(len(bs), dtype=bool)
        for t in range(4 * TERMS):
            column, value = columns[:, t], top_values[:, t]
            live = (t < size) & (value > 0) & (count_taken < TERMS)
            own_t = parts[column]
            complex_ |= live & (own_t[:, 0] == -2)
            for k in range(TERMS):
                chosen_k = taken[:, k]
                own_k = parts[np.maximum(chosen_k, 0)]
                live &= ~(
                    (chosen_k >= 0)
                    & (
                        (chosen_k == own_t[:, 0])
                        | (chosen_k == own_t[:, 1])
                        | (column == own_k[:, 0])
                        | (column == own_k[:, 1])
                    )
                )
            at = np.flatnonzero(live)
            taken[at, count_taken[at]] = column[at]
            total_push[at] += value[at]
            count_taken[at] += 1
        chosen[bs, cs] = taken
        push[bs, cs] = total_push
        for r in np.flatnonzero(complex_).tolist():  # a term of more than two words
            b, c = int(bs[r]), int(cs[r])
            named[(b, c)] = named_terms(
                columns[r, : size[r]].tolist(), top_values[r, : size[r]].tolist(), terms
            )
    return push, chosen, named


def worded(columns: Sequence[int], terms: Sequence[str]) -> str:
    """The reason naming ``columns`` (-1: none), as :func:`named_terms` words it."""
    if len(columns) == 3:  # TERMS: the usual case spelled out (no list made)
        a, b, c = columns
        if c >= 0:
            return f"matches: {terms[a]}, {terms[b]}, {terms[c]}"
        if b >= 0:
            return f"matches: {terms[a]}, {terms[b]}"
        return f"matches: {terms[a]}" if a >= 0 else NO_MATCH
    named = [terms[c] for c in columns if c >= 0]
    return "matches: " + ", ".join(named) if named else NO_MATCH


def worded_many(rows: Sequence[Sequence[int]], terms: Sequence[str]) -> list[str]:
    """:func:`worded` of each row of columns (a subscriber's every card), in one
    comprehension: a batch words thousands of reasons, and a call each was most of
    their cost."""
    if TERMS != 3:
        return [worded(columns, terms) for columns in rows]
    return [
        f"matches: {terms[a]}, {terms[b]}, {terms[c]}"
        if c >= 0
        else f"matches: {terms[a]}, {terms[b]}"
        if b >= 0
        else f"matches: {terms[a]}"
        if a >= 0
        else NO_MATCH
        for a, b, c in rows
    ]
