"""What ``newsletter status`` and ``/healthz`` show: the *scheduled* date's edition first,
then the last run of any kind, the next run and each source's state.

The health of a newsletter is whether the edition that should exist by now
exists: the date of the latest scheduled time (``schedule.cron`` in
``newsletter.timezone``, see :mod:`newsletter.scheduler`).  So it is judged by
the newest run report *for that date* — a manual ``run --date <another day>``
neither hides a failed scheduled day nor breaks a good one — in these named
states (:class:`ScheduledState`):

=============  =====  ===================================================
state          ok     meaning
=============  =====  ===================================================
``published``  yes    a run for the date published its edition
``exists``     yes    the date had its edition already (a later run re-published it)
``pending``    yes    due, not run yet, still within ``schedule.misfire_grace_minutes``
``idle``       yes    nothing has ever run (a fresh install)
``empty``      no     the run found no new paper
``stale``      no     every source returned what it returned last time
``failed``     no     no source could be read, or the run broke off (its report says why)
``missed``     no     due longer ago than the grace, and no run for the date
=============  =====  ===================================================

Read-only; works on a database that does not exist yet (nothing has run).
:func:`gather` returns a :class:`StatusView` (frozen dataclasses all the way
down); :meth:`StatusView.to_json` is what ``status --json`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from newsletter.config import Settings
from newsletter.errors import ConfigError
from newsletter.scheduler import Clock, utcnow
from newsletter.states import LedgerState, RunStatus
from newsletter.store import Database, Transaction
from newsletter.store.runs import Claim, StoredReport
from newsletter.wording import counted


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class ScheduledState(StrEnum):
    """The state of the scheduled date's edition (see the module docstring)."""

    PUBLISHED = "published"
    EXISTS = "exists"
    PENDING = "pending"
    IDLE = "idle"
    EMPTY = "empty"
    STALE = "stale"
    FAILED = "failed"
    MISSED = "missed"
    UNKNOWN = "unknown"

    @property
    def ok(self) -> bool:
        return self in (
            ScheduledState.PUBLISHED,
            ScheduledState.EXISTS,
            ScheduledState.PENDING,
            ScheduledState.IDLE,
        )


@dataclass(frozen=True)
class Scheduled:
    """The scheduled date's edition, as ``status`` and ``/healthz`` judge it."""

    date: date | None
    due_at: datetime | None
    state: ScheduledState
    reason: str
    papers: int = 0
    trigger: str | None = None
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state.ok

    def to_json(self) -> dict[str, Any]:
        return {
            "date": _iso(self.date),
            "due_at": _iso(self.due_at),
            "state": self.state.value,
            "ok": self.ok,
            "reason": self.reason,
            "papers": self.papers,
            "trigger": self.trigger,
            "finished_at": _iso(self.finished_at),
        }


def scheduled(settings: Settings, tx: Transaction, now: datetime) -> Scheduled:
    """The state of the edition that should exist at ``now`` (see the module docstring)."""
    due = settings.schedule.latest_due(now)
    if due is None:
        return Scheduled(None, None, ScheduledState.IDLE, "nothing is scheduled before now")
    day = due.date()
    reports = tx.runs.recent(1, edition_date=day)
    if reports:
        r = reports[0]
        reason = str(r.data.get("reason") or "")
        if r.status.ok and not reason:
            reason = counted(r.paper_count, "new paper")
        state = ScheduledState(r.status.value)
        return Scheduled(day, due, state, reason, r.paper_count, r.trigger, r.finished_at)
    if tx.editions.count_on(day):
        return Scheduled(day, due, ScheduledState.EXISTS, "the edition exists (no run report)")
    if not tx.runs.recent(1):
        return Scheduled(day, due, ScheduledState.IDLE, "no run recorded yet")
    grace = timedelta(minutes=settings.schedule.misfire_grace_minutes)
    when = f"{due:%Y-%m-%d %H:%M %Z}"
    if now - due <= grace:
        return Scheduled(day, due, ScheduledState.PENDING, f"due at {when}; not run yet")
    return Scheduled(
        day,
        due,
        ScheduledState.MISSED,
        f"no run for {day.isoformat()}, due at {when}: is `newsletter serve` "
        "(or `schedule`, or the cron job) running?",
    )


@dataclass(frozen=True)
class RunLine:
    """One run in the list of recent runs."""

    finished_at: datetime
    edition_date: date
    trigger: str
    status: RunStatus
    papers: int

    def to_json(self) -> dict[str, Any]:
        return {
            "finished_at": self.finished_at.isoformat(),
            "edition_date": self.edition_date.isoformat(),
            "trigger": self.trigger,
            "status": self.status.value,
            "papers": self.papers,
        }


