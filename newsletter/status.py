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
``idle``       yes    nothing has ever run, or the date was due before the first
                     run (a fresh install: it cannot have missed it)
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
from newsletter.feedback import ReturnsSummary, summarise
from newsletter.model import Reason
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
    first = tx.runs.first_started()
    if first is None:
        return Scheduled(day, due, ScheduledState.IDLE, "no run recorded yet")
    if first > due:  # stored times come back aware (store.schema.as_utc)
        # installed (first run) after this slot was due: nothing was missed; the
        # next slot is the first this installation answers for
        return Scheduled(
            day, due, ScheduledState.IDLE, f"due before the first run ({first:%Y-%m-%d %H:%M})"
        )
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
class ResumedLine:
    """An earlier edition a run went on sending: what it sent of it."""

    edition_date: str
    number: int
    sent_now: int
    data: Mapping[str, Any]
    """The edition's delivery as the run report keeps it (counts when the run ended)."""

    @property
    def label(self) -> str:
        return self.edition_date + (f" #{self.number}" if self.number > 1 else "")

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> ResumedLine:
        return cls(
            str(d.get("edition_date") or "?"),
            int(d.get("edition_number") or 1),
            int(d.get("sent_now") or 0),
            d,
        )


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
    sent_now: int | None = None
    resumed: tuple[ResumedLine, ...] = ()

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
            sent_now=d.get("sent_now"),
            resumed=tuple(ResumedLine.from_data(x) for x in d.get("resumed") or ()),
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
            "sent_now": self.sent_now,
            "resumed": [dict(r.data) for r in self.resumed],
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


def rate_text(rate: float) -> str:
    """Messages per second, small rates readable: ``0.42``, ``3.5``, ``812``."""
    if rate >= 10:
        return f"{rate:,.0f}"
    if rate >= 1:
        return f"{rate:.1f}"
    return f"{rate:.2g}"


