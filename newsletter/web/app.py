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
from dataclasses import dataclass
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter.config import Settings
from newsletter.scheduler import Clock, utcnow
from newsletter.store import Database
from newsletter.store.runs import StoredReport

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


def build_app(
    settings: Settings, extra_routes: Sequence[BaseRoute] = (), clock: Clock = utcnow
) -> Starlette:
    """The app: ``extra_routes`` (the subscriber pages), ``/healthz``, then the site."""
    site = settings.output.site_dir
    site.mkdir(parents=True, exist_ok=True)

    def healthz(_request: Request) -> JSONResponse:
        data = health(settings, clock)
        return JSONResponse(data.to_json(), status_code=200 if data.ok else 503)

    routes: list[BaseRoute] = [
        *extra_routes,
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/", StaticFiles(directory=site, html=True), name="site"),
    ]
    log.info("serving %s at / and /healthz", site)
    return Starlette(routes=routes)
