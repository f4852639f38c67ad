"""Long-running processes: ``newsletter schedule`` (the daily job) and ``serve`` (job + web).

Both run the :class:`~newsletter.scheduler.DailyJob` they are given (the CLI
passes :func:`newsletter.pipeline.daily_job`) in an APScheduler
``BackgroundScheduler``; ``serve`` also runs uvicorn in the main thread.  On
SIGTERM/SIGINT the web server stops, then the scheduler waits for a running
edition to finish, so a stop never cuts a run in half (a SIGKILL cannot be
helped, and the database transaction makes it harmless).

At start-up the catch-up tick resumes the sending of every edition whose
send ledger still has unsent rows (a previous process was killed mid-send,
recipients were deferred), and so does every later tick.  There is no
second, separate resume: two loops sending one edition in one process was
how one kill became three copies (see :mod:`newsletter.delivery.sending`).
``serve`` also mounts the subscriber pages (sign-up, confirm, preferences,
one-click unsubscribe) in front of the site.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from newsletter.scheduler import DailyJob, build_scheduler

log = logging.getLogger(__name__)


def run_scheduler(job: DailyJob, stop: threading.Event | None = None) -> None:
    """Tick at the scheduled times until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(job)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the running job", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info(
        "scheduler started as %s: %s in %s, next run %s",
        job.owner,
        job.schedule.cron,
        job.schedule.timezone.key,
        job.schedule.next_after(job.clock()),
    )
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)


def run_server(job: DailyJob, host: str, port: int) -> None:
    """The scheduler (running ``job``) and the web app in one process."""
    import uvicorn

    from newsletter.store import Database
    from newsletter.web.app import build_app
    from newsletter.web.subscribe import subscriber_routes

    settings = job.settings
    db = Database.open(settings.database.url)
    scheduler = build_scheduler(job)
    scheduler.start()
    log.info(
        "serve: scheduler started as %s (%s in %s), web on http://%s:%d/",
        job.owner,
        job.schedule.cron,
        job.schedule.timezone.key,
        host,
        port,
    )
    try:
        app = build_app(settings, extra_routes=subscriber_routes(settings, db))
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        scheduler.shutdown(wait=True)
        db.close()
