"""The web side of ``newsletter serve``: the published site and a health endpoint.

One Starlette app, served by uvicorn in the same process as the scheduler.
It is built from a list of routes so the subscriber pages (sign-up,
confirmation, preferences, one-click unsubscribe:
:mod:`newsletter.web.subscribe`) are mounted by passing their routes to
:func:`build_app` — they come before the catch-all static mount of the site
folder.

``GET /healthz`` answers JSON: ``ok`` is false when the last run failed, so a
monitor can alert on a run that published nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.store import runs as runlog
from newsletter.store.database import Store

log = logging.getLogger(__name__)


def health(settings: Settings, clock: Clock = utcnow) -> dict[str, object]:
    """Last run and next scheduled run, for ``/healthz``."""
    schedule = settings.schedule
    next_run = schedule.next_after(clock())
    last: dict[str, object] | None = None
    store = Store.open(settings.database.url, create=False)
    if store is not None:
        try:
            reports = runlog.recent_reports(store, 1)
        finally:
            store.close()
        if reports:
            r = reports[0]
            last = {
                "finished_at": r.finished_at.isoformat(),
                "edition_date": r.edition_date.isoformat(),
                "status": r.status,
                "papers": r.paper_count,
            }
    ok = last is None or last["status"] in runlog.SUCCESS
    return {
        "ok": ok,
        "last_run": last,
        "next_run": next_run.isoformat() if next_run else None,
    }


def build_app(
    settings: Settings, extra_routes: Sequence[BaseRoute] = (), clock: Clock = utcnow
) -> Starlette:
    """The app: ``extra_routes`` (the subscriber pages), ``/healthz``, then the site."""
    site = settings.output.site_dir
    site.mkdir(parents=True, exist_ok=True)

    def healthz(_request: Request) -> JSONResponse:
        data = health(settings, clock)
        return JSONResponse(data, status_code=200 if data["ok"] else 503)

    routes: list[BaseRoute] = [
        *extra_routes,
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/", StaticFiles(directory=site, html=True), name="site"),
    ]
    log.info("serving %s at / and /healthz", site)
    return Starlette(routes=routes)
