"""Named fault points: the process kills itself (SIGKILL) where a test asks it to.

A crash is only survivable if it was tried.  The fault-injection suite
(``tests/test_faults_*.py``) runs ``newsletter run`` with::

    NEWSLETTER_FAULT=before-commit          # the first time the point is reached
    NEWSLETTER_FAULT=mid-send:3             # the third time (1-based)
    NEWSLETTER_FAULT=after-ingest,mid-feed-write:2

and the process sends itself ``SIGKILL`` at that point: no ``finally``, no
``atexit``, no flush, exactly like ``kill -9`` or a power cut (modulo the page
cache).  Then it runs again and checks that nothing was lost or sent twice.

The points (where :func:`hit` is called):

=================  ==========================================================
``after-ingest``   every input read, nothing decided or written yet
``before-commit``  the edition, its seen-marks and its ledger are written
                   inside the transaction, which has not committed
``after-commit``   committed, nothing published or sent yet
``mid-feed-write`` a site file (feed, page) is written to its temporary file
                   but not yet moved over the real one
``mid-send``       one message was handed to the mail server, its reply not
                   yet recorded in the send ledger (the "in flight" message)
=================  ==========================================================

Inert unless the variable is set: :func:`hit` costs one environment lookup.
An unknown point name is logged once and otherwise ignored, so a typo in a
drill never kills a real run at a point nobody meant.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

__all__ = ["ENV", "POINTS", "hit"]

log = logging.getLogger(__name__)

ENV = "NEWSLETTER_FAULT"
POINTS = frozenset({"after-ingest", "before-commit", "after-commit", "mid-feed-write", "mid-send"})

_counts: dict[str, int] = {}
_lock = threading.Lock()  # delivery workers reach "mid-send" from several threads
_warned: set[str] = set()


def _plan(spec: str) -> dict[str, int]:
    """``"a,b:3"`` → ``{"a": 1, "b": 3}``: the hit of each point that kills."""
    plan: dict[str, int] = {}
    for part in spec.split(","):
        name, _, nth = part.strip().partition(":")
        if not name:
            continue
        if name not in POINTS or (nth and not nth.isdigit()):
            if part not in _warned:
                _warned.add(part)
                log.warning("%s: unknown fault point %r ignored", ENV, part)
            continue
        plan[name] = int(nth) if nth else 1
    return plan


def hit(point: str) -> None:
    """Reach ``point``; if ``NEWSLETTER_FAULT`` names this hit of it, die by SIGKILL now."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    with _lock:
        count = _counts[point] = _counts.get(point, 0) + 1
    if _plan(spec).get(point) == count:
        os.kill(os.getpid(), signal.SIGKILL)
