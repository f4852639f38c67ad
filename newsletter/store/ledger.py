"""The send ledger's rows as a work queue: claims by cursor, leases, fenced updates.

The state machine (what a reply makes of a row, when a row is given up)
lives in :mod:`newsletter.delivery.ledger`; this module reads and writes
rows.  Every query a delivery loop runs per batch or per message is an
index range or a primary-key update, so its cost does not grow with the
ledger (``ix_send_ledger_claim`` is ``(edition_id, state, id)``: one range
per claimable state, walked from a cursor — never ``state IN (...) ORDER BY
id``, which sorts every pending row for each claim).

Updates of a claimed row are *fenced*: they name the owner, and change
nothing if the row is no longer that owner's (its lease expired and another
loop took it back).  On PostgreSQL claims lock with ``FOR UPDATE SKIP
LOCKED``, so senders on several machines never wait for each other's rows.

A row's ``handed_over_at`` says how far its message got: ``None``, not handed
over (certainly not sent); :data:`RESERVED`, marked in flight with its group
but its message not started (certainly not sent either); a real time, its
message was started past the point of no return at that time (it may have
left).  A loop that marks a group in one transaction marks each row started
just before its message's final dot (:class:`StartMarks`, one primary-key
update on the worker's own connection), so a row taken back from a dead loop
counts an uncertain hand-over only if its message was started.  On a SQLite file
the mark is a line appended to the loop's :class:`StartJournal` beside the
database instead, while the loop's lease is safely live (a fenced update once it
is not): :meth:`Ledger.recover` and :meth:`Ledger.release` read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import select
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from newsletter.states import CLAIMABLE, LedgerState, SubscriberStatus
from newsletter.store.editions import StoredEdition
from newsletter.store.papers import chunks
from newsletter.store.payload import from_payload
from newsletter.store.schema import as_utc, editions, send_ledger, send_rate, subscribers
from newsletter.store.subscribers import Subscriber, subscriber_from_row

S = LedgerState
UNSENT = tuple(s for s in LedgerState if s.unsent)
ADD_CHUNK = 1000
"""Ledger rows written per INSERT when an edition is recorded."""
SMALL_CACHE_KIB = 2000
"""SQLite's page cache, KiB, on the connections that write the ledger (SQLite's own
default): see :func:`small_page_cache`."""


@contextlib.contextmanager
def small_page_cache(conn: sa.Connection) -> Iterator[None]:
    """The connection's SQLite page cache at :data:`SMALL_CACHE_KIB` while the block runs.

    Connections keep a 64 MB cache for the novelty index's random probes
    (:mod:`newsletter.store.database`).  The ledger needs none of it: its rows are
    written in order and updated by primary key.  With the large cache an edition for
    100,000 subscribers held every page it wrote in memory until its commit, and the
    delivery connections every page they updated: the heap grew with the list (80 MB
    at 10,000, 96 MB at 100,000).  With a small one, pages go to the WAL as the cache
    fills.  Set on the DB-API connection, so no transaction is begun for it."""
    raw: Any = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
    if raw is None:
        yield
        return
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{SMALL_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(before)}")


RESERVED = datetime(1970, 1, 1, tzinfo=UTC)
"""``handed_over_at`` of a row marked in flight with its group whose message has not
been started yet: taken back, it goes back as it was (it was certainly not sent)."""

_MAYBE_SENT = {
    "state": S.UNCERTAIN,
    "uncertain": send_ledger.c.uncertain + 1,
    "owner": None,
    "lease_until": None,
    "handed_over_at": None,
}
"""A row its owner may have sent (handed over, reply never recorded) given back:
``uncertain``, counted, free for the next claim (recovery and a loop's release)."""


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
    temporary: int = 0
    lease_until: datetime | None = None
    handed_over_at: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Claimable:
    """A row a loop may claim, with its subscriber as of now."""

    id: int
    message_id: str
    state: LedgerState
    uncertain: int
    temporary: int
    subscriber: Subscriber
    attempts: int = 0
    """Claims of the row so far (this one not counted): a claim makes it ``attempts + 1``."""


@dataclass(frozen=True)
class Recovered:
    """What :meth:`Ledger.recover` took back: rows possibly sent, rows certainly not."""

    uncertain: int = 0
    pending: int = 0


class Ledger:
    """Reads and writes of send-ledger rows, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def add(self, edition_id: int, recipients: Iterable[tuple[int, str]]) -> int:
        """A pending row per ``(subscriber id, Message-ID)``; returns how many.  Written
        ``ADD_CHUNK`` rows per statement, so ``recipients`` may be a stream of any size."""
        with small_page_cache(self.conn):
            return self._add(edition_id, recipients)

    def _add(self, edition_id: int, recipients: Iterable[tuple[int, str]]) -> int:
        added = 0
        rows: list[dict[str, Any]] = []
        for sid, message_id in recipients:
            rows.append(
                {
                    "edition_id": edition_id,
                    "subscriber_id": sid,
                    "message_id": message_id,
                    "state": S.PENDING,
                    "attempts": 0,
                    "uncertain": 0,
                    "temporary": 0,
                }
            )
            if len(rows) == ADD_CHUNK:
                self.conn.execute(send_ledger.insert(), rows)
                added, rows = added + len(rows), []
        if rows:
            self.conn.execute(send_ledger.insert(), rows)
        return added + len(rows)

    def confirmed_subscribers(self, chunk: int = ADD_CHUNK) -> Iterator[int]:
        """The ids of the confirmed subscribers in id order, read ``chunk`` at a time by
        an id cursor (the primary key): who an edition goes to, at any list size,
        without holding the whole list in memory."""
        c = subscribers.c
        after = 0
        while True:
            ids = (
                self.conn.execute(
                    sa.select(c.id)
                    .where(c.status == SubscriberStatus.CONFIRMED, c.id > after)
                    .order_by(c.id)
                    .limit(chunk)
                )
                .scalars()
                .all()
            )
            yield from ids
            if len(ids) < chunk:
                return
            after = ids[-1]

    # ------------------------------------------------------------ taking rows back

    def recover(
        self, edition_id: int, now: datetime, is_dead: Callable[[str], bool], owner: str = ""
    ) -> Recovered:
        """Rows ``sending`` whose lease expired or whose owner is provably dead go back:
        ``uncertain`` (counted once more) if their message was started, else as they
        were (never handed over, or marked with a group and never started).
        Rows of ``owner`` (the loop asking) are its own business, never taken."""
        c = send_ledger.c
        query = sa.select(
            c.id, c.owner, c.lease_until, c.handed_over_at, c.uncertain, c.attempts
        ).where(c.edition_id == edition_id, c.state == S.SENDING)
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        handed: list[tuple[int, str | None]] = []  # started: it may have left
        unsent: list[tuple[int, str | None, int]] = []  # (row, owner it had, uncertain)
        dead: dict[str, bool] = {}
        journals: dict[str, set[tuple[int, int]]] = {}  # the starts each owner appended
        for row in self.conn.execute(query):
            held_by = row.owner or ""
            if owner and held_by == owner:
                continue
            if held_by not in dead:
                dead[held_by] = is_dead(held_by)
            expired = row.lease_until is None or as_utc(row.lease_until) <= now
            if not (expired or dead[held_by]):
                continue
            if not started(row.handed_over_at) and row.handed_over_at is not None:
                if held_by not in journals:
                    journals[held_by] = self._journal_entries(held_by)
                journaled = (row.id, row.attempts) in journals[held_by]
            else:
                journaled = False
            if started(row.handed_over_at) or journaled:
                handed.append((row.id, row.owner))
            else:  # never handed over, or marked with its group and never started
                unsent.append((row.id, row.owner, row.uncertain))
        for row_id, was in handed:
            self.conn.execute(
                send_ledger.update()
                .where(c.id == row_id, c.state == S.SENDING, _same(c.owner, was))
                .values(**_MAYBE_SENT)
            )
        for row_id, was, uncertain in unsent:
            self.conn.execute(
                send_ledger.update()
                .where(c.id == row_id, c.state == S.SENDING, _same(c.owner, was))
                .values(
                    state=S.UNCERTAIN if uncertain else S.PENDING,
                    owner=None,
                    lease_until=None,
                    handed_over_at=None,
                )
            )
        for held_by, is_gone in dead.items():
            path = self._journal_path(held_by)
            if is_gone and path is not None:  # every row of a dead loop is taken back
                with contextlib.suppress(OSError):
                    path.unlink()
        return Recovered(uncertain=len(handed), pending=len(unsent))

    def _journal_path(self, owner: str) -> Path | None:
        database = self.conn.engine.url.database if self.conn.dialect.name == "sqlite" else None
        return StartJournal.path_for(database, owner) if owner else None

    def _journal_entries(self, owner: str) -> set[tuple[int, int]]:
        path = self._journal_path(owner)
        return StartJournal.entries(path) if path is not None else set()

    def held_elsewhere(self, edition_id: int, owner: str) -> list[tuple[int, datetime | None]]:
        """``(row id, lease_until)`` of the edition's rows another loop is sending."""
        c = send_ledger.c
        rows = self.conn.execute(
            sa.select(c.id, c.lease_until).where(
                c.edition_id == edition_id, c.state == S.SENDING, _other(c.owner, owner)
            )
        )
        return [(r.id, as_utc(r.lease_until) if r.lease_until else None) for r in rows]

    # ------------------------------------------------------------ claiming

    def claimable(
        self,
        edition_id: int,
        *,
        after_id: int,
        now: datetime,
        limit: int,
        states: Sequence[LedgerState] = CLAIMABLE,
    ) -> list[Claimable]:
        """The next ``limit`` claimable rows after ``after_id``, in id order: pending,
        uncertain, and deferred ones whose ``next_attempt_at`` has come.  One index
        range per state; on PostgreSQL the rows are locked, skipping rows locked by
        another sender's claim."""
        c = send_ledger.c
        found: list[Any] = []
        for state in states:
            query = (
                sa.select(
                    c.id.label("ledger_id"),
                    c.message_id,
                    c.state.label("ledger_state"),
                    c.uncertain,
                    c.temporary,
                    c.attempts.label("ledger_attempts"),
                    subscribers,
                )
                .join(subscribers, subscribers.c.id == c.subscriber_id)
                .where(c.edition_id == edition_id, c.state == state, c.id > after_id)
                .order_by(c.id)
                .limit(limit)
            )
            if state == S.DEFERRED:
                query = query.where(sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
            if self.postgres:
                query = query.with_for_update(of=send_ledger, skip_locked=True)
            found.extend(self.conn.execute(query))
        found.sort(key=lambda r: r.ledger_id)
        return [
            Claimable(
                id=r.ledger_id,
                message_id=r.message_id,
                state=LedgerState(r.ledger_state),
                uncertain=r.uncertain,
                temporary=r.temporary,
                attempts=r.ledger_attempts,
                subscriber=subscriber_from_row(r),
            )
            for r in found[:limit]
        ]

    def lease(self, row_ids: Sequence[int], owner: str, now: datetime, until: datetime) -> None:
        """The rows are this owner's until ``until`` (claimed: one more attempt)."""
        c = send_ledger.c
        for chunk in chunks(row_ids, 500):
            self.conn.execute(
                send_ledger.update()
                .where(c.id.in_(chunk))
                .values(
                    state=S.SENDING,
                    owner=owner,
                    claimed_at=now,
                    lease_until=until,
                    handed_over_at=None,
                    attempts=c.attempts + 1,
                )
            )

    def settle(self, row_id: int, state: LedgerState, reply: str, now: datetime) -> None:
        """An unclaimed row ends without being sent (skipped, or given up)."""
        self.conn.execute(
            send_ledger.update()
            .where(send_ledger.c.id == row_id)
            .values(state=state, reply=reply[:1000], finished_at=now, next_attempt_at=None)
        )

    def renew(self, owner: str, until: datetime) -> int:
        """Every row this owner is sending is its own until ``until``."""
        c = send_ledger.c
        done = self.conn.execute(
            send_ledger.update()
            .where(c.state == S.SENDING, c.owner == owner)
            .values(lease_until=until)
        ).rowcount
        return int(done or 0)

    # ------------------------------------------------------------ fenced updates

    def hand_over(self, row_id: int, owner: str, now: datetime) -> str | None:
        """Mark the row "handed over" (its message is about to pass the point of no
        return) if it is still this owner's and its subscriber still confirmed; None
        when marked, else why not: ``"taken"`` (another loop has it) or the
        subscriber's status (unsubscribed or bounced since the claim).  ``now`` is
        :data:`RESERVED` for a row marked with its group (started later, by
        :class:`StartMarks`)."""
        if _HAND_OVER.run(self.conn, {"b_id": row_id, "b_owner": owner, "b_now": now}):
            return None
        c = send_ledger.c
        row = self.conn.execute(
            sa.select(c.state, c.owner, subscribers.c.status)
            .join(subscribers, subscribers.c.id == c.subscriber_id)
            .where(c.id == row_id)
        ).first()
        if row is None or row.state != S.SENDING or row.owner != owner:
            return "taken"
        return str(row.status)

    def finish(
        self,
        row_id: int,
        owner: str,
        state: LedgerState,
        reply: str,
        now: datetime,
        *,
        uncertain: int = 0,
        temporary: int = 0,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """The row leaves this owner in ``state`` (a final state, ``deferred`` until
        ``next_attempt_at``, or back unsent); False if it was not this owner's any more."""
        done = _FINISH.run(
            self.conn,
            {
                "b_id": row_id,
                "b_owner": owner,
                "b_state": str(state),
                "b_reply": reply[:1000],
                "b_finished": None if state.unsent else now,
                "b_next": next_attempt_at,
                "b_uncertain": uncertain,
                "b_temporary": temporary,
            },
        )
        return bool(done)

    def keep(self, row_id: int, owner: str, reply: str, *, uncertain: int = 0) -> bool:
        """The row stays this owner's, no longer handed over (it goes again at once):
        after a lost reply (``uncertain`` 1) or a drop before the end of the message."""
        done = _KEEP.run(
            self.conn,
            {"b_id": row_id, "b_owner": owner, "b_reply": reply[:1000], "b_uncertain": uncertain},
        )
        return bool(done)

    def release(self, owner: str, journaled: Mapping[int, int] | None = None) -> int:
        """Every row this owner still holds goes back unsent (``uncertain`` if it may
        have been sent before, or if its message was started and has no reply).
        ``journaled``: ``{row id: claim}`` of the starts in the loop's journal whose
        replies were not recorded (each updated by its primary key)."""
        c = send_ledger.c
        mine = sa.and_(c.state == S.SENDING, c.owner == owner)
        freed = 0
        for row_id, claim in sorted((journaled or {}).items()):
            done = self.conn.execute(
                send_ledger.update()
                .where(mine, c.id == row_id, c.attempts == claim, c.handed_over_at == RESERVED)
                .values(**_MAYBE_SENT)
            ).rowcount
            freed += int(done or 0)
        steps: list[tuple[Any, dict[str, Any]]] = [
            (
                sa.and_(mine, c.handed_over_at.is_not(None), c.handed_over_at != RESERVED),
                {"state": S.UNCERTAIN, "uncertain": c.uncertain + 1},
            ),
            (sa.and_(mine, c.uncertain > 0), {"state": S.UNCERTAIN}),
            (mine, {"state": S.PENDING}),
        ]
        for where, values in steps:
            done = self.conn.execute(
                send_ledger.update()
                .where(where)
                .values(**values, owner=None, lease_until=None, handed_over_at=None)
            ).rowcount
            freed += int(done or 0)
        return freed

    # ------------------------------------------------------------ editions as a whole

    def give_up(self, created_before: datetime, now: datetime, reason: str) -> int:
        """Rows of editions recorded before ``created_before`` still unsent (and not held
        by a live lease) end: ``failed`` with ``reason`` and the last reply, or
        ``unconfirmed`` when they may have been sent."""
        c = send_ledger.c
        old = sa.select(editions.c.id).where(editions.c.created_at < created_before)
        idle = sa.or_(
            c.state.in_((S.PENDING, S.UNCERTAIN, S.DEFERRED)),
            sa.and_(c.state == S.SENDING, sa.or_(c.lease_until.is_(None), c.lease_until <= now)),
        )
        last = sa.func.coalesce(c.reply, "never attempted")
        total = 0
        for where, state in ((c.uncertain > 0, S.UNCONFIRMED), (c.uncertain == 0, S.FAILED)):
            done = self.conn.execute(
                send_ledger.update()
                .where(c.edition_id.in_(old), idle, where)
                .values(
                    state=state,
                    reply=sa.func.substr(sa.literal(reason + "; last reply: ") + last, 1, 1000),
                    finished_at=now,
                    owner=None,
                    lease_until=None,
                    handed_over_at=None,
                )
            ).rowcount
            total += int(done or 0)
        return total

    def retry_unconfirmed(self, created_since: datetime, uncertain: int) -> int:
        """Rows ``unconfirmed`` of editions recorded since ``created_since`` go back to
        ``uncertain`` with ``uncertain`` hand-overs counted (the operator asked for one
        more copy: ``send --retry-unconfirmed``); how many."""
        c = send_ledger.c
        recent = sa.select(editions.c.id).where(editions.c.created_at >= created_since)
        done = self.conn.execute(
            send_ledger.update()
            .where(c.state == S.UNCONFIRMED, c.edition_id.in_(recent))
            .values(state=S.UNCERTAIN, uncertain=uncertain, finished_at=None)
        ).rowcount
        return int(done or 0)

    def unfinished_editions(self, created_since: datetime | None = None) -> list[StoredEdition]:
        """Editions (recorded since ``created_since``) with rows not yet sent — pending,
        in flight, uncertain, deferred — oldest first."""
        query = (
            sa.select(editions.c.id, editions.c.payload)
            .where(
                editions.c.id.in_(
                    sa.select(send_ledger.c.edition_id).where(send_ledger.c.state.in_(UNSENT))
                )
            )
            .order_by(editions.c.date, editions.c.number)
        )
        if created_since is not None:
            query = query.where(editions.c.created_at >= created_since)
        rows = self.conn.execute(query)
        return [StoredEdition(r.id, from_payload(r.payload)) for r in rows]

    def recent_editions(self, limit: int) -> list[StoredEdition]:
        """The ``limit`` newest editions that have a send ledger, newest first (each an
        index probe, not a scan of the ledger)."""
        has_rows = sa.select(send_ledger.c.id).where(send_ledger.c.edition_id == editions.c.id)
        rows = self.conn.execute(
            sa.select(editions.c.id, editions.c.payload)
            .where(has_rows.exists())
            .order_by(editions.c.id.desc())
            .limit(limit)
        )
        return [StoredEdition(r.id, from_payload(r.payload)) for r in rows]

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

    def top_replies(
        self, edition_id: int, states: Sequence[LedgerState], limit: int = 3
    ) -> list[tuple[LedgerState, str, int]]:
        """The ``limit`` most common last replies per state among the edition's rows in
        ``states``: ``(state, reply, rows)``, most common first (then by reply)."""
        c = send_ledger.c
        reply = sa.func.coalesce(c.reply, "")
        found: list[tuple[LedgerState, str, int]] = []
        for state in states:
            rows = self.conn.execute(
                sa.select(reply.label("reply"), sa.func.count().label("n"))
                .where(c.edition_id == edition_id, c.state == state)
                .group_by(reply)
                .order_by(sa.func.count().desc(), reply)
                .limit(limit)
            )
            found.extend((state, r.reply, int(r.n)) for r in rows)
        return found

    def in_flight(self, edition_id: int) -> int:
        """Claimed rows whose message is being handed over right now (no reply yet)."""
        value = self.conn.execute(
            sa.select(sa.func.count()).where(
                send_ledger.c.edition_id == edition_id,
                send_ledger.c.state == S.SENDING,
                send_ledger.c.handed_over_at.is_not(None),
            )
        ).scalar()
        return int(value or 0)

    def finished_since(self, edition_id: int, since: datetime) -> tuple[int, datetime | None]:
        """Rows of the edition that ended since ``since``, and the earliest claim among
        them (when the work they measure began): for the sending rate."""
        c = send_ledger.c
        row = self.conn.execute(
            sa.select(sa.func.count(), sa.func.min(c.claimed_at)).where(
                c.edition_id == edition_id, c.finished_at >= since
            )
        ).one()
        return int(row[0] or 0), as_utc(row[1]) if row[1] is not None else None

    def sent_since(self, since: datetime) -> int:
        """Messages of every edition sent since ``since`` (the relay's daily count)."""
        c = send_ledger.c
        value = self.conn.execute(
            sa.select(sa.func.count()).where(c.state == S.SENT, c.finished_at >= since)
        ).scalar()
        return int(value or 0)

    def next_attempt(self, edition_id: int) -> datetime | None:
        """When the edition's earliest deferred row is due."""
        c = send_ledger.c
        value = self.conn.execute(
            sa.select(sa.func.min(c.next_attempt_at)).where(
                c.edition_id == edition_id, c.state == S.DEFERRED
            )
        ).scalar()
        return as_utc(value) if value is not None else None

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

    # ------------------------------------------------------------ the relay's rate limit

    def take_tokens(
        self,
        relay: str,
        want: int,
        now: datetime,
        *,
        per_second: float,
        per_day: int,
        reconcile: bool = False,
    ) -> tuple[int, float]:
        """Take up to ``want`` sends from the relay's buckets; ``(granted, wait)`` where
        ``wait`` is how long until the next one is free (``math.inf``: not today).

        Per second: a token bucket holding at most one second's worth; per day: a
        count for the UTC day.  Both live in ``send_rate``, so every sender of every
        process shares them and a restart resets nothing.  With ``reconcile`` (a
        sender's first take) the day's count is at least the messages the ledger
        shows sent since the UTC day began: mail sent while the limit was off (the
        buckets are not touched then) counts against it once it is on."""
        if want <= 0 or (per_second <= 0 and per_day <= 0):
            return want, 0.0
        r = send_rate.c
        query = sa.select(send_rate).where(r.relay == relay)
        if self.postgres:  # senders of other processes wait here, one bucket at a time
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None and self.postgres:
            from sqlalchemy.dialects.postgresql import insert

            fresh = {"tokens": max(1.0, per_second), "refilled_at": now, "day_count": 0}
            self.conn.execute(
                insert(send_rate)
                .values(relay=relay, day=now.astimezone(UTC).date(), **fresh)
                .on_conflict_do_nothing(index_elements=["relay"])
            )
            row = self.conn.execute(query).first()
        burst = max(1.0, per_second)
        today = now.astimezone(UTC).date()
        if row is None:
            tokens, day, day_count = burst, today, 0
        else:
            # ``now`` was read before this transaction got the bucket: another sender
            # may have refilled it since, at a later time; never move its clock back
            # (that would refill it again for time already counted)
            now = max(now, as_utc(row.refilled_at))
            elapsed = (now - as_utc(row.refilled_at)).total_seconds()
            tokens = min(burst, row.tokens + elapsed * per_second) if per_second > 0 else burst
            day, day_count = _day(row.day), row.day_count
        if day != today:
            day, day_count = today, 0
        if reconcile and per_day > 0:
            day_count = max(day_count, self.sent_since(datetime.combine(today, time(), UTC)))
        granted, wait = want, 0.0
        if per_second > 0:
            granted = min(granted, int(tokens))
            if granted < want:
                wait = (granted + 1 - tokens) / per_second
        if per_day > 0 and per_day - day_count < granted:
            granted = max(0, per_day - day_count)
            wait = math.inf
        if per_second > 0:
            tokens -= granted
        values = {
            "tokens": tokens,
            "refilled_at": now,
            "day": day,
            "day_count": day_count + granted,
        }
        if row is None:
            self.conn.execute(send_rate.insert().values(relay=relay, **values))
        else:
            self.conn.execute(send_rate.update().where(r.relay == relay).values(**values))
        return granted, wait


class _Compiled:
    """A Core statement compiled once per dialect and run with ``exec_driver_sql``.

    A delivery loop runs a few updates per message; building a statement, and
    even computing the cache key of a prebuilt one, costs several times what
    SQLite takes to run it.  Parameters go through the column types' bind
    processors, as Core would (SQLite stores datetimes as text).
    """

    def __init__(self, statement: sa.UpdateBase) -> None:
        self.statement = statement
        self._dialects: dict[str, _Ready] = {}

    def run(self, conn: sa.Connection, params: dict[str, Any]) -> int:
        """Execute with ``params`` in the connection's transaction; the number of rows
        it changed."""
        # on the DBAPI cursor of the connection's transaction: SQLAlchemy's execution
        # path (events, result set-up) is most of the cost of a one-row update
        dbapi = conn.connection.dbapi_connection
        return self.run_dbapi(dbapi, conn.dialect, params)

    def run_dbapi(self, dbapi: Any, dialect: sa.Dialect, params: dict[str, Any]) -> int:
        """Execute with ``params`` on a DBAPI connection; the number of rows it changed."""
        ready = self._dialects.get(dialect.name)
        if ready is None:
            compiled = self.statement.compile(dialect=dialect)
            defaults = {n: b.value for n, b in compiled.binds.items() if not b.required}
            ready = _Ready(
                sql=compiled.string,
                positional=compiled.positional,
                names=tuple(compiled.positiontup or ())
                if compiled.positional
                else tuple(compiled.binds),
                defaults=defaults,
                processors={
                    name: bind.type.bind_processor(dialect) for name, bind in compiled.binds.items()
                },
            )
            self._dialects[dialect.name] = ready
        merged = {**ready.defaults, **params}
        values: dict[str, Any] = {}
        for name in ready.names:
            process = ready.processors.get(name)
            values[name] = process(merged[name]) if process else merged[name]
        args: Any = tuple(values[n] for n in ready.names) if ready.positional else values
        cursor = dbapi.cursor()
        try:
            cursor.execute(ready.sql, args)
            return int(cursor.rowcount or 0)
        finally:
            cursor.close()


@dataclass(frozen=True)
class _Ready:
    sql: str
    positional: bool
    names: tuple[str, ...]
    defaults: dict[str, Any]
    processors: dict[str, Any]


# The statements a delivery loop runs once per message, built once.
_c = send_ledger.c
_MINE = sa.and_(
    _c.id == sa.bindparam("b_id"), _c.state == S.SENDING, _c.owner == sa.bindparam("b_owner")
)
_CONFIRMED = (
    sa.select(subscribers.c.id)
    .where(
        subscribers.c.id == _c.subscriber_id,
        subscribers.c.status == SubscriberStatus.CONFIRMED,
    )
    .exists()
)
_HAND_OVER = _Compiled(
    send_ledger.update().where(_MINE, _CONFIRMED).values(handed_over_at=sa.bindparam("b_now"))
)
_FINISH = _Compiled(
    send_ledger.update()
    .where(_MINE)
    .values(
        state=sa.bindparam("b_state"),
        reply=sa.bindparam("b_reply"),
        finished_at=sa.bindparam("b_finished"),
        next_attempt_at=sa.bindparam("b_next"),
        uncertain=_c.uncertain + sa.bindparam("b_uncertain", type_=sa.Integer),
        temporary=_c.temporary + sa.bindparam("b_temporary", type_=sa.Integer),
        owner=None,
        lease_until=None,
        handed_over_at=None,
    )
)
_START = _Compiled(
    send_ledger.update()
    .where(_MINE, _c.handed_over_at == RESERVED)
    .values(handed_over_at=sa.bindparam("b_now"))
)
_KEEP = _Compiled(
    send_ledger.update()
    .where(_MINE)
    .values(
        handed_over_at=None,
        reply=sa.bindparam("b_reply"),
        uncertain=_c.uncertain + sa.bindparam("b_uncertain", type_=sa.Integer),
    )
)


_COMMAND_OK = 1
"""libpq's ``PGRES_COMMAND_OK``: a command that returns no rows succeeded."""


JOURNAL_MARGIN = 0.2
"""A journaled start needs the loop's lease live for this fraction of the lease to come."""


class StartJournal:
    """A delivery loop's start marks on a SQLite file: a line ``<row id> <claim>`` per
    message, appended (``O_APPEND``, one ``write``) just before its final dot.

    Killed, a process loses nothing it wrote to the kernel: the line is there for
    whoever takes the loop's rows back (:meth:`Ledger.recover`: a row marked with its
    group and journaled under the claim it was reserved in counts as started).  It
    replaces a SQLite write transaction per message (lock, a 4 KB WAL frame, the
    shared-memory index): a few microseconds instead of about 0.1 ms of CPU.  The
    fence a start mark's update gives (the row is still this loop's) comes from the
    lease instead: the line is written first, and only then is the loop's lease
    checked to be live for a while yet (:meth:`StartMarks.start`); a row is taken
    back only once its lease ran out (or its owner is provably dead, never a live
    loop), so whoever takes it back finds the line.  SQLite only: one machine, one
    clock, one file system; PostgreSQL senders on several machines keep the update.

    The file is ``<database>-starts/<hash of the owner>``; the loop removes it at its
    end (its rows released), a recovery once it took back a dead loop's rows.  It is
    made durable (``fdatasync``) with each of the loop's group transactions, as the
    marks' WAL frames were: only a crash of the machine in between can forget a start.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._dirty = False
        self.open: dict[int, int] = {}
        """``{row id: claim}`` of the starts written whose replies are not recorded yet
        (:meth:`replied`): what the loop's release must count as started."""

    @staticmethod
    def path_for(database: str | None, owner: str) -> Path | None:
        """Where the journal of ``owner``'s loop lives (None: an in-memory database)."""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        digest = hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]
        # resolved: a process that opened the same file by another relative path (another
        # working directory, a symbolic link) finds the same journals
        return Path(f"{Path(database).resolve()}-starts") / digest

    @staticmethod
    def entries(path: Path) -> set[tuple[int, int]]:
        """``(row id, claim)`` of every start the journal holds (none if it is gone).  A
        line cut short (a write cannot be, below ``PIPE_BUF``; a full disk) is skipped."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return set()
        found: set[tuple[int, int]] = set()
        for line in data.split(b"\n"):
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                found.add((int(parts[0]), int(parts[1])))
        return found

    def write(self, row_id: int, claim: int) -> None:
        """Append one start; thread-safe (one ``write`` on an ``O_APPEND`` file)."""
        if self._fd is None:
            raise RuntimeError("the start journal is closed")
        os.write(self._fd, b"%d %d\n" % (row_id, claim))
        self.open[row_id] = claim
        self._dirty = True

    def replied(self, row_ids: Iterable[int]) -> None:
        """These rows' outcomes are recorded: their starts no longer matter."""
        for row_id in row_ids:
            self.open.pop(row_id, None)

    def sync(self) -> None:
        """Make the starts written so far durable (before a group transaction)."""
        if self._dirty and self._fd is not None:
            self._dirty = False
            os.fdatasync(self._fd)

    def close(self, *, remove: bool) -> None:
        """Close; ``remove`` once the loop's rows are released (nothing to recover)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()


class StartMarks:
    """One delivery worker's marks "this message is started" for rows marked with
    their group, on a connection of its own (autocommit).

    The mark must be in the database before the message's final dot: a loop killed
    after it counts an uncertain hand-over for that row, one killed before it does
    not (the row was certainly not sent: it goes back as it was).  A kill of the
    process loses nothing committed; the commit does not wait for the disk
    (SQLite ``synchronous=NORMAL`` on this connection, PostgreSQL
    ``synchronous_commit = off``) — the next fsynced transaction of the loop (the
    group's replies) makes it durable, so only a crash of the machine (or of the
    PostgreSQL server) within that moment can forget a start, and then the row is
    sent once more as if it had not been.  On PostgreSQL the mark's COMMIT is sent
    and its reply read at the next mark (:meth:`_send_commit`): the dot follows the
    mark at once, instead of after a round trip a kill can fall into.  One
    primary-key update, no SQLAlchemy
    execution path: a few tens of microseconds against the milliseconds a group's
    fsynced transaction costs.

    Create and use it in one thread (SQLite connections belong to their thread).
    An in-memory SQLite database (one connection shared by everyone, gone with the
    process) has nothing to recover from: no mark is written there.
    """

    def __init__(
        self,
        engine: sa.Engine,
        journal: StartJournal | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self._dialect = engine.dialect
        self._raw: Any = None
        self._pending_commit = False
        self._journal = journal if self._dialect.name == "sqlite" else None
        self._margin = (lease or timedelta(0)) * JOURNAL_MARGIN
        if isinstance(engine.pool, StaticPool):
            return
        raw = engine.raw_connection()
        raw.detach()  # its settings below never reach another user of the pool
        cursor = raw.cursor()
        try:
            if self._dialect.name == "sqlite":
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute(f"PRAGMA cache_size=-{SMALL_CACHE_KIB}")  # small_page_cache
            elif self._dialect.name == "postgresql":
                cursor.execute("SET synchronous_commit TO off")
                raw.commit()
        finally:
            cursor.close()
        self._raw = raw
        self._pending_commit = False

    def start(
        self,
        row_id: int,
        owner: str,
        now: datetime,
        *,
        claim: int = 0,
        lease_until: datetime | None = None,
    ) -> bool:
        """Mark the row's message started; False if the row is not this owner's, or
        not marked with a group, any more (then it must not be sent).

        With a journal (SQLite), ``claim`` (the row's ``attempts`` after the claim that
        reserved it) and ``lease_until`` (a time before which none of the loop's leases
        runs out): the start is journaled, and if that lease is live for
        :data:`JOURNAL_MARGIN` of a lease yet, nobody can have taken the row back — no
        update.  Otherwise the fenced update decides, as without a journal."""
        if self._raw is None:
            return True
        if self._journal is not None and lease_until is not None:
            self._journal.write(row_id, claim)  # first: a later take-back finds it
            if now + self._margin < lease_until:
                return True
        if self._pending_commit:
            self._settle()  # the previous mark's COMMIT, long done by now
        try:
            done = _START.run_dbapi(
                self._raw, self._dialect, {"b_id": row_id, "b_owner": owner, "b_now": now}
            )
            if done == 1 and self._dialect.name == "postgresql":
                self._send_commit()
                return True
            self._raw.commit()  # SQLite: autocommit already (isolation_level None)
        except BaseException:
            with contextlib.suppress(Exception):
                self._raw.rollback()
            raise
        return done == 1

    def _send_commit(self) -> None:
        """PostgreSQL: the COMMIT of the mark is written to the server's socket, and
        not waited for.

        The update ran (the row is locked by this transaction, so nobody can take
        it back before the commit), and PostgreSQL runs what it has received even
        once its client is gone: a kill from here on finds the row started, exactly
        as after a commit that was waited for.  Waiting for the reply (a round trip
        to a server process that must be scheduled: milliseconds on a loaded
        machine) before the final dot is the time a kill catches a message started
        and never sent — counted as a possible copy, and twice for the same row it
        ends ``unconfirmed`` with no copy at all.  The reply is read at the next
        mark (:meth:`_settle`), after this message's dot."""
        pgconn = self._raw.dbapi_connection.pgconn
        pgconn.send_query(b"COMMIT")
        while pgconn.flush():  # a non-blocking connection: the rest when writable
            select.select([], [pgconn.socket], [])
        self._pending_commit = True

    def _settle(self) -> None:
        """Read the reply to the COMMIT sent by the last mark; raises if it failed
        (the pass stops: the ledger cannot be written)."""
        self._pending_commit = False
        pgconn = self._raw.dbapi_connection.pgconn
        pgconn.consume_input()
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        error = None
        while (result := pgconn.get_result()) is not None:
            if result.status != _COMMAND_OK:
                error = (result.error_message or b"").decode("utf-8", "replace").strip()
        if error is not None:
            raise RuntimeError(f"a start mark could not be committed: {error}")

    def close(self) -> None:
        if self._raw is not None:
            with contextlib.suppress(Exception):
                if self._pending_commit:
                    self._settle()
                self._raw.close()
            self._raw = None


def started(handed_over_at: datetime | None) -> bool:
    """Whether a row's message was started past the point of no return (it may have
    left): handed over, and not only marked with its group."""
    return handed_over_at is not None and as_utc(handed_over_at) != RESERVED


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
        temporary=m["temporary"],
        lease_until=m["lease_until"],
        handed_over_at=m["handed_over_at"],
        next_attempt_at=m["next_attempt_at"],
    )


def _same(column: Any, owner: str | None) -> Any:
    return column.is_(None) if owner is None else column == owner


def _other(column: Any, owner: str) -> Any:
    return sa.or_(column.is_(None), column != owner)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
