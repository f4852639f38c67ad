"""How sources are fetched and how novelty decides: ``[fetch]``, ``[novelty]``."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter import __version__
from newsletter.config.rules import Setting, Values, at_least, between

_SAME_ABSTRACT = Setting(
    "novelty.same_abstract",
    0.5,
    "Abstract similarity (0-1, estimated Jaccard of word pairs) above which a "
    "paper with another title is the same paper (a retitled version).",
    float,
    rules=(between(0.0, 1.0),),
)
_DIFFERENT_ABSTRACT = Setting(
    "novelty.different_abstract",
    0.25,
    "Abstract similarity below which two papers with the same title are different papers.",
    float,
    rules=(between(0.0, 1.0),),
)
NOVELTY_ROWS = (_SAME_ABSTRACT, _DIFFERENT_ABSTRACT)

FETCH_ROWS = (
    Setting(
        "fetch.timeout_seconds",
        20,
        "Longest time one feed or JSON source may take in all (connect, redirects, "
        "download, parsing); a slower source is skipped and reported.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "fetch.max_mb",
        10,
        "Largest feed or JSON document accepted, in MB.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "fetch.max_redirects",
        5,
        "Most HTTP redirects followed for one fetch.",
        int,
        rules=(at_least(0),),
    ),
    Setting(
        "fetch.user_agent",
        "",
        "User-Agent header sent with every fetch; empty means "
        "'newsletter/<version> (+<newsletter.base_url>)'.",
    ),
)


@dataclass(frozen=True)
class NoveltySettings:
    """``[novelty]``: the abstract-similarity thresholds of paper identity.

    The defaults are the table's, for callers of :func:`newsletter.novelty.split`
    without a config (tests, benchmarks).
    """

    same_abstract: float = _SAME_ABSTRACT.default
    different_abstract: float = _DIFFERENT_ABSTRACT.default

    @classmethod
    def build(cls, v: Values) -> NoveltySettings:
        return cls(
            same_abstract=v.number("novelty.same_abstract"),
            different_abstract=v.number("novelty.different_abstract"),
        )


@dataclass(frozen=True)
class FetchSettings:
    """``[fetch]``: the bounds of every feed or JSON fetch, and who we say we are."""

    timeout_seconds: float
    max_mb: int
    max_redirects: int
    user_agent: str

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024

    @classmethod
    def build(cls, v: Values) -> FetchSettings:
        agent = v.text("fetch.user_agent")
        return cls(
            timeout_seconds=v.number("fetch.timeout_seconds"),
            max_mb=v.integer("fetch.max_mb"),
            max_redirects=v.integer("fetch.max_redirects"),
            user_agent=agent or f"newsletter/{__version__} (+{v.text('newsletter.base_url')})",
        )
