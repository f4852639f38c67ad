"""The send ledger: one row per (edition, subscriber), the only truth about who got what.

Rows are written by :func:`create_rows`, called by the pipeline inside the
transaction that records the edition, one per confirmed subscriber, each
with its Message-ID.  So the edition exists if and only if its recipient
list does, and a run killed at any moment finds both.

A row's life (:class:`~newsletter.states.LedgerState`)::

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

The rows are read and written through :class:`newsletter.store.ledger.Ledger`;
this module holds the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newsletter.delivery.message import make_message_id
from newsletter.model import Edition
from newsletter.states import LedgerState, SubscriberStatus
from newsletter.store import Database, Transaction
from newsletter.store.subscribers import Subscriber
from newsletter.subscribers.subscriptions import mark_bounced

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
    """What became of a claimed row.  ``state`` PENDING releases it unsent."""

    row_id: int
    state: LedgerState
    reply: str
    subscriber_id: int
    bounce: bool = False
    uncertain: int = 0


def create_rows(
    tx: Transaction, edition: Edition, edition_id: int, domain: str, now: datetime
) -> int:
    """Within the edition's transaction: a pending row per confirmed subscriber."""
    label = f"{edition.date.isoformat()}-{edition.number}"
    recipients = [
        (sid, make_message_id(f"{label}.{sid}", domain)) for sid in tx.subscribers.confirmed_ids()
    ]
    return tx.ledger.add(edition_id, recipients)


def recover(
    db: Database, edition_id: int, owner: str, is_dead: Callable[[str], bool]
) -> tuple[int, int]:
    """Before sending: rows left ``sending`` by a dead process become ``uncertain``;
    ``deferred`` rows become ``pending`` again.  Returns (uncertain, re-queued)."""
    with db.write() as tx:
        stuck = tx.ledger.owners_in(edition_id, LedgerState.SENDING)
        dead = [rid for rid, o in stuck if o != owner and is_dead(o or "")]
        dead += [rid for rid, o in stuck if o == owner]  # our own, from an aborted loop
        tx.ledger.mark_uncertain(dead)
        requeued = tx.ledger.move(edition_id, LedgerState.DEFERRED, LedgerState.PENDING)
    return len(dead), requeued


def step(
    db: Database,
    edition_id: int,
    owner: str,
    now: datetime,
    edition_topics: frozenset[str],
    outcome: Outcome | None,
) -> Claimed | None:
    """Record ``outcome`` and claim the next row, in one transaction; None when none is left."""
    with db.write() as tx:
        if outcome is not None:
            _record(tx, outcome, now)
        while True:
            row = tx.ledger.next_claimable(edition_id)
            if row is None:
                return None
            subscriber = row.subscriber
            wanted = (
                edition_topics if subscriber.topics is None else edition_topics & subscriber.topics
            )
            reason = None
            state = LedgerState.SKIPPED
            if subscriber.status != SubscriberStatus.CONFIRMED:
                reason = f"subscriber is {subscriber.status}"
            elif not wanted:
                reason = "nothing in this edition for their topics"
            elif row.attempts >= MAX_ATTEMPTS:
                state = LedgerState.FAILED
                reason = f"claimed {row.attempts} times without a recorded reply"
            if reason is not None:
                tx.ledger.finish(row.id, state, reason, now)
                continue
            tx.ledger.claim(row.id, owner, now, row.attempts + 1)
            return Claimed(
                row_id=row.id,
                subscriber=subscriber,
                message_id=row.message_id,
                topics=frozenset(wanted),
                retry_of_uncertain=row.state == LedgerState.UNCERTAIN,
            )


def record(db: Database, outcome: Outcome, now: datetime) -> None:
    with db.write() as tx:
        _record(tx, outcome, now)


def _record(tx: Transaction, outcome: Outcome, now: datetime) -> None:
    if outcome.state == LedgerState.PENDING:  # released without sending: the attempt does not count
        tx.ledger.release(outcome.row_id, outcome.reply, outcome.uncertain)
    else:
        tx.ledger.finish(outcome.row_id, outcome.state, outcome.reply, now, outcome.uncertain)
    if outcome.bounce:
        mark_bounced(tx, outcome.subscriber_id, outcome.reply, now)


def summary(db: Database, edition_id: int) -> dict[LedgerState, int]:
    """How many rows of the edition are in each state."""
    with db.read() as tx:
        return tx.ledger.counts(edition_id)
