"""The HTML email: Jinja → MJML → HTML (mjml-python, in-process), within a byte budget.

Gmail clips an HTML body past about 102 KB and hides what follows, the footer
with its unsubscribe link first.  So every email is fitted to
``email.budget_kb`` (1 KB = 1000 bytes here, to stay on the safe side) by
trying ever more compact :class:`~newsletter.render.context.Plan` s:

1. cards with teasers of ``email.teaser_chars``, then shorter teasers down to
   their short length, every card with its 👍/👎 links; then the same teasers
   with the 👍/👎 left out of the HTML cards: each card's "Abstract" stays the
   reader's signed vote link (the archive's paper page with their 👍/👎), and the
   plain-text part keeps its vote lines, so every card can still be voted on;
2. the first few papers of each section as cards, the rest as title-only links
   (in a subscriber's copy each links to the same signed paper page);
3. a capped number of title links per section, the rest behind a
   "N more in <topic> →" link to the edition page.

Compiling MJML is the expensive step, so plans are weighed, not compiled, and
with the stock templates not even rendered: a paper card is plain HTML inside
one ``<mj-text>`` per section, which MJML writes back as it is (but for the line
breaks between tags), so a plan's compiled size is that of its *frame* (the
email with the sections' cards left out, rendered once per layout; its compiled
size learnt from the layout's first plan compiled, or from compiling it alone)
plus that of its cards (each made once, :mod:`newsletter.render.cards`).  Only
the first plan predicted to fit is put together and compiled, and checked;
frames and sizes are kept with the edition's paper views for its later emails.
Before a frame has been compiled its compiled size is guessed from its tags
(:attr:`_Frame.guess`, a few bytes off), so the first email of an edition is
usually compiled once, without a compile of its frame alone; a plan passed over
on a guess is weighed again on the exact size before a later plan is sent.
An override of the frame or the card is rendered whole for every plan instead,
its first compile measuring the overhead that predicts the next plans.

``<mj-style inline="inline">`` rules, which mjml-python leaves in a ``<style>``
block, are inlined with css-inline and their block dropped.  The stock
templates write their few styles inline and need no such pass (it would cost
more than the MJML compile itself); it runs only for templates that use it.
"""

from __future__ import annotations

import functools
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
from newsletter.render import cards, templates
from newsletter.render.context import (
    ContextBuilder,
    EditionContext,
    Meta,
    PaperView,
    PaperViews,
    Plan,
)
from newsletter.render.recipients import (
    RecipientLinks,
    weight,
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
    # contribution sentence when it is cut.
    for chars in dict.fromkeys((*longer, short)):
        yield Plan(chars)
    # Then every card without them, its teaser as long as that allows.  Two links a card
    # weigh about 250 bytes, more than a whole short teaser: on the real 84- and 94-paper
    # editions keeping them would cost 20-50 cards their teaser (title-only lines),
    # and a reader decides on a vote from the teaser.  So the card stays whole and is
    # voted on through its "Abstract", the signed link to the paper page with the
    # same 👍/👎 (issue 15: every card of a subscriber's email can be voted on); the
    # plain-text part, which no client clips, keeps its vote lines.
    for chars in dict.fromkeys((teaser_chars, *longer, short)):
        yield Plan(chars, votes=False)
    for shown in (25, 20, 15, 12, 10, 8, 5, 3, 2, 1, 0):
        yield Plan(short, cards=shown)
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


_cost = weight
"""Bytes the HTML will weigh once every placeholder is replaced by a real URL."""


_SAID: set[tuple[str, Plan, int]] = set()
_SAID_LOCK = threading.Lock()


def _say_dropped(plan: Plan, context: EditionContext, budget: int) -> None:
    """One line when the plan that fits drops something a reader would miss (the vote
    links, cards, titles), once per edition, plan and budget in a process: the size
    plan is never silent about what it left out.  Shorter teasers alone are not a drop."""
    dropped = []
    if not plan.votes and context.links.vote:
        dropped.append("the cards' 👍/👎 links (each card's Abstract link leads to them)")
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
    over one that keeps long teasers and no room for the reasons.

    With the stock email templates a plan's MJML is never rendered to be weighed:
    its compiled size is its compiled frame's (:class:`_Frame`, rendered once per
    layout; what it weighs compiled is learnt from the layout's first plan compiled
    whole, or from compiling the frame alone) plus its
    cards' (made and weighed once per card by :mod:`newsletter.render.cards`), so the
    first compile is of the plan predicted to fit, and usually the only one (a plan
    that compiles bigger than predicted is passed over like one that was compiled and
    did not fit).  Until a frame is compiled its weight is guessed
    (:attr:`_Frame.guess`): the first plan whose guess fits is compiled whole, which
    tells the frame's weight; the plans passed over on the guess are weighed again on
    it (:func:`_deferred_fit`) before that plan or a later one is sent.  The plan
    chosen is the one compiling every plan in turn would choose.  An operator's
    override of the email, its sections, footer or card is rendered whole for every plan
    (:func:`_fit_rendered`), as it may read anything of the context."""
    card = _stock_card(env)
    if card is None:
        return _fit_rendered(builder, env, budget, teaser_chars, per_card=per_card)
    compiled: tuple[Plan, str, EditionContext] | None = None
    kept = _kept(builder, env)  # kept with the edition's views: its later emails reuse it
    deferred: list[tuple[Plan, _Frame, int, int]] = []
    """Plans passed over on their frame's guessed compiled weight (:attr:`_Frame.guess`),
    weighed again on its exact weight before any later plan is sent."""
    plan = Plan(teaser_chars)
    for plan in plans(teaser_chars):
        # The stock frame prints no 👍/👎 (a card does; its title-only lines link to the
        # vote link, the same in every plan): one frame serves a layout's plans with
        # and without them.
        layout = (plan.cards, plan.titles)
        frame = kept.frames.get(layout)
        if frame is None:
            frame = kept.frames[layout] = _Frame(env, builder.build(plan))
        if frame.parts is None:  # the frame did not write each section's cards once
            return _fit_rendered(builder, env, budget, teaser_chars, per_card=per_card)
        weighed = kept.sizes.get(plan)
        if weighed is None:
            # the plans of a layout and vote link differ in their teasers only: their
            # cards are weighed once, then at each teaser length
            vote = builder.vote_link(plan) or None
            thumbs = plan.votes
            group = kept.cards.get((layout, vote, thumbs))
            if group is None:
                shown = kept.shown.get(layout)
                if shown is None:  # each weighed with its cut teaser
                    shown = kept.shown[layout] = builder.cards(plan, whole=True)
                group = kept.cards[(layout, vote, thumbs)] = card.weighed(shown, vote, thumbs)
            weighed = kept.sizes[plan] = (group.at(plan.teaser_chars), group.count)
        in_cards, n_cards = weighed
        extra = per_card * n_cards
        if frame.known is None:
            # Its compiled weight not known yet: guessed (within a few bytes), and the plan
            # compiled whole when the guess fits, which tells the frame's exact weight
            # without a compile of the frame alone.
            if frame.guess + in_cards + extra > budget:
                deferred.append((plan, frame, in_cards, extra))
                continue
            predicted = None
        else:
            predicted = frame.known + in_cards
            if predicted + extra > budget:
                continue  # predicted too big: do not spend a compile on it
        context = builder.build(plan)
        html = compile_mjml(frame.fill(context, card))
        cost = _cost(html)
        if predicted is None:
            frame.known = cost - in_cards
        elif cost != predicted:
            log.debug("email size predicted %d bytes, compiled %d", predicted, cost)
        compiled = (plan, html, context)
        if cost + extra <= budget:
            found = _deferred_fit(builder, card, deferred, budget)
            if found is not None:
                plan, html, context = found
            _say_dropped(plan, context, budget)
            return html, context
    found = _deferred_fit(builder, card, deferred, budget)
    if found is not None:
        plan, html, context = found
        _say_dropped(plan, context, budget)
        return html, context
    return _last(builder, env, budget, plan, compiled)


def _deferred_fit(
    builder: ContextBuilder,
    card: cards.Cards,
    deferred: list[tuple[Plan, _Frame, int, int]],
    budget: int,
) -> tuple[Plan, str, EditionContext] | None:
    """The first of the ``deferred`` plans (passed over on a guess of their frame's
    compiled weight) that fits on its frame's exact weight, compiled; None when none
    does.  A guess is a few bytes off at most, so this is almost always None without a
    compile: the frame's weight was learnt from the plan compiled after them, and a
    frame never compiled (another layout's) is compiled alone here only when its plan
    is within :data:`_GUESS_SLACK` of the budget on the guess."""
    for plan, frame, in_cards, extra in deferred:
        if frame.known is None and frame.guess + in_cards + extra > budget + _GUESS_SLACK:
            continue  # too big even if its guess were far off: no compile of its frame
        predicted = frame.compiled() + in_cards
        if predicted + extra > budget:
            continue
        context = builder.build(plan)
        html = compile_mjml(frame.fill(context, card))
        cost = _cost(html)
        if cost != predicted:
            log.debug("email size predicted %d bytes, compiled %d", predicted, cost)
        if cost + extra <= budget:
            return plan, html, context
    return None


def _fit_rendered(
    builder: ContextBuilder,
    env: jinja2.Environment,
    budget: int,
    teaser_chars: int,
    *,
    per_card: int = 0,
) -> tuple[str, EditionContext]:
    """:func:`fit` for templates it cannot weigh piecewise: every plan's MJML rendered
    whole; the first compile measures the layout's overhead (compiled size less MJML
    size), the next plan compiled is the first whose predicted size fits."""
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
    return _last(builder, env, budget, plan, compiled)


def _last(
    builder: ContextBuilder,
    env: jinja2.Environment,
    budget: int,
    plan: Plan,
    compiled: tuple[Plan, str, EditionContext] | None,
) -> tuple[str, EditionContext]:
    """The most compact ``plan`` when no plan fits (compiled unless it was already)."""
    if compiled is None or compiled[0] != plan:  # the most compact plan was only predicted
        context = builder.build(plan)
        source = templates.render(env, templates.EMAIL_MJML, edition=context)
        compiled = (plan, compile_mjml(source), context)
    _, html, context = compiled
    log.warning(
        "email is %d bytes even as a title list, over its budget of %d", _cost(html), budget
    )
    return html, context


_FRAME_PARTS = (templates.EMAIL_MJML, "_section.mjml.j2", "_footer.mjml.j2")
"""The stock templates that write the email around its cards (they print no card's text
and nothing a plan changes but its sections' title links and counts)."""


_STOCK: weakref.WeakKeyDictionary[jinja2.Environment, cards.Cards | None] = (
    weakref.WeakKeyDictionary()
)


def _stock_card(env: jinja2.Environment) -> cards.Cards | None:
    """The stock card maker of ``env``, when the email's frame and card are stock too
    (templates never reload: known once per environment)."""
    try:
        return _STOCK[env]
    except KeyError:
        found = _STOCK[env] = _find_stock_card(env)
        return found


def _find_stock_card(env: jinja2.Environment) -> cards.Cards | None:
    card = env.globals.get("card")
    if not isinstance(card, cards.Cards) or not card.is_stock:
        return None
    if not all(cards.is_stock_template(env, name) for name in _FRAME_PARTS):
        return None
    return card


class _Kept:
    """What :func:`fit` learns of the emails of one edition, links, topic set and
    templates: the frame of each layout, and each plan's predicted compiled size and
    number of cards."""

    def __init__(self) -> None:
        self.frames: dict[tuple[int | None, int | None], _Frame] = {}
        self.sizes: dict[Plan, tuple[int, int]] = {}
        self.cards: dict[tuple[tuple[int | None, int | None], str | None, bool], cards.Weighed] = {}
        """What each layout's cards weigh with each vote link, at any teaser length."""
        self.shown: dict[tuple[int | None, int | None], list[PaperView]] = {}
        """Each layout's card views with their whole teasers (weighed with and without
        👍/👎)."""


_KEPT: weakref.WeakKeyDictionary[PaperViews, dict[tuple[object, ...], _Kept]] = (
    weakref.WeakKeyDictionary()
)
_KEPT_LOCK = threading.Lock()


def _kept(builder: ContextBuilder, env: jinja2.Environment) -> _Kept:
    """The :class:`_Kept` of ``builder``'s emails, kept while the edition's views live:
    a frame and a plan's size depend on the edition (its views), the links, the topic
    set and the templates only, so every email of them shares them."""
    with _KEPT_LOCK:
        found = _KEPT.get(builder.views)
        if found is None:
            found = _KEPT[builder.views] = {}
        key = (env, builder.links, builder.topics)
        kept = found.get(key)
        if kept is None:
            kept = found[key] = _Kept()
        return kept


_PER_SECTION = 1274
_PER_TAG = 50
_FRAME_BASE = -633
"""The model of :attr:`_Frame.guess` (bytes; mjml-python 1.4, the stock templates)."""
_GUESS_SLACK = 2048
"""How far off a frame's guess is taken to be at most, to pass over a plan without
compiling its frame (the stock frames are within 8 bytes, ``tests/test_render_first_email.py``;
a palette override writes its colours in each section a few times).  A guess further
off than this could only send a more compact plan than the first that fits, never an
email over its budget: every email sent was compiled and weighed."""


class _Frame:
    """The email of one layout (a plan's cards and title links per section, its links)
    with its sections' cards left out: the stock templates rendered once with
    :data:`~newsletter.render.cards.FRAME` set, cut where each section's cards go."""

    def __init__(self, env: jinja2.Environment, context: EditionContext) -> None:
        source = templates.render(env, templates.EMAIL_MJML, edition=context, **{cards.FRAME: 1})
        parts = source.split(cards.CARDS_MARK)
        self.parts: list[str] | None = parts if len(parts) == len(context.sections) + 1 else None
        self.skeleton = skeleton = "".join(parts)
        self.weight = _cost(skeleton)
        self.guess = (
            self.weight
            + _PER_SECTION * skeleton.count("<mj-section")
            + _PER_TAG * skeleton.count("<mj-")
            - skeleton.count("\n")
            + _FRAME_BASE
        )
        """What the frame likely weighs compiled: mjml-python writes each ``mj-section``
        and each MJML tag as about as many bytes of tables, whatever their text, and
        drops the line breaks between tags (fitted on the stock frames of the seeds'
        editions: within 8 bytes of the compiled weight).  It only steers which plan is
        compiled first: a plan is never sent on a guess (:func:`fit`)."""
        self.known: int | None = None
        """What the frame weighs compiled, once known (from its own compile, or from a plan
        compiled whole, less its cards)."""

    def fill(self, context: EditionContext, card: cards.Cards) -> str:
        """The email's MJML: the frame with each section's cards (the stock cards' bytes)."""
        assert self.parts is not None
        vote, thumbs = context.links.vote or None, context.links.thumbs
        out = [self.parts[0]]
        for section, after in zip(context.sections, self.parts[1:], strict=True):
            out.extend(card.stock(paper, vote, thumbs) for paper in section.cards)
            out.append(after)
        return "".join(out)

    def compiled(self) -> int:
        """What this frame weighs compiled, cards left out: a card is HTML inside a
        section's ``<mj-text>``, which MJML writes back as it is but for the line breaks
        between its tags (:meth:`~newsletter.render.cards.Cards.compiled_weight`)."""
        if self.known is None:
            self.known = _cost(compile_mjml(self.skeleton))
        return self.known


class _ViewsCache:
    """The :class:`PaperViews` of each live edition (and the meta they were made with).

    By the edition's value, as a ``WeakKeyDictionary`` would keep them (an equal
    edition, loaded again, finds them), but hashing the edition once per miss, not
    twice, and not at all for the edition last asked about: an edition's hash walks
    every paper (45 µs for 100), and every email of a delivery asks for the same
    edition object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hash: dict[int, list[tuple[weakref.ref[Edition], Meta, PaperViews]]] = {}
        self._last: tuple[weakref.ref[Edition], Meta, PaperViews] | None = None

    def get(self, edition: Edition, meta: Meta) -> PaperViews:
        last = self._last
        if last is not None and last[0]() is edition and last[1] == meta:
            return last[2]
        key = hash(edition)
        with self._lock:
            bucket = self._by_hash.setdefault(key, [])
            entry = None
            for i, known in enumerate(bucket):
                found = known[0]()
                if found is edition or (found is not None and found == edition):
                    if known[1] == meta:
                        entry = known
                    else:
                        del bucket[i]  # made with another meta: made again
                    break
            if entry is None:
                views = PaperViews(edition, meta)
                entry = (weakref.ref(edition, functools.partial(self._forget, key)), meta, views)
                bucket.append(entry)
            self._last = entry
            return entry[2]

    def _forget(self, key: int, ref: weakref.ref[Edition]) -> None:
        """An edition died: drop its views.  No lock (a weakref callback may run inside
        :meth:`get`, holding it) and no list changed in place: the bucket is replaced, so
        a race loses an entry (its views made again), never finds a wrong one."""
        last = self._last
        if last is not None and last[0] is ref:
            self._last = None
        bucket = self._by_hash.get(key)
        if bucket is None:
            return
        rest = [entry for entry in bucket if entry[0] is not ref]
        if rest:
            self._by_hash[key] = rest
        else:
            self._by_hash.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._by_hash.clear()
            self._last = None


_VIEWS = _ViewsCache()


def paper_views(edition: Edition, meta: Meta) -> PaperViews:
    """The :class:`PaperViews` of ``edition``, built on its first email and reused by the
    email of every other topic set (delivery renders one per set) while the edition lives."""
    return _VIEWS.get(edition, meta)


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