@dataclass(frozen=True)
class EditionDelivery:
    """One recent edition's send ledger as it is now: rows by state, why rows wait.

    ``claimed`` rows are leased to a delivery loop (state ``sending``); of them
    ``in_flight`` are being handed over right now (no reply yet).  ``reasons``
    are the most common last replies of the deferred and failed rows."""

    edition_date: date
    number: int
    counts: tuple[tuple[LedgerState, int], ...]
    in_flight: int
    rate: float
    """Messages per second over the last minute."""
    next_attempt: datetime | None
    reasons: tuple[Reason, ...] = ()

    def count(self, state: LedgerState) -> int:
        return dict(self.counts).get(state, 0)

    @property
    def label(self) -> str:
        return self.edition_date.isoformat() + (f" #{self.number}" if self.number > 1 else "")

    @property
    def recipients(self) -> int:
        return sum(n for _, n in self.counts)

    @property
    def done(self) -> int:
        return sum(n for state, n in self.counts if not state.unsent)

    @property
    def claimed(self) -> int:
        return self.count(LedgerState.SENDING)

    @property
    def unfinished(self) -> bool:
        return self.done < self.recipients

    @property
    def workable(self) -> int:
        """Rows that go out as soon as a loop gets to them (not waiting for a next try)."""
        return self.count(LedgerState.PENDING) + self.count(LedgerState.UNCERTAIN) + self.claimed

    @property
    def waiting(self) -> bool:
        """Only deferred rows are left: nothing to do before their next try."""
        return self.unfinished and self.workable == 0

    @property
    def eta_seconds(self) -> float | None:
        if self.waiting or self.rate <= 0:
            return None
        return self.workable / self.rate

    def line(self) -> str:
        if not self.unfinished:
            text = f"delivered {self.label}: " + self._states(LedgerState.SENT, LedgerState.FAILED)
            return text + self._reasons()
        text = f"sending {self.label}: {self.done:,} of {self.recipients:,} done"
        if self.rate > 0:
            text += f", {rate_text(self.rate)} messages/s"
        if self.waiting and self.next_attempt is not None:
            text += f", waiting for next try at {self.next_attempt:%Y-%m-%d %H:%M} UTC"
        elif self.eta_seconds is not None:
            text += f", about {max(1, round(self.eta_seconds / 60))} min left"
        parts = []
        if self.claimed:
            parts.append(f"{self.claimed} claimed ({self.in_flight} in flight)")
        for state, name in (
            (LedgerState.PENDING, "pending"),
            (LedgerState.UNCERTAIN, "uncertain (to resend once)"),
        ):
            if self.count(state):
                parts.append(f"{self.count(state)} {name}")
        deferred = self.count(LedgerState.DEFERRED)
        if deferred:
            when = ""
            if self.next_attempt and not self.waiting:
                when = f", next try {self.next_attempt:%Y-%m-%d %H:%M} UTC"
            parts.append(f"{deferred} deferred (temporary reply{when})")
        for state in (LedgerState.SENT, LedgerState.FAILED, LedgerState.UNCONFIRMED):
            if self.count(state):
                parts.append(f"{self.count(state)} {state}")
        return text + (f"; {', '.join(parts)}" if parts else "") + self._reasons()

    def _states(self, *always: LedgerState) -> str:
        shown = [f"{n} {state}" for state, n in self.counts if n and state not in always]
        return ", ".join([f"{self.count(state)} {state}" for state in always] + shown)

    def _reasons(self) -> str:
        if not self.reasons:
            return ""
        return "; last replies: " + "; ".join(
            f"{r.state}: {r.text} ({r.count})" for r in self.reasons
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "edition_date": self.edition_date.isoformat(),
            "number": self.number,
            "recipients": self.recipients,
            "done": self.done,
            "unfinished": self.unfinished,
            "states": {str(state): n for state, n in self.counts},
            "claimed": self.claimed,
            "in_flight": self.in_flight,
            "pending": self.count(LedgerState.PENDING),
            "deferred": self.count(LedgerState.DEFERRED),
            "uncertain": self.count(LedgerState.UNCERTAIN),
            "failed": self.count(LedgerState.FAILED),
            "sent": self.count(LedgerState.SENT),
            "rate": round(self.rate, 3),
            "eta_seconds": self.eta_seconds,
            "waiting_for_next_try": self.waiting,
            "next_attempt": _iso(self.next_attempt),
            "reasons": [
                {"state": r.state, "reply": r.reply, "count": r.count} for r in self.reasons
            ],
        }


SendingLine = EditionDelivery
"""The name of :class:`EditionDelivery` before it covered finished editions too."""


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
    deliveries: tuple[EditionDelivery, ...] = ()
    """Recent editions' send ledgers (the unfinished ones, and the newest few)."""
    returns: ReturnsSummary | None = None
    """What came back (bounces, complaints) and the complaint rate."""

    @property
    def sending(self) -> tuple[EditionDelivery, ...]:
        """The editions whose mail is not all sent yet."""
        return tuple(d for d in self.deliveries if d.unfinished)

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
            "deliveries": [x.to_json() for x in self.deliveries],
            "returns": self.returns.to_json() if self.returns else None,
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
        deliveries = _deliveries(tx, now, settings.delivery.max_age_days)
        returns = summarise(tx, now, settings.bounces.complaint_window_days)
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
        deliveries=deliveries,
        returns=returns,
    )


RECENT = 3
"""How many of the newest editions with a send ledger ``status`` shows besides the
unfinished ones."""


