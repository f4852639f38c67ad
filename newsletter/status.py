"""What ``newsletter status`` and ``/healthz`` show: the *scheduled* date's edition first,
then the last run of any kind, the next run and each source's state.

The health of a newsletter is whether the edition that should exist by now
exists: the date of the latest scheduled time (``schedule.cron`` in
``newsletter.timezone``, see :mod:`newsletter.scheduler`).  So it is judged by
the newest run report *for that date* — a manual ``run --date <another day>``
neither hides a failed scheduled day nor breaks a good one — in these named
states:

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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.store import runs as runlog
from newsletter.store.database import Store

OK_STATES = frozenset({"published", "exists", "pending", "idle"})


@dataclass(frozen=True)
class Scheduled:
    """The scheduled date's edition, as ``status`` and ``/healthz`` judge it."""

    date: date | None
    due_at: datetime | None
    state: str
    reason: str
    papers: int = 0
    trigger: str | None = None
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state in OK_STATES

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        for key in ("date", "due_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def scheduled(settings: Settings, store: Store | None, now: datetime) -> Scheduled:
    """The state of the edition that should exist at ``now`` (see the module docstring)."""
    due = settings.schedule.latest_due(now)
    if due is None:
        return Scheduled(None, None, "idle", "nothing is scheduled before now")
    day = due.date()
    reports = runlog.recent_reports(store, 1, edition_date=day) if store else []
    if reports:
        r = reports[0]
        reason = str(r.data.get("reason") or "")
        if r.status == "published":
            reason = f"{r.paper_count} new papers"
        return Scheduled(day, due, r.status, reason, r.paper_count, r.trigger, r.finished_at)
    if store is not None and store.editions_on(day):
        return Scheduled(day, due, "exists", "the edition exists (no run report for it)")
    if store is None or not runlog.recent_reports(store, 1):
        return Scheduled(day, due, "idle", "no run recorded yet")
    grace = timedelta(minutes=settings.schedule.misfire_grace_minutes)
    if now - due <= grace:
        return Scheduled(day, due, "pending", f"due at {due:%Y-%m-%d %H:%M %Z}; not run yet")
    return Scheduled(
        day,
        due,
        "missed",
        f"no run for {day.isoformat()}, due at {due:%Y-%m-%d %H:%M %Z}: is `newsletter serve` "
        "(or `schedule`, or the cron job) running?",
    )


def gather(settings: Settings, clock: Clock = utcnow) -> dict[str, Any]:
    """Plain data: the scheduled edition, schedule, next run, last runs, source states."""
    now = clock()
    schedule = settings.schedule
    next_run = schedule.next_after(now)
    view: dict[str, Any] = {
        "now": now.isoformat(),
        "schedule": f"{schedule.cron} ({schedule.timezone.key})",
        "next_run": next_run.isoformat() if next_run else None,
        "due_date": str(schedule.due_date(now)),
        "scheduled": scheduled(settings, None, now).as_dict(),
        "last_run": None,
        "recent_runs": [],
        "sources": {},
    }
    store = Store.open(settings.database.url, create=False)
    if store is None:
        return view
    try:
        view["scheduled"] = scheduled(settings, store, now).as_dict()
        reports = runlog.recent_reports(store, 10)
        states = store.source_states()
        claims = runlog.claims(store)[-5:]
    finally:
        store.close()
    view["recent_runs"] = [
        {
            "finished_at": r.finished_at.isoformat(),
            "edition_date": r.edition_date.isoformat(),
            "trigger": r.trigger,
            "status": r.status,
            "papers": r.paper_count,
        }
        for r in reports
    ]
    if reports:
        r = reports[0]
        view["last_run"] = {
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat(),
            "trigger": r.trigger,
            **r.data,
        }
    view["sources"] = {
        name: {
            "etag": s.etag,
            "last_modified": s.last_modified,
            "changed_at": s.changed_at.isoformat() if s.changed_at else None,
        }
        for name, s in sorted(states.items())
    }
    view["claims"] = [
        {"date": c.edition_date.isoformat(), "owner": c.owner, "status": c.status} for c in claims
    ]
    return view


def lines(view: dict[str, Any]) -> list[str]:
    """The human summary above the per-source table."""
    s = view["scheduled"]
    due = f" (due {s['due_at']})" if s["due_at"] else ""
    out = [
        f"scheduled edition: {s['date'] or '—'}{due}: {s['state']}"
        + (f" — {s['reason']}" if s["reason"] else ""),
        f"schedule: {view['schedule']}",
        f"next run: {view['next_run'] or 'never'}",
    ]
    last = view["last_run"]
    if not last:
        out.append("last run: none recorded yet")
        return out
    out.append(
        f"last run: {last['finished_at']} ({last['trigger']}) for {last['edition_date']}: "
        f"{last['status']}" + (f" — {last['reason']}" if last.get("reason") else "")
    )
    out.append(f"new papers: {last['paper_count']}")
    if last.get("sent") is None:
        out.append("sent / failed: — (nothing was sent by this run)")
    else:
        out.append(
            f"sent / failed: {last['sent']} / {last['send_failed']} "
            f"(skipped {last.get('send_skipped') or 0}, deferred {last.get('send_deferred') or 0})"
        )
    if last.get("send_stopped"):
        out.append(f"sending stopped: {last['send_stopped']}")
    for warning in last.get("warnings", []):
        out.append(f"warning: {warning}")
    for name, state in view["sources"].items():
        out.append(f"source {name}: content last changed {state['changed_at']}")
    if len(view["recent_runs"]) > 1:
        out.append("earlier runs:")
        for r in view["recent_runs"][1:]:
            out.append(
                f"  {r['finished_at']} {r['trigger']} {r['edition_date']}: "
                f"{r['status']} ({r['papers']} papers)"
            )
    return out
