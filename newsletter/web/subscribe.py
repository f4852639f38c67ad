"""The subscriber pages: sign up, confirm, choose topics, unsubscribe (and RFC 8058 one-click).

Mounted by ``newsletter serve`` in front of the static site
(:func:`newsletter.web.app.build_app` ``extra_routes``), under ``newsletter.base_url``:

==========================  =========================================================
``GET  /subscribe``         the form (address, topics)
``POST /subscribe``         same answer whether or not the address is known; sends
                            the confirmation email to new, pending and former subscribers
``GET  /confirm?t=``        a page with a button — link scanners GET, and change nothing
``POST /confirm``           confirms
``GET  /preferences?t=``    the topics form
``POST /preferences``       saves topics (anti-forgery token, same-origin check)
``GET  /unsubscribe?t=``    a page with a button
``POST /unsubscribe?t=``    unsubscribes; with the body ``List-Unsubscribe=One-Click``
                            it is the RFC 8058 one-click endpoint (no cookies, no
                            form token, idempotent, plain-text answer)
==========================  =========================================================

Abuse: confirmation emails are limited per address (``subscribers.per_address_per_day``,
counted in the consent record, so a restart does not reset it) and overall
(``subscribers.overall_per_hour``); posts are limited per client address
(``subscribers.per_client_per_hour``, in memory).  A browser form post whose
``Origin`` is another site is refused, and every form carries a signed,
expiring token bound to its page and subscriber.  The app sets no cookies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.config import Settings
from newsletter.delivery.mailer import Mailer, MailerStopped, SendFailure
from newsletter.delivery.mailer import from_settings as mailer_from_settings
from newsletter.delivery.message import confirmation_message, make_message_id
from newsletter.errors import InputError, NewsletterError
from newsletter.render import templates
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
    BOUNCED,
    UNSUBSCRIBED,
    Subscriber,
    Subscriptions,
    normalize_address,
    parse_topics,
)
from newsletter.subscribers.tokens import CONFIRM, PREFERENCES, UNSUBSCRIBE, TokenError, Tokens
from newsletter.urls import FEED_ATOM, FEED_RSS

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
_MAX_FORM_BYTES = 16_384


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- page context


@dataclass(frozen=True)
class PageLinks:
    """Links in the page frame (the archive's base layout uses them)."""

    archive: str
    feed: str
    atom: str


@dataclass(frozen=True)
class TopicChoice:
    """One topic checkbox: id, section title, scope line, and whether it is ticked."""

    id: str
    title: str
    scope: str
    checked: bool


@dataclass(frozen=True)
class PageContext:
    """What a subscriber page template receives as ``page``.

    Attributes:
        name, language: the newsletter's name and language.
        title: the page heading.
        links: the frame's links (archive, feeds).
        message: a notice to show (what just happened), or "".
        error: a refusal to show (what was wrong, what to do), or "".
        show_form: whether the page's form is shown.
        action: where the form posts.
        token: the signed link token the form carries on, or "".
        form_token: the anti-forgery token of the form, or "".
        email: the address concerned (or typed so far), or "".
        topics: the topic checkboxes.
        preferences_url, unsubscribe_url, subscribe_url: follow-up links, or "".
    """

    name: str
    language: str
    title: str
    links: PageLinks
    message: str = ""
    error: str = ""
    show_form: bool = False
    action: str = ""
    token: str = ""
    form_token: str = ""
    email: str = ""
    topics: tuple[TopicChoice, ...] = ()
    preferences_url: str = ""
    unsubscribe_url: str = ""
    subscribe_url: str = ""


@dataclass(frozen=True)
class ConfirmationContext:
    """What the confirmation email templates receive as ``mail``."""

    name: str
    language: str
    confirm_url: str
    valid_hours: int
    archive_url: str
    postal_address: str


# ---------------------------------------------------------------- rate limits


@dataclass
class RateLimiter:
    """Sliding-window counters in memory (per process), with the clock passed in."""

    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, limit: int, window: float) -> bool:
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:  # bounded memory under a flood of distinct keys
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True


# ---------------------------------------------------------------- the app


