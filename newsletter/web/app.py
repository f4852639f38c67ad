"""The web side of ``newsletter serve``: the published site and a health endpoint.

One Starlette app, served by uvicorn in the same process as the scheduler.
It is built from a list of routes so the subscriber pages (sign-up,
confirmation, preferences, one-click unsubscribe:
:mod:`newsletter.web.subscribe`) are mounted by passing their routes to
:func:`build_app` — they come before the catch-all static mount of the site
folder.

``GET /healthz`` answers JSON: ``ok`` is false (and the status 503) when the
*scheduled* date's edition is not there — its run published nothing, failed,
or never happened — so a monitor can alert on it; a manual run for another
date changes nothing (see :mod:`newsletter.status`).
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
    """The scheduled date's edition (what ``ok`` says), the last run of any kind and the
    next scheduled run, for ``/healthz`` (see :mod:`newsletter.status`)."""
    from newsletter import status

    now = clock()
    next_run = settings.schedule.next_after(now)
    last: dict[str, object] | None = None
    store = Store.open(settings.database.url, create=False)
    try:
        scheduled = status.scheduled(settings, store, now)
        reports = runlog.recent_reports(store, 1) if store is not None else []
    finally:
        if store is not None:
            store.close()
    if reports:
        r = reports[0]
        last = {
            "finished_at": r.finished_at.isoformat(),
            "edition_date": r.edition_date.isoformat(),
            "trigger": r.trigger,
            "status": r.status,
            "papers": r.paper_count,
        }
    return {
        "ok": scheduled.ok,
        "scheduled": scheduled.as_dict(),
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
