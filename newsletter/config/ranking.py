"""How subscribers' editions are ranked by their votes: ``[ranking]``."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.config.rules import Setting, Values, at_least, at_most

ROWS = (
    Setting(
        "ranking.top_picks",
        5,
        "How many papers the 'Top picks for you' block at the top of a ranked "
        "subscriber's email holds (0: no block; the sections are still in their order).",
        int,
        rules=(at_least(0), at_most(20)),
    ),
)


@dataclass(frozen=True)
class RankingSettings:
    """``[ranking]``: the per-subscriber ranking of the email."""

    top_picks: int

    @classmethod
    def build(cls, v: Values) -> RankingSettings:
        return cls(top_picks=v.integer("ranking.top_picks"))
