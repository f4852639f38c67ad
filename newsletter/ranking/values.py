"""The values the ranking takes and gives: plain, frozen, no store rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PaperText:
    """The text of one paper the model reads: its key (``newsletter.identity``), title,
    abstract and authors (untrusted text: only ever read, never executed or rendered
    here), and its topic tags from the stock rules (``Paper.topics``, primary first;
    ``()`` when unknown): a feature like the words."""

    key: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vote:
    """One subscriber's judgement of one paper: 👍 (``liked``) or 👎, when it was given,
    and whether it was a seed ("papers I like" named by the subscriber rather than a
    vote from an edition).  Seeds count as 👍."""

    paper_key: str
    liked: bool
    at: datetime
    seeded: bool = False


@dataclass(frozen=True)
class Scored:
    """A candidate paper with the subscriber's score (the model's decision value:
    higher is better, comparable within one subscriber only) and a one-line reason,
    e.g. ``because you liked “<title>”`` or ``matches: diffusion, video, editing``."""

    paper_key: str
    score: float
    reason: str
