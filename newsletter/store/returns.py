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
from newsletter.store.schema import as_utc, editions, returns, send_ledger


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

    def forget(self, message_key: str) -> int:
        """Drop the rows of ``message_key``; how many there were.  For a message
        recorded unread (too large) and since read in full: it counts as what it is,
        once, not as that and as too large."""
        result = self.conn.execute(returns.delete().where(returns.c.message_key == message_key))
        return int(result.rowcount or 0)

    def sent_message(self, message_id: str) -> SentMessage | None:
        """The ledger row that sent ``message_id`` (our own Message-ID), if any."""
        row = self.conn.execute(
            sa.select(send_ledger.c.edition_id, send_ledger.c.subscriber_id)
            .where(send_ledger.c.message_id == message_id)
            .limit(1)
        ).first()
        return SentMessage(int(row.edition_id), int(row.subscriber_id)) if row else None

    def was_sent_to(self, edition_id: int, subscriber_id: int) -> bool:
        """Whether edition ``edition_id`` had a ledger row for ``subscriber_id`` (a return
        path's token names both; a purged subscriber's id can be another's since)."""
        return (
            self.conn.execute(
                sa.select(send_ledger.c.id)
                .where(
                    send_ledger.c.edition_id == edition_id,
                    send_ledger.c.subscriber_id == subscriber_id,
                )
                .limit(1)
            ).first()
            is not None
        )

    def edition_created(self, edition_id: int) -> datetime | None:
        """When edition ``edition_id`` was recorded (its recipients were chosen then)."""
        value = self.conn.execute(
            sa.select(editions.c.created_at).where(editions.c.id == edition_id)
        ).scalar()
        if not isinstance(value, datetime):
            return None
        return as_utc(value)

    def soft_streak(
        self,
        subscriber_id: int,
        edition_id: int | None,
        limit: int,
        since: datetime | None = None,
    ) -> int:
        """How many editions in a row the subscriber was sent and soft-bounced, counting
        the run that holds ``edition_id`` (None: the newest sent to them) both ways.

        Bounces come back in any order (editions 3, 1, 2; two pipes at once): the run
        is read over the editions sent, not back from the one that came last.  At most
        ``limit`` editions each side are looked at: a run of ``limit`` is all that
        matters.  Only editions recorded from ``since`` on count (the subscriber's
        last confirmation: soft bounces before they signed up again are history).
        """
        sent_rows = send_ledger.c.subscriber_id == subscriber_id
        sent_rows = sa.and_(sent_rows, send_ledger.c.state == LedgerState.SENT)
        if since is not None:
            recorded_since = sa.select(editions.c.id).where(editions.c.created_at >= since)
            sent_rows = sa.and_(sent_rows, send_ledger.c.edition_id.in_(recorded_since))
        if edition_id is None:
            edition_id = self.newest_sent_edition(subscriber_id)
            if edition_id is None:
                return 0
        before = [
            int(r.edition_id)
            for r in self.conn.execute(
                sa.select(send_ledger.c.edition_id)
                .where(sent_rows, send_ledger.c.edition_id < edition_id)
                .order_by(send_ledger.c.edition_id.desc())
                .limit(limit)
            )
        ]
        after = [
            int(r.edition_id)
            for r in self.conn.execute(
                sa.select(send_ledger.c.edition_id)
                .where(sent_rows, send_ledger.c.edition_id > edition_id)
                .order_by(send_ledger.c.edition_id)
                .limit(limit)
            )
        ]
        looked_at = [edition_id, *before, *after]
        bounced = {
            int(r.edition_id)
            for r in self.conn.execute(
                sa.select(returns.c.edition_id).where(
                    returns.c.subscriber_id == subscriber_id,
                    returns.c.kind == ReturnKind.SOFT,
                    returns.c.edition_id.in_(looked_at),
                )
            )
        }
        if edition_id not in bounced:
            return 0
        streak = 1
        for side in (before, after):
            for edition in side:
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
        """Returns recorded after ``since``, by kind (every kind present, 0 or more).

        Complaints count once per subscriber and edition: two feedback loops (or one
        sending twice) reporting the same message are one complaint, as the
        complaint rate's base counts the message once."""
        found: dict[str, int] = dict(
            self.conn.execute(
                sa.select(returns.c.kind, sa.func.count())
                .where(returns.c.at > since, returns.c.kind != ReturnKind.COMPLAINT)
                .group_by(returns.c.kind)
            ).all()
        )
        complained = (
            sa.select(returns.c.subscriber_id, returns.c.edition_id)
            .where(returns.c.at > since, returns.c.kind == ReturnKind.COMPLAINT)
            .distinct()
            .subquery()
        )
        found[str(ReturnKind.COMPLAINT)] = int(
            self.conn.execute(sa.select(sa.func.count()).select_from(complained)).scalar() or 0
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
