"""Counted nouns in what a person reads: ``1 new paper``, ``23 new papers``, ``1 entry``.

Every count the CLI, ``status``, ``/healthz`` and the run reports print goes
through :func:`counted`, so "1 new papers" cannot come back one message at a
time.  (The stock templates pluralise in Jinja, where an override can see it.)
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, the noun in the plural unless ``n`` is 1 (``plural``, else
    ``noun + "s"``): ``counted(1, "new paper")`` is ``1 new paper``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