@dataclass(frozen=True)
class LastRun:
    """The newest run report, in full (``sources`` are the per-input reports as stored)."""

    started_at: datetime
    finished_at: datetime
    trigger: str
    status: RunStatus
    reason: str | None
    edition_date: str
    edition_number: int | None
    paper_count: int
    sources: tuple[Mapping[str, Any], ...]
    warnings: tuple[str, ...]
    sent: int | None
    send_failed: int | None
    send_skipped: int | None
    send_deferred: int | None
    send_stopped: str | None
    outputs: tuple[str, ...]

    @classmethod
    def from_report(cls, r: StoredReport) -> LastRun:
        d = r.data
        return cls(
            started_at=r.started_at,
            finished_at=r.finished_at,
            trigger=r.trigger,
            status=r.status,
            reason=d.get("reason"),
            edition_date=str(d.get("edition_date") or r.edition_date.isoformat()),
            edition_number=d.get("edition_number"),
            paper_count=int(d.get("paper_count") or 0),
            sources=tuple(d.get("sources") or ()),
            warnings=tuple(d.get("warnings") or ()),
            sent=d.get("sent"),
            send_failed=d.get("send_failed"),
            send_skipped=d.get("send_skipped"),
            send_deferred=d.get("send_deferred"),
            send_stopped=d.get("send_stopped"),
            outputs=tuple(d.get("outputs") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        report = {
            "status": self.status.value,
            "reason": self.reason,
            "edition_date": self.edition_date,
            "edition_number": self.edition_number,
            "paper_count": self.paper_count,
            "sources": [dict(s) for s in self.sources],
            "warnings": list(self.warnings),
            "sent": self.sent,
            "send_failed": self.send_failed,
            "send_skipped": self.send_skipped,
            "send_deferred": self.send_deferred,
            "send_stopped": self.send_stopped,
            "outputs": list(self.outputs),
        }
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "trigger": self.trigger,
            **dict(sorted(report.items())),  # as stored (sorted keys)
        }


@dataclass(frozen=True)
class SourceLine:
    """A fetched source's validators and when its content last changed."""

    etag: str | None
    last_modified: str | None
    changed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "etag": self.etag,
            "last_modified": self.last_modified,
            "changed_at": _iso(self.changed_at),
        }


@dataclass(frozen=True)
class ClaimLine:
    """A recent run claim: which date, who made (or makes) it, how it ended."""

    date: date
    owner: str
    status: RunStatus | None

    @classmethod
    def from_claim(cls, c: Claim) -> ClaimLine:
        return cls(c.edition_date, c.owner, c.status)

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "owner": self.owner,
            "status": self.status.value if self.status else None,
        }


@dataclass(frozen=True)
class SendingLine:
    """An edition whose mail is not all sent yet: how far, how fast, what waits."""

    edition_date: date
    number: int
    recipients: int
    done: int
    in_flight: int
    deferred: int
    uncertain: int
    rate: float
    """Messages per second over the last minute."""
    next_attempt: datetime | None

    @property
    def eta_seconds(self) -> float | None:
        left = self.recipients - self.done
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        label = self.edition_date.isoformat() + (f" #{self.number}" if self.number > 1 else "")
        text = f"sending {label}: {self.done:,} of {self.recipients:,} done"
        if self.rate > 0:
            eta = self.eta_seconds or 0
            text += f", {self.rate:,.0f} messages/s, about {max(1, round(eta / 60))} min left"
        parts = []
        if self.in_flight:
            parts.append(f"{self.in_flight} in flight")
        if self.deferred:
            when = (
                f" (next try {self.next_attempt:%Y-%m-%d %H:%M} UTC)" if self.next_attempt else ""
            )
            parts.append(f"{self.deferred} deferred{when}")
        if self.uncertain:
            parts.append(f"{self.uncertain} to resend once")
        return text + (f"; {', '.join(parts)}" if parts else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "edition_date": self.edition_date.isoformat(),
            "number": self.number,
            "recipients": self.recipients,
            "done": self.done,
            "in_flight": self.in_flight,
            "deferred": self.deferred,
            "uncertain": self.uncertain,
            "rate": self.rate,
            "eta_seconds": self.eta_seconds,
            "next_attempt": _iso(self.next_attempt),
        }


