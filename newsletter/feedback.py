"""What ``newsletter status`` says of what came back: counts by kind and the complaint rate.

The complaint rate is complaints recorded over ``bounces.complaint_window_days``
divided by the messages sent (send-ledger rows ``sent``) in the same days;
above :data:`COMPLAINT_LIMIT` (0.3%, the mailbox providers' 2024 line) it
carries a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from newsletter.states import ReturnKind
from newsletter.store import Transaction
from newsletter.wording import counted

COMPLAINT_LIMIT = 0.003
"""Complaints per message delivered above which mailbox providers start refusing mail."""

_WORDS = {
    ReturnKind.HARD: ("hard bounce", None),
    ReturnKind.SOFT: ("soft bounce", None),
    ReturnKind.COMPLAINT: ("complaint", None),
    ReturnKind.UNSUBSCRIBE: ("mailto unsubscribe", None),
    ReturnKind.NOTICE: ("delay notice", None),
    ReturnKind.AUTO_REPLY: ("automatic reply", "automatic replies"),
    ReturnKind.UNRECOGNISED: ("unrecognised message", None),
}


@dataclass(frozen=True)
class ReturnsSummary:
    days: int
    counts: tuple[tuple[ReturnKind, int], ...]
    delivered: int

    def count(self, kind: ReturnKind) -> int:
        return dict(self.counts).get(kind, 0)

    @property
    def complaint_rate(self) -> float | None:
        """Complaints per message sent; None when nothing was sent."""
        if not self.delivered:
            return None
        return self.count(ReturnKind.COMPLAINT) / self.delivered

    @property
    def warning(self) -> str | None:
        rate = self.complaint_rate
        if rate is None or rate <= COMPLAINT_LIMIT:
            return None
        return (
            f"complaint rate {rate:.2%} over the last {self.days} days is above "
            f"{COMPLAINT_LIMIT:.1%}: mailbox providers start refusing mail past it"
        )

    def line(self) -> str:
        parts = [counted(n, *_WORDS[kind]) for kind, n in self.counts if n]
        rate = self.complaint_rate
        shown = "—" if rate is None else f"{rate:.2%}"
        return (
            f"came back (last {self.days} days): {', '.join(parts) or 'nothing'}; "
            f"complaint rate {shown} of {counted(self.delivered, 'message')} sent"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "counts": {str(kind): n for kind, n in self.counts},
            "delivered": self.delivered,
            "complaint_rate": self.complaint_rate,
            "warning": self.warning,
        }


def summarise(tx: Transaction, now: datetime, days: int) -> ReturnsSummary:
    since = now - timedelta(days=days)
    counts = tx.returns.counts(since)
    return ReturnsSummary(days, tuple(counts.items()), tx.returns.delivered(since))
