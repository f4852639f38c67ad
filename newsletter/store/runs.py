"""Run reports and run claims: what each run did, and who makes a date's edition.

A *run report* is written after every ``run`` (CLI or scheduler): status,
per-source counts, warnings.  ``newsletter status`` reads them back.

A *run claim* makes "one edition per scheduled date" a fact in the database:
the scheduler inserts the date's row before it runs, in a write transaction
(SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock), so of two
processes only one wins; the other says so and sends nothing.  A claim whose
owner died (same host, its process is gone) or that is older than the lease
without finishing is taken over, so a crash never leaves a date unmade.  A
finished claim that published nothing (stale, empty, failed) may be retried
after ``retry_after``; one that published is final.  The editions table's
unique ``(date, number)`` stays the last line of defence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.model import DeliveryReport, RunReport
from newsletter.owners import owner_is_dead
from newsletter.states import RunStatus
from newsletter.store.schema import as_utc, run_claims, run_reports


def _status(text: str | None) -> RunStatus:
    """A stored status; one this version does not know reads as ``unknown``."""
    try:
        return RunStatus(text or RunStatus.UNKNOWN)
    except ValueError:
        return RunStatus.UNKNOWN


# ---------------------------------------------------------------- reports


def report_dict(report: RunReport) -> dict[str, Any]:
    """The JSON kept with a run report (``status`` and ``status --json`` show it)."""
    return {
        "status": report.status,
        "reason": report.skipped_reason,
        "edition_date": report.edition.date.isoformat(),
        "edition_number": report.edition.number if report.recorded else None,
        "paper_count": report.edition.paper_count if report.recorded else 0,
        "sources": [asdict(d) for d in report.digests],
        "warnings": list(report.warnings),
        "sent": report.delivery.sent if report.delivery else None,
        "send_failed": report.delivery.failed if report.delivery else None,
        "send_skipped": report.delivery.skipped if report.delivery else None,
        "send_deferred": report.delivery.deferred if report.delivery else None,
        "send_stopped": report.delivery.stopped if report.delivery else None,
        "send_pending": report.delivery.pending if report.delivery else None,
        "send_uncertain": report.delivery.uncertain if report.delivery else None,
        "send_claimed": report.delivery.claimed if report.delivery else None,
        "send_unconfirmed": report.delivery.unconfirmed if report.delivery else None,
        "sent_now": report.delivery.sent_now if report.delivery else None,
        "resumed": [delivery_dict(d) for d in report.resumed],
        "outputs": list(report.outputs),
    }


def delivery_dict(d: DeliveryReport) -> dict[str, Any]:
    """An edition's delivery as a run report keeps it (the earlier editions it resumed)."""
    return {
        "edition_date": d.edition_date.isoformat() if d.edition_date else None,
        "edition_number": d.edition_number,
        "recipients": d.recipients,
        "sent_now": d.sent_now,
        "resent_uncertain": d.resent_uncertain,
        "sent": d.sent,
        "failed": d.failed,
        "skipped": d.skipped,
        "unconfirmed": d.unconfirmed,
        "deferred": d.deferred,
        "pending": d.pending,
        "uncertain": d.uncertain,
        "claimed": d.claimed,
        "stopped": d.stopped,
    }


@dataclass(frozen=True)
class StoredReport:
    """A run report as recorded; ``data`` is :func:`report_dict` of the run."""

    started_at: datetime
    finished_at: datetime
    edition_date: date
    trigger: str
    status: RunStatus
    paper_count: int
    data: dict[str, Any]


