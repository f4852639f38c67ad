"""What a message that came back does: attribute it, change the subscriber, record it.

One message is one write transaction: its ``returns`` rows (keyed by its
Message-ID, or the hash of its bytes) and every subscriber change it makes
commit together, so a message delivered twice — or read again after a crash
before it was moved — changes nothing the second time.

Attribution, first match wins:

1. the VERP token of the address it was sent to (``bounces+<token>@``,
   :mod:`newsletter.subscribers.returnpath`), or of our return path as an ARF
   report quotes it (``Original-Mail-From``, the attached ``Return-Path``):
   edition and subscriber, signed;
2. a DSN's ``Original-Recipient``/``Final-Recipient``, only together with the
   Message-ID we sent that subscriber in the returned headers;
3. an ARF report's original message: its List-Unsubscribe token or our
   Message-ID (the send ledger knows whom it went to).

An address alone (a ``Final-Recipient`` or ``Original-Rcpt-To`` without our
token or Message-ID) is never acted on: anyone can write one, and a forged
report would switch a subscriber off; such a message goes to the operator folder.

A bounce about an edition recorded before the subscriber last
confirmed (they left, or bounced, and signed up again with a fresh double
opt-in) is recorded and changes nothing: the new confirmation proved the
address works, and an old report — late, or replayed by anyone holding an old
Return-Path or Message-ID — must not lock them out again.  Soft bounces from
before that confirmation do not count towards the limit either.  A complaint
always counts, whatever edition it is about: a reader pressing "spam" on an
older email is saying it now (and the complaint rate is what providers judge).

What follows, by :class:`~newsletter.states.ReturnKind`:

- ``hard`` → the subscriber is ``bounced`` (consent ``bounced``, method ``dsn``);
- ``soft`` → counted per edition; ``bounces.soft_limit`` editions in a row →
  ``bounced`` (the detail says how many soft bounces);
- ``complaint`` → ``complained`` at once (consent ``complained``, method ``arf``):
  a complaint, never recorded as a bounce;
- ``unsubscribe`` → ``unsubscribed`` (consent method ``mailto``);
- ``notice``, ``auto-reply`` → nothing;
- ``unrecognised`` (also a report naming nobody we know) → nothing; the message
  goes to the operator folder.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import HeaderParser
from typing import Any

from newsletter.config import Settings
from newsletter.returns.reports import Malformed, Recipient, Report, message_key, read
from newsletter.states import ConsentAction, ReturnKind
from newsletter.store import Database, Transaction
from newsletter.store.returns import ReturnRow
from newsletter.store.schema import as_utc
from newsletter.store.subscribers import Subscriber
from newsletter.subscribers.returnpath import Attribution, MailtoAddress, ReturnPath
from newsletter.subscribers.subscriptions import suppress
from newsletter.subscribers.tokens import UNSUBSCRIBE, TokenError, Tokens

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

PROCESSED = "processed"
OPERATOR = "operator"


HEAD_BYTES = 64 * 1024
"""How much of an oversized message's start is read for its key: the header block
(Message-ID is in it), bounded so a message that is one huge header costs no more."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def oversized_key(head: bytes) -> str:
    """The ``returns`` key of a message too large to read, from its header block.

    Its Message-ID when it has one (as :func:`~newsletter.returns.reports.message_key`
    keys every message read, so a second delivery counts once), under its own
    ``oversized:`` prefix: a message refused for its size and read later, after
    ``bounces.max_kb`` was raised, is applied then, not taken for seen (and its
    ``oversized:`` row dropped: one message, one kind).  Without a Message-ID, the
    SHA-256 of the header block: the bytes a mailbox keeps as they are when a
    message is moved or copied (its flags and UID are not in them).
    """
    return _header_keys(head)[1]


def _header_keys(head: bytes) -> tuple[str | None, str]:
    """The key a message is applied under when read (its Message-ID; None without
    one: then it is its bytes' hash, unknown from the head alone) and
    :func:`oversized_key`."""
    end = len(head)
    for blank in (b"\r\n\r\n", b"\n\n"):
        found = head.find(blank)
        if found >= 0:
            end = min(end, found)
    block = head[:end]
    message_id = message_key(HeaderParser().parsestr(block.decode("utf-8", "replace")), b"")
    if message_id.startswith("sha256:"):  # none: hash the header block itself
        return None, "oversized:sha256:" + hashlib.sha256(block).hexdigest()
    return message_id, "oversized:" + message_id


