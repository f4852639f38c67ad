"""The parsers a fuzzer or the regression corpus feeds, and the corpus itself (tests only).

``tests/corpus/<target>/`` holds one input per file: each once crashed a
parser, or a fetch (``corpus/fetch``: bombs served by a loopback server),
found by atheris, hypothesis, the independent attack suite of issue 10 or by
hand.  :func:`read` is what "reading an input" means for each target; it
returns a value or raises a :class:`~newsletter.errors.NewsletterError`, and
anything else is a crash.  ``test_regression_corpus.py`` runs every file on
every run; ``test_fuzz_atheris.py`` starts its mutations from them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from newsletter import config
from newsletter.sources.feed import parse_feed
from newsletter.sources.hf import parse_hf
from newsletter.sources.text import parse_digest

CORPUS = Path(__file__).resolve().parent / "corpus"
TARGETS = ("digest", "feed", "hf", "config")
TODAY = date(2026, 3, 12)


def read(target: str, data: bytes) -> object:
    """Read ``data`` as ``target`` reads it in a run."""
    if target == "digest":
        return parse_digest(data, name="d.txt", edition_date=TODAY)
    if target == "feed":
        return parse_feed(data, name="f")
    if target == "hf":
        return parse_hf(data, name="h")
    if target == "config":
        return config.parse(data.decode("utf-8", "replace"), where="c.toml", base_dir=Path("/"))
    raise ValueError(f"no such target {target!r}")


def corpus(target: str) -> list[Path]:
    """The regression inputs of ``target``, in name order."""
    return sorted(p for p in (CORPUS / target).iterdir() if p.is_file())