@dataclass(frozen=True)
class StatusView:
    """Schedule, next run, the last runs, source states and recent claims."""

    now: datetime
    schedule: str
    next_run: datetime | None
    due_date: date | None
    scheduled: Scheduled
    last_run: LastRun | None
    recent_runs: tuple[RunLine, ...]
    sources: tuple[tuple[str, SourceLine], ...]
    claims: tuple[ClaimLine, ...]
    sending: tuple[SendingLine, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The shape ``status --json`` prints."""
        return {
            "now": self.now.isoformat(),
            "schedule": self.schedule,
            "next_run": _iso(self.next_run),
            "due_date": str(self.due_date),
            "scheduled": self.scheduled.to_json(),
            "last_run": self.last_run.to_json() if self.last_run else None,
            "recent_runs": [r.to_json() for r in self.recent_runs],
            "sources": {name: s.to_json() for name, s in self.sources},
            "claims": [c.to_json() for c in self.claims],
            "sending": [x.to_json() for x in self.sending],
        }


def gather(settings: Settings, clock: Clock = utcnow) -> StatusView:
    """What ``status`` shows, read from the database as it is (nothing is created).

    A configured SQLite database whose folder does not exist is a configuration
    error, not "nothing ran yet": no run ever wrote there, so the URL points
    elsewhere.  (The default file of a fresh project, no ``subscribers/`` yet,
    is idle.)
    """
    folder = Database.missing_folder(settings.database.url)
    if folder is not None and settings.database.origin:
        raise ConfigError(
            [f"{settings.database.origin}: the SQLite database's folder {folder} does not exist"],
            hint="point it at the database your runs use ('newsletter config show' prints it); "
            "a first 'newsletter run' creates the folder",
        )
    now = clock()
    schedule = settings.schedule
    with Database.open_read_only(settings.database.url) as db, db.read() as tx:
        due = scheduled(settings, tx, now)
        reports = tx.runs.recent(10)
        states = tx.sources.states()
        claims = tx.claims.all()[-5:]
        sending = _sending(tx, now, settings.delivery.max_age_days)
    return StatusView(
        now=now,
        schedule=f"{schedule.cron} ({schedule.timezone.key})",
        next_run=schedule.next_after(now),
        due_date=schedule.due_date(now),
        scheduled=due,
        last_run=LastRun.from_report(reports[0]) if reports else None,
        recent_runs=tuple(
            RunLine(r.finished_at, r.edition_date, r.trigger, r.status, r.paper_count)
            for r in reports
        ),
        sources=tuple(
            (name, SourceLine(s.etag, s.last_modified, s.changed_at))
            for name, s in sorted(states.items())
        ),
        claims=tuple(ClaimLine.from_claim(c) for c in claims),
        sending=sending,
    )


def _sending(tx: Transaction, now: datetime, max_age_days: int) -> tuple[SendingLine, ...]:
    """The editions (up to ``delivery.max_age_days`` old) whose mail is not all sent."""
    found = []
    for stored in tx.ledger.unfinished_editions(now - timedelta(days=max_age_days)):
        counts = tx.ledger.counts(stored.id)
        found.append(
            SendingLine(
                edition_date=stored.edition.date,
                number=stored.edition.number,
                recipients=sum(counts.values()),
                done=sum(n for state, n in counts.items() if not state.unsent),
                in_flight=counts[LedgerState.SENDING],
                deferred=counts[LedgerState.DEFERRED],
                uncertain=counts[LedgerState.UNCERTAIN],
                rate=tx.ledger.finished_since(stored.id, now - timedelta(minutes=1)) / 60,
                next_attempt=tx.ledger.next_attempt(stored.id),
            )
        )
    return tuple(found)


def lines(view: StatusView) -> list[str]:
    """The human summary above the per-source table."""
    s = view.scheduled
    due = f" (due {s.due_at.isoformat()})" if s.due_at else ""
    out = [
        f"scheduled edition: {_iso(s.date) or '—'}{due}: {s.state}"
        + (f" — {s.reason}" if s.reason else ""),
        f"schedule: {view.schedule}",
        f"next run: {_iso(view.next_run) or 'never'}",
        *(sending.line() for sending in view.sending),
    ]
    last = view.last_run
    if not last:
        out.append("last run: none recorded yet")
        return out
    out.append(
        f"last run: {last.finished_at.isoformat()} ({last.trigger}) for {last.edition_date}: "
        f"{last.status}" + (f" — {last.reason}" if last.reason else "")
    )
    out.append(f"new papers: {last.paper_count}")
    if last.sent is None:
        out.append("sent / failed: — (nothing was sent by this run)")
    else:
        out.append(
            f"sent / failed: {last.sent} / {last.send_failed} "
            f"(skipped {last.send_skipped or 0}, deferred {last.send_deferred or 0})"
        )
    if last.send_stopped:
        out.append(f"sending stopped: {last.send_stopped}")
    for warning in last.warnings:
        out.append(f"warning: {warning}")
    for name, state in view.sources:
        out.append(f"source {name}: content last changed {_iso(state.changed_at)}")
    if len(view.recent_runs) > 1:
        out.append("earlier runs:")
        for r in view.recent_runs[1:]:
            out.append(
                f"  {r.finished_at.isoformat()} {r.trigger} {r.edition_date.isoformat()}: "
                f"{r.status} ({counted(r.papers, 'paper')})"
            )
    return out
