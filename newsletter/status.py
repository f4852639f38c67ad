"""What ``newsletter status`` shows: the last run, the next run, each source's state.

Read-only; works on a database that does not exist yet (nothing has run).
"""

from __future__ import annotations

from typing import Any

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.store import runs as runlog
from newsletter.store.database import Store


def gather(settings: Settings, clock: Clock = utcnow) -> dict[str, Any]:
    """Plain data: schedule, next run, last runs, source states and recent claims."""
    now = clock()
    schedule = settings.schedule
    next_run = schedule.next_after(now)
    view: dict[str, Any] = {
        "now": now.isoformat(),
        "schedule": f"{schedule.cron} ({schedule.timezone.key})",
        "next_run": next_run.isoformat() if next_run else None,
        "due_date": str(schedule.due_date(now)),
        "last_run": None,
        "recent_runs": [],
        "sources": {},
    }
    store = Store.open(settings.database.url, create=False)
    if store is None:
        return view
    try:
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
    out = [
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
