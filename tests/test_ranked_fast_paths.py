"""The faster ways a ranked delivery scores, words and joins are the slower ways' results.

perf15 replaced three steps of a ranked message (``bench/bench_ranked_compiled.py``
measures them): a batch's scores as dense weights times the candidates' sparse rows
instead of a sparse × sparse product, every card's "matches: …" worded in one
comprehension, and a message's plain reasons told by a few string checks.  Each must give
what the step it replaced gave, float for float and byte for byte: the scores decide
the order, and a message's bytes are hashed before and after a change.
"""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from newsletter.delivery.ranked import _plain_reason, reasons_as_bytes
from newsletter.ranking import ranker
from newsletter.ranking.interests import Interests
from newsletter.ranking.ranker import _Profile, _weights_times_rows
from newsletter.ranking.reasons import NO_MATCH, worded, worded_many


def _profiles(rng: np.random.Generator, count: int, terms: int) -> list[_Profile]:
    found = []
    for _ in range(count):
        size = int(rng.integers(0, terms))
        features = np.sort(rng.choice(terms, size=size, replace=False)).astype(np.int32)
        weights = rng.normal(size=size).astype(np.float32)  # stored models are float32
        found.append(
            _Profile(features, weights, 0.0, None, (), True, Interests(np.zeros(0), np.zeros(0)), 0)
        )
    return found


def _sparse_product(profiles: list[_Profile], matrix: sparse.csr_matrix) -> np.ndarray:
    """What ``Ranker.scores`` computed before: the stacked weights × the rows."""
    indptr = np.cumsum([0, *(len(p.features) for p in profiles)])
    stacked = sparse.csr_matrix(
        (
            np.concatenate([p.weights for p in profiles]).astype(np.float64),
            np.concatenate([p.features for p in profiles]),
            indptr,
        ),
        shape=(len(profiles), matrix.shape[1]),
    )
    return np.asarray((stacked @ matrix.T).toarray())


@pytest.mark.parametrize("cells", [1_000_000, 1_000, 1])
def test_dense_weights_times_sparse_rows_is_the_sparse_product_float_for_float(
    cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same floats, not nearly: same products added in the same order; also when
    the weights are laid out a few profiles (or one) at a time."""
    monkeypatch.setattr(ranker, "_DENSE_CELLS", cells)
    rng = np.random.default_rng(7)
    terms = 400
    rows = sparse.random(60, terms, density=0.05, random_state=3, format="csr")
    rows.data = np.log1p(rows.data * 10)  # TF-IDF-like positive values
    rows.sort_indices()
    profiles = _profiles(rng, 37, terms)
    ours = _weights_times_rows(profiles, rows, terms)
    assert ours.shape == (37, 60)
    assert ours.tobytes() == _sparse_product(profiles, rows).tobytes()


def test_worded_many_is_worded_row_by_row() -> None:
    terms = [f"t{j}" for j in range(20)]
    rng = random.Random(2)
    # the chosen columns of a card: its first k terms, -1 past the last
    rows = [[*rng.sample(range(20), k), *[-1] * (3 - k)] for k in (0, 1, 2, 3) * 10]
    assert worded_many(rows, terms) == [worded(r, terms) for r in rows]
    assert worded_many([[-1, -1, -1]], terms) == [NO_MATCH]


_ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \t\n.“”é"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=90), max_size=6))
def test_reasons_as_bytes_are_what_the_plain_reason_rule_gives(texts: list[str]) -> None:
    """Each reason told plain by the checks is the bytes :func:`_plain_reason` gives;
    the others are left to the long way (never a reason the rule would change)."""
    reasons = {f"k{i}": t for i, t in enumerate(texts)}
    found = reasons_as_bytes(reasons)
    for key, reason in reasons.items():
        if key in found:
            assert found[key] == _plain_reason(reason)
            assert found[key]
        elif reason and reason.isprintable():  # what the rule keeps as it is, told too
            assert _plain_reason(reason) != reason.encode() or len(reason) > 76


def test_typical_reasons_take_the_fast_path() -> None:
    """ "matches: …" of vocabulary words are the common case and must be told plain."""
    rng = random.Random(1)
    words = ["diffusion", "video editing", "llm", "3d", "rl", "vision-language"]
    reasons = {
        f"k{i}": "matches: " + ", ".join(rng.sample(words, rng.randint(1, 3))) for i in range(50)
    }
    found = reasons_as_bytes(reasons)
    assert found == {k: r.encode() for k, r in reasons.items()}
    slow = {"a": "because you liked “X”", "b": ".dot", "c": "x = y", "d": "w" * 77}
    assert reasons_as_bytes(slow) == {}


def test_cards_dealt_into_sections_are_the_sorted_arrangement() -> None:
    """:meth:`Body.arrange` deals the ranked keys into the sections; it must be what
    sorting each section by rank gave, with cards in two sections, unranked cards,
    ranked keys with no card and every count of picks."""
    from newsletter.render.picks import Body

    rng = random.Random(5)
    for trial in range(300):
        keys = [f"p{i}" for i in range(rng.randint(1, 30))]
        sections = tuple(
            tuple(sorted(rng.sample(keys, rng.randint(0, len(keys))), key=keys.index))
            for _ in range(rng.randint(1, 5))
        )
        cards = {k: f"<{k}>" for s in sections for k in s}
        body = Body((), sections, (), cards, "", ("", ""), str)
        ranked = rng.sample(keys, rng.randint(0, len(keys))) + ["other"] * (trial % 2)
        ranked = list(dict.fromkeys(ranked))
        for picks in (0, 1, 5):
            chosen = body.picked(ranked, picks)
            rank = {k: i for i, k in enumerate(ranked)}
            assert body.arrange(ranked, picks) == (chosen, body._sorted(chosen, rank))
    twice = Body((), (("a", "a", "b"),), (), {"a": "", "b": ""}, "", ("", ""), str)
    assert twice.arrange(["b", "a"], 0) == ([], [["b", "a", "a"]])  # the sorted way
