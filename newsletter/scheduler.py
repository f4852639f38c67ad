"""The daily job: one edition per scheduled date, whatever happens.

The rule is simple and is the whole of it: at any moment, the date that
*should* have an edition is the date of the latest scheduled time (cron, in
``newsletter.timezone``) at or before now.  :meth:`DailyJob.tick` makes that
date's edition unless it exists or another process is making it.  Everything
else only decides *when* to tick:

- at the scheduled time (APScheduler, cron trigger);
- at start-up (the catch-up check): after downtime the latest missed date is
  made once, with everything new since — never a burst of old dates;
- every ``WATCHDOG_MINUTES`` (a clock set forward, a suspended laptop, a
  missed firing: the next check notices);
- when APScheduler reports a missed run (logged, never dropped silently).

Because a tick is idempotent, firing twice (a daylight-saving fall-back
repeating 02:30, two processes started by mistake, a restart mid-run) cannot
make a second edition: the date is claimed in the database first
(:mod:`newsletter.store.runs`), and the editions table's unique date remains the
last line of defence.

APScheduler 3.x runs in this one process only, as its maintainer advises: job
store in memory, ``coalesce=True``, ``max_instances=1``, one worker thread,
and a generous ``misfire_grace_time`` (its default of 1 s silently drops a
late run).  Time is passed in (``clock``) so the rule is tested across DST
transitions without waiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from newsletter import owners
from newsletter.config import Settings
from newsletter.model import RunReport
from newsletter.states import RunStatus
from newsletter.store import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

WATCHDOG_MINUTES = 10
LEASE = timedelta(hours=2)
"""A claim not finished after this long is taken over (its owner hung or died elsewhere)."""
RETRY_AFTER = timedelta(hours=1)
"""A date whose run published nothing (stale, empty, failed) is tried again after this."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Runner(Protocol):
    def __call__(
        self,
        settings: Settings,
        inputs: tuple[str, ...],
        edition_date: date,
        *,
        trigger: str,
        clock: Clock,
    ) -> RunReport: ...


class TickOutcome(StrEnum):
    """What one tick of the daily job came to."""

    RAN = "ran"  # it made (or tried to make) the due edition
    EXISTS = "exists"  # the due date has its edition already
    CLAIMED_ELSEWHERE = "claimed-elsewhere"  # another process is making it now
    DONE = "done"  # a run for the date finished earlier; the next try waits a pause
    NOTHING_DUE = "nothing-due"  # no scheduled time has passed yet


@dataclass(frozen=True)
class TickResult:
    """What one tick did: ``ran`` (with the run's report), or why not."""

    edition_date: date | None
    outcome: TickOutcome
    detail: str = ""
    report: RunReport | None = None


Resumer = Callable[[Settings], Iterable[object] | None]
"""Sends what earlier runs left unsent (:func:`newsletter.pipeline.resume_delivery`)."""