@dataclass(frozen=True)
class Handled:
    """What became of one message."""

    label: str
    """Where it came from (a file name, an IMAP uid, ``stdin``)."""
    kind: ReturnKind
    folder: str
    """``processed`` or ``operator``: where the mailbox moves it."""
    actions: tuple[str, ...] = ()
    """One line per subscriber change (``a@example.org: bounced (5.1.1)``)."""
    duplicate: bool = False
    """Seen before (same Message-ID or bytes): nothing done again."""
    problem: str | None = None
    """Why it was not read (too large, malformed): one line naming it."""
    why: str | None = None
    """Why it went to the operator folder, when it did and the intake knows (not read
    for its size, not mail, naming nobody we sent to)."""


class Intake:
    """Reads messages that came back and applies them to the database."""

    def __init__(self, settings: Settings, db: Database, *, clock: Clock = _utcnow) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.return_path = ReturnPath.from_settings(settings)
        self._tokens: Tokens | None = None
        self._mailto: MailtoAddress | None = None

    @property
    def mailto(self) -> MailtoAddress:
        """The mailto: address token's reader (made on first use: it needs the key)."""
        if self._mailto is None:
            self._mailto = MailtoAddress.from_settings(self.settings)
        return self._mailto

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = Tokens.from_settings(self.settings, self.clock)
        return self._tokens

    def handle(self, raw: bytes, label: str, envelope: tuple[str, ...] = ()) -> Handled:
        """Read and apply one message; never raises for what the message holds."""
        limit = self.settings.bounces.max_bytes
        if len(raw) > limit:
            return self.oversized(label, len(raw), raw[:HEAD_BYTES])
        try:
            report = read(raw, envelope=envelope, mailto=self.settings.delivery.unsubscribe_mailto)
        except Malformed as exc:
            key = "sha256:" + hashlib.sha256(raw).hexdigest()
            return self._unreadable(label, key, str(exc))
        except (RecursionError, Exception) as exc:  # reading is pure: this is the message
            key = "sha256:" + hashlib.sha256(raw).hexdigest()
            return self._unreadable(label, key, f"cannot be read ({type(exc).__name__})")
        now = self.clock()
        with self.db.write() as tx:
            known = tx.returns.known(report.key)
            if known:
                folder = PROCESSED if any(k.recognised for k in known) else OPERATOR
                return Handled(label, known[0], folder, duplicate=True)
            applying = _Applying(self, tx, report, now)
            kind, actions = applying.apply()
            # refused for its size in an earlier round (bounces.max_kb since raised):
            # read now, it is what it says it is, no longer "too large" too
            if tx.returns.forget(oversized_key(raw[:HEAD_BYTES])):
                log.info("%s: read in full now; no longer counted as too large", label)
        folder = PROCESSED if kind.recognised else OPERATOR
        for line in actions:
            log.info("%s: %s", label, line)
        why = applying.why if folder == OPERATOR else None
        return Handled(label, kind, folder, tuple(actions), why=why)

    def oversized(self, label: str, size: int, head: bytes) -> Handled:
        """A message over ``bounces.max_kb``, known by its header block alone (``head``:
        at most :data:`HEAD_BYTES` from its start), never by where it lies: a mailbox
        gives a message moved back into the folder read a new name (a new IMAP UID, a
        Maildir file under ``cur/`` with flags), and it must count once however many
        rounds see it, as every other message does (see :func:`oversized_key`)."""
        limit = self.settings.bounces.max_bytes
        # standard input is read no further than the limit and one byte: "more than"
        told = f"more than {limit:,} bytes" if size == limit + 1 else f"{size:,} bytes"
        why = f"{told}, over bounces.max_kb ({limit // 1024} KB)"
        applied_as, key = _header_keys(head)
        if applied_as is not None:
            # read and applied in an earlier round, before max_kb was lowered again
            with self.db.read() as tx:
                known = tx.returns.known(applied_as)
            if any(k.recognised for k in known):
                return Handled(label, known[0], PROCESSED, duplicate=True)
        return self._unreadable(label, key, why, unread=True)

    def _unreadable(self, label: str, key: str, why: str, *, unread: bool = False) -> Handled:
        """A message that is not read (not mail, too large) goes to the operator folder
        and is recorded ``unrecognised`` like the mail nobody could attribute, so
        ``status`` counts every message the intake put there (once, however often it
        is delivered or moved back: ``key`` is its bytes' hash, or for one too large to
        read its Message-ID or header block, :func:`oversized_key`)."""
        problem = f"{label}: {why}; moved to the operator folder" + (" unread" if unread else "")
        log.debug("%s", problem)  # in the Handled: the caller shows or logs it
        with self.db.write() as tx:
            seen = bool(tx.returns.known(key))
            if not seen:
                tx.returns.add(
                    ReturnRow(key, 0, ReturnKind.UNRECOGNISED, None, None, None, {"why": problem}),
                    self.clock(),
                )
        return Handled(
            label, ReturnKind.UNRECOGNISED, OPERATOR, duplicate=seen, problem=problem, why=why
        )


