"""The HTML email: Jinja → MJML → HTML (mjml-python, in-process), within a byte budget.

Gmail clips an HTML body past about 102 KB and hides what follows, the footer
with its unsubscribe link first.  So every email is fitted to
``email.budget_kb`` (1 KB = 1000 bytes here, to stay on the safe side) by
trying ever more compact :class:`~newsletter.render.context.Plan` s:

1. cards with teasers of ``email.teaser_chars``, then shorter teasers; the
   cards' 👍/👎 links are dropped before a teaser is cut to its short length;
2. the first few papers of each section as cards, the rest as title-only links;
3. a capped number of title links per section, the rest behind a
   "N more in <topic> →" link to the edition page.

Compiling MJML is the expensive step, so plans are not all compiled: a paper
card is plain HTML inside one ``<mj-text>`` per section, which MJML copies
through, so the compiled size is the MJML size plus an overhead that depends on
the layout only.  The first compile measures that overhead; the next plan
compiled is the first whose predicted size fits (and is checked again).

``<mj-style inline="inline">`` rules, which mjml-python leaves in a ``<style>``
block, are inlined with css-inline and their block dropped.  The stock
templates write their few styles inline and need no such pass (it would cost
more than the MJML compile itself); it runs only for templates that use it.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import css_inline
import jinja2
from mjml import mjml2html

from newsletter.config import Settings
from newsletter.errors import TemplateError
from newsletter.model import Edition
from newsletter.render import templates
from newsletter.render.context import ContextBuilder, EditionContext, Meta, PaperViews, Plan
from newsletter.render.recipients import (
    PREFERENCES_TOKEN,
    UNSUBSCRIBE_TOKEN,
    URL_HEADROOM,
    VOTE_HEADROOM,
    VOTE_TOKEN,
    RecipientLinks,
)

log = logging.getLogger(__name__)

_INLINE_STYLE = re.compile(r"<mj-style\s+inline=\"inline\"\s*>(.*?)</mj-style>", re.DOTALL)
SHORT_TEASER = 100
"""Teaser length once the email no longer fits with full teasers."""


@dataclass(frozen=True)
class RenderedEmail:
    """One rendered email: subject, HTML body and its plain-text alternative."""

    subject: str
    html: str
    text: str


def plans(teaser_chars: int) -> Iterator[Plan]:
    """Plans from the most generous to the most compact (the last one always fits a title list)."""
    yield Plan(teaser_chars)
    longer = [c for c in (teaser_chars * 2 // 3, teaser_chars // 2) if c > SHORT_TEASER]
    short = min(SHORT_TEASER, teaser_chars)
    # Every card keeps its 👍/👎 links down to short teasers: the votes are how a
    # reader tells the ranking what they want, and a teaser still opens on the
    # contribution sentence when it is cut (issue 15: a card without them cannot
    # be voted on; an 84-102 paper edition fits with them at the short length).
    for chars in dict.fromkeys((*longer, short)):
        yield Plan(chars)
    # Then every card without them, its teaser as long as that allows.
    for chars in dict.fromkeys((teaser_chars, *longer, short)):
        yield Plan(chars, votes=False)
    for cards in (25, 20, 15, 12, 10, 8, 5, 3, 2, 1, 0):
        yield Plan(short, cards=cards)
    for titles in (40, 25, 15, 10, 5, 3, 1, 0):
        yield Plan(short, cards=0, titles=titles)


def meta_for(settings: Settings) -> Meta:
    return Meta(
        name=settings.newsletter.name,
        language=settings.newsletter.language,
        postal_address=settings.newsletter.postal_address,
        site=settings.site.base,
        titles={t.id: t.title for t in settings.taxonomy.topics},
    )


def compile_mjml(source: str) -> str:
    """MJML → HTML, with ``<mj-style inline="inline">`` rules inlined into the elements."""
    inline_css = _INLINE_STYLE.findall(source)
    if inline_css:
        source = _INLINE_STYLE.sub("", source)
    try:
        html = mjml2html(source, disable_comments=True, fonts={})  # no web-font <link>
    except ValueError as exc:
        raise TemplateError(
            templates.EMAIL_MJML,
            None,
            f"the email template produced invalid MJML: {exc}",
            hint=f"check your overrides of {templates.EMAIL_MJML} and its partials",
        ) from exc
    if inline_css:
        inliner = css_inline.CSSInliner(
            inline_style_tags=False,
            keep_style_tags=True,
            load_remote_stylesheets=False,
            extra_css="\n".join(inline_css),
        )
        html = inliner.inline(html)
    return html


def _cost(html: str) -> int:
    """Bytes the HTML will weigh once every placeholder is replaced by a real URL."""
    tokens = html.count(UNSUBSCRIBE_TOKEN) + html.count(PREFERENCES_TOKEN)
    votes = html.count(VOTE_TOKEN) * VOTE_HEADROOM
    return len(html.encode("utf-8")) + tokens * URL_HEADROOM + votes


_SAID: set[tuple[str, Plan, int]] = set()
_SAID_LOCK = threading.Lock()


def _say_dropped(plan: Plan, context: EditionContext, budget: int) -> None:
    """One line when the plan that fits drops something a reader would miss (the vote
    links, cards, titles), once per edition, plan and budget in a process: the size
    plan is never silent about what it left out.  Shorter teasers alone are not a drop."""
    dropped = []
    if not plan.votes:
        dropped.append("the 👍/👎 links")
    if plan.cards is not None:
        dropped.append(f"cards after the first {plan.cards} of a section (title links instead)")
    if plan.titles is not None:
        dropped.append(f"title links after the first {plan.titles} of a section")
    if not dropped:
        return
    key = (context.subject, plan, budget)
    with _SAID_LOCK:
        if key in _SAID:
            return
        if len(_SAID) > 1000:
            _SAID.clear()
        _SAID.add(key)
    log.warning(
        "email %r drops %s to fit in %d bytes (email.budget_kb less room it keeps)",
        context.subject,
        " and ".join(dropped),
        budget,
    )


def fit(
    builder: ContextBuilder,
    env: jinja2.Environment,
    budget: int,
    teaser_chars: int,
    *,
    per_card: int = 0,
) -> tuple[str, EditionContext]:
    """The HTML of the most generous plan that fits in ``budget`` bytes, and its context.

    ``per_card`` bytes are kept free for each full card the plan keeps (a ranked
    copy's reason lines, :mod:`newsletter.render.picks`), so what is added later
    weighs in the choice of plan: a plan with shorter teasers and every card wins
    over one that keeps long teasers and no room for the reasons."""
    overhead: int | None = None
    compiled: tuple[Plan, str, EditionContext] | None = None
    plan = Plan(teaser_chars)
    for plan in plans(teaser_chars):
        context = builder.build(plan)
        extra = per_card * sum(len(s.cards) for s in context.sections)
        source = templates.render(env, templates.EMAIL_MJML, edition=context)
        size = _cost(source)  # the tokens of a card weigh in the prediction too
        if overhead is not None and size + overhead + extra > budget:
            continue  # predicted too big: do not spend a compile on it
        html = compile_mjml(source)
        cost = _cost(html)
        overhead = cost - size
        compiled = (plan, html, context)
        if cost + extra <= budget:
            _say_dropped(plan, context, budget)
            return html, context
    if compiled is None or compiled[0] != plan:  # the most compact plan was only predicted
        context = builder.build(plan)
        source = templates.render(env, templates.EMAIL_MJML, edition=context)
        compiled = (plan, compile_mjml(source), context)
    _, html, context = compiled
    log.warning(
        "email is %d bytes even as a title list, over its budget of %d", _cost(html), budget
    )
    return html, context


_VIEWS: weakref.WeakKeyDictionary[Edition, tuple[Meta, PaperViews]] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def paper_views(edition: Edition, meta: Meta) -> PaperViews:
    """The :class:`PaperViews` of ``edition``, built on its first email and reused by the
    email of every other topic set (delivery renders one per set) while the edition lives."""
    with _VIEWS_LOCK:
        known = _VIEWS.get(edition)
        if known is not None and known[0] == meta:
            return known[1]
        views = PaperViews(edition, meta)
        _VIEWS[edition] = (meta, views)
        return views


def render_email(
    edition: Edition,
    settings: Settings,
    *,
    topics: frozenset[str] | None = None,
    links: RecipientLinks | None = None,
) -> RenderedEmail:
    """Render the email of ``edition``; with ``topics``, as a subscriber on them reads it
    (every paper tagged with one, once: :func:`newsletter.edition.for_topics`).

    Without ``links`` the unsubscribe and preferences URLs are placeholder
    tokens (:mod:`newsletter.render.recipients`); delivery compiles that email
    once into wire bytes and splices each recipient's URLs into the bytes
    (:func:`newsletter.delivery.message.compile_digest`).  With ``links`` the
    URLs are written in directly: the archived and previewed copies.
    """
    env = templates.environment(settings.output.templates_dir)
    meta = meta_for(settings)
    builder = ContextBuilder(
        edition, meta, links or RecipientLinks.placeholders(), topics, paper_views(edition, meta)
    )
    html, context = fit(builder, env, settings.email.budget_bytes, settings.email.teaser_chars)
    text = templates.render(env, templates.EMAIL_TEXT, edition=context)
    return RenderedEmail(subject=context.subject, html=html, text=text)