class Runs:
    """Run reports, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def record(
        self, report: RunReport, *, started: datetime, finished: datetime, trigger: str
    ) -> None:
        data = report_dict(report)
        self.conn.execute(
            run_reports.insert().values(
                started_at=started,
                finished_at=finished,
                edition_date=report.edition.date,
                trigger=trigger,
                status=_status(report.status),
                paper_count=data["paper_count"],
                report=json.dumps(data, sort_keys=True, default=str),
            )
        )

    def first_started(self) -> datetime | None:
        """When the first run ever recorded started (None before any): one index read."""
        value = self.conn.execute(
            sa.select(run_reports.c.started_at).order_by(run_reports.c.id).limit(1)
        ).scalar()
        return as_utc(value) if isinstance(value, datetime) else None

    def recent(self, limit: int = 10, *, edition_date: date | None = None) -> list[StoredReport]:
        """The newest run reports first; only those for ``edition_date`` if given."""
        query = sa.select(run_reports).order_by(run_reports.c.id.desc()).limit(limit)
        if edition_date is not None:
            query = query.where(run_reports.c.edition_date == edition_date)
        rows = self.conn.execute(query).all()
        return [
            StoredReport(
                as_utc(r.started_at),
                as_utc(r.finished_at),
                r.edition_date,
                r.trigger,
                _status(r.status),
                r.paper_count,
                json.loads(r.report),
            )
            for r in rows
        ]


# ---------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a date: ``won`` or who holds it and in what state.

    ``status`` is how the claimed run ended, None while it runs (or if its
    process died before saying).
    """

    edition_date: date
    won: bool
    owner: str
    claimed_at: datetime
    finished_at: datetime | None = None
    status: RunStatus | None = None


class Claims:
    """Run claims, on one connection (claim in a write transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def claim(
        self,
        day: date,
        owner: str,
        now: datetime,
        *,
        lease: timedelta,
        retry_after: timedelta,
        is_dead: Callable[[str], bool] = owner_is_dead,
    ) -> Claim:
        """Claim ``day`` for ``owner`` unless another live process holds it or it is done."""
        conn = self.conn
        row = conn.execute(sa.select(run_claims).where(run_claims.c.edition_date == day)).first()
        if row is None:
            conn.execute(run_claims.insert().values(edition_date=day, owner=owner, claimed_at=now))
            return Claim(day, True, owner, now)
        claimed_at, finished_at = _aware(row.claimed_at, now), row.finished_at
        finished_at = _aware(finished_at, now) if finished_at else None
        status = _status(row.status) if row.status else None
        if finished_at is not None:
            retry = not (status and status.ok) and now - finished_at >= retry_after
            if not retry:
                return Claim(day, False, row.owner, claimed_at, finished_at, status)
        elif row.owner != owner and not is_dead(row.owner) and now - claimed_at < lease:
            return Claim(day, False, row.owner, claimed_at)
        conn.execute(
            run_claims.update()
            .where(run_claims.c.edition_date == day)
            .values(owner=owner, claimed_at=now, finished_at=None, status=None)
        )
        return Claim(day, True, owner, now)

    def abandoned(
        self,
        day: date,
        now: datetime,
        *,
        lease: timedelta,
        is_dead: Callable[[str], bool] = owner_is_dead,
    ) -> bool:
        """Whether ``day``'s claim is open while its owner is dead (or its lease ran
        out): a run killed after committing its edition, perhaps before publishing
        its files.  :meth:`claim` then takes it over, and the run publishes and sends
        the recorded edition."""
        row = self.conn.execute(
            sa.select(run_claims).where(run_claims.c.edition_date == day)
        ).first()
        if row is None or row.finished_at is not None:
            return False
        return is_dead(row.owner) or now - _aware(row.claimed_at, now) >= lease

    def finish(self, day: date, owner: str, status: RunStatus, now: datetime) -> None:
        self.conn.execute(
            run_claims.update()
            .where(run_claims.c.edition_date == day, run_claims.c.owner == owner)
            .values(finished_at=now, status=status)
        )

    def all(self) -> list[Claim]:
        """Every claim, oldest date first (``status`` shows the last few)."""
        rows = self.conn.execute(sa.select(run_claims).order_by(run_claims.c.edition_date)).all()
        return [
            Claim(
                r.edition_date,
                False,
                r.owner,
                r.claimed_at,
                r.finished_at,
                _status(r.status) if r.status else None,
            )
            for r in rows
        ]


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite returns naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)
