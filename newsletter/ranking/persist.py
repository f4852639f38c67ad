"""A subscriber's model as a small blob, so a run retrains only those whose votes changed.

Training is most of a ranked run (a logistic regression per subscriber), and a
subscriber who did not vote since the last edition would get the same model
again.  So each model is stored (``newsletter.store.ranking``) under the
vocabulary version it was trained on and a fingerprint of the votes it was
trained from; a run reuses it while both are unchanged.

The blob: a little-endian header (lengths, intercept, prior weight, blend), the
non-zero weights' columns as gaps from the previous one (uint16, or uint32 when a
gap does not fit) and their values as float16 (a score is compared within one
subscriber only: three significant digits order the papers as float64 does, but
for near-ties), the topic interests, and the liked papers' keys as JSON (the
reasons name them; their rows are recomputed from the stored vocabulary on
load).  Fifty votes touch most of a small vocabulary's columns: about 4 bytes a
column, 12 KB for 3,000 — it matters, since SQLite reads the blobs through its
memory map, which counts in the process's RSS.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from newsletter.ranking.interests import Interests
from newsletter.ranking.ranker import _Profile

_HEADER = struct.Struct("<4sIIIdddBB")
_MAGIC = b"NLR3"  # 3: with the blend (the model's share of the fused rank)


def encode(profile: _Profile) -> bytes:
    """``profile`` as bytes (what :func:`decode` reads back)."""
    keys = json.dumps(list(profile.liked_keys), ensure_ascii=False).encode("utf-8")
    topics = len(profile.interests.log_odds)
    columns = np.asarray(profile.features, dtype=np.int64)
    order = np.argsort(columns, kind="stable")
    columns = columns[order]
    gaps = np.diff(columns, prepend=0)
    wide = bool(len(gaps) and gaps.max() > 0xFFFF)
    head = _HEADER.pack(
        _MAGIC,
        len(profile.features),
        topics,
        len(keys),
        float(profile.intercept),
        float(profile.prior_weight),
        float(profile.blend),
        int(profile.has_positives),
        int(wide),
    )
    return b"".join(
        (
            head,
            gaps.astype("<u4" if wide else "<u2").tobytes(),
            np.asarray(profile.weights)[order].astype("<f2").tobytes(),
            np.asarray(profile.interests.log_odds, dtype="<f4").tobytes(),
            np.asarray(profile.interests.liked, dtype="<i4").tobytes(),
            keys,
        )
    )


def liked_keys(blob: bytes) -> list[str]:
    """The liked papers' keys of a stored model (their rows are needed to decode it)."""
    _, n, topics, size, _, _, _, _, wide = _HEADER.unpack_from(blob)
    start = _HEADER.size + (4 if wide else 2) * n + 2 * n + 8 * topics
    return [str(k) for k in json.loads(blob[start : start + size].decode("utf-8"))]


def decode(
    blob: bytes, liked: Any, liked_titles: Sequence[str], keys: Sequence[str] | None = None
) -> _Profile:
    """The model :func:`encode` stored; ``liked`` are the word rows (CSR) of its liked
    papers in the order of :func:`liked_keys`, ``liked_titles`` their titles; ``keys``
    what :func:`liked_keys` read of this blob already (a batch's load reads them first,
    to look the papers up: their JSON is not parsed twice)."""
    magic, n, topics, _, intercept, prior_weight, blend, positives, wide = _HEADER.unpack_from(blob)
    if magic != _MAGIC:
        raise ValueError("not a stored ranking model")
    at = _HEADER.size

    def take(dtype: str, count: int) -> Any:
        nonlocal at
        values = np.frombuffer(blob, dtype=dtype, count=count, offset=at)
        at += values.itemsize * count
        return values

    # the columns summed in int32 at once (a column index is below 2**31)
    features = np.cumsum(take("<u4" if wide else "<u2", n), dtype=np.int32)
    weights = take("<f2", n).astype(np.float32)  # float32 in memory: half of float64
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
        liked_keys=tuple(liked_keys(blob) if keys is None else keys),
        blend=blend,
    )
