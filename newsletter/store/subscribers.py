"""Subscribers and their consent record.

The rules (who may become what, which change writes which consent entry)
live in :mod:`newsletter.subscribers.subscriptions`; this module only reads
and writes rows.  ``topics`` is stored as a comma-separated list of topic ids,
NULL for "every topic"; addresses are unique case-insensitively by ``email_key``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.states import ConsentAction, SubscriberStatus
from newsletter.store.schema import consents, returns, send_ledger, subscribers


@dataclass(frozen=True)
class Subscriber:
    """One subscriber.  ``topics`` is None for "every topic"."""

    id: int
    public_id: str
    email: str
    status: SubscriberStatus
    topics: frozenset[str] | None
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None

    def wants(self, topic: str) -> bool:
        return self.topics is None or topic in self.topics


@dataclass(frozen=True)
class NewRow:
    """A subscriber to insert in bulk: an address already validated, its status and topics."""

    address: str
    status: SubscriberStatus
    topics: frozenset[str] | None


@dataclass(frozen=True)
class Consent:
    """One entry of a subscriber's consent record."""

    at: datetime
    action: ConsentAction
    method: str
    detail: dict[str, Any]


def address_key(address: str) -> str:
    """The case-insensitive identity of an address."""
    return address.lower()


def topics_text(topics: frozenset[str] | None) -> str | None:
    """Topics as stored: sorted ids joined by commas, None for every topic."""
    return ",".join(sorted(topics)) if topics is not None else None


def _topics_value(text: str | None) -> frozenset[str] | None:
    return frozenset(t for t in text.split(",") if t) if text is not None else None


def subscriber_from_row(row: Any) -> Subscriber:
    """A :class:`Subscriber` from a row of (or a row with the columns of) ``subscribers``."""
    return Subscriber(
        id=row.id,
        public_id=row.public_id,
        email=row.email,
        status=SubscriberStatus(row.status),
        topics=_topics_value(row.topics),
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        unsubscribed_at=row.unsubscribed_at,
    )


