"""The send ledger's rows: one per (edition, subscriber), with its Message-ID and state.

The state machine (what is claimed when, what a reply makes of a row) lives
in :mod:`newsletter.delivery.ledger`; this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter import edition as edition_json
from newsletter.states import CLAIMABLE, LedgerState
from newsletter.store.editions import StoredEdition
from newsletter.store.papers import chunks
from newsletter.store.schema import editions, send_ledger, subscribers
from newsletter.store.subscribers import Subscriber, subscriber_from_row


@dataclass(frozen=True)
class LedgerRow:
    """One row of an edition's ledger, with the subscriber's address (for reports)."""

    id: int
    edition_id: int
    subscriber_id: int
    email: str
    message_id: str
    state: LedgerState
    attempts: int
    uncertain: int
    owner: str | None
    claimed_at: datetime | None
    finished_at: datetime | None
    reply: str | None


@dataclass(frozen=True)
class Claimable:
    """The oldest row a delivery loop may claim, with its subscriber as of now."""

    id: int
    message_id: str
    state: LedgerState
    attempts: int
    subscriber: Subscriber


class Ledger:
    """Reads and writes of send-ledger rows, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, edition_id: int, recipients: Sequence[tuple[int, str]]) -> int:
        """A pending row per ``(subscriber id, Message-ID)``; returns how many."""
        rows = [
            {
                "edition_id": edition_id,
                "subscriber_id": sid,
                "message_id": message_id,
                "state": LedgerState.PENDING,
                "attempts": 0,
                "uncertain": 0,
            }
            for sid, message_id in recipients
        ]
        for chunk in chunks(rows, 500):
            self.conn.execute(send_ledger.insert(), list(chunk))
        return len(rows)

    def owners_in(self, edition_id: int, state: LedgerState) -> list[tuple[int, str | None]]:
        """``(row id, owner)`` of the edition's rows in ``state``."""
        return [
            (r.id, r.owner)
            for r in self.conn.execute(
                sa.select(send_ledger.c.id, send_ledger.c.owner).where(
                    send_ledger.c.edition_id == edition_id, send_ledger.c.state == state
                )
            )
        ]

    def mark_uncertain(self, row_ids: Iterable[int]) -> None:
        """Rows whose sender died mid-send: ``uncertain``, and counted as such."""
        for chunk in chunks(sorted(row_ids), 500):
            self.conn.execute(
                send_ledger.update()
                .where(send_ledger.c.id.in_(chunk))
                .values(state=LedgerState.UNCERTAIN, uncertain=send_ledger.c.uncertain + 1)
            )

    def move(self, edition_id: int, from_state: LedgerState, to_state: LedgerState) -> int:
        """Every row of the edition in ``from_state`` goes to ``to_state``; returns how many."""
        moved = self.conn.execute(
            send_ledger.update()
            .where(send_ledger.c.edition_id == edition_id, send_ledger.c.state == from_state)
            .values(state=to_state)
        ).rowcount
        return int(moved or 0)

    def next_claimable(self, edition_id: int) -> Claimable | None:
        """The oldest row of the edition in a claimable state, or None."""
        row = self.conn.execute(
            sa.select(
                send_ledger.c.id.label("ledger_id"),
                send_ledger.c.message_id,
                send_ledger.c.state,
                send_ledger.c.attempts,
                subscribers,
            )
            .join(subscribers, subscribers.c.id == send_ledger.c.subscriber_id)
            .where(send_ledger.c.edition_id == edition_id, send_ledger.c.state.in_(CLAIMABLE))
            .order_by(send_ledger.c.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        return Claimable(
            id=row.ledger_id,
            message_id=row.message_id,
            state=LedgerState(row.state),
            attempts=row.attempts,
            subscriber=subscriber_from_row(row),
        )

    def claim(self, row_id: int, owner: str, now: datetime, attempts: int) -> None:
        """The row is being sent by ``owner`` (its ``attempts``-th claim)."""
        self.conn.execute(
            send_ledger.update()
            .where(send_ledger.c.id == row_id)
            .values(state=LedgerState.SENDING, owner=owner, claimed_at=now, attempts=attempts)
        )

    def finish(
        self, row_id: int, state: LedgerState, reply: str, now: datetime, uncertain: int = 0
    ) -> None:
        """The row ends in ``state`` with ``reply`` (cut to 1000 characters)."""
        self.conn.execute(
            send_ledger.update()
            .where(send_ledger.c.id == row_id)
            .values(
                state=state,
                reply=reply[:1000],
                finished_at=now,
                uncertain=send_ledger.c.uncertain + uncertain,
            )
        )

    def release(self, row_id: int, reply: str, uncertain: int = 0) -> None:
        """The row goes back to ``pending`` without being sent: its attempt does not count."""
        self.conn.execute(
            send_ledger.update()
            .where(send_ledger.c.id == row_id)
            .values(
                state=LedgerState.PENDING,
                reply=reply[:1000],
                finished_at=None,
                attempts=send_ledger.c.attempts - 1,
                uncertain=send_ledger.c.uncertain + uncertain,
            )
        )

    def counts(self, edition_id: int) -> dict[LedgerState, int]:
        """How many rows of the edition are in each state (every state, zeros included)."""
        rows = self.conn.execute(
            sa.select(send_ledger.c.state, sa.func.count())
            .where(send_ledger.c.edition_id == edition_id)
            .group_by(send_ledger.c.state)
        ).all()
        counts = dict.fromkeys(LedgerState, 0)
        counts.update({LedgerState(state): int(n) for state, n in rows})
        return counts

    def rows(self, edition_id: int | None = None) -> list[LedgerRow]:
        """Every row of an edition's ledger (of every edition without one), in order."""
        query = (
            sa.select(send_ledger, subscribers.c.email)
            .join(subscribers, subscribers.c.id == send_ledger.c.subscriber_id)
            .order_by(send_ledger.c.id)
        )
        if edition_id is not None:
            query = query.where(send_ledger.c.edition_id == edition_id)
        result = self.conn.execute(query).all()
        return [_ledger_row(r._mapping) for r in result]

    def unfinished_editions(self) -> list[StoredEdition]:
        """Editions with rows not yet sent (pending, in flight, uncertain, deferred),
        oldest first."""
        unsent = [s for s in LedgerState if s.unsent]
        rows = self.conn.execute(
            sa.select(editions.c.id, editions.c.payload)
            .where(
                editions.c.id.in_(
                    sa.select(send_ledger.c.edition_id).where(send_ledger.c.state.in_(unsent))
                )
            )
            .order_by(editions.c.date, editions.c.number)
        )
        return [StoredEdition(r.id, edition_json.from_json(r.payload)) for r in rows]


def _ledger_row(m: Any) -> LedgerRow:
    return LedgerRow(
        id=m["id"],
        edition_id=m["edition_id"],
        subscriber_id=m["subscriber_id"],
        email=m["email"],
        message_id=m["message_id"],
        state=LedgerState(m["state"]),
        attempts=m["attempts"],
        uncertain=m["uncertain"],
        owner=m["owner"],
        claimed_at=m["claimed_at"],
        finished_at=m["finished_at"],
        reply=m["reply"],
    )
