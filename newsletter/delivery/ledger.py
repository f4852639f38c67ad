"""The send ledger as a queue with leases: one row per (edition, subscriber).

Rows are written in the transaction that records the edition, one per
confirmed subscriber, each with its Message-ID.  So the edition exists if and
only if its recipient list does, and a run killed at any moment finds both.

A row's life::

    pending ─┬─claim─► sending ──hand over──► sending, handed over ──reply──► sent
    deferred ┤         (leased)               (in flight)                     failed
    (due)    │            │                        │                          deferred
    uncertain┘            │ lease expired /        │ lease expired / owner    unconfirmed
       ▲                  │ owner dead             │ dead, or reply lost
       │                  ▼                        ▼
       │               pending                 uncertain ──► (sent once more, same Message-ID)
       └────────────────────────────────────────────┘

- **Claims** take a batch of rows by an id cursor, one index range per state
  (:class:`~newsletter.store.ledger.Ledger`), and lease them to this loop's
  owner token (:mod:`newsletter.delivery.lease`) until ``lease_until``; the
  loop renews the lease while it runs.  A row is claimed at most once per
  pass, so a recipient that keeps failing is not retried in a tight loop.
- **Hand-over**: just before a message passes its point of no return the row
  is durably marked (:mod:`newsletter.delivery.recorder`).  A row taken back
  from a dead or expired loop becomes ``pending`` again if it was not handed
  over (it was certainly not sent) and ``uncertain`` if it was.  At most
  ``delivery.in_flight`` rows are handed over without a recorded reply.
- **Groups** (``in_flight`` of at least twice the connections): a worker marks
  a group of rows in flight in one transaction (``handed_over_at`` =
  :data:`~newsletter.store.ledger.RESERVED`), then marks each one *started*
  just before its final dot (:class:`~newsletter.store.ledger.StartMarks`).
  Taken back, a started row is ``uncertain`` (counted once more); a reserved
  one was certainly not sent and goes back as it was — so a row caught by any
  number of kills before its message went out is never counted towards the
  two-hand-over limit, and never ends ``unconfirmed`` without a copy.
- **Uncertain** rows are sent once more with the same Message-ID; a row whose
  message was handed over twice without any reply ends ``unconfirmed`` (it
  may well have arrived twice; a third copy is not risked).  Uncertain
  claims are counted (``uncertain``) apart from temporary replies
  (``temporary``): a greylisting server answering 451 three times is three
  recorded replies, not three lost ones.
- **Temporary replies** defer the row at once with ``next_attempt_at``
  (``delivery.backoff_seconds``, doubling per temporary reply of that row, at
  most ``delivery.backoff_max_seconds``); nothing in the loop ever sleeps for
  a recipient.  Any later pass (a run, a tick, ``newsletter send``) picks it up
  once due.
- **Giving up**: every pass first ends the unsent rows of editions older than
  ``delivery.max_age_days``, ``failed`` (or ``unconfirmed``) with the last
  reply as the reason.

The subscriber is re-read when the row is claimed (the topics are the ones
chosen at that moment) and checked again in the transaction that marks the
row handed over: someone who unsubscribed (or bounced) since the edition was
recorded, even while the pass runs, is ``skipped``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from newsletter.delivery.message import make_message_id
from newsletter.model import Edition
from newsletter.states import CLAIMABLE, LedgerState, SubscriberStatus
from newsletter.store import Database, Transaction
from newsletter.store.database import Writer
from newsletter.store.ledger import RESERVED, Claimable, Recovered, StartJournal, StartMarks
from newsletter.store.subscribers import Subscriber
from newsletter.subscribers.subscriptions import mark_bounced

if TYPE_CHECKING:
    from newsletter.config import Settings

log = logging.getLogger(__name__)

MAX_UNCERTAIN = 2
"""A message handed over this often without a reply is not sent again."""
BATCH = 100
"""Rows claimed per claim transaction."""


@dataclass(frozen=True)
class Policy:
    """How the queue behaves: lease, back-off, give-up age, rate limits."""

    lease: timedelta = timedelta(seconds=30)
    backoff_seconds: float = 300.0
    backoff_max_seconds: float = 7200.0
    max_age: timedelta = timedelta(days=3)
    rate_per_second: float = 0.0
    rate_per_day: int = 0
    batch: int = BATCH

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            lease=timedelta(seconds=settings.delivery.lease_seconds),
            backoff_seconds=settings.delivery.backoff_seconds,
            backoff_max_seconds=settings.delivery.backoff_max_seconds,
            max_age=timedelta(days=settings.delivery.max_age_days),
            rate_per_second=settings.delivery.rate_per_second,
            rate_per_day=settings.delivery.rate_per_day,
        )

    def backoff(self, temporary_before: int) -> timedelta:
        """The wait after a row's next temporary reply (it had ``temporary_before``)."""
        seconds = self.backoff_seconds * 2 ** min(temporary_before, 30)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


