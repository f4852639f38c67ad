"""Long-running processes: ``newsletter schedule`` (the daily job) and ``serve`` (job + web).

Both run the same :class:`~newsletter.scheduler.DailyJob` in an APScheduler
``BackgroundScheduler``; ``serve`` also runs uvicorn in the main thread.  On
SIGTERM/SIGINT the web server stops, then the scheduler waits for a running
edition to finish, so a stop never cuts a run in half (a SIGKILL cannot be
helped, and the database transaction makes it harmless).

At start-up both resume the sending of any edition whose send ledger still
has unsent rows (a previous process was killed mid-send), in a background
thread; ``serve`` also mounts the subscriber pages (sign-up, confirm,
preferences, one-click unsubscribe) in front of the site.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.scheduler import DailyJob, build_scheduler

log = logging.getLogger(__name__)


class ListenError(NewsletterError):
    """``serve`` cannot listen on its address (in use, not allowed); exit status 3."""

    exit_code = 3
    default_hint = "another program (another `newsletter serve`?) holds it; pick one with --port"


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), or :class:`ListenError`.

    Bound before anything else starts, so a port in use is one clear line and
    exit status 3, with no scheduler left running.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def resume_sending(settings: Settings) -> threading.Thread:
    """Finish, in the background, what an interrupted process left unsent."""
    from newsletter import pipeline

    def work() -> None:
        try:
            for report in pipeline.resume_delivery(settings):
                log.info("resumed sending: %s", report)
        except Exception:
            log.exception("resuming unsent messages failed")

    thread = threading.Thread(target=work, name="resume-sending", daemon=True)
    thread.start()
    return thread


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
    resume_sending(settings)
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

    sock = listen(host, port)
    port = int(sock.getsockname()[1])
    store = Store.open(settings.database.url, create=True)
    assert store is not None
    job = DailyJob(settings)
    scheduler = build_scheduler(job)
    scheduler.start()
    resume_sending(settings)
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
        config = uvicorn.Config(app, log_config=None, access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        scheduler.shutdown(wait=True)
        store.close()
        sock.close()