class DailyJob:
    """Makes the due date's edition once; safe to call from several processes at once.

    ``runner`` makes an edition and ``resumer`` sends what is left unsent: the
    pipeline's, as :func:`newsletter.pipeline.daily_job` wires them (this module
    does not import the pipeline, so the scheduling rules sit below it).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        runner: Runner,
        resumer: Resumer,
        clock: Clock = utcnow,
        owner: str | None = None,
        intake: Callable[[Settings], object] | None = None,
    ) -> None:
        self.settings = settings
        self.schedule = settings.schedule
        self.intake = intake
        """Reads what came back (bounces, complaints): every ``bounces.interval_minutes``."""
        self.clock = clock
        self.runner = runner
        self.resumer = resumer
        self.owner = owner or owners.process_owner()
        self._lock = threading.Lock()
        self.making: date | None = None
        """The date whose edition this job is making right now (None: none), so a
        process told to stop can say what it waits for."""

    def tick(self, trigger: str = "schedule") -> TickResult:
        """Make the due edition if nobody has; whatever the outcome, resume the unsent
        mail of every unfinished edition (a run that made one has done so already)."""
        with self._lock:
            result = self._tick(trigger)
            if result.outcome != TickOutcome.RAN:
                self._resume_sending()
            return result

    def _tick(self, trigger: str) -> TickResult:
        now = self.clock()
        day = self.schedule.due_date(now)
        if day is None:
            return TickResult(None, TickOutcome.NOTHING_DUE)
        with Database.open(self.settings.database.url) as db, db.write() as tx:
            exists = bool(tx.editions.count_on(day))
            # recorded but its files not published (the site was not writable): run again
            # (after the pause a failed claim waits), which publishes it, then sends
            unpublished = exists and [r.status for r in tx.runs.recent(1, edition_date=day)] == [
                RunStatus.FAILED
            ]
            # or recorded by a run killed before it finished (its files perhaps not
            # written): its claim is open and its owner dead, so take it over and run
            unpublished = unpublished or (exists and tx.claims.abandoned(day, now, lease=LEASE))
            if not exists or unpublished:
                claim = tx.claims.claim(day, self.owner, now, lease=LEASE, retry_after=RETRY_AFTER)
        if exists and not unpublished:
            return TickResult(day, TickOutcome.EXISTS)
        if not claim.won:
            if claim.finished_at is None:
                detail = (
                    f"another process ({claim.owner}) is making the edition for {day} since "
                    f"{claim.claimed_at:%Y-%m-%d %H:%M:%S}; this one sends nothing"
                )
                log.warning("%s", detail)
                return TickResult(day, TickOutcome.CLAIMED_ELSEWHERE, detail)
            detail = f"the run for {day} finished as {claim.status}; next try after a pause"
            log.debug("%s", detail)
            return TickResult(day, TickOutcome.DONE, detail)
        log.info("making the edition for %s (%s)", day, trigger)
        status = RunStatus.FAILED
        self.making = day
        try:
            report = self.runner(self.settings, (), day, trigger=trigger, clock=self.clock)
            status = RunStatus(report.status or RunStatus.FAILED)
        finally:
            self.making = None
            with Database.open(self.settings.database.url) as db, db.write() as tx:
                tx.claims.finish(day, self.owner, status, self.clock())
        for problem in [d.error for d in report.digests if d.error] + list(report.warnings):
            log.warning("edition for %s: %s", day, problem)  # no CLI here: the log reports it
        if report.ok:
            log.info("edition for %s: %s", day, report.status)
        else:
            log.error(
                "edition for %s not published: %s: %s", day, report.status, report.skipped_reason
            )
        return TickResult(day, TickOutcome.RAN, str(report.status), report)

    def _resume_sending(self) -> None:
        """Send what is due in the ledgers: deferred (4xx) rows, interrupted sends.

        Runs at every tick, so a long-running ``serve`` retries temporary
        failures on the watchdog's rhythm instead of only at its next start;
        the ledger's leases keep two processes from sending one row twice, and
        one process never runs two loops for one edition.
        """
        try:
            self.resumer(self.settings)
        except Exception:
            log.exception("resuming unsent messages failed")

    def read_returns(self) -> None:
        """One round of the bounce intake; a failure is logged, the scheduler goes on."""
        if self.intake is None:
            return
        try:
            self.intake(self.settings)
        except Exception as exc:
            log.error("reading bounces failed: %s", exc)


def build_scheduler(job: DailyJob) -> BackgroundScheduler:
    """APScheduler set up as DESIGN.md says: memory store, coalesce, one instance, grace."""
    grace = job.schedule.misfire_grace_minutes * 60
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        timezone=job.schedule.timezone,
    )
    scheduler.add_job(
        job.tick, job.schedule.trigger(), id="daily", name="daily edition", args=("schedule",)
    )
    scheduler.add_job(
        job.tick,
        IntervalTrigger(minutes=WATCHDOG_MINUTES, timezone=job.schedule.timezone),
        id="watchdog",
        name="catch-up check",
        args=("check",),
    )
    scheduler.add_job(job.tick, id="startup", name="start-up catch-up", args=("catch-up",))
    every = job.settings.bounces.interval_minutes
    if every and job.intake is not None:
        scheduler.add_job(
            job.read_returns,
            IntervalTrigger(minutes=every, timezone=job.schedule.timezone),
            id="bounces",
            name="bounce intake",
        )

    def on_event(event: Any) -> None:
        if not isinstance(event, JobExecutionEvent):
            return
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "scheduled run %s of %s was missed (more than %d s late); checking now",
                event.job_id,
                event.scheduled_run_time,
                grace,
            )
            scheduler.add_job(job.tick, name="missed-run check", args=("missed",))
        elif event.code == EVENT_JOB_ERROR:
            log.error(
                "scheduled run %s failed: %s",
                event.job_id,
                event.exception,
                exc_info=event.exception,
            )

    scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler
