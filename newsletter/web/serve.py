"""Long-running processes: ``newsletter schedule`` (the daily job) and ``serve`` (job + web).

Both run the same :class:`~newsletter.scheduler.DailyJob` in an APScheduler
``BackgroundScheduler``; ``serve`` also runs uvicorn in the main thread.  On
SIGTERM/SIGINT the web server stops, then the scheduler waits for a running
edition to finish, so a stop never cuts a run in half (a SIGKILL cannot be
helped, and the database transaction makes it harmless).

At start-up the catch-up tick resumes the sending of every edition whose
send ledger still has unsent rows (a previous process was killed mid-send,
recipients were deferred) — and so does every later tick; there is no
second, separate resume (two loops would share one process's edition;
see :mod:`newsletter.delivery.sending`).  ``serve`` also mounts the
subscriber pages (sign-up, confirm, preferences, one-click unsubscribe) in
front of the site.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from newsletter.config import Settings
from newsletter.scheduler import DailyJob, build_scheduler

log = logging.getLogger(__name__)


def run_scheduler(settings: Settings, stop: threading.Event | None = None) -> None:
    """Tick at the scheduled times until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    job = DailyJob(settings)
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


def run_server(settings: Settings, host: str, port: int) -> None:
    """The scheduler and the web app in one process."""
    import uvicorn

    from newsletter.store.database import Store
    from newsletter.web.app import build_app
    from newsletter.web.subscribe import subscriber_routes

    store = Store.open(settings.database_url, create=True)
    assert store is not None
    job = DailyJob(settings)
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
        app = build_app(settings, extra_routes=subscriber_routes(settings, store))
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        scheduler.shutdown(wait=True)
        store.close()
