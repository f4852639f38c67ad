"""The HTML pages the app renders itself: their context objects and the renderer.

The subscriber pages (:mod:`newsletter.web.subscribe`) and the error pages
(404, 405, 413, 429, 500 …) share the archive's frame (``_page.html.j2``
through ``_subscriber.html.j2``) and one documented context, :class:`PageContext`,
passed to every template as ``page``.  Pages set no cookies, ``Cache-Control:
no-store``, ``Referrer-Policy: no-referrer`` (tokens in the URL never leak to
linked sites) and a Content-Security-Policy that allows only the app's own
small script (``subscriber.js``: select all / none) and inline styles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.responses import HTMLResponse

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.render import templates
from newsletter.subscribers.links import SUBSCRIBE_PATH
from newsletter.urls import FEED_ATOM, FEED_RSS

SCRIPT_PATH = "subscriber.js"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": PAGE_CSP,
}

ERROR_TITLES = {
    400: "That request was not understood",
    403: "That request was refused",
    404: "Page not found",
    405: "That is not allowed here",
    408: "That took too long",
    409: "That cannot be done now",
    410: "That link has expired",
    413: "That request is too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Please try again later",
}
ERROR_MESSAGES = {
    404: "There is no page at this address. The archive lists every edition.",
    405: "This page does not take that kind of request.",
    500: "Something went wrong on our side; nothing was changed. Please try again later.",
}


def masked_address(email: str) -> str:
    """``a•••@example.org``: the first character of the address, three bullets, the
    domain.  The pages a signed link opens (vote, preferences, unsubscribe,
    confirm) open for whoever holds the email (a forwarded copy, a shared
    screen), so they show enough for the reader to recognise their address and
    not enough to harvest it; the length of the local part is not told either.
    The template escapes it like any text."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return "•••"
    return f"{local[0]}•••@{domain}"


class Refusal(NewsletterError):
    """A request refused with a status code and a message for the page."""

    default_hint = "the page tells the visitor why; nothing was changed"

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class PageLinks:
    """Links in the page frame (the archive's base layout uses them)."""

    archive: str
    feed: str
    atom: str
    subscribe: str = ""
    """The sign-up page: the frame's "Subscribe" link (set when the archive links to it)."""


@dataclass(frozen=True)
class TopicChoice:
    """One topic checkbox: id, section title, scope line, and whether it is ticked."""

    id: str
    title: str
    scope: str
    checked: bool


@dataclass(frozen=True)
class RankingPanel:
    """The "papers I like" section of the preferences page (:mod:`newsletter.web.votes`).

    Attributes:
        enabled: whether the subscriber's emails are ranked by their votes.
        liked: titles of the papers they liked or named (newest first, at most 20).
        likes, dislikes: how many 👍 (seeds included) and 👎 they gave.
        papers_action, ranking_action: where the two forms post.
        found: titles just added from what they typed.
        unknown: what they typed that matches no paper we have seen.
    """

    enabled: bool
    liked: tuple[str, ...]
    likes: int
    dislikes: int
    papers_action: str
    ranking_action: str
    found: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageContext:
    """What a page template receives as ``page``.

    Attributes:
        name, language: the newsletter's name and language.
        title: the page heading (the ``<title>`` adds the name unless it has it).
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
        links_url: where to ask for a new link by email.
        script_url: the pages' script (select all / none), or "".
        confirm_hours: how long a confirmation link works.
        next_run: when the next edition goes out, in words (e.g. "07:00 UTC"), or "".
        status: the HTTP status of the page.
        step: which step of a journey the page is ("form", "sent", "done", "failed"), or "".
        paper_title, paper_key: the paper a 👍/👎 page is about, or "".
        liked: on a 👍/👎 page, True for 👍, False for 👎.
        ranking_off: on a 👍/👎 page, whether the subscriber switched ranking off (the
            vote is kept and orders nothing until they switch it on).
        ranking: the preferences page's "papers I like" section, or None.
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
    links_url: str = ""
    script_url: str = ""
    confirm_hours: int = 48
    next_run: str = ""
    status: int = 200
    step: str = ""
    paper_title: str = ""
    paper_key: str = ""
    liked: bool = True
    ranking_off: bool = False
    ranking: RankingPanel | None = None


class Pages:
    """Renders page templates with the frame filled in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
                subscribe=self.site.url(SUBSCRIBE_PATH),
            ),
            subscribe_url=self.site.url(SUBSCRIBE_PATH),
            links_url=self.site.url("links"),
            script_url=self.site.url(SCRIPT_PATH),
            confirm_hours=settings.subscribers.confirm_hours,
        )

    def page(self, title: str, **kwargs: Any) -> PageContext:
        return replace(self.frame, title=title, **kwargs)

    def render(
        self,
        template: str,
        page: PageContext,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        body = templates.render(self.env, template, page=replace(page, status=status))
        return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})

    def error(
        self, status: int, message: str = "", headers: Mapping[str, str] | None = None
    ) -> HTMLResponse:
        """A styled error page: what went wrong and where to go from here."""
        title = ERROR_TITLES.get(status, "That did not work")
        text = message or ERROR_MESSAGES.get(status, "")
        return self.render("error.html.j2", self.page(title, error=text), status, headers)
