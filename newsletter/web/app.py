"""The web side of ``newsletter serve``: the published site and a health endpoint.

One Starlette app, served by uvicorn in the same process as the scheduler.
It is built from a list of routes so the subscriber pages (sign-up,
confirmation, preferences, one-click unsubscribe:
:mod:`newsletter.web.subscribe`) are mounted by passing their routes to
:func:`build_app` — they come before the catch-all static mount of the site
folder.

Around it, outermost first: the access log, the security headers on every
response (:mod:`newsletter.web.headers`), and the body limit
(:mod:`newsletter.web.limits`).  Errors — a missing page, a wrong method, a
body too large, a server error — are pages in the archive's design
(``error.html.j2``), not plain text.  Every redirect the app makes is built
from ``newsletter.base_url``, never from the request's ``Host`` header (which
any client sets): Starlette's own slash redirects are switched off, and the
site's directory redirect (``/editions/2026-11-20`` → ``…/``) is rebuilt.

``GET /healthz`` answers JSON: ``ok`` is false when the last run failed, so a
monitor can alert on a run that published nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.store import Database
from newsletter.store.runs import StoredReport
from newsletter.urls import Site
from newsletter.web.headers import AccessLog, SecurityHeaders
from newsletter.web.limits import BodyLimit
from newsletter.web.pages import Pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """What ``/healthz`` answers: ``ok`` is false when the last run published nothing."""

    ok: bool
    last_run: StoredReport | None
    next_run: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "last_run": None
            if self.last_run is None
            else {
                "finished_at": self.last_run.finished_at.isoformat(),
                "edition_date": self.last_run.edition_date.isoformat(),
                "status": self.last_run.status.value,
                "papers": self.last_run.paper_count,
            },
            "next_run": self.next_run.isoformat() if self.next_run else None,
        }


def health(settings: Settings, clock: Clock = utcnow) -> Health:
    """Last run and next scheduled run, for ``/healthz``."""
    schedule = settings.schedule
    next_run = schedule.next_after(clock())
    with Database.open_read_only(settings.database.url) as db, db.read() as tx:
        reports = tx.runs.recent(1)
    last = reports[0] if reports else None
    return Health(ok=last is None or last.status.ok, last_run=last, next_run=next_run)


class SiteFiles(StaticFiles):
    """The site folder; a folder's redirect to its ``/`` form goes to ``newsletter.base_url``."""

    def __init__(self, directory: Path, site: Site) -> None:
        super().__init__(directory=directory, html=True)
        self.site = site

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if isinstance(response, RedirectResponse):
            relative = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
            query = scope.get("query_string", b"").decode("latin-1")
            target = self.site.url(relative.rstrip("/") + "/") + (f"?{query}" if query else "")
            return RedirectResponse(target, status_code=response.status_code)
        return response


def build_app(
    settings: Settings, extra_routes: Sequence[BaseRoute] = (), clock: Clock = utcnow
) -> ASGIApp:
    """The app: ``extra_routes`` (the subscriber pages), ``/healthz``, then the site."""
    site = settings.output.site_dir
    site.mkdir(parents=True, exist_ok=True)
    pages = Pages(settings)

    def healthz(_request: Request) -> JSONResponse:
        data = health(settings, clock)
        return JSONResponse(data.to_json(), status_code=200 if data.ok else 503)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail if exc.status_code not in (404, 405) else ""
        return pages.error(exc.status_code, message, headers=exc.headers)

    async def server_error(_request: Request, exc: Exception) -> Response:
        return pages.error(500)

    routes: list[BaseRoute] = [
        *extra_routes,
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/", SiteFiles(site, pages.site), name="site"),
    ]
    log.info("serving %s at / and /healthz", site)
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, 500: server_error}
    )
    app.router.redirect_slashes = False  # its redirects are built from the Host header
    return AccessLog(SecurityHeaders(BodyLimit(app, refuse=pages.error)))
