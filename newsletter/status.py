"""What ``newsletter status`` shows: the last run, the next run, each source's state.

Read-only; works on a database that does not exist yet (nothing has run).
:func:`gather` returns a :class:`StatusView` (frozen dataclasses all the way
down); :meth:`StatusView.to_json` is what ``status --json`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.states import LedgerState, RunStatus
from newsletter.store import Database, Transaction
from newsletter.store.runs import Claim, StoredReport


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


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
            "last_run": self.last_run.to_json() if self.last_run else None,
            "recent_runs": [r.to_json() for r in self.recent_runs],
            "sources": {name: s.to_json() for name, s in self.sources},
            "claims": [c.to_json() for c in self.claims],
            "sending": [x.to_json() for x in self.sending],
        }


def gather(settings: Settings, clock: Clock = utcnow) -> StatusView:
    """What ``status`` shows, read from the database as it is (nothing is created)."""
    now = clock()
    schedule = settings.schedule
    with Database.open_read_only(settings.database.url) as db, db.read() as tx:
        reports = tx.runs.recent(10)
        states = tx.sources.states()
        claims = tx.claims.all()[-5:]
        sending = _sending(tx, now, settings.delivery.max_age_days)
    return StatusView(
        now=now,
        schedule=f"{schedule.cron} ({schedule.timezone.key})",
        next_run=schedule.next_after(now),
        due_date=schedule.due_date(now),
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
    out = [
        f"schedule: {view.schedule}",
        f"next run: {_iso(view.next_run) or 'never'}",
        *(s.line() for s in view.sending),
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
                f"{r.status} ({r.papers} papers)"
            )
    return out
