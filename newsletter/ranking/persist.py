"""A subscriber's model as a small blob, so a run retrains only those whose votes changed.

Training is most of a ranked run (a logistic regression per subscriber), and a
subscriber who did not vote since the last edition would get the same model
again.  So each model is stored (``newsletter.store.ranking``) under the
vocabulary version it was trained on and a fingerprint of the votes it was
trained from; a run reuses it while both are unchanged.

The blob: a little-endian header (lengths, intercept, prior weight), the
non-zero weights' columns (int32) and values (float32: a score is compared
within one subscriber only, and float32 keeps seven digits), the topic
interests, and the liked papers' keys as JSON (the reasons name them; their
rows are recomputed from the stored vocabulary on load).  Fifty votes make a
blob of a few kilobytes to a few tens of kilobytes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from newsletter.ranking.interests import Interests
from newsletter.ranking.ranker import _Profile

_HEADER = struct.Struct("<4sIIIddB")
_MAGIC = b"NLR1"


def encode(profile: _Profile) -> bytes:
    """``profile`` as bytes (what :func:`decode` reads back)."""
    keys = json.dumps(list(profile.liked_keys), ensure_ascii=False).encode("utf-8")
    topics = len(profile.interests.log_odds)
    head = _HEADER.pack(
        _MAGIC,
        len(profile.features),
        topics,
        len(keys),
        float(profile.intercept),
        float(profile.prior_weight),
        int(profile.has_positives),
    )
    return b"".join(
        (
            head,
            np.asarray(profile.features, dtype="<i4").tobytes(),
            np.asarray(profile.weights, dtype="<f4").tobytes(),
            np.asarray(profile.interests.log_odds, dtype="<f4").tobytes(),
            np.asarray(profile.interests.liked, dtype="<i4").tobytes(),
            keys,
        )
    )


def liked_keys(blob: bytes) -> list[str]:
    """The liked papers' keys of a stored model (their rows are needed to decode it)."""
    _, n, topics, size, *_ = _HEADER.unpack_from(blob)
    start = _HEADER.size + 8 * n + 8 * topics
    return [str(k) for k in json.loads(blob[start : start + size].decode("utf-8"))]


def decode(blob: bytes, liked: Any, liked_titles: Sequence[str]) -> _Profile:
    """The model :func:`encode` stored; ``liked`` are the word rows (CSR) of its liked
    papers in the order of :func:`liked_keys`, ``liked_titles`` their titles."""
    magic, n, topics, _, intercept, prior_weight, positives = _HEADER.unpack_from(blob)
    if magic != _MAGIC:
        raise ValueError("not a stored ranking model")
    at = _HEADER.size

    def take(dtype: str, count: int) -> Any:
        nonlocal at
        values = np.frombuffer(blob, dtype=dtype, count=count, offset=at)
        at += 4 * count
        return values

    features = take("<i4", n).astype(np.int32)
    weights = take("<f4", n).astype(np.float32)  # as stored: half the memory of float64
    log_odds = take("<f4", topics).astype(np.float64)
    counts = take("<i4", topics).astype(np.int64)
    return _Profile(
        features=features,
        weights=weights,
        intercept=intercept,
        liked=liked,
        liked_titles=tuple(liked_titles),
        has_positives=bool(positives),
        interests=Interests(log_odds, counts),
        prior_weight=prior_weight,
        liked_keys=tuple(liked_keys(blob)),
    )
