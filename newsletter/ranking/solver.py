"""L2-regularised logistic regression, solved by Newton's method in the span of the samples.

The objective is liblinear's (``LogisticRegression(solver="liblinear")`` with the
L2 penalty, ``class_weight="balanced"``, sample weights and an intercept):

    minimise  ½‖w‖² + ½b² + Σᵢ cᵢ log(1 + exp(−yᵢ (xᵢ·w + b)))

with yᵢ ∈ {−1, +1}, the intercept ``b`` a weight on a constant column of 1 (so it is
regularised like the others), and cᵢ = C × the class weight of yᵢ × the sample weight
of i, the class weight of a class being the total sample weight over twice that
class's.  It is strictly convex: one optimum, whichever method finds it.

A profile has a few dozen to a few hundred samples and thousands of word columns, so
the optimum lies in the span of the samples: w = Xᵀα, b = Σα.  With the Gram matrix
K = XXᵀ + 1 (n × n), the margins are z = Kα, and a Newton step solves the n × n
system (I + DK) Δ = α + g, where gᵢ = −cᵢ yᵢ σ(−yᵢ zᵢ) and D = diag(cᵢ σ(zᵢ)σ(−zᵢ))
(multiplying it by K gives the Newton system in α).  A backtracking line search on the
objective keeps every step a descent; a few steps reach the optimum to machine
precision, far tighter than liblinear's default tolerance.  NumPy only: a run that
trains no sklearn estimator does not import it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def logistic(
    features: Any,
    labels: Any,
    sample_weight: Any,
    regularisation: float,
    *,
    extra: Any = None,
    gram: Any = None,
    start: Any = None,
    tolerance: float = 1e-10,
    max_steps: int = 50,
) -> tuple[Any, float, Any]:
    """The weights (one per column of ``features``, CSR or dense), the intercept, and
    the weights of the ``extra`` dense columns (n × m, or None: an empty array) of the
    L2 logistic regression above on the columns of ``features`` and ``extra`` side by
    side; ``labels`` are 0/1 (both present), ``sample_weight`` positive,
    ``regularisation`` liblinear's ``C``.  Balanced class weights.  ``gram``: the
    samples' :func:`gram_of`, when already computed; ``start``: a first guess of the
    dual coefficients α (one per sample; the same optimum, found in fewer steps)."""
    y, cost = _costs(labels, sample_weight, regularisation)
    extra = None if extra is None else np.asarray(extra, dtype=np.float64)
    if gram is None:
        gram = gram_of(features, extra)
    alpha = _newton(gram, y, cost, tolerance, max_steps, start)
    coef = np.asarray(features.T @ alpha).ravel()
    extra_coef = extra.T @ alpha if extra is not None else np.zeros(0)
    return coef, float(alpha.sum()), extra_coef


def held_out_agreement(
    gram: Any,
    labels: Any,
    sample_weight: Any,
    regularisation: float,
    held: Any,
    folds: int,
    steps: int = 50,
) -> tuple[Any, Any]:
    """For each sample in ``held`` (indices): the probability of its own label under
    the model :func:`logistic` fits without it, from the samples' :func:`gram_of` —
    ``held`` cut into ``folds`` folds (every ``folds``-th one), each fold's model
    fitted on all the other samples.  A fold whose other samples are all of one
    class gives ½ (no evidence).  ``steps``: at most this many Newton steps per fold,
    from the model on every sample (1: the one-step approximation).  Also returns the
    dual coefficients α of the model on every sample (each fold starts from them), a
    ``start`` for :func:`logistic`."""
    y, full_cost = _costs(labels, sample_weight, regularisation)
    everything = _newton(gram, y, full_cost, 1e-10, 50)
    held = np.asarray(held, dtype=np.int64)
    agreement = np.full(len(held), 0.5)
    for f in range(folds):
        out = held[f::folds]
        if not len(out):
            continue
        keep = np.setdiff1d(np.arange(len(y)), out)
        try:
            _, cost = _costs(
                np.asarray(labels)[keep], np.asarray(sample_weight)[keep], regularisation
            )
        except ValueError:
            continue
        alpha = _newton(gram[np.ix_(keep, keep)], y[keep], cost, 1e-10, steps, everything[keep])
        margins = gram[np.ix_(out, keep)] @ alpha
        agreement[f::folds] = _sigmoid(y[out] * margins)
    return agreement, everything


def _costs(labels: Any, sample_weight: Any, regularisation: float) -> tuple[Any, Any]:
    """The labels as ±1 and each sample's cost cᵢ (``C`` × balanced class weight ×
    sample weight)."""
    y = np.where(np.asarray(labels) > 0, 1.0, -1.0)
    weight = np.asarray(sample_weight, dtype=np.float64)
    positive = y > 0
    total, mass = weight.sum(), weight[positive].sum()
    if not 0 < mass < total:
        raise ValueError("logistic regression needs samples of both classes")
    class_weight = np.where(positive, total / (2 * mass), total / (2 * (total - mass)))
    return y, regularisation * class_weight * weight


def gram_of(features: Any, extra: Any = None) -> Any:
    """``XXᵀ + 1`` (the constant column of the intercept), with the extra columns."""
    gram = features @ features.T
    gram = (gram.toarray() if hasattr(gram, "toarray") else np.asarray(gram)) + 1.0
    if extra is not None:
        gram += extra @ extra.T
    return gram


def _newton(
    gram: Any, y: Any, cost: Any, tolerance: float, max_steps: int, start: Any = None
) -> Any:
    n = gram.shape[0]
    alpha = np.zeros(n) if start is None else np.array(start, dtype=np.float64)
    margins = gram @ alpha
    value = _objective(alpha, margins, y, cost)
    identity = np.eye(n)
    for _ in range(max_steps):
        p = _sigmoid(-y * margins)  # the probability of the wrong label
        g = -cost * y * p
        residual = alpha + g  # the gradient is K @ residual
        if float(residual @ gram @ residual) <= tolerance**2 * max(1.0, value):
            break
        d = cost * p * (1 - p)
        step = np.linalg.solve(identity + d[:, None] * gram, residual)
        direction = gram @ step
        slope = -float(residual @ direction)  # directional derivative along -step
        t = 1.0
        while True:
            candidate = alpha - t * step
            candidate_margins = margins - t * direction
            new_value = _objective(candidate, candidate_margins, y, cost)
            if new_value <= value + 1e-4 * t * slope or t < 1e-10:
                break
            t /= 2
        alpha, margins, value = candidate, candidate_margins, new_value
    return alpha


def _objective(alpha: Any, margins: Any, y: Any, cost: Any) -> float:
    # ½‖w‖² + ½b² = ½ αᵀKα = ½ α·z
    return float(0.5 * alpha @ margins + cost @ np.logaddexp(0.0, -y * margins))


def _sigmoid(x: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
