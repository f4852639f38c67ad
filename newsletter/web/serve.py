"""Long-running processes: ``newsletter schedule`` (the daily job) and ``serve`` (job + web).

Both run the :class:`~newsletter.scheduler.DailyJob` they are given (the CLI
passes :func:`newsletter.pipeline.daily_job`) in an APScheduler
``BackgroundScheduler``; ``serve`` also runs uvicorn in the main thread.  On
SIGTERM/SIGINT the web server stops, then the scheduler waits for a running
edition to finish (it records its report), and the sign-up desk sends what
it still holds, so a stop never cuts a run in half (a SIGKILL cannot be
helped, and the database transaction makes it harmless).  uvicorn's own
signal handling is not used: it re-raises the signal once the server is
down, which killed the process before the edition was finished.

``serve`` binds its socket itself, so it can say where it listens — the real
port when ``--port 0`` asked for any free one — through ``on_ready``, which
the CLI prints.  What keeps a flood of connections from holding the process
(``serve.header_timeout_seconds``: a connection must send its request headers
within that time, from when it opens and after every response;
``serve.keepalive_seconds``; ``serve.max_connections`` and
``serve.max_connections_per_client``) is :mod:`newsletter.web.connections`,
uvicorn's HTTP/1.1 protocol subclassed; it also puts the security headers on
the 400s and 503s the server makes itself.  Whether to trust
``X-Forwarded-For``/``-Proto`` (``serve.forwarded_allow_ips``, default: nobody)
comes from the settings.

At start-up the catch-up tick resumes the sending of every edition whose
send ledger still has unsent rows (a previous process was killed mid-send,
recipients were deferred), and so does every later tick.  There is no
second, separate resume: two loops sending one edition in one process was
how one kill became three copies (see :mod:`newsletter.delivery.sending`).
``serve`` also mounts the subscriber pages (sign-up, confirm, preferences,
one-click unsubscribe) in front of the site.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator
from datetime import date
from types import FrameType
from typing import Any

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.scheduler import DailyJob, build_scheduler

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 10
"""How long open connections may take to finish once the server stops."""


def run_scheduler(job: DailyJob, stop: threading.Event | None = None) -> None:
    """Tick at the scheduled times until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(job)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the running job", signum)
        _say_stopping(job)
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
        waited = job.making
        scheduler.shutdown(wait=True)
        _say_stopped(waited)


def _say_stopping(job: DailyJob) -> None:
    """The line an operator sees when a stop has to wait for an edition."""
    if job.making is not None:
        log.info("stopping: finishing the edition for %s before exit", job.making.isoformat())


def _say_stopped(waited: date | None) -> None:
    if waited is not None:
        log.info("stopped: the edition for %s is finished", waited.isoformat())


class ListenError(NewsletterError):
    """``serve`` cannot listen on its address (in use, not allowed, not this machine's):
    exit status 3 (README's table), so a supervisor need not restart it in a loop."""

    exit_code = 3
    default_hint = "another program holds that port: stop it, or choose another with --port"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port), or :class:`ListenError`.

    Bound before anything else starts, so a port in use is one clear line and
    exit status 3, with no scheduler left running.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="set serve.host (or --host) to an address of this machine, e.g. 127.0.0.1",
        ) from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ListenError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint=_listen_hint(exc.errno, port)
        ) from None
    sock.set_inheritable(True)
    return sock


def _listen_hint(number: int | None, port: int) -> str:
    """What to do about a bind that failed, by its errno (never "in use" for all)."""
    if number == errno.EADDRNOTAVAIL:
        return (
            "that address is not one of this machine's: set serve.host (or --host) to one "
            "it has, e.g. 127.0.0.1, or 0.0.0.0 for all"
        )
    if number == errno.EACCES:
        low = " (ports below 1024 need privileges)" if 0 < port < 1024 else ""
        return (
            f"this user may not listen there{low}: choose a port from 1024 up with serve.port "
            "(or --port), and let a reverse proxy take port 80/443 (docs/deployment.md)"
        )
    return (
        "another process uses that port: stop it, or choose another with "
        "serve.port (or --port; 0 picks a free one)"
    )


def server_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def uvicorn_config(settings: Settings, app: Any) -> Any:
    """The uvicorn settings of ``serve`` (see the module doc)."""
    import uvicorn

    from newsletter.web.connections import (
        ConnectionBudget,
        connection_protocol,
        proxy_networks,
        waiting,
    )

    serve = settings.serve
    trusted = serve.forwarded_allow_ips
    budget = ConnectionBudget(
        per_client=serve.max_connections_per_client,
        total=serve.max_connections,
        idle=waiting,
        exempt=proxy_networks(trusted),
    )
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,  # our own access log redacts the link tokens
        lifespan="off",
        ws="none",
        http=connection_protocol(float(serve.header_timeout_seconds), budget),
        timeout_keep_alive=serve.keepalive_seconds,
        limit_concurrency=None,  # enforced by connection_protocol, with our headers on the 503
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        h11_max_incomplete_event_size=16_384,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        server_header=False,
    )


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its signal handling (``run_server`` installs its own)."""

        on_started: Callable[[], None] = staticmethod(lambda: None)

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                self.on_started()

    return Server


def run_server(
    job: DailyJob,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """The scheduler (running ``job``) and the web app in one process, until SIGTERM/SIGINT.

    ``on_ready(url)`` is called once the server accepts connections, with the
    address it really listens on.
    """
    from newsletter.store import Database
    from newsletter.web.app import build_app
    from newsletter.web.subscribe import SubscriberPages

    settings = job.settings
    db = Database.open(settings.database.url)
    sock = listen(host, port)
    url = server_url(sock)
    pages = SubscriberPages(settings, db)
    app = build_app(settings, extra_routes=pages.routes())
    server = _server_class()(uvicorn_config(settings, app))
    server.on_started = lambda: on_ready(url) if on_ready else None
    scheduler = build_scheduler(job)
    signals: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signals.append(signum)
        if len(signals) == 1:
            log.info("signal %d: stopping the web server, then the running edition", signum)
            _say_stopping(job)
        else:
            log.warning("signal %d: still finishing the running edition (SIGKILL aborts)", signum)
        server.should_exit = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        log.info(
            "serve: scheduler started as %s (%s in %s), web on %s",
            job.owner,
            job.schedule.cron,
            job.schedule.timezone.key,
            url,
        )
        server.run(sockets=[sock])
    finally:
        waited = job.making
        if waited:
            log.info("serve: waiting for a running edition to finish")
        scheduler.shutdown(wait=True)
        _say_stopped(waited)
        pages.close()
        db.close()
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("serve: stopped")