def _deliveries(tx: Transaction, now: datetime, max_age_days: int) -> tuple[EditionDelivery, ...]:
    """The unfinished editions (up to ``delivery.max_age_days`` old) and the newest
    :data:`RECENT` ones with a ledger, oldest first: each as its ledger is now."""
    chosen = {s.id: s for s in tx.ledger.recent_editions(RECENT)}
    for stored in tx.ledger.unfinished_editions(now - timedelta(days=max_age_days)):
        chosen[stored.id] = stored
    found = []
    for stored in sorted(chosen.values(), key=lambda s: (s.edition.date, s.edition.number)):
        counts = tx.ledger.counts(stored.id)
        replies = tx.ledger.top_replies(stored.id, (LedgerState.DEFERRED, LedgerState.FAILED))
        found.append(
            EditionDelivery(
                edition_date=stored.edition.date,
                number=stored.edition.number,
                counts=tuple((state, counts[state]) for state in LedgerState),
                in_flight=tx.ledger.in_flight(stored.id),
                rate=_rate(tx, stored.id, now),
                next_attempt=tx.ledger.next_attempt(stored.id),
                reasons=tuple(Reason(str(st), reply, n) for st, reply, n in replies),
            )
        )
    return tuple(found)


RATE_WINDOW = timedelta(minutes=1)


def _rate(tx: Transaction, edition_id: int, now: datetime) -> float:
    """Messages per second over the last minute — or, in a send's first minute, over
    the time since the work of those messages began (their earliest claim): 300
    messages in the first 10 s are 30 messages/s, not 5."""
    done, first_claim = tx.ledger.finished_since(edition_id, now - RATE_WINDOW)
    if not done:
        return 0.0
    window = RATE_WINDOW.total_seconds()
    if first_claim is not None:
        window = min(window, (now - first_claim).total_seconds())
    return done / max(window, 1.0)


def _sent_lines(view: StatusView, last: LastRun) -> list[str]:
    """What the last run sent of each edition it sent, and its own edition's ledger as
    it is *now* (a later pass, a give-up, changes it; the run report keeps the past)."""
    sent = [f"{last.sent_now} of {last.edition_date}"] if last.sent_now is not None else []
    sent += [f"{r.sent_now} of {r.label} (resumed)" for r in last.resumed]
    out = [
        "sent by this run: " + ", ".join(sent)
        if sent
        else "sent / failed: — (nothing was sent by this run)"
    ]
    number = last.edition_number or 1
    mine = next(
        (
            d
            for d in view.deliveries
            if d.edition_date.isoformat() == last.edition_date and d.number == number
        ),
        None,
    )
    if mine is not None:
        out.append(
            f"sent / failed: {mine.count(LedgerState.SENT)} / {mine.count(LedgerState.FAILED)} "
            f"(skipped {mine.count(LedgerState.SKIPPED)}, "
            f"deferred {mine.count(LedgerState.DEFERRED)}, "
            f"pending {mine.count(LedgerState.PENDING)}; from the send ledger now)"
        )
    elif last.sent is not None:
        out.append(
            f"sent / failed: {last.sent} / {last.send_failed} (when the run ended; "
            f"skipped {last.send_skipped or 0}, deferred {last.send_deferred or 0})"
        )
    return out


def lines(view: StatusView) -> list[str]:
    """The human summary above the per-source table."""
    s = view.scheduled
    due = f" (due {s.due_at.isoformat()})" if s.due_at else ""
    out = [
        f"scheduled edition: {_iso(s.date) or '—'}{due}: {s.state}"
        + (f" — {s.reason}" if s.reason else ""),
        f"schedule: {view.schedule}",
        f"next run: {_iso(view.next_run) or 'never'}",
        *(d.line() for d in view.deliveries),
    ]
    if view.returns is not None:
        out.append(view.returns.line())
        if view.returns.warning:
            out.append(f"warning: {view.returns.warning}")
    last = view.last_run
    if not last:
        out.append("last run: none recorded yet")
        return out
    out.append(
        f"last run: {last.finished_at.isoformat()} ({last.trigger}) for {last.edition_date}: "
        f"{last.status}" + (f" — {last.reason}" if last.reason else "")
    )
    out.append(f"new papers: {last.paper_count}")
    out.extend(_sent_lines(view, last))
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
