"""Sending an edition to its subscribers, through the send ledger.

:func:`deliver` works down the edition's ledger (:mod:`newsletter.delivery.ledger`):
claim a row, render (once per distinct topic set, cached), splice the
recipient in (:mod:`newsletter.delivery.message`), hand it to the
:class:`~newsletter.delivery.mailer.Mailer`, record the reply at once.  Killed at any
moment, the next ``newsletter run`` for that date calls it again and it goes
on where it stopped.

Failures, per recipient, never abort the others:

- temporary (SMTP 4xx, a dropped connection): retried ``delivery.retries``
  times with doubling back-off from ``delivery.backoff_seconds``, then
  ``deferred`` to the next run;
- reply lost after the whole message went out: sent once more with the same
  Message-ID; lost again, it is given up as failed rather than risk a third copy;
- permanent (5xx): ``failed``; a refused mailbox (5xx to RCPT) is a hard
  bounce and the subscriber becomes ``bounced``.

What stops the run instead (:class:`~newsletter.delivery.mailer.MailerStopped`):
authentication failure, the sender refused, the server unreachable after the
retries.  The report says so; the unsent rows stay for the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from newsletter import faults
from newsletter.config import Settings
from newsletter.delivery import ledger
from newsletter.delivery.mailer import (
    Mailer,
    MailerStopped,
    PermanentFailure,
    ReplyLost,
    TemporaryFailure,
)
from newsletter.delivery.message import CompiledMessage, Dkim, Recipient, Sender, compile_digest
from newsletter.edition import topics_of
from newsletter.model import DeliveryReport, Edition
from newsletter.render import render_email
from newsletter.states import LedgerState
from newsletter.store import Database, StoredEdition
from newsletter.store import runs as runlog
from newsletter.subscribers.links import SubscriberLinks
from newsletter.subscribers.tokens import Tokens

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def sender_for(settings: Settings) -> Sender:
    """The sender identity, with the DKIM key when one is configured."""
    dkim = None
    key = settings.dkim
    if key.key_file is not None:
        dkim = Dkim.from_file(key.domain, key.selector, key.key_file)
    delivery = settings.delivery
    return Sender(
        name=settings.newsletter.name,
        address=delivery.from_address,
        list_id=delivery.list_id,
        unsubscribe_mailto=delivery.unsubscribe_mailto,
        dkim=dkim,
    )


@dataclass
class _Run:
    """The mutable state of one delivery loop (counts and the render cache)."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    resent_uncertain: int = 0


