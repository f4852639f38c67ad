"""Sending an edition to its subscribers, through the send ledger.

:meth:`Delivery.deliver` works down the edition's ledger
(:mod:`newsletter.delivery.ledger`) with ``delivery.connections`` workers,
each with its own connection: the coordinator (the calling thread) claims
rows in batches and keeps the workers fed; a worker renders (once per
distinct topic set, shared), splices the recipient in
(:mod:`newsletter.delivery.message`), hands the message to its
:class:`~newsletter.delivery.mailer.Mailer` and reports the reply to the
:class:`~newsletter.delivery.recorder.Recorder`, which writes replies in
grouped transactions and never lets more than ``delivery.in_flight``
messages be handed over without a recorded reply.  Killed at any moment,
the next pass (a run, a tick, ``newsletter send``) goes on where it stopped.

Failures, per recipient, never abort the others and never pause the loop:

- temporary (SMTP 4xx, 552 at RCPT, mailbox full): ``deferred`` at once with
  a next-attempt time (per-recipient back-off); any later pass retries it;
- a dropped connection before the end of the message: not sent; the worker
  reconnects and tries once more at once, then defers it;
- reply lost after the whole message went out: sent once more at once, same
  Message-ID; lost again, the row is ``unconfirmed`` (never a third copy);
- permanent (5xx): ``failed``; "no such mailbox" also bounces the subscriber.

What stops the pass instead (:class:`~newsletter.delivery.mailer.MailerStopped`):
authentication failure, the sender refused, the relay unreachable after
``delivery.retries`` attempts, an outbox that cannot be written.  The report
says so; the unsent rows stay for the next pass.

One loop per edition per process: a second :meth:`Delivery.deliver` of an
edition this process is already sending returns at once (``serve`` starts a
tick and could otherwise start two).  Loops of different processes share an
edition safely through the leases.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from newsletter import faults
from newsletter.config import Settings
from newsletter.delivery import lease
from newsletter.delivery import ledger as ledger_
from newsletter.delivery.ledger import Claimed, Outcome, Policy
from newsletter.delivery.mailer import (
    ConnectionLost,
    Mailer,
    MailerFactory,
    MailerStopped,
    PermanentFailure,
    Prepared,
    ReplyLost,
    TemporaryFailure,
    factory_from_settings,
)
from newsletter.delivery.message import CompiledMessage, Dkim, Recipient, Sender, compile_digest
from newsletter.delivery.ranked import Ranking
from newsletter.delivery.recorder import Recorder, RecorderFailed
from newsletter.edition import topics_of
from newsletter.model import DeliveryReport, Edition, Reason
from newsletter.render import render_email
from newsletter.states import LedgerState
from newsletter.store import Database, StoredEdition
from newsletter.store.database import Writer
from newsletter.store.ledger import StartMarks
from newsletter.subscribers.feedback import vote_token
from newsletter.subscribers.links import SubscriberLinks
from newsletter.subscribers.returnpath import MailtoAddress, ReturnPath
from newsletter.subscribers.tokens import Tokens

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]

FLUSH_SECONDS = 0.2
"""Replies that wait for no hand-over are recorded at least this often."""
PROGRESS_SECONDS = 2.0
REASONS = 3
"""How many of the most common last replies a report gives per state (deferred, failed)."""


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


@dataclass(frozen=True)
class Progress:
    """A live view of one edition's delivery: for the progress line and ``status``."""

    edition: str
    done: int
    total: int
    sent_now: int
    rate: float
    """Messages per second since this pass started."""

    @property
    def eta_seconds(self) -> float | None:
        left = self.total - self.done
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        eta = self.eta_seconds
        when = "" if eta is None else f", about {_duration(eta)} left"
        return (
            f"sending {self.edition}: {self.done:,} of {self.total:,} done, "
            f"{self.rate:,.0f} messages/s{when}"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class _Pass:
    """The shared, mutable state of one delivery pass (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    resent_uncertain: int = 0
    queued: int = 0
    """Rows handed to the workers and not finished yet (queued or being sent)."""
    stopped: str | None = None

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)
        self.changed.set()

    def stop(self, reason: str) -> None:
        with self.lock:
            if self.stopped is None:
                self.stopped = reason
        self.changed.set()


@dataclass
class _Mark:
    """A row's hand-over mark made with its group's, before its message was prepared
    (``RESERVED``: ``starts`` marks the message started just before its final dot)."""

    held: bool
    starts: StartMarks | None = None

    def take(self) -> bool:
        """True once if the mark was held (it is used, or its row ends, now)."""
        held, self.held = self.held, False
        return held


_ACTIVE: set[tuple[str, int]] = set()
_ACTIVE_LOCK = threading.Lock()


@contextlib.contextmanager
def _one_loop_per_edition(database: str, edition_id: int) -> Iterator[bool]:
    """True if this thread may deliver the edition (no other loop of this process does)."""
    key = (database, edition_id)
    with _ACTIVE_LOCK:
        mine = key not in _ACTIVE
        if mine:
            _ACTIVE.add(key)
    try:
        yield mine
    finally:
        if mine:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(key)


class Delivery:
    """Delivers editions; holds the render cache (one compile per topic set)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        mailer: Mailer | MailerFactory | None = None,
        *,
        clock: Clock = _utcnow,
        sleep: Sleep = time.sleep,
        is_dead: Callable[[str], bool] = lease.owner_is_dead,
        progress: Callable[[Progress], None] | None = None,
        connections: int | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        if isinstance(mailer, Mailer):
            one = mailer
            self.factory: MailerFactory = lambda: one
            self.connections = 1  # one instance is one connection
        else:
            self.factory = mailer or factory_from_settings(settings)
            self.connections = connections or settings.delivery.connections
        self.clock = clock
        self.sleep = sleep
        self.is_dead = is_dead
        self.progress = progress
        self.policy = Policy.from_settings(settings)
        self.in_flight = settings.delivery.in_flight
        self.group = max(1, self.in_flight // self.connections)
        """Rows a worker marks in flight in one transaction (``in_flight`` shared out)."""
        self.retries = settings.delivery.retries
        self.reconnect_pause = min(1.0, settings.delivery.backoff_seconds)
        self._cache: dict[frozenset[str], CompiledMessage] = {}
        self._cache_lock = threading.Lock()
        self._rankings: dict[tuple[object, int], Ranking] = {}
        self._sender: Sender | None = None
        self._links: SubscriberLinks | None = None
        self._return_path: ReturnPath | None = None
        self._mailto: MailtoAddress | None = None
        self.owner = ""
        self.transactions = 0

    # ------------------------------------------------------------ messages

    def _compiled(self, edition: Edition, topics: frozenset[str]) -> CompiledMessage:
        compiled = self._cache.get(topics)
        if compiled is None:
            with self._cache_lock:  # one render per topic set, whichever worker needs it first
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

    def ranking(self, edition: Edition) -> Ranking:
        """The ranked copies of ``edition`` (:mod:`newsletter.delivery.ranked`)."""
        key = (edition.date, edition.number)
        found = self._rankings.get(key)
        if found is None:
            with self._cache_lock:
                found = self._rankings.get(key)
                if found is None:
                    found = Ranking(self.settings, self.db, edition, self._sender_once, self.clock)
                    self._rankings[key] = found
        return found

    def _sender_once(self) -> Sender:
        if self._sender is None:
            self._sender = sender_for(self.settings)
        return self._sender

    def envelope_sender(self, edition_id: int, claimed: Claimed) -> str:
        """The envelope sender: per recipient with ``bounces.return_path`` (VERP)."""
        if self._return_path is None:
            self._return_path = ReturnPath.from_settings(self.settings)
        return self._return_path.for_recipient(edition_id, claimed.subscriber.id)

    def _mailto_address(self) -> MailtoAddress:
        """The per-recipient mailto: unsubscribe address (made once: it derives a key)."""
        if self._mailto is None:
            self._mailto = MailtoAddress.from_settings(self.settings)
        return self._mailto

    def message(self, edition: Edition, claimed: Claimed, smtp: bool) -> bytes:
        """One recipient's message (:meth:`message_pieces`, joined)."""
        return b"".join(self.message_pieces(edition, claimed, smtp))

    def message_pieces(self, edition: Edition, claimed: Claimed, smtp: bool) -> list[bytes]:
        """One recipient's message as pieces to write one after another: the compiled
        digest of their topic set (rendered on first use) with their address,
        Message-ID and three signed tokens spliced in — the per-recipient preparation
        ``bench/bench_send.py`` measures alone (a mailer that takes pieces,
        :attr:`Mailer.gather`, never joins them: see
        :meth:`~newsletter.delivery.message.CompiledMessage.pieces`)."""
        subscriber = claimed.subscriber
        links = self.links()
        signed = links.for_subscriber(subscriber.public_id)
        recipient = Recipient(
            address=subscriber.email,
            message_id=claimed.message_id,
            unsubscribe_url=signed.unsubscribe,
            one_click_url=signed.unsubscribe,
            preferences_url=signed.preferences,
            mailto_subject=f"unsubscribe {signed.unsubscribe_token}",
            vote_token=vote_token(links.tokens, subscriber.public_id, edition),
            mailto_address=self._mailto_address().for_recipient(
                subscriber.id, subscriber.public_id
            ),
        )
        compiled = self.ranking(edition).compiled(subscriber.id, claimed.topics)
        if compiled is None:
            compiled = self._compiled(edition, claimed.topics)
        return compiled.pieces(recipient, smtp=smtp)

    # ------------------------------------------------------------ the pass

    def deliver(self, stored: StoredEdition) -> DeliveryReport:
        """Send the stored edition to every row of its ledger that is due; see the module
        docstring."""
        edition, edition_id = stored.edition, stored.id
        with _one_loop_per_edition(self.settings.database.url, edition_id) as mine:
            if not mine:
                log.info("edition %s is being sent by this process already", _label(edition))
                return self._report(
                    edition, edition_id, _Pass(), note="being sent by this process already"
                )
            return self._deliver(edition, edition_id)

    def _deliver(self, edition: Edition, edition_id: int) -> DeliveryReport:
        if self.settings.delivery.method == "smtp" and not self.settings.site.https:
            # Where it matters only: real mail leaves over SMTP (the quick start's
            # Maildir outbox has nothing to warn about).
            log.warning(
                "newsletter.base_url is not https: mailbox providers ignore a List-Unsubscribe "
                "one-click URL that is not https"
            )
        self.owner = lease.loop_owner()
        with self.db.writer() as writer:
            return self._pass(edition, edition_id, writer)

    def _pass(self, edition: Edition, edition_id: int, writer: Writer) -> DeliveryReport:
        mailers = [self.factory() for _ in range(self.connections)]
        queue_ = ledger_.Queue(
            self.db,
            edition_id,
            self.owner,
            self.policy,
            clock=self.clock,
            is_dead=self.is_dead,
            relay=mailers[0].relay,
            # every tag: a paper reaches whoever picked any of its topics
            edition_topics=topics_of(edition),
            writer=writer,
        )
        recovered = queue_.recover()
        if recovered.uncertain:
            log.warning(
                "%d message(s) were in flight when an earlier sender stopped; "
                "sending them once more with the same Message-ID",
                recovered.uncertain,
            )
        recorder: Recorder[Outcome] = Recorder(queue_.commit, self.in_flight)
        state = _Pass()
        work: queue.Queue[Claimed | None] = queue.Queue()
        workers = [
            threading.Thread(
                target=self._work,
                args=(mailer, edition, work, recorder, state, queue_),
                name=f"send-{i}",
                daemon=True,
            )
            for i, mailer in enumerate(mailers)
        ]
        for worker in workers:
            worker.start()
        note = None
        try:
            note = self._coordinate(edition, queue_, recorder, work, state)
        finally:
            state.stop(state.stopped or "")  # workers skip what is still queued
            recorder.close()
            for _ in workers:
                work.put(None)
            for worker in workers:
                worker.join()
            with contextlib.suppress(RecorderFailed):
                recorder.flush()
            released = False
            with contextlib.suppress(RecorderFailed):
                recorder.exclusive(queue_.release)  # what was claimed and not sent
                released = True
            queue_.close_journal(released=released)
            for mailer in mailers:
                with contextlib.suppress(Exception):
                    mailer.close()
            self.transactions += recorder.transactions
        if state.stopped:
            log.error("delivery stopped: %s", state.stopped)
        return self._report(edition, edition_id, state, note=note)

    def _coordinate(
        self,
        edition: Edition,
        queue_: ledger_.Queue,
        recorder: Recorder[Outcome],
        work: queue.Queue[Claimed | None],
        state: _Pass,
    ) -> str | None:
        """Claim rows and feed the workers until the pass is done; a note for the report."""
        low = 2 * self.connections * self.group  # a whole group for each worker, twice
        exhausted = False
        held_checked = False
        not_before = 0.0
        started = time.monotonic()
        renew_every = self.policy.lease.total_seconds() / 3
        last_renew = last_progress = started
        counts = queue_.counts() if self.progress else {}  # one count: then in memory
        total = sum(counts.values())
        done_before = sum(n for s, n in counts.items() if not s.unsent)
        note = None
        while state.stopped is None:
            now = time.monotonic()
            if not exhausted and work.qsize() < low and now >= not_before:
                batch = recorder.exclusive(queue_.claim)
                state.add("queued", len(batch.claimed))
                for claimed in batch.claimed:
                    work.put(claimed)
                if batch.exhausted:
                    exhausted = True
                elif math.isinf(batch.wait):
                    exhausted = True
                    note = (
                        "daily limit of delivery.rate_per_day reached; the rest goes out tomorrow"
                    )
                    log.warning("%s", note)
                elif batch.wait > 0:
                    not_before = now + batch.wait
            if exhausted and state.queued == 0:
                recorder.flush()  # every reply of this pass recorded before it looks back
                if held_checked or note:
                    break
                held_checked = True
                if self._wait_for_others(queue_, recorder, state):
                    queue_.second_pass()
                    exhausted = False
                continue
            if now - last_renew >= renew_every:
                recorder.exclusive(queue_.renew)
                last_renew = now
            if recorder.pending and now - recorder.last_commit >= FLUSH_SECONDS:
                recorder.flush()  # replies no hand-over has carried for a while
            if self.progress and now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                self.progress(self._progress(edition, queue_, state, started, done_before, total))
            state.changed.wait(0.05)
            state.changed.clear()
        return note

    def _wait_for_others(
        self, queue_: ledger_.Queue, recorder: Recorder[Outcome], state: _Pass
    ) -> bool:
        """Rows another loop is sending: wait until they are done or their lease runs
        out (then they are ours); True if any were taken back."""
        held = dict(queue_.held_elsewhere())
        if not held:
            return False
        log.info(
            "%d message(s) of this edition are in flight in another sender; waiting up to "
            "%d s for them",
            len(held),
            int(self.policy.lease.total_seconds()),
        )
        deadline = time.monotonic() + self.policy.lease.total_seconds() + 2
        taken = False
        while time.monotonic() < deadline and state.stopped is None:
            recorder.exclusive(queue_.renew)
            recovered = recorder.exclusive(queue_.recover)
            if recovered.uncertain or recovered.pending:
                taken = True
            now_held = {row for row, _ in queue_.held_elsewhere()}
            if not held.keys() & now_held:
                break
            self.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        return taken

    # ------------------------------------------------------------ one worker

    def _work(
        self,
        mailer: Mailer,
        edition: Edition,
        work: queue.Queue[Claimed | None],
        recorder: Recorder[Outcome],
        state: _Pass,
        queue_: ledger_.Queue,
    ) -> None:
        group = self.group
        marks = queue_.start_marks() if group > 1 else None
        try:
            self._work_groups(mailer, edition, work, recorder, state, queue_, marks)
        finally:
            if marks is not None:
                marks.close()

    def _work_groups(
        self,
        mailer: Mailer,
        edition: Edition,
        work: queue.Queue[Claimed | None],
        recorder: Recorder[Outcome],
        state: _Pass,
        queue_: ledger_.Queue,
        starts: StartMarks | None,
    ) -> None:
        group = self.group
        while True:
            first = work.get()
            if first is None:
                return
            chunk, last = [first], False
            while len(chunk) < group:  # what is queued already, never waiting for more
                try:
                    more = work.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    last = True
                    break
                chunk.append(more)
            marked: set[int] | None = None
            if group > 1 and state.stopped is None:
                ids = [c.row_id for c in chunk]
                queue_.reserve(ids)  # marked RESERVED: each is started just before its dot
                try:  # one transaction marks the group (docs/delivery.md, "in flight")
                    marked = recorder.hand_over_group(ids)
                except RecorderFailed as exc:
                    state.stop(str(exc))
            for claimed in chunk:
                self._work_one(mailer, edition, claimed, recorder, state, queue_, marked, starts)
            if last:
                return

    def _work_one(
        self,
        mailer: Mailer,
        edition: Edition,
        claimed: Claimed,
        recorder: Recorder[Outcome],
        state: _Pass,
        queue_: ledger_.Queue,
        marked: set[int] | None,
        starts: StartMarks | None = None,
    ) -> None:
        mark = _Mark(marked is not None and claimed.row_id in marked, starts)
        try:
            if state.stopped is not None or (marked is not None and not mark.held):
                return  # released when the pass ends / refused: not this loop's to send
            self._send(mailer, edition, claimed, recorder, state, queue_, mark)
        except (MailerStopped, RecorderFailed) as exc:
            state.stop(str(exc))
        except Exception as exc:  # a bug must not leave the loop hanging
            log.exception("unexpected error while sending to %s", claimed.subscriber.email)
            state.stop(f"unexpected error while sending to {claimed.subscriber.email}: {exc!r}")
        finally:
            if mark.take():  # marked in flight and never handed over: no longer in flight
                recorder.record(
                    Outcome(
                        claimed.row_id,
                        None,
                        "not sent: the pass stopped",
                        claimed.subscriber.id,
                        handed_over=True,
                    )
                )
            state.add("queued", -1)

    def _prepare(
        self, mailer: Mailer, claimed: Claimed, message: bytes | list[bytes], envelope: str
    ) -> Prepared:
        """Everything up to the point of no return; a relay that cannot be reached is
        tried ``delivery.retries`` more times, pausing 1, 2, 4 ... s, then the pass stops."""
        address = claimed.subscriber.email
        for attempt in range(self.retries + 1):
            try:
                return mailer.prepare(
                    envelope,
                    address,
                    message,
                    claimed.message_id,
                    transparent=mailer.smtp,
                )
            except ConnectionLost as exc:
                if not exc.connecting:
                    raise
                if attempt == self.retries:
                    raise MailerStopped(
                        f"giving up after {attempt + 1} attempts: {exc.reply}",
                        hint="the unsent messages go out on the next run",
                    ) from None
                pause = self.reconnect_pause * 2**attempt
                log.info("%s; trying again in %.1f s", exc.reply, pause)
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        mailer: Mailer,
        edition: Edition,
        claimed: Claimed,
        recorder: Recorder[Outcome],
        state: _Pass,
        queue_: ledger_.Queue,
        mark: _Mark | None = None,
    ) -> None:
        """One message, start to end; ``mark`` holds the row's hand-over mark when its
        group was marked in advance (the first outcome recorded ends it)."""
        mark = mark or _Mark(False)
        row, subscriber = claimed.row_id, claimed.subscriber
        address = subscriber.email
        message: bytes | list[bytes]
        if mailer.gather:
            message = self.message_pieces(edition, claimed, mailer.smtp)
        else:
            message = self.message(edition, claimed, mailer.smtp)
        envelope = self.envelope_sender(queue_.edition_id, claimed)
        if claimed.retry_of_uncertain:
            state.add("resent_uncertain")
        uncertain = claimed.uncertain
        drops = 0

        def defer(reply: str, handed_over: bool = False) -> None:
            handed_over = mark.take() or handed_over
            log.info("%s: %s; deferred", address, reply)
            recorder.record(
                Outcome(
                    row,
                    LedgerState.DEFERRED,
                    reply,
                    subscriber.id,
                    handed_over=handed_over,
                    temporary=1,
                    next_attempt_at=queue_.deferral(claimed),
                )
            )

        def fail(exc: PermanentFailure, handed_over: bool = False) -> None:
            handed_over = mark.take() or handed_over
            log.warning("%s: %s", address, exc.reply)
            recorder.record(
                Outcome(
                    row,
                    LedgerState.FAILED,
                    exc.reply,
                    subscriber.id,
                    handed_over=handed_over,
                    bounce=exc.bounce,
                )
            )

        while True:
            try:
                prepared = self._prepare(mailer, claimed, message, envelope)
            except ConnectionLost as exc:
                drops += 1
                if drops == 1:
                    continue  # a fresh connection, at once
                defer(exc.reply)
                return
            except TemporaryFailure as exc:
                defer(exc.reply)
                return
            except PermanentFailure as exc:
                fail(exc)
                return
            if mark.take():  # marked with its group: started now, just before the dot
                if not self._start(mark, claimed, queue_, recorder, prepared):
                    return
            elif not recorder.hand_over(row):
                prepared.abandon()  # taken back (lease expired), or the pass stops
                return
            try:
                reply = prepared.hand_over()
            except ReplyLost as exc:
                uncertain += 1
                if uncertain >= ledger_.MAX_UNCERTAIN:
                    log.warning("%s: %s; not sent a third time", address, exc.reply)
                    recorder.record(
                        Outcome(
                            row,
                            LedgerState.UNCONFIRMED,
                            f"handed over twice without a reply: {exc.reply}",
                            subscriber.id,
                            handed_over=True,
                            uncertain=1,
                        )
                    )
                    return
                log.warning("%s: %s; sending once more", address, exc.reply)
                recorder.record(
                    Outcome(row, None, exc.reply, subscriber.id, handed_over=True, uncertain=1)
                )
                state.add("resent_uncertain")
                continue
            except ConnectionLost as exc:  # dropped before the server took it: not sent
                recorder.record(Outcome(row, None, exc.reply, subscriber.id, handed_over=True))
                drops += 1
                if drops == 1:
                    continue
                defer(exc.reply)
                return
            except TemporaryFailure as exc:
                defer(exc.reply, handed_over=True)
                return
            except PermanentFailure as exc:
                fail(exc, handed_over=True)
                return
            except MailerStopped as exc:  # nothing was taken: back as it was
                recorder.record(
                    Outcome(
                        row,
                        LedgerState.UNCERTAIN if uncertain else LedgerState.PENDING,
                        exc.message,
                        subscriber.id,
                        handed_over=True,
                    )
                )
                raise
            except BaseException:  # a bug while handing over: it may have left
                recorder.record(
                    Outcome(
                        row,
                        LedgerState.UNCERTAIN,
                        "the sender failed while handing this message over",
                        subscriber.id,
                        handed_over=True,
                        uncertain=1,
                    )
                )
                raise
            faults.hit("mid-send")  # accepted, not yet recorded (docs/hardening.md)
            recorder.record(Outcome(row, LedgerState.SENT, reply, subscriber.id, handed_over=True))
            state.add("sent")
            return

    def _start(
        self,
        mark: _Mark,
        claimed: Claimed,
        queue_: ledger_.Queue,
        recorder: Recorder[Outcome],
        prepared: Prepared,
    ) -> bool:
        """Mark a row of a group started (its message may leave from now on); False,
        with the message abandoned and its in-flight slot freed, when the row is not
        this loop's any more or the mark cannot be written (the pass then stops)."""
        row, subscriber_id = claimed.row_id, claimed.subscriber.id
        try:
            ok = mark.starts is None or mark.starts.start(
                row,
                queue_.owner,
                self.clock(),
                claim=claimed.claim,
                lease_until=queue_.lease_floor,
            )
        except Exception as exc:
            prepared.abandon()
            recorder.record(
                Outcome(row, None, "not sent: the pass stopped", subscriber_id, handed_over=True)
            )
            raise RecorderFailed(f"the send ledger could not be written: {exc}") from exc
        if not ok:
            prepared.abandon()  # taken back by another sender (lease expired)
            recorder.record(
                Outcome(row, None, "not sent: taken back", subscriber_id, handed_over=True)
            )
        return ok

    # ------------------------------------------------------------ reporting

    def _progress(
        self,
        edition: Edition,
        queue_: ledger_.Queue,
        state: _Pass,
        started: float,
        done_before: int,
        total: int,
    ) -> Progress:
        """Where the pass stands, from the ledger's counts at its start and the rows this
        loop ended since (counting the ledger again would scan every row of it)."""
        elapsed = max(1e-6, time.monotonic() - started)
        return Progress(
            edition=_label(edition),
            done=min(total, done_before + queue_.ended),
            total=total,
            sent_now=state.sent,
            rate=queue_.ended / elapsed,
        )

    def summary(self, stored: StoredEdition, stopped: str | None = None) -> DeliveryReport:
        """The edition's ledger as a report, without sending anything."""
        state = _Pass()
        state.stopped = stopped
        return self._report(stored.edition, stored.id, state)

    def _report(
        self, edition: Edition, edition_id: int, state: _Pass, note: str | None = None
    ) -> DeliveryReport:
        with self.db.read() as tx:
            counts = tx.ledger.counts(edition_id)
            replies = tx.ledger.top_replies(
                edition_id, (LedgerState.DEFERRED, LedgerState.FAILED), REASONS
            )
        return DeliveryReport(
            recipients=sum(counts.values()),
            sent=counts[LedgerState.SENT],
            skipped=counts[LedgerState.SKIPPED],
            failed=counts[LedgerState.FAILED],
            unconfirmed=counts[LedgerState.UNCONFIRMED],
            deferred=counts[LedgerState.DEFERRED],
            pending=counts[LedgerState.PENDING],
            uncertain=counts[LedgerState.UNCERTAIN],
            claimed=counts[LedgerState.SENDING],
            sent_now=state.sent,
            resent_uncertain=state.resent_uncertain,
            stopped=state.stopped or None,
            note=note,
            reasons=tuple(Reason(str(s), reply, n) for s, reply, n in replies),
            edition_date=edition.date,
            edition_number=edition.number,
        )


def _label(edition: Edition) -> str:
    return f"{edition.date.isoformat()}" + (f" #{edition.number}" if edition.number > 1 else "")


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


def unfinished_editions(db: Database, since: datetime | None = None) -> list[StoredEdition]:
    """Editions recorded since ``since`` whose send ledger has rows not yet sent
    (pending, in flight, uncertain, deferred), oldest first."""
    with db.read() as tx:
        return tx.ledger.unfinished_editions(since)


def resume(
    settings: Settings,
    db: Database,
    mailer: Mailer | MailerFactory | None = None,
    *,
    clock: Clock = _utcnow,
    sleep: Sleep = time.sleep,
    progress: Callable[[Progress], None] | None = None,
) -> list[tuple[StoredEdition, DeliveryReport]]:
    """One pass over every unfinished edition within ``delivery.max_age_days``, oldest
    first, after giving up the unsent rows of older ones; stops at a stopped pass."""
    policy = Policy.from_settings(settings)
    now = clock()
    given_up = ledger_.give_up_old(db, policy, now)
    if given_up:
        log.warning(
            "%d message(s) of editions older than %d days were given up (delivery.max_age_days)",
            given_up,
            policy.max_age.days,
        )
    delivery = Delivery(settings, db, mailer, clock=clock, sleep=sleep, progress=progress)
    done: list[tuple[StoredEdition, DeliveryReport]] = []
    for stored in unfinished_editions(db, now - policy.max_age):
        report = delivery.deliver(stored)
        done.append((stored, report))
        if report.stopped:
            break
    return done


def deliver(
    settings: Settings,
    db: Database,
    stored: StoredEdition,
    mailer: Mailer | MailerFactory | None = None,
    *,
    clock: Clock = _utcnow,
    sleep: Sleep = time.sleep,
    progress: Callable[[Progress], None] | None = None,
) -> DeliveryReport:
    """Send the stored edition to every due row of its ledger; see the module docstring."""
    return Delivery(settings, db, mailer, clock=clock, sleep=sleep, progress=progress).deliver(
        stored
    )
