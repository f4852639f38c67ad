"""Subscribers, their topics and their consent record, in the store's database.

A subscriber moves between four states::

    pending ──confirm──► confirmed ──unsubscribe──► unsubscribed
       ▲                    │                           │
       └──── sign up again ─┼───────────────────────────┘
                            └──hard bounce──► bounced

Only ``confirmed`` subscribers get editions.  Every change is written with a
consent row (when, how — web, cli, import, one-click, smtp — and what was
agreed to), in the same transaction, so the record can always prove why an
address was mailed.

Addresses are validated with email-validator (no display names, no quoted
local parts, no control characters: nothing that could smuggle a header),
stored as written (the domain lower-cased) and unique case-insensitively
through ``email_key``.  Signed links carry ``public_id``, a random id, never
the address.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from newsletter.errors import InputError
from newsletter.model import BOUNCED as BOUNCED
from newsletter.model import CONFIRMED as CONFIRMED
from newsletter.model import PENDING as PENDING
from newsletter.model import SUBSCRIBER_STATUSES
from newsletter.model import UNSUBSCRIBED as UNSUBSCRIBED
from newsletter.store.database import Store
from newsletter.store.migrations import consents, subscribers
from newsletter.topics import Taxonomy

STATUSES = SUBSCRIBER_STATUSES
CONSENT_TEXT = "daily research-paper digest by email, topics as chosen; unsubscribe any time"
"""What a subscriber agrees to; stored with every sign-up and confirmation."""


class AddressError(InputError):
    """An email address that cannot be used."""

    default_hint = "give a plain address such as reader@example.org"


class TopicError(InputError):
    """A topic id that is not in the taxonomy."""

    default_hint = "the [[topics]] of config.toml list the topic ids"


@dataclass(frozen=True)
class Subscriber:
    """One subscriber.  ``topics`` is None for "every topic"."""

    id: int
    public_id: str
    email: str
    status: str
    topics: frozenset[str] | None
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None

    def wants(self, topic: str) -> bool:
        return self.topics is None or topic in self.topics


@dataclass(frozen=True)
class Consent:
    """One entry of a subscriber's consent record."""

    at: datetime
    action: str
    method: str
    detail: dict[str, Any]


