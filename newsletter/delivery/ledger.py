"""The send ledger: one row per (edition, subscriber), the only truth about who got what.

Rows are written by :meth:`Store.record_edition <newsletter.store.database.Store.record_edition>`
in the transaction that records the edition, one per confirmed subscriber,
each with its Message-ID.  So the edition exists if and only if its
recipient list does, and a run killed at any moment finds both.

A row's life::

    pending ──claim──► sending ──reply──► sent | failed | skipped | deferred
       ▲                  │
       │     (process killed: found by the next run)
       │                  ▼
       └──── deferred   uncertain ──claim──► sending ...  (same Message-ID)

Delivery claims one row at a time and, in the same transaction, records the
reply of the row before it (one commit per message, and a reply is never
left unrecorded while the next message goes out).  A row still ``sending``
when a run starts belonged to a process that died mid-send: its message may
or may not have left, so it becomes ``uncertain`` and is sent once more with
the same Message-ID — that is the one duplicate a kill can cause.  No row is
claimed more than :data:`MAX_ATTEMPTS` times.

The subscriber is re-read when the row is claimed: someone who unsubscribed
(or bounced) since the edition was recorded is ``skipped``, and the topics
are the ones chosen at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from newsletter.delivery.message import make_message_id
from newsletter.model import Edition
from newsletter.store.migrations import editions, send_ledger, subscribers
from newsletter.subscribers.subscriptions import (
    CONFIRMED,
    Subscriber,
    mark_bounced,
    subscriber_from_row,
)

if TYPE_CHECKING:
    from newsletter.store.database import Store

PENDING, SENDING, UNCERTAIN = "pending", "sending", "uncertain"
SENT, FAILED, SKIPPED, DEFERRED = "sent", "failed", "skipped", "deferred"
STATES = (PENDING, SENDING, UNCERTAIN, SENT, FAILED, SKIPPED, DEFERRED)
MAX_ATTEMPTS = 3
"""A row is claimed at most this often (a message that kills its sender is not retried forever)."""


@dataclass(frozen=True)
class Claimed:
    """A row this process now sends: the subscriber as of the claim, and the topic set."""

    row_id: int
    subscriber: Subscriber
    message_id: str
    topics: frozenset[str]
    retry_of_uncertain: bool


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed row."""

    row_id: int
    state: str
    reply: str
    subscriber_id: int
    bounce: bool = False
    uncertain: int = 0


def create_rows(
    conn: sa.Connection, edition: Edition, edition_id: int, domain: str, now: datetime
) -> int:
    """Within the edition's transaction: a pending row per confirmed subscriber."""
    ids = [
        r.id
        for r in conn.execute(
            sa.select(subscribers.c.id)
            .where(subscribers.c.status == CONFIRMED)
            .order_by(subscribers.c.id)
        )
    ]
    label = f"{edition.date.isoformat()}-{edition.number}"
    rows = [
        {
            "edition_id": edition_id,
            "subscriber_id": sid,
            "message_id": make_message_id(f"{label}.{sid}", domain),
            "state": PENDING,
            "attempts": 0,
            "uncertain": 0,
        }
        for sid in ids
    ]
    for start in range(0, len(rows), 500):
        conn.execute(send_ledger.insert(), rows[start : start + 500])
    return len(rows)


def edition_id(store: Store, edition: Edition) -> int | None:
    with store.engine.connect() as conn:
        value = conn.execute(
            sa.select(editions.c.id).where(
                editions.c.date == edition.date, editions.c.number == edition.number
            )
        ).scalar()
    return int(value) if value is not None else None


def edition_id_of_date(store: Store, day: str) -> int | None:
    """The id of the latest edition of an ISO date (tests and inspection)."""
    from datetime import date as date_type

    with store.engine.connect() as conn:
        value = conn.execute(
            sa.select(editions.c.id)
            .where(editions.c.date == date_type.fromisoformat(day))
            .order_by(editions.c.number.desc())
            .limit(1)
        ).scalar()
    return int(value) if value is not None else None


