"""Figures the hardening suites count while they run, printed at the end of the session.

The fuzz, fault and security tests call :func:`count`; ``tests/conftest.py``
prints the table from ``pytest_terminal_summary``, so every CI log shows how
many examples ran, how many kills were survived, and how many duplicates,
losses and crashes were found (the acceptance figures: 0, 0, 0).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

FIGURES: dict[str, Counter[str]] = {}

# The order lines are printed in (anything else follows, sorted).
_ORDER = ("fuzz", "faults", "security")


def count(section: str, name: str, n: int = 1) -> None:
    """Add ``n`` to the figure ``name`` of ``section`` (creating both on first use)."""
    FIGURES.setdefault(section, Counter())[name] += n


def note(section: str, name: str, value: int) -> None:
    """Record a figure that is a value, not a sum (the last write wins)."""
    FIGURES.setdefault(section, Counter())[name] = value


def report(terminal: Any) -> None:
    """Write one line per section: ``faults: runs 84, kills 40, duplicates 0, ...``."""
    if not FIGURES:
        return
    terminal.write_sep("=", "hardening figures")
    sections = [s for s in _ORDER if s in FIGURES] + sorted(set(FIGURES) - set(_ORDER))
    for section in sections:
        figures = FIGURES[section]
        body = ", ".join(f"{name} {value:,}" for name, value in sorted(figures.items()))
        terminal.write_line(f"{section}: {body}")