def normalize_address(text: str) -> str:
    """The address as stored (local part as written, domain lower-cased), or AddressError.

    Control characters are refused before anything else, with a message that
    says why: a CR or LF in an address is a header-injection attempt.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise AddressError(
            f"{text!r}: control characters (CR, LF, ...) are not allowed in an address"
        )
    text = text.strip()
    if not text:
        raise AddressError("empty address")
    try:
        valid = validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        raise AddressError(f"{text!r}: {exc}") from None
    return str(valid.ascii_email or valid.normalized)


def address_key(address: str) -> str:
    """The case-insensitive identity of an address."""
    return address.lower()


def parse_topics(raw: str | Iterable[str] | None, taxonomy: Taxonomy) -> frozenset[str] | None:
    """Topic ids from ``a,b`` or a list; None (every topic) when empty; TopicError if unknown."""
    if raw is None:
        return None
    items = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
    chosen = {t.strip() for t in items if t.strip()}
    if not chosen:
        return None
    known = [t.id for t in taxonomy.topics]
    unknown = sorted(chosen - set(known))
    if unknown:
        raise TopicError(
            f"unknown topic{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(known: {', '.join(known)})"
        )
    return None if chosen == set(known) else frozenset(chosen)


def _topics_text(topics: frozenset[str] | None) -> str | None:
    return ",".join(sorted(topics)) if topics is not None else None


def _topics_value(text: str | None) -> frozenset[str] | None:
    return frozenset(t for t in text.split(",") if t) if text is not None else None


def subscriber_from_row(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id,
        public_id=row.public_id,
        email=row.email,
        status=row.status,
        topics=_topics_value(row.topics),
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        unsubscribed_at=row.unsubscribed_at,
    )


@dataclass(frozen=True)
class Change:
    """The outcome of a request: the subscriber after it, and whether anything changed."""

    subscriber: Subscriber
    changed: bool
    created: bool = False


class Subscriptions:
    """Every read and write of subscribers goes through here."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ reads

    def by_email(self, email: str) -> Subscriber | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(subscribers).where(subscribers.c.email_key == address_key(email))
            ).first()
        return subscriber_from_row(row) if row else None

    def by_public_id(self, public_id: str) -> Subscriber | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(subscribers).where(subscribers.c.public_id == public_id)
            ).first()
        return subscriber_from_row(row) if row else None

    def by_id(self, subscriber_id: int) -> Subscriber | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(subscribers).where(subscribers.c.id == subscriber_id)
            ).first()
        return subscriber_from_row(row) if row else None

    def all(self, status: str | None = None) -> list[Subscriber]:
        query = sa.select(subscribers).order_by(subscribers.c.email_key)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        with self.store.engine.connect() as conn:
            return [subscriber_from_row(r) for r in conn.execute(query)]

    def consents(self, subscriber_id: int) -> list[Consent]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(consents)
                .where(consents.c.subscriber_id == subscriber_id)
                .order_by(consents.c.id)
            ).all()
        return [Consent(r.at, r.action, r.method, json.loads(r.detail)) for r in rows]

    # ------------------------------------------------------------ writes

    def add(
        self,
        email: str,
        topics: frozenset[str] | None,
        *,
        confirmed: bool,
        method: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> Change:
        """An operator adds an address; an existing one is left as it is (never re-subscribed).

        ``status`` overrides ``confirmed`` (an import of an export keeps who
        unsubscribed or bounced that way).
        """
        address = normalize_address(email)
        status = status or (CONFIRMED if confirmed else PENDING)
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r} (expected: {', '.join(STATUSES)})")
        with self.store.write() as conn:
            row = _find(conn, address)
            if row is not None:
                return Change(subscriber_from_row(row), changed=False)
            subscriber = _insert(conn, address, status, topics, now)
            record = {"topics": _topics_text(topics), "agreed": CONSENT_TEXT, **(detail or {})}
            _consent(conn, subscriber.id, now, "subscribed", method, record)
            if status != PENDING:
                action = "confirmed" if status == CONFIRMED else status
                _consent(conn, subscriber.id, now, action, method, record)
            return Change(subscriber, changed=True, created=True)

    def request(
        self,
        email: str,
        topics: frozenset[str] | None,
        *,
        method: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """A sign-up request: a new or former subscriber becomes pending (to be confirmed).

        ``changed`` is True when a confirmation email should go out; an
        already confirmed or bounced address is not changed (the caller answers
        the same either way, so the form does not reveal who subscribes).
        """
        address = normalize_address(email)
        record = {"topics": _topics_text(topics), "agreed": CONSENT_TEXT, **(detail or {})}
        with self.store.write() as conn:
            row = _find(conn, address)
            if row is None:
                subscriber = _insert(conn, address, PENDING, topics, now)
                _consent(conn, subscriber.id, now, "subscribed", method, record)
                return Change(subscriber, changed=True, created=True)
            if row.status in (CONFIRMED, BOUNCED):
                return Change(subscriber_from_row(row), changed=False)
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == row.id)
                .values(status=PENDING, topics=_topics_text(topics), updated_at=now)
            )
            _consent(conn, row.id, now, "subscribed", method, record)
            return Change(_load(conn, row.id), changed=True)

    def confirm(
        self, public_id: str, *, method: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> Change | None:
        """Confirm a pending subscriber; idempotent for a confirmed one; None if unknown."""
        with self.store.write() as conn:
            row = _find_public(conn, public_id)
            if row is None:
                return None
            if row.status != PENDING:
                return Change(subscriber_from_row(row), changed=False)
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == row.id)
                .values(status=CONFIRMED, confirmed_at=now, updated_at=now)
            )
            record = {"topics": row.topics, "agreed": CONSENT_TEXT, **(detail or {})}
            _consent(conn, row.id, now, "confirmed", method, record)
            return Change(_load(conn, row.id), changed=True)

    def unsubscribe(
        self, public_id: str, *, method: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> Change | None:
        """Unsubscribe (idempotent); None if the id is unknown."""
        with self.store.write() as conn:
            row = _find_public(conn, public_id)
            if row is None:
                return None
            return _unsubscribe(conn, row, method, now, detail)

    def remove(
        self, email: str, *, method: str, now: datetime, purge: bool = False
    ) -> Change | None:
        """The operator removes an address: unsubscribed (kept on record), or ``purge``d."""
        address = normalize_address(email)
        with self.store.write() as conn:
            row = _find(conn, address)
            if row is None:
                return None
            if purge:
                from newsletter.store.migrations import send_ledger

                conn.execute(send_ledger.delete().where(send_ledger.c.subscriber_id == row.id))
                conn.execute(consents.delete().where(consents.c.subscriber_id == row.id))
                conn.execute(subscribers.delete().where(subscribers.c.id == row.id))
                return Change(subscriber_from_row(row), changed=True)
            return _unsubscribe(conn, row, method, now, None)

    def set_topics(
        self,
        public_id: str,
        topics: frozenset[str] | None,
        *,
        method: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> Change | None:
        """Change the topics of a subscriber; None if the id is unknown."""
        with self.store.write() as conn:
            row = _find_public(conn, public_id)
            if row is None:
                return None
            text = _topics_text(topics)
            if row.topics == text:
                return Change(subscriber_from_row(row), changed=False)
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == row.id)
                .values(topics=text, updated_at=now)
            )
            _consent(conn, row.id, now, "topics", method, {"topics": text, **(detail or {})})
            return Change(_load(conn, row.id), changed=True)

    def mark_bounced(self, subscriber_id: int, reply: str, now: datetime) -> None:
        """A hard bounce: no more editions to this address until an operator re-adds it."""
        with self.store.write() as conn:
            mark_bounced(conn, subscriber_id, reply, now)


