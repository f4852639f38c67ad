"""One intake round: every message of the mailbox handled and moved, one by one.

A message that cannot be read (too large, malformed) is one line in the
report and goes to the operator folder; the round goes on with the others.
A mailbox that cannot be reached stops the round with a :class:`MailboxError`;
a database that cannot be written (locked past :data:`BUSY_SECONDS` per try)
stops it with a StoreError, the message being read and those after it left in
the mailbox for the next round.

One round at a time per mailbox: a round holds the intake lock of its mailbox's
source (:meth:`~newsletter.store.Database.hold`, named ``intake <source>``) from
before it lists the mailbox until it has closed it.  A second round — another
``bounces fetch``, a ``serve`` round, on this machine or on another one sharing
the PostgreSQL database — finding it held reads nothing (:class:`IntakeBusy`):
two rounds over one mailbox would fetch what the other had moved, and file a
message twice.  A message moved away by someone else after it was listed (a
mail client, the operator) is skipped (:class:`MessageGone`), counted only as
``skipped``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newsletter.config import Settings
from newsletter.returns.intake import OPERATOR, Handled, Intake
from newsletter.returns.mailboxes import (
    IntakeBusy,
    Mailbox,
    MessageGone,
    intake_source,
    open_mailbox,
)
from newsletter.states import ReturnKind
from newsletter.store import Database

log = logging.getLogger(__name__)

BUSY_SECONDS = 4.0
"""How long the intake waits for another process's write lock, per try (SQLite tries
a write six times): a Postfix pipe answers "try again later" (exit 75) within about
half a minute rather than hold the message for many minutes."""


def open_database(settings: Settings) -> Database:
    """The database for an intake round: migrated if it must be, and bounded waits."""
    return Database.open(settings.database.url, busy_seconds=BUSY_SECONDS)


@dataclass(frozen=True)
class IntakeReport:
    """What one round did."""

    handled: tuple[Handled, ...]
    source: str = ""
    """The mailbox read (:attr:`~newsletter.returns.mailboxes.Mailbox.source`)."""
    skipped: int = 0
    """Messages listed but gone before they were read (moved away by someone else)."""

    @property
    def kinds(self) -> dict[ReturnKind, int]:
        counted = Counter(h.kind for h in self.handled if not h.duplicate)
        return {kind: counted[kind] for kind in ReturnKind if counted[kind]}

    @property
    def duplicates(self) -> int:
        return sum(1 for h in self.handled if h.duplicate)

    @property
    def to_operator(self) -> int:
        return sum(1 for h in self.handled if h.folder == OPERATOR)

    @property
    def problems(self) -> list[str]:
        return [h.problem for h in self.handled if h.problem]

    def summary(self) -> str:
        """``bounces: 3 read: 1 hard, 1 unrecognised, 1 seen before; 1 moved to the
        operator folder`` — each message in one category (its kind, or seen before)."""
        gone = f"; {self.skipped} moved away by someone else first" if self.skipped else ""
        if not self.handled:
            return "bounces: nothing new" + gone
        parts = [f"{n} {kind}" for kind, n in self.kinds.items()]
        if self.duplicates:
            parts.append(f"{self.duplicates} seen before")
        text = f"bounces: {len(self.handled)} read: " + ", ".join(parts)
        if self.to_operator:
            text += f"; {self.to_operator} moved to the operator folder"
        return text + gone

    def log_line(self) -> str:
        """The round in one line for ``serve``/``schedule``'s log: every count, zeros too."""
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.kinds.items()) or "none"
        return (
            f"bounce intake {self.source}: {len(self.handled)} read; applied: {kinds}; "
            f"{self.duplicates} seen before; {self.to_operator} to the operator folder; "
            f"{self.skipped} skipped (moved away by someone else)"
        )

    def operator_lines(self) -> list[str]:
        """One line per message moved to the operator folder, and why."""
        return [
            f"bounce intake {self.source}: {operator_line(h)}"
            for h in self.handled
            if h.folder == OPERATOR
        ]


def operator_line(handled: Handled) -> str:
    """``new/123.x: moved to the operator folder: <why>``: one message filed for the operator."""
    seen = " (seen before)" if handled.duplicate else ""
    return f"{handled.label} moved to the operator folder: {handled.why or handled.kind}{seen}"


def fetch(
    settings: Settings,
    db: Database,
    mailbox: Mailbox | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    progress: Callable[[Handled], None] | None = None,
) -> IntakeReport:
    """Handle every message waiting in the configured intake (or ``mailbox``, which
    is closed when done); IntakeBusy when another round holds its lock.

    ``progress`` is called with each message once it is applied, before it is moved: ``bounces
    fetch`` prints its lines as they happen, so a round stopped part way (Ctrl-C, a
    dropped IMAP connection) has already told what it changed."""
    source = mailbox.source if mailbox is not None else intake_source(settings)
    with db.hold(f"intake {source}") as held:
        if not held:
            if mailbox is not None:
                mailbox.close()
            raise IntakeBusy(source)
        box = mailbox or open_mailbox(settings)
        return _round(settings, db, source, box, clock, progress)


def _round(
    settings: Settings,
    db: Database,
    source: str,
    box: Mailbox,
    clock: Callable[[], datetime] | None,
    progress: Callable[[Handled], None] | None = None,
) -> IntakeReport:
    intake = Intake(settings, db, clock=clock) if clock else Intake(settings, db)
    handled: list[Handled] = []
    skipped = 0
    try:
        for incoming in box.messages():
            try:
                if incoming.size > settings.bounces.max_bytes:
                    done = intake.oversized(incoming.label, incoming.size, box.head(incoming))
                else:
                    done = intake.handle(box.read(incoming), incoming.label)
            except MessageGone as gone:
                log.info("%s; skipped", gone.message)
                skipped += 1
                continue
            if progress is not None:  # applied: told before the move, which may fail
                progress(done)
            box.settle(incoming, done.folder)
            handled.append(done)
    finally:
        box.close()
    return IntakeReport(tuple(handled), source, skipped + getattr(box, "vanished", 0))


def read_one(
    settings: Settings,
    db: Database,
    raw: bytes,
    *,
    envelope: tuple[str, ...] = (),
    label: str = "stdin",
) -> Handled:
    """Handle one message (a Postfix ``pipe``'s standard input)."""
    return Intake(settings, db).handle(raw, label, envelope)
