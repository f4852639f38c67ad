"""Grouped ledger transactions for one delivery loop, and the in-flight budget.

Several connections send at once, but every write to the send ledger goes
through one :class:`Recorder`, which batches them: each transaction records
every reply that came back since the last one *and* marks the next messages
as handed over.  One transaction per message at most, often fewer.

The budget: a message is *in flight* from the moment its row is durably
marked "handed over" (just before the point of no return, see
:mod:`newsletter.delivery.mailer`) until its reply is durably recorded.  A
kill can only make those messages uncertain, so the recorder never lets
more than ``in_flight`` of them exist: a new hand-over is granted only in a
transaction that records enough earlier replies to stay within the budget.
With the default of 1 a kill costs at most one extra copy, however many
connections send; rows claimed but not yet handed over are simply sent
later (they were certainly not sent).

Any thread may run the transaction (the first one that needs it while none
runs): no committer thread, no polling.  Other database work of the loop
(claims, lease renewal) runs through :meth:`Recorder.exclusive`, so the loop
never waits on its own write lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from newsletter.errors import NewsletterError

T = TypeVar("T")


class Releasing(Protocol):
    """An outcome; ``handed_over`` when it ends an in-flight message (frees its slot)."""

    @property
    def handed_over(self) -> bool: ...


OutcomeT = TypeVar("OutcomeT", bound=Releasing)

Commit = Callable[[Sequence[OutcomeT], Sequence[int]], set[int]]
"""One transaction: record these outcomes, mark these rows handed over; returns the rows
whose mark took (a row that is no longer this loop's is refused, and must not be sent)."""


class RecorderFailed(NewsletterError):
    """A ledger transaction of this loop failed: nothing more is sent."""

    default_hint = (
        "fix the database (disk space, permissions); the next run resends at most "
        "the messages that were in flight"
    )


class Recorder(Generic[OutcomeT]):
    """Batches a loop's ledger writes; grants hand-overs within the in-flight budget."""

    def __init__(self, commit: Commit[OutcomeT], in_flight: int = 1) -> None:
        if in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        self._commit = commit
        self._budget = in_flight
        self._cond = threading.Condition()
        self._outcomes: list[OutcomeT] = []
        self._waiting: list[int] = []
        self._granted: dict[int, bool] = {}
        self._in_flight = 0
        self._busy = False
        self._closed = False
        self._failure: BaseException | None = None
        self.transactions = 0
        """How many ledger transactions this recorder ran (for the figures)."""
        self.last_commit = time.monotonic()
        """When the last transaction ended (``time.monotonic``)."""

    @property
    def in_flight(self) -> int:
        """Rows durably handed over whose reply is not durably recorded yet."""
        with self._cond:
            return self._in_flight

    @property
    def pending(self) -> int:
        """Outcomes received and not yet recorded."""
        with self._cond:
            return len(self._outcomes)

    def record(self, outcome: OutcomeT) -> None:
        """Keep ``outcome`` for the next transaction (it does not wait for it)."""
        with self._cond:
            self._outcomes.append(outcome)
            self._cond.notify_all()

    def hand_over(self, row_id: int) -> bool:
        """Wait until ``row_id`` is durably marked handed over; False if the row is not
        this loop's any more (its lease was taken back): then it must not be sent."""
        return row_id in self.hand_over_group((row_id,))

    def hand_over_group(self, rows: Sequence[int]) -> set[int]:
        """Mark every row of ``rows`` handed over, in as few transactions as the budget
        allows (one, when it has room for them all); the rows whose mark took.  Each
        granted row is in flight until an outcome with ``handed_over`` is recorded for
        it, whether or not its message was sent (a kill makes it uncertain: sent once
        more, same Message-ID).  Groups larger than ``in_flight`` divided by the
        number of callers waiting at once could wait for each other for ever."""
        with self._cond:
            if self._closed:
                return set()
            self._waiting.extend(rows)
            while True:
                self._check()
                undecided = [r for r in rows if r not in self._granted]
                if not undecided:
                    break
                if self._closed:  # the ones not in a running transaction are refused
                    for row in undecided:
                        if row in self._waiting:
                            self._waiting.remove(row)
                            self._granted[row] = False
                    if any(r not in self._granted for r in rows):
                        # the rest are in another thread's transaction: wait for it (it
                        # needs this lock to finish; spinning here held it for ever)
                        self._cond.wait()
                    continue
                if not self._busy and self._free() > 0:
                    self._run()
                else:
                    self._cond.wait()
            granted = {r for r in rows if self._granted.pop(r)}
            self._check()
            return granted

    def close(self) -> None:
        """No more hand-overs (the loop stops): whoever waits for one gets False."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def flush(self) -> None:
        """Wait until every outcome recorded so far is durable."""
        with self._cond:
            while self._outcomes or self._busy:
                self._check()
                if self._busy:
                    self._cond.wait()
                else:
                    self._run()
            self._check()

    def exclusive(self, work: Callable[[], T]) -> T:
        """Run other ledger work of this loop while no transaction of the recorder runs."""
        with self._cond:
            while self._busy:
                self._check()
                self._cond.wait()
            self._check()
            self._busy = True
        try:
            return work()
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _free(self) -> int:
        ending = sum(1 for o in self._outcomes if o.handed_over)
        return self._budget - (self._in_flight - ending)

    def _check(self) -> None:
        if self._failure is not None:
            raise RecorderFailed(
                f"the send ledger could not be written: {self._failure}"
            ) from self._failure

    def _run(self) -> None:
        """One transaction, with the lock held on entry and exit (released meanwhile)."""
        outcomes, self._outcomes = self._outcomes, []
        ending = sum(1 for o in outcomes if o.handed_over)
        room = self._budget - (self._in_flight - ending)
        marks = self._waiting[: max(room, 0)]
        del self._waiting[: len(marks)]
        self._busy = True
        self._cond.release()
        try:
            granted = self._commit(outcomes, marks)
        except BaseException as exc:
            self._cond.acquire()
            self._busy = False
            self._failure = exc
            for row in marks:
                self._granted[row] = False
            self._cond.notify_all()
            return
        self._cond.acquire()
        self.transactions += 1
        self.last_commit = time.monotonic()
        self._busy = False
        self._in_flight += len(granted) - ending
        for row in marks:
            self._granted[row] = row in granted
        self._cond.notify_all()