def mark_bounced(conn: sa.Connection, subscriber_id: int, reply: str, now: datetime) -> None:
    """Within a transaction: set ``bounced`` and record the server's reply."""
    conn.execute(
        subscribers.update()
        .where(subscribers.c.id == subscriber_id)
        .values(status=BOUNCED, updated_at=now)
    )
    _consent(conn, subscriber_id, now, "bounced", "smtp", {"reply": reply[:500]})


def _find(conn: sa.Connection, address: str) -> Any:
    return conn.execute(
        sa.select(subscribers).where(subscribers.c.email_key == address_key(address))
    ).first()


def _find_public(conn: sa.Connection, public_id: str) -> Any:
    return conn.execute(sa.select(subscribers).where(subscribers.c.public_id == public_id)).first()


def _load(conn: sa.Connection, subscriber_id: int) -> Subscriber:
    return subscriber_from_row(
        conn.execute(sa.select(subscribers).where(subscribers.c.id == subscriber_id)).one()
    )


def _insert(
    conn: sa.Connection, address: str, status: str, topics: frozenset[str] | None, now: datetime
) -> Subscriber:
    inserted = conn.execute(
        subscribers.insert().values(
            public_id=secrets.token_urlsafe(16),
            email=address,
            email_key=address_key(address),
            status=status,
            topics=_topics_text(topics),
            created_at=now,
            updated_at=now,
            confirmed_at=now if status == CONFIRMED else None,
            unsubscribed_at=now if status == UNSUBSCRIBED else None,
        )
    ).inserted_primary_key
    assert inserted is not None
    return _load(conn, int(inserted[0]))


def _unsubscribe(
    conn: sa.Connection, row: Any, method: str, now: datetime, detail: dict[str, Any] | None
) -> Change:
    if row.status == UNSUBSCRIBED:
        return Change(subscriber_from_row(row), changed=False)
    conn.execute(
        subscribers.update()
        .where(subscribers.c.id == row.id)
        .values(status=UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
    )
    _consent(conn, row.id, now, "unsubscribed", method, dict(detail or {}))
    return Change(_load(conn, row.id), changed=True)


def _consent(
    conn: sa.Connection,
    subscriber_id: int,
    now: datetime,
    action: str,
    method: str,
    detail: dict[str, Any],
) -> None:
    conn.execute(
        consents.insert().values(
            subscriber_id=subscriber_id,
            at=now,
            action=action,
            method=method,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )
