"""The 👍/👎 page and the preferences page's "papers I like" section.

==================================  =================================================
``GET  /v/<token>/<ref>/up|down``   a page naming the paper, with one button; link
                                    scanners GET (and HEAD) and change nothing
``GET  /v/<token>/<ref>``           a card's "Abstract" in a subscriber's email: a
                                    redirect (303) to the archive's paper page with
                                    ``#v=<token>``, where ``vote.js`` shows the same
                                    👍/👎; changes nothing
``GET  /vote?t=&p=&v=up|down``      the same, for the links sent before the short
                                    ones (the paper's whole key in the link)
``POST /vote``                      records the vote (form token, same-origin check);
                                    the same vote again changes nothing, the other
                                    thumb replaces it
``POST /preferences/papers``        seeds: arXiv ids or titles, one per line, looked
                                    up among the papers seen; unknown ones listed
``POST /preferences/ranking``       ``action=reset`` (forget every vote), ``off``, ``on``
==================================  =================================================

A bad, tampered or expired vote link shows a page that says so and changes
nothing (400, or 410 when expired).  The page (GET) and the button (POST) judge a
link with one function, :meth:`VotePages._checked`, so a link the button would
refuse is never shown as votable, and the reverse.  The token rules are in
:mod:`newsletter.subscribers.feedback`.

The page names the address only masked (:func:`~newsletter.web.pages.masked_address`): a forwarded
email's links open it for whoever holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.states import SubscriberStatus, VoteChange
from newsletter.store import Database
from newsletter.store.subscribers import Subscriber
from newsletter.subscribers.feedback import (
    DIRECTIONS,
    DOWN,
    MAX_SEEDS,
    UP,
    Ballot,
    Feedback,
    read_vote_token,
)
from newsletter.subscribers.links import PREFERENCES_PATH, SubscriberLinks
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.subscribers.tokens import PREFERENCES, VOTE, TokenError, Tokens
from newsletter.urls import VOTE_LINK, VOTE_PAGE, Site, paper_dir
from newsletter.web.pages import PageContext, RankingPanel, Refusal, masked_address
from newsletter.wording import counted

log = logging.getLogger(__name__)

PAPERS_PATH = f"{PREFERENCES_PATH}/papers"
RANKING_PATH = f"{PREFERENCES_PATH}/ranking"
_TEMPLATE = "vote.html.j2"
_TITLE = "Your vote"
VOTES_BUCKET = "votes"
VOTES_SCALE = 10
"""Votes are limited per client in their own bucket, at ten times the forms' rate: a
reader may vote on every paper of an edition in an hour."""


NOT_IN_EDITION = "This link names no paper of that edition."


@dataclass(frozen=True)
class Checked:
    """A vote link that :meth:`VotePages._checked` accepted: whose, which paper, which
    thumb, and the paper's title."""

    ballot: Ballot
    subscriber: Subscriber
    paper_key: str
    liked: bool
    title: str


class SubscriberSite(Protocol):
    """What the vote pages use of :class:`newsletter.web.subscribe.SubscriberPages`
    (their renderer, limits, forms and tokens), without importing it."""

    db: Database
    subs: Subscriptions
    tokens: Tokens
    links: SubscriberLinks
    site: Site
    clock: Callable[[], datetime]

    def _render(self, template: str, page: PageContext, status: int = 200) -> HTMLResponse: ...
    def _page(self, title: str, **kwargs: Any) -> PageContext: ...
    def _error_page(self, template: str, title: str, exc: Refusal | TokenError) -> HTMLResponse: ...
    def _same_origin(self, request: Request) -> None: ...
    def _limit_client(self, request: Request, bucket: str = ..., scale: int = ...) -> None: ...
    async def _form(self, request: Request) -> Any: ...
    def _subscriber(self, purpose: str, token: str) -> tuple[str, Subscriber]: ...
    def _preferences(
        self,
        subscriber: Subscriber,
        public_id: str,
        token: str,
        message: str = "",
        error: str = "",
        status: int = 200,
        topics: Any = None,
        ranking: RankingPanel | None = None,
    ) -> HTMLResponse: ...


class VotePages:
    """The vote handlers, sharing the subscriber pages' renderer, limits and tokens."""

    def __init__(self, pages: SubscriberSite) -> None:
        self.pages = pages
        self.feedback = Feedback(pages.db)

    # ------------------------------------------------------------ the vote page

    def _checked(self, token: str | None, paper_key: str | None, direction: str | None) -> Checked:
        """The one judgement of a vote link, for the page (GET) and the button (POST) alike.

        Refused (:class:`TokenError` or :class:`Refusal`, each with its status page),
        in this order: a token that is not ours or has expired (400/410); an address
        no longer on the list or not subscribed (410); no paper or no known direction
        (400); an edition we do not have, or a paper that edition did not publish
        (404).  The GET used to show any paper the store knew, from any edition, as
        votable, and the POST then refused it: now what one refuses, the other does.
        :meth:`Feedback.vote` checks the edition again in its write, for a race."""
        ballot = read_vote_token(self.pages.tokens, token or "")
        subscriber = self.pages.subs.by_public_id(ballot.public_id)
        if subscriber is None:
            raise TokenError(
                "this link belongs to an address that is no longer on the list", "gone"
            )
        if subscriber.status != SubscriberStatus.CONFIRMED:  # unsubscribed since: no votes
            raise TokenError("this address is not subscribed any more", "gone")
        if direction not in DIRECTIONS or not paper_key or len(paper_key) > 300:
            raise Refusal(400, "This link is incomplete: it names no paper or no vote.")
        with self.pages.db.read() as tx:
            edition_id = tx.votes.edition_id(ballot.day, ballot.number)
            in_edition = edition_id is not None and tx.votes.in_edition(paper_key, edition_id)
            paper = tx.votes.paper(paper_key) if in_edition else None
        if paper is None:
            raise Refusal(404, NOT_IN_EDITION)
        return Checked(ballot, subscriber, paper_key, direction == UP, paper.title)

    async def vote_page(self, request: Request) -> Response:
        """The page of a vote link sent before the short links (``/vote?t=&p=&v=``)."""
        query = request.query_params
        return await self._vote_page(
            query.get("t", ""), query.get("v", ""), paper_key=query.get("p", "")
        )

    async def short_vote_page(self, request: Request) -> Response:
        """The page of a short vote link: ``/v/<token>/<paper ref>/up|down``."""
        params = request.path_params
        return await self._vote_page(params["token"], params["direction"], ref=params["ref"])

    async def _vote_page(
        self, token: str, direction: str, *, paper_key: str = "", ref: str = ""
    ) -> Response:
        try:
            if ref:
                paper_key = await run_in_threadpool(self._resolve, token, ref)
            checked = await run_in_threadpool(self._checked, token, paper_key, direction)
        except (Refusal, TokenError) as exc:
            return self.pages._error_page(_TEMPLATE, _TITLE, exc)
        subscriber, liked = checked.subscriber, checked.liked
        current = await run_in_threadpool(self.feedback.current, subscriber, checked.paper_key)
        enabled = await run_in_threadpool(self.feedback.ranking_enabled, subscriber)
        message = ""
        if current is not None:
            message = f"You gave this paper {'👍' if current else '👎'} already."
        return self.pages._render(
            _TEMPLATE,
            self.pages._page(
                "More like this?" if liked else "Less like this?",
                show_form=True,
                action=self.pages.site.url(VOTE_PAGE),
                token=token,
                form_token=self.pages.tokens.form_token(
                    VOTE, f"{checked.ballot.public_id}:{checked.paper_key}"
                ),
                email=masked_address(subscriber.email),
                paper_title=checked.title,
                liked=liked,
                ranking_off=not enabled,
                message=message,
                paper_key=checked.paper_key,
            ),
        )

    async def paper_page(self, request: Request) -> Response:
        """A card's "Abstract" link: off to the paper's archive page, the token in the
        fragment (which no server sees) so the static page can offer this reader's
        👍/👎.  The token must be ours and name the paper's edition; a reader no
        longer subscribed still gets the abstract, without the votes."""
        token, ref = request.path_params["token"], request.path_params["ref"]
        try:
            key = await run_in_threadpool(self._resolve, token, ref)
        except (Refusal, TokenError) as exc:
            return self.pages._error_page(_TEMPLATE, _TITLE, exc)
        page = self.pages.site.absolute(paper_dir(key))
        try:
            await run_in_threadpool(self._checked, token, key, UP)
        except (Refusal, TokenError):
            return RedirectResponse(page, status_code=303)
        return RedirectResponse(f"{page}#v={token}", status_code=303)

    def _resolve(self, token: str, ref: str) -> str:
        """The paper a short link's reference names in its token's edition."""
        found = self.feedback.resolve(read_vote_token(self.pages.tokens, token), ref)
        if found is None:
            raise Refusal(404, NOT_IN_EDITION)
        return found

    async def vote(self, request: Request) -> Response:
        pages = self.pages
        try:
            pages._same_origin(request)
            pages._limit_client(request, VOTES_BUCKET, VOTES_SCALE)
            form = await pages._form(request)
            checked = await run_in_threadpool(
                self._checked, form.get("t"), form.get("p"), form.get("v")
            )
            ballot, subscriber, liked = checked.ballot, checked.subscriber, checked.liked
            pages.tokens.check_form(
                VOTE, f"{ballot.public_id}:{checked.paper_key}", form.get("form_token")
            )
            change = await run_in_threadpool(
                self.feedback.vote, ballot, checked.paper_key, liked, pages.clock()
            )
            enabled = await run_in_threadpool(self.feedback.ranking_enabled, subscriber)
        except (Refusal, TokenError) as exc:
            return pages._error_page(_TEMPLATE, _TITLE, exc)
        direction = UP if liked else DOWN
        log.info("vote %s (%s)", direction, change.value)
        thumb = "👍" if liked else "👎"
        said = {
            VoteChange.RECORDED: f"Thank you: {thumb} noted.",
            VoteChange.REPLACED: f"Changed: your vote on this paper is now {thumb}.",
            VoteChange.UNCHANGED: f"You gave this paper {thumb} already; nothing changed.",
        }[change]
        return pages._render(
            _TEMPLATE,
            pages._page(
                "Vote recorded",
                message=said,
                step="done",
                email=masked_address(subscriber.email),
                paper_title=checked.title,
                liked=liked,
                ranking_off=not enabled,
                preferences_url=pages.links.for_subscriber(subscriber.public_id).preferences,
            ),
        )

    # ------------------------------------------------------------ preferences

    def panel(
        self,
        subscriber: Subscriber,
        found: tuple[str, ...] = (),
        unknown: tuple[str, ...] = (),
    ) -> RankingPanel:
        """The "papers I like" section for ``subscriber`` (read in the caller's thread)."""
        votes = self.feedback.votes_of(subscriber)
        liked = [v for v in reversed(votes) if v.liked]
        titles = [self.feedback.paper_title(v.paper_key) or v.paper_key for v in liked[:20]]
        return RankingPanel(
            enabled=self.feedback.ranking_enabled(subscriber),
            liked=tuple(titles),
            likes=len(liked),
            dislikes=len(votes) - len(liked),
            papers_action=self.pages.site.url(PAPERS_PATH),
            ranking_action=self.pages.site.url(RANKING_PATH),
            found=found,
            unknown=unknown,
        )

    async def _preferences_form(
        self, request: Request
    ) -> tuple[str, str, Subscriber, dict[str, str]]:
        pages = self.pages
        pages._same_origin(request)
        pages._limit_client(request)
        form = await pages._form(request)
        token = form.get("t")
        public_id, subscriber = await run_in_threadpool(pages._subscriber, PREFERENCES, token)
        pages.tokens.check_form(PREFERENCES, public_id, form.get("form_token"))
        return token, public_id, subscriber, form.fields

    async def seed(self, request: Request) -> Response:
        try:
            token, public_id, subscriber, fields = await self._preferences_form(request)
            if subscriber.status != SubscriberStatus.CONFIRMED:  # as a vote link: no likes
                raise TokenError("this address is not subscribed any more", "gone")
        except (Refusal, TokenError) as exc:
            return self.pages._error_page("preferences.html.j2", "Your topics", exc)
        seeded = await run_in_threadpool(
            self.feedback.seed, subscriber, [fields.get("papers", "")], self.pages.clock()
        )
        found = tuple(title for _name, title in seeded.found)
        message = (
            f"Added {len(found)} paper{'' if len(found) == 1 else 's'} you like." if found else ""
        )
        error = ""
        if seeded.unknown:
            error = "We have not seen these papers, so they were not added: " + "; ".join(
                seeded.unknown
            )
        elif not found:
            error = "Type an arXiv id or a title, one per line."
        if seeded.over:
            error = " ".join(
                filter(
                    None,
                    (
                        error,
                        f"Only the first {counted(MAX_SEEDS, 'line')} were read; these were not: "
                        + "; ".join(seeded.over),
                    ),
                )
            )
        return await self._show(subscriber, public_id, token, message, error, found, seeded.unknown)

    async def ranking(self, request: Request) -> Response:
        try:
            token, public_id, subscriber, fields = await self._preferences_form(request)
            action = fields.get("action", "")
            if action not in ("reset", "off", "on"):
                raise Refusal(400, "That is not something this form does.")
        except (Refusal, TokenError) as exc:
            return self.pages._error_page("preferences.html.j2", "Your topics", exc)
        now = self.pages.clock()
        if action == "reset":
            count = await run_in_threadpool(self.feedback.reset, subscriber)
            message = (
                f"Forgot your {count} vote{'' if count == 1 else 's'}: "
                "your next email is in the digest's order."
            )
        else:
            try:  # refused for an address unsubscribed since the page was opened
                await run_in_threadpool(self.feedback.set_ranking, subscriber, action == "on", now)
            except TokenError as exc:
                return self.pages._error_page("preferences.html.j2", "Your topics", exc)
            message = (
                "Ranking is on: your emails are ordered by your votes."
                if action == "on"
                else "Ranking is off: your emails are in the digest's order (votes kept)."
            )
        return await self._show(subscriber, public_id, token, message)

    async def _show(
        self,
        subscriber: Subscriber,
        public_id: str,
        token: str,
        message: str = "",
        error: str = "",
        found: tuple[str, ...] = (),
        unknown: tuple[str, ...] = (),
    ) -> HTMLResponse:
        panel = await run_in_threadpool(self.panel, subscriber, found, unknown)
        return self.pages._preferences(
            subscriber,
            public_id,
            token,
            message=message,
            error=error,
            status=400 if error and not found else 200,
            ranking=panel,
        )

    def routes(self, prefix: str) -> list[BaseRoute]:
        return [
            Route(f"{prefix}/{VOTE_PAGE}", self.vote_page, methods=["GET"]),
            Route(f"{prefix}/{VOTE_LINK}/{{token}}/{{ref}}", self.paper_page, methods=["GET"]),
            Route(
                f"{prefix}/{VOTE_LINK}/{{token}}/{{ref}}/{{direction}}",
                self.short_vote_page,
                methods=["GET"],
            ),
            Route(f"{prefix}/{VOTE_PAGE}", self.vote, methods=["POST"]),
            Route(f"{prefix}/{PAPERS_PATH}", self.seed, methods=["POST"]),
            Route(f"{prefix}/{RANKING_PATH}", self.ranking, methods=["POST"]),
        ]