def recover(
    store: Store, edition_id: int, owner: str, is_dead: Callable[[str], bool]
) -> tuple[int, int]:
    """Before sending: rows left ``sending`` by a dead process become ``uncertain``;
    ``deferred`` rows become ``pending`` again.  Returns (uncertain, re-queued)."""
    with store.write() as conn:
        stuck = conn.execute(
            sa.select(send_ledger.c.id, send_ledger.c.owner).where(
                send_ledger.c.edition_id == edition_id, send_ledger.c.state == SENDING
            )
        ).all()
        dead = [r.id for r in stuck if r.owner != owner and is_dead(r.owner or "")]
        dead += [r.id for r in stuck if r.owner == owner]  # our own, from an aborted loop
        for chunk in _chunks(dead):
            conn.execute(
                send_ledger.update()
                .where(send_ledger.c.id.in_(chunk))
                .values(state=UNCERTAIN, uncertain=send_ledger.c.uncertain + 1)
            )
        requeued = conn.execute(
            send_ledger.update()
            .where(send_ledger.c.edition_id == edition_id, send_ledger.c.state == DEFERRED)
            .values(state=PENDING)
        ).rowcount
    return len(dead), int(requeued or 0)


def step(
    store: Store,
    edition_id: int,
    owner: str,
    now: datetime,
    edition_topics: frozenset[str],
    outcome: Outcome | None,
) -> Claimed | None:
    """Record ``outcome`` and claim the next row, in one transaction; None when none is left."""
    with store.write() as conn:
        if outcome is not None:
            _record(conn, outcome, now)
        while True:
            row = conn.execute(
                sa.select(send_ledger, subscribers)
                .join(subscribers, subscribers.c.id == send_ledger.c.subscriber_id)
                .where(
                    send_ledger.c.edition_id == edition_id,
                    send_ledger.c.state.in_((PENDING, UNCERTAIN)),
                )
                .order_by(send_ledger.c.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            ledger_id = row._mapping[send_ledger.c.id]
            subscriber = subscriber_from_row(_SubscriberRow(row._mapping))
            wanted = (
                edition_topics if subscriber.topics is None else edition_topics & subscriber.topics
            )
            attempts = row._mapping[send_ledger.c.attempts]
            reason = None
            state = SKIPPED
            if subscriber.status != CONFIRMED:
                reason = f"subscriber is {subscriber.status}"
            elif not wanted:
                reason = "nothing in this edition for their topics"
            elif attempts >= MAX_ATTEMPTS:
                state, reason = FAILED, f"claimed {attempts} times without a recorded reply"
            if reason is not None:
                conn.execute(
                    send_ledger.update()
                    .where(send_ledger.c.id == ledger_id)
                    .values(state=state, reply=reason, finished_at=now)
                )
                continue
            conn.execute(
                send_ledger.update()
                .where(send_ledger.c.id == ledger_id)
                .values(state=SENDING, owner=owner, claimed_at=now, attempts=attempts + 1)
            )
            return Claimed(
                row_id=ledger_id,
                subscriber=subscriber,
                message_id=row._mapping[send_ledger.c.message_id],
                topics=frozenset(wanted),
                retry_of_uncertain=row._mapping[send_ledger.c.state] == UNCERTAIN,
            )


def record(store: Store, outcome: Outcome, now: datetime) -> None:
    with store.write() as conn:
        _record(conn, outcome, now)


def _record(conn: sa.Connection, outcome: Outcome, now: datetime) -> None:
    values: dict[str, Any] = {
        "state": outcome.state,
        "reply": outcome.reply[:1000],
        "finished_at": now,
        "uncertain": send_ledger.c.uncertain + outcome.uncertain,
    }
    if outcome.state == PENDING:  # released without sending: the attempt does not count
        values["attempts"] = send_ledger.c.attempts - 1
        values["finished_at"] = None
    conn.execute(send_ledger.update().where(send_ledger.c.id == outcome.row_id).values(**values))
    if outcome.bounce:
        mark_bounced(conn, outcome.subscriber_id, outcome.reply, now)


def summary(store: Store, edition_id: int) -> dict[str, int]:
    """How many rows of the edition are in each state."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(send_ledger.c.state, sa.func.count())
            .where(send_ledger.c.edition_id == edition_id)
            .group_by(send_ledger.c.state)
        ).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts


def rows(store: Store, edition_id: int) -> list[dict[str, Any]]:
    """Every row of an edition's ledger (tests and inspection)."""
    with store.engine.connect() as conn:
        result = conn.execute(
            sa.select(send_ledger, subscribers.c.email)
            .join(subscribers, subscribers.c.id == send_ledger.c.subscriber_id)
            .where(send_ledger.c.edition_id == edition_id)
            .order_by(send_ledger.c.id)
        ).all()
    return [dict(r._mapping) for r in result]


class _SubscriberRow:
    """The subscriber columns of a joined row, by attribute (as ``_row`` reads them)."""

    def __init__(self, mapping: Any) -> None:
        self._m = mapping

    def __getattr__(self, name: str) -> Any:
        return self._m[subscribers.c[name]]


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
