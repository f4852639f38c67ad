"""The subscriber pages: sign up, confirm, choose topics, unsubscribe (and RFC 8058 one-click).

Mounted by ``newsletter serve`` in front of the static site
(:func:`newsletter.web.app.build_app` ``extra_routes``), under ``newsletter.base_url``:

==========================  =========================================================
``GET  /subscribe``         the form (address, topics)
``POST /subscribe``         same answer, in the same time, whether or not the address
                            is known: the request is handed to the sign-up desk
                            (:mod:`newsletter.web.signup`), which records it
                            and sends the confirmation email off the request path
``GET  /confirm?t=``        a page with a button — link scanners GET, and change nothing
``POST /confirm``           confirms
``GET  /preferences?t=``    the topics form (without ``t``: how to get a new link)
``POST /preferences``       saves topics (anti-forgery token, same-origin check)
``GET  /unsubscribe?t=``    a page with a button (without ``t``: how to get a new link)
``POST /unsubscribe?t=``    unsubscribes; with the body ``List-Unsubscribe=One-Click``
                            it is the RFC 8058 one-click endpoint (no cookies, no
                            form token, idempotent, plain-text answer)
``GET  /links``             "email me a new link" (address only)
``POST /links``             sends fresh preferences and unsubscribe links to a
                            confirmed address, a new confirmation to a pending one,
                            nothing to others — the same answer for all
``GET  /subscriber.js``     the pages' one script (select all / none)
==========================  =========================================================

The topic forms have "Select all" and "Select none" buttons: without
JavaScript they submit the form with ``select=all|none`` and the page comes
back with the boxes set and nothing saved; with it they act at once.

Abuse: confirmation emails are limited per address (``subscribers.per_address_per_day``,
counted in the consent record in the same transaction that records the
request, so neither a restart nor parallel requests get past it) and overall
(``subscribers.overall_per_hour``, then 503); posts are limited per client
address (``subscribers.per_client_per_hour``, in memory, then 429 with
``Retry-After``).  A browser form post whose ``Origin`` is another site is
refused, and every form carries a signed, expiring token bound to its page and
subscriber.  The app sets no cookies.  Request bodies are bounded before they
are read (:mod:`newsletter.web.limits`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from newsletter.config import Settings
from newsletter.delivery.confirmations import Mailroom
from newsletter.delivery.mailer import Mailer
from newsletter.errors import InputError, NewsletterError
from newsletter.states import SubscriberStatus
from newsletter.store import Database
from newsletter.subscribers.links import (
    CONFIRM_PATH,
    PREFERENCES_PATH,
    SUBSCRIBE_PATH,
    UNSUBSCRIBE_PATH,
    SubscriberLinks,
)
from newsletter.subscribers.subscriptions import (
    SUPPRESSED,
    UNSUBSCRIBED,
    Subscriber,
    Subscriptions,
    normalize_address,
    parse_topics,
    recent_signups,
)
from newsletter.subscribers.tokens import CONFIRM, PREFERENCES, UNSUBSCRIBE, TokenError, Tokens
from newsletter.web.limits import MAX_BODY_BYTES, RateLimiter
from newsletter.web.pages import (
    SCRIPT_PATH,
    PageContext,
    Pages,
    RankingPanel,
    Refusal,
    TopicChoice,
    masked_address,
)
from newsletter.web.signup import Desk, LinkRequest, SignupRequest
from newsletter.web.votes import VotePages

__all__ = [
    "ONE_CLICK_BODY",
    "RateLimiter",
    "Refusal",
    "SubscriberPages",
    "build_subscriber_app",
    "subscriber_routes",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
LINKS_PATH = "links"
_MAX_FIELDS = 64
_BUSY = "We cannot take more sign-ups right now. Please try again later."


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Form:
    """A posted form: its single fields and its topic ids."""

    fields: dict[str, str]
    topics: list[str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


class SubscriberPages:
    """The handlers, with their collaborators passed in (database, mailer, clock)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        mailer_factory: Callable[[], Mailer] | None = None,
        clock: Clock = _utcnow,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.subs = Subscriptions(db)
        self.tokens = Tokens.from_settings(settings, clock)
        self.links = SubscriberLinks.from_settings(settings, self.tokens)
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.pages = Pages(settings)
        self.site = self.pages.site
        self.mailroom = Mailroom(settings, mailer_factory=mailer_factory, tokens=self.tokens)
        self.desk = Desk(settings, db, self.mailroom, clock=clock, link_allowed=self._link_allowed)
        self.schedule = settings.schedule
        self.votes = VotePages(self)

    def close(self, timeout: float = 30.0) -> None:
        """Handle the sign-ups still queued, then stop the desk's worker."""
        self.desk.close(timeout)

    # ------------------------------------------------------------ helpers

    def _render(self, template: str, page: PageContext, status: int = 200) -> HTMLResponse:
        return self.pages.render(template, page, status)

    def _page(self, title: str, **kwargs: Any) -> PageContext:
        return self.pages.page(title, **kwargs)

    def _choices(self, chosen: frozenset[str] | None) -> tuple[TopicChoice, ...]:
        return tuple(
            TopicChoice(t.id, t.title, t.scope, chosen is None or t.id in chosen)
            for t in self.settings.taxonomy.topics
        )

    def _selected(self, form: _Form) -> tuple[TopicChoice, ...] | None:
        """The boxes after "Select all" / "Select none" (no JavaScript), or None."""
        which = form.get("select")
        if which not in ("all", "none"):
            return None
        return tuple(
            TopicChoice(t.id, t.title, t.scope, which == "all")
            for t in self.settings.taxonomy.topics
        )

    def _ticked(self, form: _Form) -> tuple[TopicChoice, ...]:
        """The boxes as they were posted (shown again with a refusal)."""
        ticked = set(form.topics)
        return tuple(
            TopicChoice(t.id, t.title, t.scope, t.id in ticked)
            for t in self.settings.taxonomy.topics
        )

    def _next_run(self) -> str:
        """When the next edition goes out, in the newsletter's timezone."""
        found = self.schedule.next_after(self.clock())
        if found is None:
            return ""
        return f"{found:%A} {found.day} {found:%B}, {found:%H:%M} {self.schedule.timezone.key}"

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def _limit_client(self, request: Request, bucket: str = "client", scale: int = 1) -> None:
        """At most ``per_client_per_hour`` × ``scale`` posts an hour from one client in
        ``bucket``: votes count in a bucket of their own, so a reader voting through an
        edition is never kept from unsubscribing or changing topics."""
        limit = self.settings.subscribers.per_client_per_hour * scale
        key = f"{bucket}:{self._client(request)}"
        if not self.limiter.allow(key, limit, 3600):
            wait = self.limiter.retry_after(key, 3600)
            minutes = max(1, round(wait / 60))
            raise Refusal(
                429,
                "Too many requests from your network. Please try again in "
                f"{minutes} minute{'' if minutes == 1 else 's'}.",
                retry_after=wait,
            )

    def _link_allowed(self, address: str) -> bool:
        limit = self.settings.subscribers.per_address_per_day
        return self.limiter.allow(f"links:{address.lower()}", limit, 86400)

    def _same_origin(self, request: Request) -> None:
        """A browser's cross-site form post carries its Origin: refuse it."""
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site == "cross-site":
            raise Refusal(403, "This form was sent from another site and was refused.")
        if origin is None or origin == "null":
            return
        allowed = {_origin(str(request.base_url)), _origin(self.site.base_url)}
        if _origin(origin) not in allowed:
            raise Refusal(403, "This form was sent from another site and was refused.")

    async def _body(self, request: Request) -> bytes:
        """The request body, read at most one byte past the form limit."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise Refusal(413, "That form is too large.")
        return bytes(body)

    async def _form(self, request: Request) -> _Form:
        text = (await self._body(request)).decode("utf-8", "replace")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
        except ValueError:
            raise Refusal(400, "That form has too many fields.") from None
        fields: dict[str, str] = {}
        topics: list[str] = []
        for name, value in pairs:
            if name == "topics":
                topics.append(value)
            else:
                fields.setdefault(name, value)
        return _Form(fields, topics)

    def _subscriber(self, purpose: str, token: str) -> tuple[str, Subscriber]:
        public_id = self.tokens.check(purpose, token)
        subscriber = self.subs.by_public_id(public_id)
        if subscriber is None:
            raise TokenError(
                "this link belongs to an address that is no longer on the list", "gone"
            )
        return public_id, subscriber

    def _error_page(self, template: str, title: str, exc: Refusal | TokenError) -> HTMLResponse:
        """A refusal, with the "email me a new link" form under it."""
        page = self._page(title, error=_message(exc), form_token=self._links_form_token())
        response = self._render(template, page, _status(exc))
        if isinstance(exc, Refusal) and exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def _links_form_token(self) -> str:
        return self.tokens.form_token(LINKS_PATH, "-")

    # ------------------------------------------------------------ sign-up

    def _subscribe_page(
        self,
        *,
        email: str = "",
        topics: tuple[TopicChoice, ...] | None = None,
        error: str = "",
        status: int = 200,
        retry_after: int | None = None,
    ) -> HTMLResponse:
        page = self._page(
            f"Subscribe to {self.settings.newsletter.name}",
            error=error,
            show_form=True,
            step="form",
            action=self.links.subscribe(),
            form_token=self.tokens.form_token("subscribe", "-"),
            email=email,
            topics=topics if topics is not None else self._choices(None),
            next_run=self._next_run(),
        )
        response = self._render("subscribe.html.j2", page, status)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def subscribe_form(self, request: Request) -> Response:
        return self._subscribe_page()

    async def subscribe(self, request: Request) -> Response:
        email = ""
        form = _Form({}, [])
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            email = form.get("email")[:320]
            self.tokens.check_form("subscribe", "-", form.get("form_token"))
            selected = self._selected(form)
            if selected is not None:
                return self._subscribe_page(email=email, topics=selected)
            try:
                address = normalize_address(email)
                chosen = parse_topics(form.topics, self.settings.taxonomy)
            except InputError as exc:
                raise Refusal(400, _sentence(exc.message)) from None
            if not form.topics:
                raise Refusal(400, "Choose at least one topic.")
            await run_in_threadpool(self._overall_limit)
            detail = {
                "ip": self._client(request),
                "user_agent": request.headers.get("user-agent", "")[:200],
            }
            if not self.desk.has_room():
                raise Refusal(503, _BUSY)
        except (Refusal, TokenError) as exc:
            return self._subscribe_page(
                email=email,
                topics=self._ticked(form) if form.topics else None,
                error=_message(exc),
                status=_status(exc),
                retry_after=exc.retry_after if isinstance(exc, Refusal) else None,
            )
        response = self._render(
            "subscribe.html.j2",
            self._page(
                "Check your inbox",
                step="sent",
                email=address,
                message=f"If {address} can receive {self.settings.newsletter.name}, a "
                "confirmation link is on its way. Open it to start your subscription.",
                next_run=self._next_run(),
            ),
        )
        # Handed to the desk once the answer is sent: its work (a row, an email — or
        # nothing, for a known address) cannot slow down, and so reveal, the answer.
        self.desk.expect()
        signup = SignupRequest(address, chosen, detail)
        response.background = BackgroundTask(self.desk.submit, signup, expected=True)
        return response

    def _overall_limit(self) -> None:
        """Sign-ups of every address in the last hour, recorded or still queued."""
        since = self.clock() - timedelta(hours=1)
        recent = recent_signups(self.db, "web", since) + self.desk.in_flight()
        if recent >= self.settings.subscribers.overall_per_hour:
            log.warning("sign-up limit reached for all addresses this hour; no email sent")
            raise Refusal(503, _BUSY)

    # ------------------------------------------------------------ new links

    async def links_form(self, request: Request) -> Response:
        return self._links_page()

    def _links_page(self, email: str = "", error: str = "", status: int = 200) -> HTMLResponse:
        page = self._page(
            "Get a new link", email=email, error=error, form_token=self._links_form_token()
        )
        return self._render("links.html.j2", page, status)

    async def send_links(self, request: Request) -> Response:
        email = ""
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            email = form.get("email")[:320]
            self.tokens.check_form(LINKS_PATH, "-", form.get("form_token"))
            try:
                address = normalize_address(email)
            except InputError as exc:
                raise Refusal(400, _sentence(exc.message)) from None
            if not self.desk.has_room():
                raise Refusal(503, "We cannot send links right now. Please try again later.")
        except (Refusal, TokenError) as exc:
            response = self._links_page(email, _message(exc), _status(exc))
            if isinstance(exc, Refusal) and exc.retry_after is not None:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        response = self._render(
            "links.html.j2",
            self._page(
                "Check your inbox",
                step="sent",
                email=address,
                message=f"If {address} is on our list, new links are on their way to it.",
            ),
        )
        self.desk.expect()
        response.background = BackgroundTask(self.desk.submit, LinkRequest(address), expected=True)
        return response

    def _missing_link(self, title: str, where: str) -> HTMLResponse:
        """A page reached without its token: where its link is (``where``, a sentence
        that names the email it is in), and a form to be sent a new one."""
        return self._render(
            "links.html.j2",
            self._page(
                title,
                message=f"{where} Or enter your address below and we will email you a new one.",
                form_token=self._links_form_token(),
            ),
        )

    # ------------------------------------------------------------ confirm

    async def confirm_page(self, request: Request) -> Response:
        title = "Confirm your subscription"
        token = request.query_params.get("t", "")
        if not token:
            return self._missing_link(
                title,
                "To confirm your subscription, press “Confirm my subscription” in the "
                "confirmation email we sent you.",
            )
        try:
            public_id, subscriber = await run_in_threadpool(self._subscriber, CONFIRM, token)
        except TokenError as exc:
            return self._error_page("confirm.html.j2", title, exc)
        if subscriber.status != SubscriberStatus.PENDING:
            if subscriber.status in SUPPRESSED:
                gone = Refusal(409, "This address is no longer subscribed; please sign up again.")
                return self._error_page("confirm.html.j2", title, gone)
            return self._confirmed_page(subscriber, "Your subscription is confirmed already.")
        return self._render(
            "confirm.html.j2",
            self._page(
                title,
                show_form=True,
                action=self.site.url(CONFIRM_PATH),
                token=token,
                form_token=self.tokens.form_token(CONFIRM, public_id),
                email=masked_address(subscriber.email),
            ),
        )

    async def confirm(self, request: Request) -> Response:
        title = "Confirm your subscription"
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            public_id, subscriber = await run_in_threadpool(
                self._subscriber, CONFIRM, form.get("t")
            )
            self.tokens.check_form(CONFIRM, public_id, form.get("form_token"))
            if subscriber.status in SUPPRESSED:
                raise Refusal(409, "This address is no longer subscribed; please sign up again.")
            change = await run_in_threadpool(
                self.subs.confirm,
                public_id,
                method="web",
                now=self.clock(),
                detail={"ip": self._client(request)},
            )
        except (Refusal, TokenError) as exc:
            return self._error_page("confirm.html.j2", title, exc)
        assert change is not None
        return self._confirmed_page(change.subscriber, "Your subscription is confirmed. Welcome!")

    def _confirmed_page(self, subscriber: Subscriber, message: str) -> HTMLResponse:
        links = self.links.for_subscriber(subscriber.public_id)
        return self._render(
            "confirm.html.j2",
            self._page(
                "You are subscribed",
                message=message,
                step="done",
                email=masked_address(subscriber.email),
                preferences_url=links.preferences,
                unsubscribe_url=links.unsubscribe,
                next_run=self._next_run(),
            ),
        )

    # ------------------------------------------------------------ preferences

    async def preferences_page(self, request: Request) -> Response:
        title = "Your topics"
        token = request.query_params.get("t", "")
        if not token:
            return self._missing_link(
                title,
                "To change your topics, use the “Manage topics” link at the foot of any edition "
                "we emailed you.",
            )
        try:
            public_id, subscriber = await run_in_threadpool(self._subscriber, PREFERENCES, token)
        except TokenError as exc:
            return self._error_page("preferences.html.j2", title, exc)
        return self._preferences(subscriber, public_id, token)

    def _preferences(
        self,
        subscriber: Subscriber,
        public_id: str,
        token: str,
        message: str = "",
        error: str = "",
        status: int = 200,
        topics: tuple[TopicChoice, ...] | None = None,
        ranking: RankingPanel | None = None,
    ) -> HTMLResponse:
        return self._render(
            "preferences.html.j2",
            self._page(
                "Your topics",
                message=message,
                error=error,
                show_form=True,
                action=self.site.url(PREFERENCES_PATH),
                token=token,
                form_token=self.tokens.form_token(PREFERENCES, public_id),
                email=masked_address(subscriber.email),
                topics=topics if topics is not None else self._choices(subscriber.topics),
                unsubscribe_url=self.links.for_subscriber(public_id).unsubscribe,
                ranking=ranking if ranking is not None else self.votes.panel(subscriber),
            ),
            status,
        )

    async def preferences(self, request: Request) -> Response:
        title = "Your topics"
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            token = form.get("t")
            public_id, subscriber = await run_in_threadpool(self._subscriber, PREFERENCES, token)
            self.tokens.check_form(PREFERENCES, public_id, form.get("form_token"))
        except (Refusal, TokenError) as exc:
            return self._error_page("preferences.html.j2", title, exc)
        selected = self._selected(form)
        if selected is not None:
            return self._preferences(subscriber, public_id, token, topics=selected)
        try:
            chosen = parse_topics(form.topics, self.settings.taxonomy)
            if not form.topics:
                raise InputError("choose at least one topic (or unsubscribe)")
        except InputError as exc:
            return self._preferences(
                subscriber,
                public_id,
                token,
                error=_message(exc),
                status=400,
                topics=self._ticked(form),
            )
        change = await run_in_threadpool(
            self.subs.set_topics,
            public_id,
            chosen,
            method="web",
            now=self.clock(),
            detail={"ip": self._client(request)},
        )
        assert change is not None
        return self._preferences(
            change.subscriber, public_id, token, message="Your topics are saved."
        )

    # ------------------------------------------------------------ unsubscribe

    async def unsubscribe_page(self, request: Request) -> Response:
        title = "Unsubscribe"
        token = request.query_params.get("t", "")
        if not token:
            return self._missing_link(
                title,
                "To unsubscribe, use the “Unsubscribe” link at the foot of any edition "
                "we emailed you.",
            )
        try:
            public_id, subscriber = await run_in_threadpool(self._subscriber, UNSUBSCRIBE, token)
        except TokenError as exc:
            return self._error_page("unsubscribe.html.j2", title, exc)
        if subscriber.status == UNSUBSCRIBED:
            return self._unsubscribed("You are unsubscribed; you will get no more emails.")
        return self._render(
            "unsubscribe.html.j2",
            self._page(
                title,
                show_form=True,
                action=self.site.url(UNSUBSCRIBE_PATH),
                token=token,
                email=masked_address(subscriber.email),
                preferences_url=self.links.for_subscriber(public_id).preferences,
            ),
        )

    def _unsubscribed(self, message: str) -> HTMLResponse:
        return self._render(
            "unsubscribe.html.j2", self._page("Unsubscribed", message=message, step="done")
        )

    async def unsubscribe(self, request: Request) -> Response:
        """Both the page's button and the RFC 8058 one-click POST; idempotent."""
        title = "Unsubscribe"
        try:
            body = await self._body(request)
        except Refusal as exc:
            return self._error_page("unsubscribe.html.j2", title, exc)
        one_click = body.strip() == ONE_CLICK_BODY.encode()
        try:
            token = request.query_params.get("t", "")
            if not one_click:
                self._same_origin(request)
                self._limit_client(request)
                if not token:
                    pairs = parse_qsl(body.decode("utf-8", "replace"), max_num_fields=_MAX_FIELDS)
                    token = dict(pairs).get("t", "")
            public_id = self.tokens.check(UNSUBSCRIBE, token)
            change = await run_in_threadpool(
                self.subs.unsubscribe,
                public_id,
                method="one-click" if one_click else "web",
                now=self.clock(),
                detail={"ip": self._client(request)},
            )
            if change is None:
                raise TokenError(
                    "this link belongs to an address that is no longer on the list", "gone"
                )
        except ValueError:
            too_many = Refusal(400, "That form has too many fields.")
            return self._error_page("unsubscribe.html.j2", title, too_many)
        except (Refusal, TokenError) as exc:
            if one_click:
                return PlainTextResponse(f"refused: {_message(exc)}", status_code=_status(exc))
            return self._error_page("unsubscribe.html.j2", title, exc)
        log.info("unsubscribed (%s)", "one-click" if one_click else "web")
        if one_click:
            return PlainTextResponse("unsubscribed")
        return self._unsubscribed("You are unsubscribed; you will get no more emails.")

    # ------------------------------------------------------------ the script

    async def script(self, request: Request) -> Response:
        env = self.pages.env
        assert env.loader is not None
        source, _name, _uptodate = env.loader.get_source(env, SCRIPT_PATH)
        return Response(
            source,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        prefix = urlsplit(self.site.base_url).path.rstrip("/")

        def slash(path: str) -> Callable[[Request], Any]:
            async def redirect(request: Request) -> Response:
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(self.site.url(path) + query, status_code=308)

            return redirect

        pages = (SUBSCRIBE_PATH, CONFIRM_PATH, PREFERENCES_PATH, UNSUBSCRIBE_PATH, LINKS_PATH)
        return [
            Route(f"{prefix}/{SUBSCRIBE_PATH}", self.subscribe_form, methods=["GET"]),
            Route(f"{prefix}/{SUBSCRIBE_PATH}", self.subscribe, methods=["POST"]),
            Route(f"{prefix}/{CONFIRM_PATH}", self.confirm_page, methods=["GET"]),
            Route(f"{prefix}/{CONFIRM_PATH}", self.confirm, methods=["POST"]),
            Route(f"{prefix}/{PREFERENCES_PATH}", self.preferences_page, methods=["GET"]),
            Route(f"{prefix}/{PREFERENCES_PATH}", self.preferences, methods=["POST"]),
            Route(f"{prefix}/{UNSUBSCRIBE_PATH}", self.unsubscribe_page, methods=["GET"]),
            Route(f"{prefix}/{UNSUBSCRIBE_PATH}", self.unsubscribe, methods=["POST"]),
            Route(f"{prefix}/{LINKS_PATH}", self.links_form, methods=["GET"]),
            Route(f"{prefix}/{LINKS_PATH}", self.send_links, methods=["POST"]),
            Route(f"{prefix}/{SCRIPT_PATH}", self.script, methods=["GET"]),
            *self.votes.routes(prefix),
            *[Route(f"{prefix}/{p}/", slash(p), methods=["GET", "POST"]) for p in pages],
        ]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _status(exc: Refusal | TokenError) -> int:
    if isinstance(exc, Refusal):
        return exc.status
    return 410 if exc.reason in ("expired", "gone") else 400


def _sentence(text: str) -> str:
    """``text`` with exactly one final stop (messages from libraries may have their own)."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _message(exc: Refusal | TokenError | NewsletterError) -> str:
    if isinstance(exc, Refusal):
        return f"{_sentence(exc.message)} Nothing was changed."
    return f"Sorry: {_sentence(exc.message)} Nothing was changed."


def subscriber_routes(
    settings: Settings,
    db: Database,
    *,
    mailer_factory: Callable[[], Mailer] | None = None,
    clock: Clock = _utcnow,
    limiter: RateLimiter | None = None,
) -> Sequence[BaseRoute]:
    """The routes to pass to :func:`newsletter.web.app.build_app` as ``extra_routes``."""
    pages = SubscriberPages(
        settings, db, mailer_factory=mailer_factory, clock=clock, limiter=limiter
    )
    return pages.routes()


def build_subscriber_app(pages: SubscriberPages) -> ASGIApp:
    """The whole app (site, health, limits, headers) with these subscriber pages."""
    from newsletter.web.app import build_app

    return build_app(pages.settings, extra_routes=pages.routes())