class Refusal(NewsletterError):
    """A request refused with a status code and a message for the page."""

    default_hint = "the page tells the visitor why; nothing was changed"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
        self.mailer_factory = mailer_factory or (lambda: mailer_from_settings(settings))
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.site = settings.site.base
        self.env = templates.environment(settings.output.templates_dir)
        self.frame = PageContext(
            name=settings.newsletter.name,
            language=settings.newsletter.language,
            title="",
            links=PageLinks(
                archive=self.site.url(""),
                feed=self.site.url(FEED_RSS),
                atom=self.site.url(FEED_ATOM),
            ),
            subscribe_url=self.links.subscribe(),
        )

    # ------------------------------------------------------------ helpers

    def _render(self, template: str, page: PageContext, status: int = 200) -> HTMLResponse:
        body = templates.render(self.env, template, page=page)
        return HTMLResponse(
            body,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",  # tokens in URLs never leak to linked sites
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            },
        )

    def _choices(self, chosen: frozenset[str] | None) -> tuple[TopicChoice, ...]:
        return tuple(
            TopicChoice(t.id, t.title, t.scope, chosen is None or t.id in chosen)
            for t in self.settings.taxonomy.topics
        )

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def _limit_client(self, request: Request) -> None:
        limit = self.settings.subscribers.per_client_per_hour
        if not self.limiter.allow(f"client:{self._client(request)}", limit, 3600):
            raise Refusal(429, "Too many requests from your network. Please try again in an hour.")

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

    async def _form(self, request: Request) -> dict[str, Any]:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > _MAX_FORM_BYTES:
            raise Refusal(413, "That form is too large.")
        form = await request.form(max_files=0, max_fields=64)
        data: dict[str, Any] = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        data["topics"] = [v for v in form.getlist("topics") if isinstance(v, str)]
        return data

    def _subscriber(self, purpose: str, token: str) -> tuple[str, Subscriber]:
        public_id = self.tokens.check(purpose, token)
        subscriber = self.subs.by_public_id(public_id)
        if subscriber is None:
            raise TokenError(
                "this link belongs to an address that is no longer on the list", "gone"
            )
        return public_id, subscriber

    def _page(self, title: str, **kwargs: Any) -> PageContext:
        return replace(self.frame, title=title, **kwargs)

    def _error_page(self, template: str, title: str, exc: Refusal | TokenError) -> HTMLResponse:
        return self._render(template, self._page(title, error=_message(exc)), _status(exc))

    # ------------------------------------------------------------ sign-up

    async def subscribe_form(self, request: Request) -> Response:
        return self._render(
            "subscribe.html.j2",
            self._page(
                f"Subscribe to {self.settings.newsletter.name}",
                show_form=True,
                action=self.links.subscribe(),
                form_token=self.tokens.form_token("subscribe", "-"),
                topics=self._choices(None),
            ),
        )

    async def subscribe(self, request: Request) -> Response:
        title = f"Subscribe to {self.settings.newsletter.name}"
        email = ""
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            email = str(form.get("email", ""))[:320]
            self.tokens.check_form("subscribe", "-", str(form.get("form_token", "")))
            try:
                address = normalize_address(email)
                chosen = parse_topics(form["topics"], self.settings.taxonomy)
            except InputError as exc:
                raise Refusal(400, f"{exc.message}.") from None
            if not form["topics"]:
                raise Refusal(400, "Choose at least one topic.")
            detail = {
                "ip": self._client(request),
                "user_agent": request.headers.get("user-agent", "")[:200],
            }
            await run_in_threadpool(self._request, address, chosen, detail)
        except (Refusal, TokenError) as exc:
            page = self._page(
                title,
                error=_message(exc),
                show_form=True,
                action=self.links.subscribe(),
                form_token=self.tokens.form_token("subscribe", "-"),
                email=email,
                topics=self._choices(None),
            )
            return self._render("subscribe.html.j2", page, _status(exc))
        return self._render(
            "subscribe.html.j2",
            self._page(
                "Check your inbox",
                message=f"If {address} can receive {self.settings.newsletter.name}, a "
                "confirmation link is on its way. Open it to start your subscription.",
            ),
        )

    def _request(self, address: str, chosen: frozenset[str] | None, detail: dict[str, Any]) -> None:
        """Record the request and send the confirmation email, within the limits."""
        now = self.clock()
        if self._recent_requests(now, address) >= int(
            self.settings.subscribers.per_address_per_day
        ):
            log.info("sign-up limit reached for one address; no email sent")
            return
        if self._recent_requests(now, None) >= self.settings.subscribers.overall_per_hour:
            log.warning("sign-up limit reached for all addresses this hour; no email sent")
            raise Refusal(503, "We cannot take more sign-ups right now. Please try again later.")
        change = self.subs.request(address, chosen, method="web", now=now, detail=detail)
        if not change.changed:  # confirmed or bounced: nothing to send, same answer
            return
        self._send_confirmation(change.subscriber, now)

    def _recent_requests(self, now: datetime, address: str | None) -> int:
        """Web sign-ups in the last day (one address) or hour (everyone), from the consents."""
        since = now - (timedelta(days=1) if address is not None else timedelta(hours=1))
        return self.subs.recent_requests("web", since, address)

    def _send_confirmation(self, subscriber: Subscriber, now: datetime) -> None:
        from newsletter.delivery.sending import sender_for

        context = ConfirmationContext(
            name=self.settings.newsletter.name,
            language=self.settings.newsletter.language,
            confirm_url=self.links.confirm(subscriber.public_id),
            valid_hours=self.settings.subscribers.confirm_hours,
            archive_url=self.site.url(""),
            postal_address=self.settings.newsletter.postal_address,
        )
        message_id = make_message_id("confirm", self.settings.delivery.sender_domain)
        message = confirmation_message(
            sender_for(self.settings),
            subscriber.email,
            f"Confirm your subscription to {self.settings.newsletter.name}",
            templates.render(self.env, "confirmation.txt.j2", mail=context),
            templates.render(self.env, "confirmation.html.j2", mail=context),
            now,
            message_id,
        )
        mailer = self.mailer_factory()
        try:
            mailer.send(self.settings.delivery.from_address, subscriber.email, message, message_id)
        except (SendFailure, MailerStopped) as exc:
            log.error("confirmation email not sent: %s", exc)
            raise Refusal(
                503, "We could not send the confirmation email just now. Please try again later."
            ) from None
        finally:
            mailer.close()

    # ------------------------------------------------------------ confirm

    async def confirm_page(self, request: Request) -> Response:
        title = "Confirm your subscription"
        token = request.query_params.get("t", "")
        try:
            public_id, subscriber = await run_in_threadpool(self._subscriber, CONFIRM, token)
        except TokenError as exc:
            return self._error_page("confirm.html.j2", title, exc)
        if subscriber.status != SubscriberStatus.PENDING:
            return self._confirmed_page(subscriber, "Your subscription is confirmed already.")
        return self._render(
            "confirm.html.j2",
            self._page(
                title,
                show_form=True,
                action=self.site.url(CONFIRM_PATH),
                token=token,
                form_token=self.tokens.form_token(CONFIRM, public_id),
                email=subscriber.email,
            ),
        )

    async def confirm(self, request: Request) -> Response:
        title = "Confirm your subscription"
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            public_id, subscriber = await run_in_threadpool(
                self._subscriber, CONFIRM, str(form.get("t", ""))
            )
            self.tokens.check_form(CONFIRM, public_id, str(form.get("form_token", "")))
            if subscriber.status in (UNSUBSCRIBED, BOUNCED):
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
                email=subscriber.email,
                preferences_url=links.preferences,
                unsubscribe_url=links.unsubscribe,
            ),
        )

    # ------------------------------------------------------------ preferences

    async def preferences_page(self, request: Request) -> Response:
        title = "Your topics"
        token = request.query_params.get("t", "")
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
                email=subscriber.email,
                topics=self._choices(subscriber.topics),
                unsubscribe_url=self.links.for_subscriber(public_id).unsubscribe,
            ),
            status,
        )

    async def preferences(self, request: Request) -> Response:
        title = "Your topics"
        try:
            self._same_origin(request)
            self._limit_client(request)
            form = await self._form(request)
            token = str(form.get("t", ""))
            public_id, subscriber = await run_in_threadpool(self._subscriber, PREFERENCES, token)
            self.tokens.check_form(PREFERENCES, public_id, str(form.get("form_token", "")))
        except (Refusal, TokenError) as exc:
            return self._error_page("preferences.html.j2", title, exc)
        try:
            chosen = parse_topics(form["topics"], self.settings.taxonomy)
            if not form["topics"]:
                raise InputError("choose at least one topic (or unsubscribe)")
        except InputError as exc:
            return self._preferences(
                subscriber,
                public_id,
                token,
                error=f"Sorry: {exc.message}. Nothing was changed.",
                status=400,
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
        try:
            _public_id, subscriber = await run_in_threadpool(self._subscriber, UNSUBSCRIBE, token)
        except TokenError as exc:
            missing = TokenError(
                "use the unsubscribe link at the bottom of any of our emails", "missing"
            )
            return self._error_page("unsubscribe.html.j2", title, exc if token else missing)
        if subscriber.status == UNSUBSCRIBED:
            return self._render(
                "unsubscribe.html.j2",
                self._page(
                    "Unsubscribed", message="You are unsubscribed; you will get no more emails."
                ),
            )
        return self._render(
            "unsubscribe.html.j2",
            self._page(
                title,
                show_form=True,
                action=self.site.url(UNSUBSCRIBE_PATH),
                token=token,
                email=subscriber.email,
            ),
        )

    async def unsubscribe(self, request: Request) -> Response:
        """Both the page's button and the RFC 8058 one-click POST; idempotent."""
        body = (await request.body())[:_MAX_FORM_BYTES]
        one_click = body.strip() == ONE_CLICK_BODY.encode()
        title = "Unsubscribe"
        try:
            token = request.query_params.get("t", "")
            if not one_click:
                self._same_origin(request)
                self._limit_client(request)
                if not token:
                    form = await self._form(request)
                    token = str(form.get("t", ""))
            public_id = self.tokens.check(UNSUBSCRIBE, token)
            change = await run_in_threadpool(
                self.subs.unsubscribe,
                public_id,
                method="one-click" if one_click else "web",
                now=self.clock(),
                detail={"ip": self._client(request)},
            )
        except (Refusal, TokenError) as exc:
            if one_click:
                return PlainTextResponse(f"refused: {_message(exc)}", status_code=_status(exc))
            return self._error_page("unsubscribe.html.j2", title, exc)
        log.info("unsubscribed (%s)", "one-click" if one_click else "web")
        if one_click:
            return PlainTextResponse("unsubscribed")
        del change
        return self._render(
            "unsubscribe.html.j2",
            self._page(
                "Unsubscribed", message="You are unsubscribed; you will get no more emails."
            ),
        )

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        prefix = urlsplit(self.site.base_url).path.rstrip("/")

        def slash(path: str) -> Callable[[Request], Any]:
            async def redirect(request: Request) -> Response:
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"{prefix}/{path}{query}", status_code=308)

            return redirect

        return [
            Route(f"{prefix}/{SUBSCRIBE_PATH}", self.subscribe_form, methods=["GET"]),
            Route(f"{prefix}/{SUBSCRIBE_PATH}", self.subscribe, methods=["POST"]),
            Route(f"{prefix}/{CONFIRM_PATH}", self.confirm_page, methods=["GET"]),
            Route(f"{prefix}/{CONFIRM_PATH}", self.confirm, methods=["POST"]),
            Route(f"{prefix}/{PREFERENCES_PATH}", self.preferences_page, methods=["GET"]),
            Route(f"{prefix}/{PREFERENCES_PATH}", self.preferences, methods=["POST"]),
            Route(f"{prefix}/{UNSUBSCRIBE_PATH}", self.unsubscribe_page, methods=["GET"]),
            Route(f"{prefix}/{UNSUBSCRIBE_PATH}", self.unsubscribe, methods=["POST"]),
            *[
                Route(f"{prefix}/{p}/", slash(p), methods=["GET", "POST"])
                for p in (SUBSCRIBE_PATH, CONFIRM_PATH, PREFERENCES_PATH, UNSUBSCRIBE_PATH)
            ],
        ]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _status(exc: Refusal | TokenError) -> int:
    if isinstance(exc, Refusal):
        return exc.status
    return 410 if exc.reason in ("expired", "gone") else 400


def _message(exc: Refusal | TokenError | NewsletterError) -> str:
    if isinstance(exc, Refusal):
        return exc.message + " Nothing was changed."
    return f"Sorry: {exc.message}. Nothing was changed."


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


def build_subscriber_app(
    settings: Settings,
    db: Database,
    *,
    mailer_factory: Callable[[], Mailer] | None = None,
    clock: Clock = _utcnow,
    limiter: RateLimiter | None = None,
) -> Starlette:
    """The subscriber pages alone (tests)."""
    return Starlette(
        routes=list(
            subscriber_routes(
                settings, db, mailer_factory=mailer_factory, clock=clock, limiter=limiter
            )
        )
    )
