"""The named states the database stores, one enum per thing that has a state:
runs (and run claims), subscribers, consent-record entries, send-ledger rows.

Each is a :class:`~enum.StrEnum` whose values are the strings written to the
database since the first release, so an old database reads the same; a value
compares equal to its string (``LedgerState.SENT == "sent"``).

One word never names two things here: a *subscriber* is
``SubscriberStatus.PENDING`` until confirmed, a *ledger row* is
``LedgerState.PENDING`` until claimed — two enums, never a bare ``"pending"``.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """How a run (or a preview) ended; stored in run reports and finished run claims."""

    PUBLISHED = "published"
    """A new edition was recorded."""
    EXISTS = "exists"
    """The date had its edition already; its files were published again."""
    EMPTY = "empty"
    """Sources were read, every entry was seen before."""
    STALE = "stale"
    """Every source returned what it returned last time."""
    FAILED = "failed"
    """No source could be read (or the run raised)."""
    UNKNOWN = "unknown"
    """A report recorded without a status (never written by this version)."""

    @property
    def ok(self) -> bool:
        """Whether the date has its edition after a run that ended so."""
        return self in (RunStatus.PUBLISHED, RunStatus.EXISTS)


class SubscriberStatus(StrEnum):
    """Where a subscriber is in :mod:`newsletter.subscribers.subscriptions`' state machine."""

    PENDING = "pending"
    """Signed up, not confirmed yet."""
    CONFIRMED = "confirmed"
    """Gets editions."""
    UNSUBSCRIBED = "unsubscribed"
    """Left; kept on record."""
    BOUNCED = "bounced"
    """The address was refused; no more mail until an operator re-adds it."""
    COMPLAINED = "complained"
    """Reported a digest as spam (an ARF complaint): suppressed at once; the form does
    not re-subscribe it."""


class ConsentAction(StrEnum):
    """What an entry of a subscriber's consent record says happened."""

    SUBSCRIBED = "subscribed"
    """Signed up (or was added, or signed up again)."""
    CONFIRMED = "confirmed"
    TOPICS = "topics"
    """Chose other topics."""
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    """A spam complaint (ARF) came back: not a bounce."""


class ReturnKind(StrEnum):
    """What a message that came back was (:mod:`newsletter.returns`), as recorded in
    the ``returns`` table."""

    HARD = "hard"
    """A DSN 5.x.x failure: the subscriber is bounced."""
    SOFT = "soft"
    """A DSN 4.x.x failure (or 5.2.2, mailbox full): counted; ``bounces.soft_limit``
    editions in a row bounce the subscriber."""
    NOTICE = "notice"
    """A DSN that is no failure (delayed, delivered, relayed): nothing to do."""
    COMPLAINT = "complaint"
    """An ARF abuse report: the subscriber is suppressed (``complained``)."""
    UNSUBSCRIBE = "unsubscribe"
    """A message to the List-Unsubscribe mailto: with its token: unsubscribed."""
    AUTO_REPLY = "auto-reply"
    """An out-of-office or other automatic reply: nothing to do."""
    UNRECOGNISED = "unrecognised"
    """None of the above, or naming nobody we sent to: moved to the operator folder."""

    @property
    def recognised(self) -> bool:
        return self is not ReturnKind.UNRECOGNISED


class LedgerState(StrEnum):
    """Where a send-ledger row is in :mod:`newsletter.delivery.ledger`'s state machine."""

    PENDING = "pending"
    """Waiting to be claimed."""
    SENDING = "sending"
    """Leased to one delivery loop (``owner``, ``lease_until``); ``handed_over_at`` set
    while its message is past the point of no return and its reply not recorded."""
    UNCERTAIN = "uncertain"
    """Its sender died (or lost the reply) after handing it over: it may have left;
    sent once more, with the same Message-ID."""
    SENT = "sent"
    FAILED = "failed"
    """Refused for good (5xx), or given up after ``delivery.max_age_days``."""
    SKIPPED = "skipped"
    """Not sent: unsubscribed since, or nothing in the edition for their topics."""
    DEFERRED = "deferred"
    """A temporary failure; claimable again from ``next_attempt_at``."""
    UNCONFIRMED = "unconfirmed"
    """Handed over twice without a reply (it probably arrived, maybe twice): never
    sent a third time."""

    @property
    def unsent(self) -> bool:
        """Whether a later run still has something to do with a row in this state."""
        return self in _UNSENT


_UNSENT = frozenset(
    (LedgerState.PENDING, LedgerState.SENDING, LedgerState.UNCERTAIN, LedgerState.DEFERRED)
)
CLAIMABLE = (LedgerState.PENDING, LedgerState.UNCERTAIN, LedgerState.DEFERRED)
"""The ledger states a delivery loop claims (deferred ones once due), oldest row first."""


class VoteChange(StrEnum):
    """What a 👍/👎 (or a seed) did to a subscriber's votes (:mod:`newsletter.votes`)."""

    RECORDED = "recorded"
    """A first vote on this paper."""
    REPLACED = "replaced"
    """The other thumb replaced an earlier vote on this paper."""
    UNCHANGED = "unchanged"
    """The same vote again: nothing changed."""
