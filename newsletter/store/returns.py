"""What came back: the ``returns`` rows (bounces, complaints, mailto unsubscribes).

One row per message and recipient it names (``seq``), keyed by the message's
Message-ID or a hash of its bytes: :meth:`Returns.known` is what makes a
second intake of the same message change nothing.  The rules (what a bounce
does to a subscriber) live in :mod:`newsletter.returns.intake`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.states import LedgerState, ReturnKind
from newsletter.store.schema import returns, send_ledger


@dataclass(frozen=True)
class ReturnRow:
    """One recorded return, to write."""

    message_key: str
    seq: int
    kind: ReturnKind
    subscriber_id: int | None
    edition_id: int | None
    status: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class SentMessage:
    """A ledger row found by its Message-ID: whom and which edition it was."""

    edition_id: int
    subscriber_id: int


class Returns:
    """Reads and writes of ``returns``, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def known(self, message_key: str) -> list[ReturnKind]:
        """The kinds recorded for this message (empty: never seen)."""
        rows = self.conn.execute(
            sa.select(returns.c.kind)
            .where(returns.c.message_key == message_key)
            .order_by(returns.c.seq)
        ).all()
        return [ReturnKind(r.kind) for r in rows]

    def add(self, row: ReturnRow, now: datetime) -> None:
        self.conn.execute(
            returns.insert().values(
                message_key=row.message_key,
                seq=row.seq,
                kind=row.kind,
                subscriber_id=row.subscriber_id,
                edition_id=row.edition_id,
                status=row.status,
                detail=json.dumps(row.detail, sort_keys=True, default=str),
                at=now,
            )
        )

    def sent_message(self, message_id: str) -> SentMessage | None:
        """The ledger row that sent ``message_id`` (our own Message-ID), if any."""
        row = self.conn.execute(
            sa.select(send_ledger.c.edition_id, send_ledger.c.subscriber_id)
            .where(send_ledger.c.message_id == message_id)
            .limit(1)
        ).first()
        return SentMessage(int(row.edition_id), int(row.subscriber_id)) if row else None

    def soft_streak(self, subscriber_id: int, edition_id: int | None, limit: int) -> int:
        """How many editions in a row, back from ``edition_id`` (None: the newest sent
        to them), the subscriber was sent and soft-bounced."""
        query = sa.select(send_ledger.c.edition_id).where(
            send_ledger.c.subscriber_id == subscriber_id,
            send_ledger.c.state == LedgerState.SENT,
        )
        if edition_id is not None:
            query = query.where(send_ledger.c.edition_id <= edition_id)
        sent = [
            int(r.edition_id)
            for r in self.conn.execute(query.order_by(send_ledger.c.edition_id.desc()).limit(limit))
        ]
        if edition_id is not None and (not sent or sent[0] != edition_id):
            sent = [edition_id, *sent][:limit]
        if not sent:
            return 0
        bounced = {
            int(r.edition_id)
            for r in self.conn.execute(
                sa.select(returns.c.edition_id).where(
                    returns.c.subscriber_id == subscriber_id,
                    returns.c.kind == ReturnKind.SOFT,
                    returns.c.edition_id.in_(sent),
                )
            )
        }
        streak = 0
        for edition in sent:
            if edition not in bounced:
                break
            streak += 1
        return streak

    def newest_sent_edition(self, subscriber_id: int) -> int | None:
        value = self.conn.execute(
            sa.select(sa.func.max(send_ledger.c.edition_id)).where(
                send_ledger.c.subscriber_id == subscriber_id,
                send_ledger.c.state == LedgerState.SENT,
            )
        ).scalar()
        return int(value) if value is not None else None

    def counts(self, since: datetime) -> dict[ReturnKind, int]:
        """Returns recorded after ``since``, by kind (every kind present, 0 or more)."""
        found: dict[str, int] = dict(
            self.conn.execute(
                sa.select(returns.c.kind, sa.func.count())
                .where(returns.c.at > since)
                .group_by(returns.c.kind)
            ).all()
        )
        return {kind: int(found.get(str(kind), 0)) for kind in ReturnKind}

    def delivered(self, since: datetime) -> int:
        """Messages sent (ledger rows ``sent``) after ``since``: the complaint rate's base."""
        return int(
            self.conn.execute(
                sa.select(sa.func.count())
                .select_from(send_ledger)
                .where(send_ledger.c.state == LedgerState.SENT, send_ledger.c.finished_at > since)
            ).scalar()
            or 0
        )
