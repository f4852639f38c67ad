"""One intake round: every message of the mailbox handled and moved, one by one.

A message that cannot be read (too large, malformed) is one line in the
report and goes to the operator folder; the round goes on with the others.
A mailbox that cannot be reached stops the round with a :class:`MailboxError`;
a database that cannot be written (locked past :data:`BUSY_SECONDS` per try)
stops it with a StoreError, the message being read and those after it left in
the mailbox for the next round.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from newsletter.config import Settings
from newsletter.returns.intake import OPERATOR, Handled, Intake
from newsletter.returns.mailboxes import Mailbox, open_mailbox
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
        if not self.handled:
            return "bounces: nothing new"
        parts = [f"{n} {kind}" for kind, n in self.kinds.items()]
        if self.duplicates:
            parts.append(f"{self.duplicates} seen before")
        text = f"bounces: {len(self.handled)} read: " + ", ".join(parts)
        if self.to_operator:
            text += f"; {self.to_operator} moved to the operator folder"
        return text


def fetch(
    settings: Settings,
    db: Database,
    mailbox: Mailbox | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> IntakeReport:
    """Handle every message waiting in the configured intake (or ``mailbox``)."""
    box = mailbox if mailbox is not None else open_mailbox(settings)
    intake = Intake(settings, db, clock=clock) if clock else Intake(settings, db)
    handled: list[Handled] = []
    try:
        for incoming in box.messages():
            if incoming.size > settings.bounces.max_bytes:
                done = intake.oversized(incoming.label, incoming.size, box.head(incoming))
            else:
                done = intake.handle(box.read(incoming), incoming.label)
            box.settle(incoming, done.folder)
            handled.append(done)
    finally:
        box.close()
    return IntakeReport(tuple(handled))


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