class _Applying:
    """One message's transaction: rows written in order, subscriber changes beside them."""

    def __init__(self, intake: Intake, tx: Transaction, report: Report, now: datetime) -> None:
        self.intake = intake
        self.tx = tx
        self.report = report
        self.now = now
        self.seq = 0
        self.actions: list[str] = []
        self.why: str | None = None
        """Why the message names nobody to act on (its operator-folder reason)."""

    def apply(self) -> tuple[ReturnKind, list[str]]:
        kind = self.report.kind
        if kind == ReturnKind.COMPLAINT:
            kind = self._complaint()
        elif kind in (ReturnKind.HARD, ReturnKind.SOFT, ReturnKind.NOTICE):
            kind = self._bounces()
        elif kind == ReturnKind.UNSUBSCRIBE:
            kind = self._unsubscribe()
        else:
            if kind == ReturnKind.UNRECOGNISED:
                self.why = "not a bounce report, complaint, unsubscribe or automatic reply"
            self._row(kind, None, None, None, {})
        return kind, self.actions

    # ------------------------------------------------------------ rows

    def _row(
        self,
        kind: ReturnKind,
        subscriber: Subscriber | None,
        edition_id: int | None,
        status: str | None,
        detail: dict[str, Any],
    ) -> None:
        report = self.report
        record = {"subject": report.subject[:200], "from": report.sender[:200], **detail}
        self.tx.returns.add(
            ReturnRow(
                report.key,
                self.seq,
                kind,
                subscriber.id if subscriber else None,
                edition_id,
                status,
                record,
            ),
            self.now,
        )
        self.seq += 1

    def _unknown(self, why: str) -> ReturnKind:
        self.why = why
        self._row(ReturnKind.UNRECOGNISED, None, None, None, {"why": why})
        return ReturnKind.UNRECOGNISED

    # ------------------------------------------------------------ attribution

    def _verp(self) -> Attribution | None:
        for address in self.report.envelope:
            found = self.intake.return_path.read(address)
            if found is not None:
                return found
        return None

    def _verp_subscriber(self) -> tuple[Subscriber, int] | None:
        found = self._verp()
        if found is None:
            return None
        subscriber = self.tx.subscribers.by_id(found.subscriber_id)
        if subscriber is None:
            return None
        # the token is signed, but a purged subscriber's id can be someone else's since
        # (SQLite reuses the highest): only a subscriber that edition was sent to counts
        if not self.tx.returns.was_sent_to(found.edition_id, subscriber.id):
            return None
        return subscriber, found.edition_id

    def _by_message_id(self) -> tuple[Subscriber, int] | None:
        message_id = self.report.original.message_id
        sent = self.tx.returns.sent_message(message_id) if message_id else None
        if sent is None:
            return None
        subscriber = self.tx.subscribers.by_id(sent.subscriber_id)
        return (subscriber, sent.edition_id) if subscriber else None

    def _by_token(self, tokens: tuple[str, ...]) -> Subscriber | None:
        for token in tokens:
            subscriber_id = MailtoAddress.subscriber_of(token)
            if subscriber_id is not None:  # the address form, whatever its case
                by_address = self.tx.subscribers.by_id(subscriber_id)
                if by_address is not None and self.intake.mailto.check(
                    token, by_address.id, by_address.public_id
                ):
                    return by_address
                continue
            try:
                public_id = self.intake.tokens.check(UNSUBSCRIBE, token)
            except TokenError:
                continue
            found = self.tx.subscribers.by_public_id(public_id)
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------ kinds

    def _stale(self, subscriber: Subscriber, edition_id: int | None) -> bool:
        """The report is about an edition recorded before the subscriber last confirmed."""
        if edition_id is None or subscriber.confirmed_at is None:
            return False
        created = self.tx.returns.edition_created(edition_id)
        return created is not None and created < as_utc(subscriber.confirmed_at)

    def _stale_note(self, subscriber: Subscriber, what: str) -> None:
        self._say(
            subscriber,
            f"{what} about an edition sent before they subscribed again: recorded, no change",
        )

    def _complaint(self) -> ReturnKind:
        report = self.report
        found = self._verp_subscriber() or self._by_message_id()
        subscriber, edition_id = found if found else (None, None)
        if subscriber is None:
            subscriber = self._by_token(report.original.unsubscribe_tokens)
        if subscriber is None:
            # an address alone (Original-Rcpt-To) proves nothing: anyone can write one
            return self._unknown(
                "a complaint carrying none of our return-path tokens, Message-IDs or "
                "unsubscribe tokens (an address alone is not acted on)"
            )
        detail = {
            "feedback_type": report.feedback_type,
            "reporter": report.reporter[:200],
            "message_id": report.key,
        }
        self._row(ReturnKind.COMPLAINT, subscriber, edition_id, None, detail)
        # never stale: a reader pressing "spam" on an older email is saying it now
        change = suppress(self.tx, subscriber, ConsentAction.COMPLAINED, "arf", self.now, detail)
        self._say(
            subscriber, "complained (spam report)" if change.changed else "complaint recorded"
        )
        return ReturnKind.COMPLAINT

    def _bounces(self) -> ReturnKind:
        verp = self._verp_subscriber()
        by_id = self._by_message_id()
        recipients = list(self.report.recipients)
        if verp is not None:
            # the token names the one recipient this copy went to
            worst = sorted(recipients, key=lambda r: _SEVERITY[r.kind])[0]
            self._bounce(worst, verp[0], verp[1])
            return worst.kind
        kinds = []
        for recipient in recipients:
            subscriber = None
            for address in (recipient.address, recipient.final):
                if address and subscriber is None:
                    subscriber = self.tx.subscribers.by_email(address)
            if subscriber is None and by_id is not None and len(recipients) == 1:
                subscriber = by_id[0]
            # a recipient is acted on only when the returned headers carry the
            # Message-ID we sent that subscriber: an address alone is forgeable
            if subscriber is None or by_id is None or by_id[0].id != subscriber.id:
                continue
            self._bounce(recipient, subscriber, by_id[1])
            kinds.append(recipient.kind)
        if not kinds:
            return self._unknown(
                "a bounce naming nobody we sent it to (no return-path token, and no "
                "Message-ID of ours for its recipient; an address alone is not acted on)"
            )
        return sorted(kinds, key=lambda k: _SEVERITY[k])[0]

    def _bounce(self, recipient: Recipient, subscriber: Subscriber, edition_id: int | None) -> None:
        detail = {
            "diagnostic": recipient.diagnostic[:500],
            "recipient": recipient.address,
            "message_id": self.report.key,
        }
        status = recipient.status
        if recipient.kind == ReturnKind.NOTICE:
            self._row(ReturnKind.NOTICE, subscriber, edition_id, status, detail)
            return
        if recipient.kind == ReturnKind.HARD:
            self._row(ReturnKind.HARD, subscriber, edition_id, status, detail)
            if self._stale(subscriber, edition_id):
                self._stale_note(subscriber, f"hard bounce ({status or 'permanent failure'})")
                return
            change = suppress(
                self.tx,
                subscriber,
                ConsentAction.BOUNCED,
                "dsn",
                self.now,
                {**detail, "status": status},
            )
            self._say(
                subscriber,
                f"bounced ({status or 'permanent failure'})"
                if change.changed
                else "hard bounce recorded",
            )
            return
        if edition_id is None:
            edition_id = self.tx.returns.newest_sent_edition(subscriber.id)
        self._row(ReturnKind.SOFT, subscriber, edition_id, status, detail)
        if self._stale(subscriber, edition_id):
            self._stale_note(subscriber, f"soft bounce ({status or 'temporary'})")
            return
        limit = self.intake.settings.bounces.soft_limit
        streak = self.tx.returns.soft_streak(
            subscriber.id, edition_id, limit, since=subscriber.confirmed_at
        )
        if streak >= limit:
            change = suppress(
                self.tx,
                subscriber,
                ConsentAction.BOUNCED,
                "dsn",
                self.now,
                {**detail, "status": status, "soft_bounces": streak},
            )
            if change.changed:
                self._say(subscriber, f"bounced after {streak} soft bounces in a row ({status})")
                return
        self._say(subscriber, f"soft bounce {streak} of {limit} ({status or 'temporary'})")

    def _unsubscribe(self) -> ReturnKind:
        subscriber = self._by_token(self.report.unsubscribe_tokens)
        if subscriber is None:
            return self._unknown("a mail to the unsubscribe address without a valid token")
        detail = {"message_id": self.report.key, "from": self.report.sender[:200]}
        self._row(ReturnKind.UNSUBSCRIBE, subscriber, None, None, detail)
        change = suppress(
            self.tx, subscriber, ConsentAction.UNSUBSCRIBED, "mailto", self.now, detail
        )
        self._say(
            subscriber, "unsubscribed (mailto:)" if change.changed else "unsubscribed already"
        )
        return ReturnKind.UNSUBSCRIBE

    def _say(self, subscriber: Subscriber, what: str) -> None:
        self.actions.append(f"{subscriber.email}: {what}")


_SEVERITY = {ReturnKind.HARD: 0, ReturnKind.SOFT: 1, ReturnKind.NOTICE: 2}