class Delivery:
    """Delivers one edition; holds the render cache (one compile per topic set)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        mailer: Mailer,
        *,
        clock: Clock = _utcnow,
        sleep: Sleep = time.sleep,
        owner: str | None = None,
        is_dead: Callable[[str], bool] = runlog.owner_is_dead,
    ) -> None:
        self.settings = settings
        self.db = db
        self.mailer = mailer
        self.clock = clock
        self.sleep = sleep
        self.owner = owner or runlog.process_owner()
        self.is_dead = is_dead
        self.retries = settings.delivery.retries
        self.backoff = settings.delivery.backoff_seconds
        self._cache: dict[frozenset[str], CompiledMessage] = {}
        self._sender: Sender | None = None
        self._links: SubscriberLinks | None = None

    def _compiled(self, edition: Edition, topics: frozenset[str]) -> CompiledMessage:
        compiled = self._cache.get(topics)
        if compiled is None:
            if self._sender is None:
                self._sender = sender_for(self.settings)
            rendered = render_email(edition, self.settings, topics=topics)
            compiled = compile_digest(rendered, self._sender, self.clock())
            self._cache[topics] = compiled
            log.debug("compiled the edition for topics %s", ",".join(sorted(topics)))
        return compiled

    def links(self) -> SubscriberLinks:
        if self._links is None:
            self._links = SubscriberLinks.from_settings(
                self.settings, Tokens.from_settings(self.settings)
            )
        return self._links

    def deliver(self, stored: StoredEdition) -> DeliveryReport:
        """Work down the ledger of ``stored`` (the edition and its row id)."""
        edition, edition_id = stored.edition, stored.id
        uncertain, _requeued = ledger.recover(self.db, edition_id, self.owner, self.is_dead)
        if uncertain:
            log.warning(
                "%d message(s) were in flight when an earlier run stopped; "
                "sending them again with the same Message-ID",
                uncertain,
            )
        topics = topics_of(edition)  # every tag: a paper reaches whoever picked any of its topics
        run = _Run()
        stopped: str | None = None
        outcome: ledger.Outcome | None = None
        try:
            while True:
                claimed = ledger.step(
                    self.db, edition_id, self.owner, self.clock(), topics, outcome
                )
                outcome = None  # recorded by that step
                if claimed is None:
                    break
                if run.sent + run.failed + run.deferred == 0:
                    self._warn_if_links_are_not_https()
                try:
                    outcome = self._send(edition, claimed, run)
                except MailerStopped as exc:
                    ledger.record(
                        self.db,
                        ledger.Outcome(
                            claimed.row_id, LedgerState.PENDING, "", claimed.subscriber.id
                        ),
                        self.clock(),
                    )
                    stopped = str(exc)
                    log.error("delivery stopped: %s", exc)
                    break
        finally:
            if outcome is not None:  # an exception between send and record: record it now
                ledger.record(self.db, outcome, self.clock())
            self.mailer.close()
        counts = ledger.summary(self.db, edition_id)
        return DeliveryReport(
            recipients=sum(counts.values()),
            sent=counts[LedgerState.SENT],
            skipped=counts[LedgerState.SKIPPED],
            failed=counts[LedgerState.FAILED],
            deferred=sum(n for state, n in counts.items() if state.unsent),
            sent_now=run.sent,
            resent_uncertain=run.resent_uncertain,
            stopped=stopped,
        )

    def _warn_if_links_are_not_https(self) -> None:
        """Where it matters only: a real message is about to leave over SMTP.

        The quick start (Maildir outbox, nobody subscribed) has nothing to warn about.
        """
        if self.settings.delivery.method != "smtp":
            return
        if not self.settings.site.https:
            log.warning(
                "newsletter.base_url is not https: mailbox providers ignore a List-Unsubscribe "
                "one-click URL that is not https"
            )

    def _send(self, edition: Edition, claimed: ledger.Claimed, run: _Run) -> ledger.Outcome:
        subscriber = claimed.subscriber
        compiled = self._compiled(edition, claimed.topics)
        links = self.links().for_subscriber(subscriber.public_id)
        recipient = Recipient(
            address=subscriber.email,
            message_id=claimed.message_id,
            unsubscribe_url=links.unsubscribe,
            one_click_url=links.unsubscribe,
            preferences_url=links.preferences,
            mailto_subject=f"unsubscribe {links.unsubscribe_token}",
        )
        message = compiled.for_recipient(recipient)
        if claimed.retry_of_uncertain:
            run.resent_uncertain += 1
        lost = 0
        attempt = 0
        while True:
            try:
                reply = self.mailer.send(
                    self.settings.delivery.from_address,
                    subscriber.email,
                    message,
                    claimed.message_id,
                )
            except ReplyLost as exc:
                lost += 1
                if lost > 1:
                    run.failed += 1
                    return ledger.Outcome(
                        claimed.row_id,
                        LedgerState.FAILED,
                        f"reply lost twice, not sent again (it may have arrived): {exc.reply}",
                        subscriber.id,
                        uncertain=lost,
                    )
                log.warning("%s: %s; sending once more", subscriber.email, exc.reply)
                continue
            except TemporaryFailure as exc:
                if attempt >= self.retries:
                    if exc.code is None:  # the server itself is unreachable: stop the run
                        raise MailerStopped(
                            f"giving up after {attempt + 1} attempts: {exc.reply}",
                            hint="the unsent messages go out on the next 'newsletter run' "
                            "for this date",
                        ) from None
                    run.deferred += 1
                    return ledger.Outcome(
                        claimed.row_id,
                        LedgerState.DEFERRED,
                        exc.reply,
                        subscriber.id,
                        uncertain=lost,
                    )
                pause = self.backoff * (2**attempt)
                attempt += 1
                log.info("%s: %s; retry %d in %.1fs", subscriber.email, exc.reply, attempt, pause)
                self.sleep(pause)
                continue
            except PermanentFailure as exc:
                run.failed += 1
                log.warning("%s: %s", subscriber.email, exc.reply)
                return ledger.Outcome(
                    claimed.row_id,
                    LedgerState.FAILED,
                    exc.reply,
                    subscriber.id,
                    bounce=exc.bounce,
                    uncertain=lost,
                )
            faults.hit("mid-send")  # accepted, not yet recorded (docs/hardening.md)
            run.sent += 1
            return ledger.Outcome(
                claimed.row_id, LedgerState.SENT, reply, subscriber.id, uncertain=lost
            )


TEST_PREFIX = "[test] "


def send_test(
    settings: Settings,
    edition: Edition,
    address: str,
    mailer: Mailer,
    *,
    topics: frozenset[str] | None = None,
    clock: Clock = _utcnow,
) -> str:
    """Send ``edition`` once to ``address`` as a test; return the server's reply.

    The message is the one a subscriber on ``topics`` (every topic: None)
    gets, with the subject prefixed ``[test]``, a fresh Message-ID and the
    site's generic unsubscribe and preferences pages instead of personal links
    (nobody can be unsubscribed through a test).  The send ledger, the
    subscribers and the edition are not touched: a test can be sent any number
    of times, before or after the real sending, and changes what nobody gets.
    """
    from dataclasses import replace

    from newsletter.delivery.message import make_message_id

    chosen = None if topics is None else topics & topics_of(edition)
    rendered = render_email(edition, settings, topics=chosen)
    rendered = replace(rendered, subject=TEST_PREFIX + rendered.subject)
    compiled = compile_digest(rendered, sender_for(settings), clock())
    site = settings.site.base
    message_id = make_message_id(
        f"test.{edition.date.isoformat()}", settings.delivery.sender_domain
    )
    recipient = Recipient(
        address=address,
        message_id=message_id,
        unsubscribe_url=site.absolute("unsubscribe/"),
        one_click_url=site.absolute("unsubscribe/"),
        preferences_url=site.absolute("preferences/"),
        mailto_subject="unsubscribe",
    )
    try:
        return mailer.send(
            settings.delivery.from_address, address, compiled.for_recipient(recipient), message_id
        )
    finally:
        mailer.close()


def unfinished_editions(db: Database) -> list[StoredEdition]:
    """Editions whose send ledger has rows not yet sent (pending, in flight, uncertain,
    deferred after a temporary failure), oldest first."""
    with db.read() as tx:
        return tx.ledger.unfinished_editions()


def deliver(
    settings: Settings,
    db: Database,
    stored: StoredEdition,
    mailer: Mailer,
    *,
    clock: Clock = _utcnow,
    sleep: Sleep = time.sleep,
) -> DeliveryReport:
    """Send the stored edition to every unsent row of its ledger; see the module docstring."""
    return Delivery(settings, db, mailer, clock=clock, sleep=sleep).deliver(stored)