class Subscribers:
    """Reads and writes of subscribers and consents, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------ reads

    def by_email(self, address: str) -> Subscriber | None:
        return self._one(subscribers.c.email_key == address_key(address))

    def by_public_id(self, public_id: str) -> Subscriber | None:
        return self._one(subscribers.c.public_id == public_id)

    def by_id(self, subscriber_id: int) -> Subscriber | None:
        return self._one(subscribers.c.id == subscriber_id)

    def _one(self, condition: Any) -> Subscriber | None:
        row = self.conn.execute(sa.select(subscribers).where(condition)).first()
        return subscriber_from_row(row) if row else None

    def all(self, status: SubscriberStatus | None = None) -> list[Subscriber]:
        """Every subscriber (in ``status``), by address."""
        query = sa.select(subscribers).order_by(subscribers.c.email_key)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        return [subscriber_from_row(r) for r in self.conn.execute(query)]

    def confirmed_ids(self) -> list[int]:
        """The ids of the confirmed subscribers, in order (who an edition goes to)."""
        return [
            r.id
            for r in self.conn.execute(
                sa.select(subscribers.c.id)
                .where(subscribers.c.status == SubscriberStatus.CONFIRMED)
                .order_by(subscribers.c.id)
            )
        ]

    def consents(self, subscriber_id: int) -> list[Consent]:
        rows = self.conn.execute(
            sa.select(consents)
            .where(consents.c.subscriber_id == subscriber_id)
            .order_by(consents.c.id)
        ).all()
        return [
            Consent(r.at, ConsentAction(r.action), r.method, json.loads(r.detail)) for r in rows
        ]

    def count_consents(
        self,
        action: ConsentAction,
        method: str,
        since: datetime,
        subscriber_id: int | None = None,
    ) -> int:
        """Consent entries of ``action`` by ``method`` after ``since`` (of one subscriber)."""
        query = (
            sa.select(sa.func.count())
            .select_from(consents)
            .where(consents.c.action == action, consents.c.method == method, consents.c.at > since)
        )
        if subscriber_id is not None:
            query = query.where(consents.c.subscriber_id == subscriber_id)
        return int(self.conn.execute(query).scalar() or 0)

    # ------------------------------------------------------------ writes

    def insert(
        self,
        address: str,
        status: SubscriberStatus,
        topics: frozenset[str] | None,
        now: datetime,
    ) -> Subscriber:
        """A new subscriber with a fresh random ``public_id``."""
        inserted = self.conn.execute(
            subscribers.insert().values(
                public_id=secrets.token_urlsafe(16),
                email=address,
                email_key=address_key(address),
                status=status,
                topics=topics_text(topics),
                created_at=now,
                updated_at=now,
                confirmed_at=now if status == SubscriberStatus.CONFIRMED else None,
                unsubscribed_at=now if status == SubscriberStatus.UNSUBSCRIBED else None,
            )
        ).inserted_primary_key
        assert inserted is not None  # an INSERT with an integer primary key returns it
        return self._load(int(inserted[0]))

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` (:func:`address_key` values) are already subscribers: one query."""
        if not keys:
            return set()
        rows = self.conn.execute(
            sa.select(subscribers.c.email_key).where(subscribers.c.email_key.in_(keys))
        )
        return {r.email_key for r in rows}

    def insert_many(self, rows: Sequence[NewRow], now: datetime) -> dict[str, int]:
        """Insert new subscribers in one statement; their ids by :func:`address_key`.

        The caller has checked that none exists (:meth:`existing_keys`, in the
        same transaction): this is the bulk form of :meth:`insert` for imports.
        """
        if not rows:
            return {}
        params = [
            {
                "public_id": secrets.token_urlsafe(16),
                "email": row.address,
                "email_key": address_key(row.address),
                "status": row.status.value,
                "topics": topics_text(row.topics),
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now if row.status == SubscriberStatus.CONFIRMED else None,
                "unsubscribed_at": now if row.status == SubscriberStatus.UNSUBSCRIBED else None,
            }
            for row in rows
        ]
        inserted = self.conn.execute(
            subscribers.insert().returning(subscribers.c.id, subscribers.c.email_key), params
        )
        return {r.email_key: int(r.id) for r in inserted}

    def add_consents(
        self,
        entries: Sequence[tuple[int, ConsentAction, dict[str, Any]]],
        now: datetime,
        method: str,
    ) -> None:
        """Consent entries ``(subscriber id, action, detail)`` in one executemany.

        Entries sharing one ``detail`` object (a sign-up and its confirmation)
        share its JSON text, serialized once.
        """
        if not entries:
            return
        texts: dict[int, str] = {}
        rows = []
        for subscriber_id, action, detail in entries:
            text = texts.get(id(detail))
            if text is None:
                text = texts[id(detail)] = json.dumps(detail, sort_keys=True, default=str)
            rows.append(
                {
                    "subscriber_id": subscriber_id,
                    "at": now,
                    "action": action.value,
                    "method": method,
                    "detail": text,
                }
            )
        self.conn.execute(consents.insert(), rows)

    def set_status(
        self,
        subscriber_id: int,
        status: SubscriberStatus,
        now: datetime,
    ) -> Subscriber:
        """Move a subscriber to ``status``; confirming or unsubscribing stamps the time."""
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == SubscriberStatus.CONFIRMED:
            values["confirmed_at"] = now
        elif status == SubscriberStatus.UNSUBSCRIBED:
            values["unsubscribed_at"] = now
        self.conn.execute(
            subscribers.update().where(subscribers.c.id == subscriber_id).values(**values)
        )
        return self._load(subscriber_id)

    def set_topics(
        self, subscriber_id: int, topics: frozenset[str] | None, now: datetime
    ) -> Subscriber:
        self.conn.execute(
            subscribers.update()
            .where(subscribers.c.id == subscriber_id)
            .values(topics=topics_text(topics), updated_at=now)
        )
        return self._load(subscriber_id)

    def add_consent(
        self,
        subscriber_id: int,
        now: datetime,
        action: ConsentAction,
        method: str,
        detail: dict[str, Any],
    ) -> None:
        self.conn.execute(
            consents.insert().values(
                subscriber_id=subscriber_id,
                at=now,
                action=action,
                method=method,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )

    def purge(self, subscriber_id: int) -> None:
        """Delete a subscriber with every trace: ledger rows, consent record, votes, what
        came back about them, the row."""
        from newsletter.store.votes import Votes

        Votes(self.conn).purge(subscriber_id)
        self.conn.execute(send_ledger.delete().where(send_ledger.c.subscriber_id == subscriber_id))
        self.conn.execute(consents.delete().where(consents.c.subscriber_id == subscriber_id))
        self.conn.execute(returns.delete().where(returns.c.subscriber_id == subscriber_id))
        self.conn.execute(subscribers.delete().where(subscribers.c.id == subscriber_id))

    def _load(self, subscriber_id: int) -> Subscriber:
        return subscriber_from_row(
            self.conn.execute(sa.select(subscribers).where(subscribers.c.id == subscriber_id)).one()
        )
