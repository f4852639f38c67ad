"""Subscribers, their topics and their consent record: the rules of who may become what.

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

The rows are read and written through
:class:`newsletter.store.subscribers.Subscribers`; this module holds the rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, DOT_ATOM_TEXT

from newsletter.errors import InputError, NewsletterError
from newsletter.states import ConsentAction, SubscriberStatus
from newsletter.store import Database, Transaction
from newsletter.store.subscribers import Consent as Consent
from newsletter.store.subscribers import NewRow, topics_text
from newsletter.store.subscribers import Subscriber as Subscriber
from newsletter.store.subscribers import address_key as address_key
from newsletter.topics import Taxonomy

PENDING = SubscriberStatus.PENDING
CONFIRMED = SubscriberStatus.CONFIRMED
UNSUBSCRIBED = SubscriberStatus.UNSUBSCRIBED
BOUNCED = SubscriberStatus.BOUNCED
COMPLAINED = SubscriberStatus.COMPLAINED
SUPPRESSED = (UNSUBSCRIBED, BOUNCED, COMPLAINED)
"""Statuses that get nothing, and that a confirmation link does not bring back."""
STATUSES = tuple(SubscriberStatus)
CONSENT_TEXT = "daily research-paper digest by email, topics as chosen; unsubscribe any time"
"""What a subscriber agrees to; stored with every sign-up and confirmation."""


class AddressError(InputError):
    """An email address that cannot be used."""

    default_hint = "give a plain address such as reader@example.org"


class TopicError(InputError):
    """A topic id that is not in the taxonomy."""

    default_hint = "the [[topics]] of config.toml list the topic ids"


class SignupLimited(NewsletterError):
    """A sign-up past a limit (per address per day, or overall per hour): nothing recorded."""

    default_hint = "the form answers the same; the address gets no more email today"

    def __init__(self, which: str) -> None:
        super().__init__(f"sign-up limit reached ({which})")
        self.which = which


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_MAX_LENGTH = 254


def normalize_address(text: str) -> str:
    """The address as stored (local part as written, domain lower-cased), or AddressError.

    Control characters are refused before anything else, with a message that
    says why: a CR or LF in an address is a header-injection attempt.

    The common shape (a plain ASCII local part at an ASCII domain) takes a
    short path: its local part is checked here as email-validator checks it,
    and its domain is validated by email-validator once per domain (a list of
    100,000 addresses has a few hundred domains; validating each address's
    domain again was most of an import's time).  Anything else goes through
    :func:`validated_address` whole; ``tests/test_subscriptions.py`` holds the
    two paths to the same answers.
    """
    if _CONTROL.search(text):
        raise AddressError(
            f"{text!r}: control characters (CR, LF, ...) are not allowed in an address"
        )
    text = text.strip()
    local, at, domain = text.rpartition("@")
    if (
        at
        and len(text) <= _MAX_LENGTH
        and domain.isascii()
        and DOT_ATOM_TEXT.match(local)  # an unquoted ASCII local part, as the library says
        and local.lower() not in _MAILBOX_NAMES
    ):
        ascii_domain = _domain(domain)
        if ascii_domain is not None:
            return f"{local}@{ascii_domain}"
    return validated_address(text)


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """``domain`` as email-validator normalizes it, or None when it refuses it."""
    try:
        return validated_address("x@" + domain).rpartition("@")[2]
    except AddressError:
        return None


def validated_address(text: str) -> str:
    """:func:`normalize_address` without the short path: email-validator on the whole text."""
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


@dataclass(frozen=True)
class Addition:
    """One subscriber for :meth:`Subscriptions.add_many`: a validated address and its choices."""

    address: str
    status: SubscriberStatus
    topics: frozenset[str] | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """The outcome of a request: the subscriber after it, and whether anything changed."""

    subscriber: Subscriber
    changed: bool
    created: bool = False


class Subscriptions:
    """Every change of a subscriber goes through here, with its consent entry."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ reads

    def by_email(self, email: str) -> Subscriber | None:
        with self.db.read() as tx:
            return tx.subscribers.by_email(email)

    def by_public_id(self, public_id: str) -> Subscriber | None:
        with self.db.read() as tx:
            return tx.subscribers.by_public_id(public_id)

    def by_id(self, subscriber_id: int) -> Subscriber | None:
        with self.db.read() as tx:
            return tx.subscribers.by_id(subscriber_id)

    def all(self, status: SubscriberStatus | None = None) -> list[Subscriber]:
        with self.db.read() as tx:
            return tx.subscribers.all(status)

    def consents(self, subscriber_id: int) -> list[Consent]:
        with self.db.read() as tx:
            return tx.subscribers.consents(subscriber_id)

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
        if status is not None and status not in STATUSES:
            raise InputError(f"unknown status {status!r} (expected: {', '.join(STATUSES)})")
        chosen = SubscriberStatus(status) if status else (CONFIRMED if confirmed else PENDING)
        with self.db.write() as tx:
            existing = tx.subscribers.by_email(address)
            if existing is not None:
                return Change(existing, changed=False)
            subscriber = tx.subscribers.insert(address, chosen, topics, now)
            record = {"topics": topics_text(topics), "agreed": CONSENT_TEXT, **(detail or {})}
            tx.subscribers.add_consent(subscriber.id, now, ConsentAction.SUBSCRIBED, method, record)
            if chosen != PENDING:
                action = ConsentAction(chosen.value)  # confirmed, unsubscribed or bounced
                tx.subscribers.add_consent(subscriber.id, now, action, method, record)
            return Change(subscriber, changed=True, created=True)

    def add_many(self, entries: Sequence[Addition], *, method: str, now: datetime) -> list[bool]:
        """The bulk form of :meth:`add` for imports: one transaction for all ``entries``.

        Addresses must already be validated (:func:`normalize_address`) and
        distinct; one that is already on the list is left as it is, exactly as
        :meth:`add` leaves it.  Returns, per entry, whether it was created.
        A few statements per call, whatever its size: the existing addresses,
        the new rows, their consent entries.
        """
        with self.db.write() as tx:
            known = tx.subscribers.existing_keys([address_key(e.address) for e in entries])
            new = [e for e in entries if address_key(e.address) not in known]
            ids = tx.subscribers.insert_many(
                [NewRow(e.address, e.status, e.topics) for e in new], now
            )
            consents: list[tuple[int, ConsentAction, dict[str, Any]]] = []
            for e in new:
                subscriber_id = ids[address_key(e.address)]
                record = {"topics": topics_text(e.topics), "agreed": CONSENT_TEXT, **e.detail}
                consents.append((subscriber_id, ConsentAction.SUBSCRIBED, record))
                if e.status != PENDING:
                    consents.append((subscriber_id, ConsentAction(e.status.value), record))
            tx.subscribers.add_consents(consents, now, method)
        return [address_key(e.address) not in known for e in entries]

    def request(
        self,
        email: str,
        topics: frozenset[str] | None,
        *,
        method: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        per_day: int | None = None,
        overall_per_hour: int | None = None,
    ) -> Change:
        """A sign-up request: a new or former subscriber becomes pending (to be confirmed).

        ``changed`` is True when a confirmation email should go out; an
        already confirmed or bounced address is not changed (the caller answers
        the same either way, so the form does not reveal who subscribes).

        With ``per_day`` (sign-ups of this address by this method in 24 hours)
        or ``overall_per_hour`` (of every address), a request past the limit
        raises SignupLimited and records nothing.  The counts and the write are
        one transaction under the store's write lock, so parallel requests
        cannot all pass the check before any of them is recorded.
        """
        address = normalize_address(email)
        record = {"topics": topics_text(topics), "agreed": CONSENT_TEXT, **(detail or {})}
        with self.db.write() as tx:
            found = tx.subscribers.by_email(address)
            if per_day is not None and found is not None:
                since = now - timedelta(days=1)
                if _signups(tx, method, since, found.id) >= per_day:
                    raise SignupLimited("per address per day")
            hour_ago = now - timedelta(hours=1)
            if overall_per_hour is not None and (
                _signups(tx, method, hour_ago, None) >= overall_per_hour
            ):
                raise SignupLimited("overall per hour")
            if found is None:
                subscriber = tx.subscribers.insert(address, PENDING, topics, now)
                tx.subscribers.add_consent(
                    subscriber.id, now, ConsentAction.SUBSCRIBED, method, record
                )
                return Change(subscriber, changed=True, created=True)
            if found.status in (CONFIRMED, BOUNCED, COMPLAINED):
                return Change(found, changed=False)
            tx.subscribers.set_status(found.id, PENDING, now)
            after = tx.subscribers.set_topics(found.id, topics, now)
            tx.subscribers.add_consent(found.id, now, ConsentAction.SUBSCRIBED, method, record)
            return Change(after, changed=True)

    def confirm(
        self, public_id: str, *, method: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> Change | None:
        """Confirm a pending subscriber; idempotent for a confirmed one; None if unknown."""
        with self.db.write() as tx:
            found = tx.subscribers.by_public_id(public_id)
            if found is None:
                return None
            if found.status != PENDING:
                return Change(found, changed=False)
            after = tx.subscribers.set_status(found.id, CONFIRMED, now)
            record = {"topics": topics_text(found.topics), "agreed": CONSENT_TEXT, **(detail or {})}
            tx.subscribers.add_consent(found.id, now, ConsentAction.CONFIRMED, method, record)
            return Change(after, changed=True)

    def unsubscribe(
        self, public_id: str, *, method: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> Change | None:
        """Unsubscribe (idempotent); None if the id is unknown."""
        with self.db.write() as tx:
            found = tx.subscribers.by_public_id(public_id)
            if found is None:
                return None
            return _unsubscribe(tx, found, method, now, detail)

    def remove(
        self, email: str, *, method: str, now: datetime, purge: bool = False
    ) -> Change | None:
        """The operator removes an address: unsubscribed (kept on record), or ``purge``d."""
        address = normalize_address(email)
        with self.db.write() as tx:
            found = tx.subscribers.by_email(address)
            if found is None:
                return None
            if purge:
                tx.subscribers.purge(found.id)
                return Change(found, changed=True)
            return _unsubscribe(tx, found, method, now, None)

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
        with self.db.write() as tx:
            found = tx.subscribers.by_public_id(public_id)
            if found is None:
                return None
            text = topics_text(topics)
            if topics_text(found.topics) == text:
                return Change(found, changed=False)
            after = tx.subscribers.set_topics(found.id, topics, now)
            tx.subscribers.add_consent(
                found.id, now, ConsentAction.TOPICS, method, {"topics": text, **(detail or {})}
            )
            return Change(after, changed=True)

    def mark_bounced(self, subscriber_id: int, reply: str, now: datetime) -> None:
        """A hard bounce: no more editions to this address until an operator re-adds it."""
        with self.db.write() as tx:
            mark_bounced(tx, subscriber_id, reply, now)


def mark_bounced(tx: Transaction, subscriber_id: int, reply: str, now: datetime) -> None:
    """Within a transaction: set ``bounced`` and record the server's reply."""
    tx.subscribers.set_status(subscriber_id, BOUNCED, now)
    tx.subscribers.add_consent(
        subscriber_id, now, ConsentAction.BOUNCED, "smtp", {"reply": reply[:500]}
    )


def suppress(
    tx: Transaction,
    subscriber: Subscriber,
    action: ConsentAction,
    method: str,
    now: datetime,
    detail: dict[str, Any],
) -> Change:
    """Within a transaction: what came back about a subscriber stops their mail.

    ``bounced`` (a hard bounce, or soft ones past the limit), ``complained`` (a spam
    complaint: recorded as such, never as a bounce) or ``unsubscribed`` (the
    List-Unsubscribe mailto:), each with its consent entry.  A subscriber already
    there is left as it is; a complaint also overrides an earlier unsubscription or
    bounce (the strongest word), nothing else overrides a complaint.
    """
    status = {
        ConsentAction.BOUNCED: BOUNCED,
        ConsentAction.COMPLAINED: COMPLAINED,
        ConsentAction.UNSUBSCRIBED: UNSUBSCRIBED,
    }[action]
    if subscriber.status == status or subscriber.status == COMPLAINED:
        return Change(subscriber, changed=False)
    if status != COMPLAINED and subscriber.status in SUPPRESSED:
        return Change(subscriber, changed=False)
    after = tx.subscribers.set_status(subscriber.id, status, now)
    tx.subscribers.add_consent(subscriber.id, now, action, method, detail)
    if status == UNSUBSCRIBED:
        tx.votes.purge(subscriber.id)
    return Change(after, changed=True)


def _signups(tx: Transaction, method: str, since: datetime, subscriber_id: int | None) -> int:
    """Sign-up requests (``subscribed`` consents) by ``method`` since ``since``."""
    return tx.subscribers.count_consents(ConsentAction.SUBSCRIBED, method, since, subscriber_id)


def recent_signups(db: Database, method: str, since: datetime) -> int:
    """Sign-up requests by ``method`` since ``since`` (the form's overall limit)."""
    with db.read() as tx:
        return _signups(tx, method, since, None)


def _unsubscribe(
    tx: Transaction,
    subscriber: Subscriber,
    method: str,
    now: datetime,
    detail: dict[str, Any] | None,
) -> Change:
    if subscriber.status == UNSUBSCRIBED:
        return Change(subscriber, changed=False)
    after = tx.subscribers.set_status(subscriber.id, UNSUBSCRIBED, now)
    tx.subscribers.add_consent(
        subscriber.id, now, ConsentAction.UNSUBSCRIBED, method, dict(detail or {})
    )
    # "after you unsubscribe we keep only that record": their votes, model and
    # ranking switch go (a sign-up again starts from the digest's order)
    tx.votes.purge(subscriber.id)
    return Change(after, changed=True)