@dataclass(frozen=True)
class Claimed:
    """A row this loop now holds: the subscriber as of the claim, and the topic set."""

    row_id: int
    subscriber: Subscriber
    message_id: str
    topics: frozenset[str]
    uncertain: int = 0
    temporary: int = 0
    claim: int = 0
    """The row's ``attempts`` with this claim: names the claim in a start journal."""

    @property
    def retry_of_uncertain(self) -> bool:
        return self.uncertain > 0


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed row, to record.

    ``state`` is where the row goes (a final state, ``deferred``, or ``pending``/
    ``uncertain`` when released unsent); ``None`` keeps it this loop's for another
    try at once.  ``handed_over``: the outcome ends an in-flight message.
    """

    row_id: int
    state: LedgerState | None
    reply: str
    subscriber_id: int
    handed_over: bool = False
    bounce: bool = False
    uncertain: int = 0
    temporary: int = 0
    next_attempt_at: datetime | None = None


@dataclass
class Batch:
    """One claim: the rows to send, and how long the rate limit wants us to wait."""

    claimed: list[Claimed] = field(default_factory=list)
    settled: int = 0
    wait: float = 0.0
    exhausted: bool = False


def create_rows(
    tx: Transaction, edition: Edition, edition_id: int, domain: str, now: datetime
) -> int:
    """Within the edition's transaction: a pending row per confirmed subscriber."""
    label = f"{edition.date.isoformat()}-{edition.number}"
    # streamed both ways (read by id cursor, written 1,000 rows per INSERT): the memory
    # this takes does not grow with the list
    recipients = (
        (sid, make_message_id(f"{label}.{sid}", domain))
        for sid in tx.ledger.confirmed_subscribers()
    )
    return tx.ledger.add(edition_id, recipients)


class Queue:
    """One delivery loop's view of one edition's ledger: claims, records, leases."""

    def __init__(
        self,
        db: Database,
        edition_id: int,
        owner: str,
        policy: Policy,
        *,
        clock: Callable[[], datetime],
        is_dead: Callable[[str], bool],
        relay: str,
        edition_topics: frozenset[str],
        writer: Writer | None = None,
    ) -> None:
        self.db = db
        self.writer = writer
        self.edition_id = edition_id
        self.owner = owner
        self.policy = policy
        self.clock = clock
        self.is_dead = is_dead
        self.relay = relay
        self.edition_topics = edition_topics
        self.cursor = 0
        self.states: tuple[LedgerState, ...] = CLAIMABLE
        self.taken_back = 0
        """Updates refused because the row was no longer ours (another loop took it)."""
        self.reserving: set[int] = set()
        """Rows a worker is about to mark in flight with its group (:meth:`reserve`)."""
        self.day_counted = False
        """Whether the relay's daily count was checked against the ledger's sends today
        (once per loop: see ``take_tokens``)."""
        self.ended = 0
        """Rows this loop ended (sent, failed, skipped ...): the progress line counts them
        instead of counting the ledger (a scan of every row of the edition)."""
        self.lease_floor: datetime | None = None
        """A time before which no lease of this loop runs out: the last renewal's, or
        the first claim's before one (a later claim leases until later)."""
        self.journal: StartJournal | None = None

    def _write(self) -> AbstractContextManager[Transaction]:
        """A ledger transaction: on the loop's kept connection when it has one.  No
        global lock on PostgreSQL: claims lock their own rows (SKIP LOCKED) and
        every other update names its row and owner."""
        if self.writer is not None:
            return self.writer.write(serialized=False)
        return self.db.write(serialized=False)

    def recover(self) -> Recovered:
        """Take back the rows of dead or expired loops."""
        with self._write() as tx:
            return tx.ledger.recover(self.edition_id, self.clock(), self.is_dead, self.owner)

    def second_pass(self) -> None:
        """Walk the ledger again from the start, for rows taken back meanwhile (never
        the deferred ones: each is tried once per pass)."""
        self.cursor = 0
        self.states = (LedgerState.PENDING, LedgerState.UNCERTAIN)

    def claim(self, limit: int | None = None) -> Batch:
        """Claim the next rows: skip who should not get this edition, lease the rest
        (as many as the relay's rate limit grants)."""
        now = self.clock()
        limit = min(limit or self.policy.batch, self.policy.batch)
        batch = Batch()
        with self._write() as tx:
            rows = tx.ledger.claimable(
                self.edition_id, after_id=self.cursor, now=now, limit=limit, states=self.states
            )
            if not rows:
                batch.exhausted = True
                return batch
            decided = [(row, *self._decide(row)) for row in rows]
            sendable = sum(1 for _, _, state, _ in decided if state is None)
            granted, batch.wait = tx.ledger.take_tokens(
                self.relay,
                sendable,
                now,
                per_second=self.policy.rate_per_second,
                per_day=self.policy.rate_per_day,
                reconcile=not self.day_counted,
            )
            if sendable:
                self.day_counted = True
            leased: list[int] = []
            for row, wanted, state, reason in decided:
                if state is not None:
                    tx.ledger.settle(row.id, state, reason, now)
                    batch.settled += 1
                    self.ended += 1
                elif len(leased) < granted:
                    leased.append(row.id)
                    batch.claimed.append(
                        Claimed(
                            row_id=row.id,
                            subscriber=row.subscriber,
                            message_id=row.message_id,
                            topics=wanted,
                            uncertain=row.uncertain,
                            temporary=row.temporary,
                            claim=row.attempts + 1,
                        )
                    )
                else:
                    break  # not granted by the rate limit: next time, from here
                self.cursor = row.id
            tx.ledger.lease(leased, self.owner, now, now + self.policy.lease)
        if leased and self.lease_floor is None:
            self.lease_floor = now + self.policy.lease
        return batch

    def _decide(self, row: Claimable) -> tuple[frozenset[str], LedgerState | None, str]:
        """What to do with a claimable row: its topics, and a final state if it is not
        to be sent (with the reason)."""
        subscriber = row.subscriber
        wanted = (
            self.edition_topics
            if subscriber.topics is None
            else self.edition_topics & subscriber.topics
        )
        if subscriber.status != SubscriberStatus.CONFIRMED:
            return wanted, LedgerState.SKIPPED, f"subscriber is {subscriber.status}"
        if not wanted:
            return wanted, LedgerState.SKIPPED, "nothing in this edition for their topics"
        if row.uncertain >= MAX_UNCERTAIN:
            return (
                wanted,
                LedgerState.UNCONFIRMED,
                f"handed over {row.uncertain} times without a reply; not sent a third time",
            )
        return frozenset(wanted), None, ""

    def reserve(self, row_ids: Sequence[int]) -> None:
        """The next hand-over marks of these rows are group marks: ``RESERVED``, the
        message started later by :meth:`start_marks` (any thread may run the commit)."""
        self.reserving.update(row_ids)

    def start_marks(self) -> StartMarks:
        """A worker's own connection for marking its group's messages started, through
        the loop's start journal on a SQLite file (one for every worker of the loop)."""
        if self.journal is None:
            self.journal = self.db.start_journal(self.owner)
        return self.db.start_marks(self.journal, self.policy.lease)

    def close_journal(self, *, released: bool) -> None:
        """The loop ends: its journal goes once its rows are ``released`` (else a
        recovery reads it)."""
        if self.journal is not None:
            self.journal.close(remove=released)
            self.journal = None

    def commit(self, outcomes: Sequence[Outcome], hand_overs: Sequence[int]) -> set[int]:
        """One transaction: record ``outcomes``, mark ``hand_overs``; the marks that took."""
        now = self.clock()
        granted: set[int] = set()
        if self.journal is not None:
            self.journal.sync()  # the starts so far, durable as the transaction is
        with self._write() as tx:
            for o in outcomes:
                if o.state is None:
                    ok = tx.ledger.keep(o.row_id, self.owner, o.reply, uncertain=o.uncertain)
                else:
                    ok = tx.ledger.finish(
                        o.row_id,
                        self.owner,
                        o.state,
                        o.reply,
                        now,
                        uncertain=o.uncertain,
                        temporary=o.temporary,
                        next_attempt_at=o.next_attempt_at,
                    )
                if not ok:
                    self.taken_back += 1
                    log.warning(
                        "ledger row %d was taken back by another sender (lease expired); "
                        "its reply %r is not recorded",
                        o.row_id,
                        o.reply,
                    )
                    continue
                if o.state is not None and not o.state.unsent:
                    self.ended += 1
                if o.bounce:
                    mark_bounced(tx, o.subscriber_id, o.reply, now)
            for row_id in hand_overs:
                reserved = row_id in self.reserving
                self.reserving.discard(row_id)
                refused = tx.ledger.hand_over(row_id, self.owner, RESERVED if reserved else now)
                if refused is None:
                    granted.add(row_id)
                elif refused == "taken":
                    self.taken_back += 1
                else:  # unsubscribed (or bounced) since the claim: not sent after all
                    tx.ledger.finish(
                        row_id, self.owner, LedgerState.SKIPPED, f"subscriber is {refused}", now
                    )
        if self.journal is not None:
            self.journal.replied(o.row_id for o in outcomes)
        return granted

    def renew(self) -> int:
        until = self.clock() + self.policy.lease
        with self._write() as tx:
            renewed = tx.ledger.renew(self.owner, until)
        if renewed:  # every row this loop holds is leased until then, or later
            self.lease_floor = until
        return renewed

    def release(self) -> int:
        """Give back every row this loop still holds (the loop ends)."""
        with self._write() as tx:
            return tx.ledger.release(self.owner, self.journal.open if self.journal else None)

    def held_elsewhere(self) -> list[tuple[int, datetime | None]]:
        with self.db.read() as tx:
            return tx.ledger.held_elsewhere(self.edition_id, self.owner)

    def counts(self) -> dict[LedgerState, int]:
        with self.db.read() as tx:
            return tx.ledger.counts(self.edition_id)

    def deferral(self, claimed: Claimed) -> datetime:
        """When a row that just got a temporary reply is due again."""
        return self.clock() + self.policy.backoff(claimed.temporary)


# ---------------------------------------------------------------- giving up


def give_up_old(db: Database, policy: Policy, now: datetime) -> int:
    """End the unsent rows of editions older than the policy's age; how many."""
    days = policy.max_age.days
    reason = f"not delivered within {days} day{'s' if days != 1 else ''} (delivery.max_age_days)"
    with db.write() as tx:
        return tx.ledger.give_up(now - policy.max_age, now, reason)
