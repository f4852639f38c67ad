"""Sign-up requests and their emails, handled off the request path.

The sign-up form answers every address the same way, and must also take the
same *time* for every address: whether the address was new (a row and a
consent written, an email sent) or already confirmed (nothing to do) must not
show in how long the answer takes.  So the web handler only validates the
form and hands a :class:`SignupRequest` to the :class:`Desk`, which records
it and sends the email in its own worker thread, one request at a time.

Recording a request is one write transaction
(:meth:`~newsletter.subscribers.subscriptions.Subscriptions.request`): the
per-address count (``subscribers.per_address_per_day`` sign-ups in the
consent record) and the insert are done under the store's write lock, so 60
sign-ups for one address at once, from any number of processes, send at most
that many confirmation emails.

The same desk sends the "your links" email (a new preferences and
unsubscribe link, for someone whose link is lost or broken) — limited per
address per day in memory — and, for an address that has not confirmed yet,
a new confirmation email instead.  The emails themselves are
:mod:`newsletter.delivery.confirmations`.

A request accepted but not yet handled when the process stops is handled
before it exits (``serve`` drains the desk on SIGTERM); one lost to a
``kill -9`` costs the person a second try, nothing else.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from newsletter.config import Settings
from newsletter.delivery.confirmations import Mailroom
from newsletter.delivery.mailer import MailerStopped, SendFailure
from newsletter.store import Database
from newsletter.subscribers.subscriptions import (
    CONFIRMED,
    PENDING,
    SignupLimited,
    Subscriber,
    Subscriptions,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
QUEUE_SIZE = 1000
"""Requests waiting at most; past it the form answers 503 (the same for every address)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignupRequest:
    """A sign-up as the form received it: a valid address, the topics, who asked."""

    address: str
    topics: frozenset[str] | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkRequest:
    """Someone asks for new links to their subscription (or a new confirmation)."""

    address: str


class SignupOutcome(StrEnum):
    """What the sign-up desk did with one request."""

    SENT = "sent"
    LIMITED = "limited"
    NOTHING_TO_SEND = "nothing-to-send"
    FAILED = "failed"


@dataclass(frozen=True)
class Handled:
    """What the desk did with one request (for logs and tests)."""

    outcome: SignupOutcome
    detail: str = ""


class Desk:
    """Handles sign-up and link requests in one worker thread (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        mailroom: Mailroom,
        *,
        clock: Clock = _utcnow,
        link_allowed: Callable[[str], bool] = lambda _address: True,
    ) -> None:
        self.settings = settings
        self.subs = Subscriptions(db)
        self.mailroom = mailroom
        self.clock = clock
        self.link_allowed = link_allowed
        self._queue: queue.Queue[SignupRequest | LinkRequest | None] = queue.Queue(QUEUE_SIZE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unfinished = 0
        self._idle = threading.Condition(self._lock)

    # ------------------------------------------------------------ the web side

    def expect(self) -> None:
        """A request will be submitted shortly (once the answer is sent): count it already."""
        with self._lock:
            self._unfinished += 1

    def submit(self, request: SignupRequest | LinkRequest, *, expected: bool = False) -> bool:
        """Queue a request; False when the queue is full (answer 503).

        ``expected``: :meth:`expect` counted it already.
        """
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="signup-desk", daemon=True)
                self._thread.start()
            try:
                self._queue.put_nowait(request)
            except queue.Full:
                log.warning("sign-up desk: the queue is full; a request was dropped")
                if expected:
                    self._unfinished -= 1
                    self._idle.notify_all()
                return False
            if not expected:
                self._unfinished += 1
            return True

    def has_room(self) -> bool:
        """Whether a request submitted now would be accepted."""
        return not self._queue.full()

    def in_flight(self) -> int:
        """Requests accepted and not yet handled (counted in the overall hourly limit)."""
        with self._lock:
            return self._unfinished

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every accepted request is handled; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Handle what is queued (up to ``timeout``), then stop the worker."""
        if not self.join(timeout):
            log.warning("sign-up desk: %d requests left unhandled at exit", self.in_flight())
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    # ------------------------------------------------------------ the worker

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            try:
                self.handle(request)
            except Exception:
                log.exception("sign-up desk: a request failed")
            finally:
                with self._idle:
                    self._unfinished -= 1
                    self._idle.notify_all()

    def handle(self, request: SignupRequest | LinkRequest) -> Handled:
        """Record one request and send its email (the worker calls this; so may tests)."""
        if isinstance(request, LinkRequest):
            return self._links(request)
        now = self.clock()
        try:
            change = self.subs.request(
                request.address,
                request.topics,
                method="web",
                now=now,
                detail=dict(request.detail),
                per_day=self.settings.subscribers.per_address_per_day,
                overall_per_hour=self.settings.subscribers.overall_per_hour,
            )
        except SignupLimited as exc:
            log.info("%s; no email sent", exc.message)
            return Handled(SignupOutcome.LIMITED, exc.which)
        if not change.changed:  # confirmed or bounced: nothing to send, same answer
            return Handled(SignupOutcome.NOTHING_TO_SEND)
        return self._mail(self.mailroom.confirmation, change.subscriber, now)

    def _links(self, request: LinkRequest) -> Handled:
        subscriber = self.subs.by_email(request.address)
        if subscriber is None or subscriber.status not in (PENDING, CONFIRMED):
            return Handled(SignupOutcome.NOTHING_TO_SEND)
        if not self.link_allowed(request.address):
            log.info("new-link limit reached for one address; no email sent")
            return Handled(SignupOutcome.LIMITED)
        now = self.clock()
        if subscriber.status == PENDING:
            return self._mail(self.mailroom.confirmation, subscriber, now)
        return self._mail(self.mailroom.new_links, subscriber, now)

    def _mail(
        self, send: Callable[[Subscriber, datetime], None], subscriber: Subscriber, now: datetime
    ) -> Handled:
        try:
            send(subscriber, now)
        except (SendFailure, MailerStopped) as exc:
            log.error("sign-up desk: email not sent: %s", exc)
            return Handled(SignupOutcome.FAILED, str(exc))
        return Handled(SignupOutcome.SENT)
