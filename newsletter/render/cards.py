"""Paper cards rendered once per card, however many emails show them.

Delivery renders the email once per distinct topic set, and there can be
hundreds of them; every one shows the same cards (the same paper, in the same
section, with the same teaser length: one :class:`~newsletter.render.context.PaperView`
from the edition's :class:`~newsletter.render.context.PaperViews`).  So the
stock partials ``_paper.mjml.j2`` (the card in the HTML email) and
``_paper.txt.j2`` (the card in the plain-text part) are rendered once per
``PaperView`` and the text reused, instead of one ``{% include %}`` (a new
template context) per card per email.

A stock card depends on its ``paper`` and the palette ``c`` only, which is why
its text can be kept.  And the stock partials are not rendered through Jinja at
all: :func:`stock_card` and :func:`stock_card_text` write the very bytes they
would produce (a test compares them on every kind of paper), at a fraction of
the cost of a template call; the first email of an edition makes several
hundred cards while the size budget looks for its plan.  The palette
(``_palette.j2``) may still be overridden: its colours are read from it.

An operator's override of a partial may read the whole context (``edition``,
``section``, documented in docs/templates.md), so an override is rendered with
it, every time, as an include would.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from newsletter.render.recipients import weight
from newsletter.render.teaser import teaser as cut_teaser
from newsletter.urls import paper_ref as _paper_ref

PAPER_MJML = "_paper.mjml.j2"
PAPER_TEXT = "_paper.txt.j2"
PALETTE = "_palette.j2"
FRAME = "_nl_frame"
"""A render variable: when set, ``cards(section)`` writes :data:`CARDS_MARK` instead of the
cards, and the email's frame is rendered once to be filled with the cards of several plans
(:mod:`newsletter.render.email`)."""
CARDS_MARK = "\x00nl-cards\x00"
"""Where a section's cards go in a frame (a NUL never survives :func:`clean_text`)."""

_REFS: dict[str, str] = {}


def paper_ref(key: str) -> str:
    """:func:`newsletter.urls.paper_ref` of ``key``, kept: an edition's first email names
    each paper in its HTML card's links (with and without 👍/👎, both weighed) and in
    its text card's vote lines, and each is a hash (a plain dict: a race only makes one
    twice; emptied past 100,000 keys)."""
    ref = _REFS.get(key)
    if ref is None:
        if len(_REFS) >= 100_000:
            _REFS.clear()
        ref = _REFS[key] = _paper_ref(key)
    return ref


_LinkKey = tuple[str | None, bool]
"""What a card's links depend on: the vote link base, whether it prints 👍/👎."""


def register(env: jinja2.Environment, stock: Path, wrap: Callable[..., str]) -> None:
    """Give ``env`` the ``card`` and ``card_text`` globals its stock templates call
    (``wrap`` is the plain-text part's ``wrap`` filter)."""
    card = Cards(
        env,
        stock,
        PAPER_MJML,
        markup=True,
        fast=stock_card,
        parts=(stock_card_body, stock_card_links),
        thumbs=True,
    )
    card_text = Cards(
        env, stock, PAPER_TEXT, markup=False, fast=functools.partial(stock_card_text, wrap=wrap)
    )
    env.globals["card"] = card
    env.globals["card_text"] = card_text
    env.globals["cards"] = _Section(card, Markup)
    env.globals["cards_text"] = _Section(card_text, str)
    env.filters["vote_ref"] = paper_ref  # a card's 👍/👎 links name the paper by it


class _Section:
    """``cards(section)`` in a template: every card of ``section``, joined, as
    ``{% for paper in section.cards %}{{ card(paper, section) }}{% endfor %}`` writes them
    with one template call per card (the stock templates make one call per section)."""

    def __init__(self, card: Cards, wrap: Callable[[str], str]) -> None:
        self._card = card
        self._wrap = wrap

    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, section: Any) -> str:
        if context.get(FRAME):
            return self._wrap(CARDS_MARK)
        return self._wrap(self._card.joined(context, section))


class Cards:
    """``card(paper, section)`` in a template: the partial rendered for ``paper``, kept per
    view (a card view is made per section already, so ``section`` only matters to an
    override, which gets it with the rest of the context).

    Kept by the view's identity (a ``PaperView`` is made once per card by
    ``PaperViews`` and reused), with a weak reference to tell a live view from
    a new one that got a dead one's id; a frozen dataclass's own hash would
    walk every field on every lookup.
    """

    def __init__(
        self,
        env: jinja2.Environment,
        stock: Path,
        name: str,
        *,
        markup: bool,
        fast: Callable[..., str],
        parts: tuple[
            Callable[[Any, dict[str, str]], str],
            Callable[..., str],
        ]
        | None = None,
        thumbs: bool = False,
    ) -> None:
        self._env = env
        self._fast = fast
        self._thumbs = thumbs
        """Whether this partial reads ``edition.links.thumbs`` (the HTML card: the size
        budget may drop its 👍/👎; the text card always prints them)."""
        self._parts = parts
        """``fast`` cut in two (its body, its vote-dependent links), when it can be: a card is
        then weighed from one body and each vote link's links, and made from them."""
        self._palette: dict[str, str] | None = None
        self._stock = stock
        self._name = name
        self._wrap: Callable[[str], str] = Markup if markup else str
        self._made: dict[int, _Made] = {}
        """What was made of each live view, by its id (see :class:`_Made`)."""
        # templates never reload (auto_reload=False): both are found once
        self._template: jinja2.Template | None = None
        self._is_stock: bool | None = None

    def _partial(self) -> jinja2.Template:
        """The partial, compiled (rendered for an override only)."""
        if self._template is None:
            self._template = self._env.get_template(self._name)
        return self._template

    def _loaded(self) -> tuple[jinja2.Template | None, bool]:
        """The partial if it was compiled, and whether it is the stock one (found from
        where the loader finds it: a stock partial is never compiled)."""
        if self._is_stock is None:
            self._is_stock = finds_stock(self._env, self._name, self._stock)
        return self._template, self._is_stock

    @property
    def stock_dir(self) -> Path:
        return self._stock

    @property
    def is_stock(self) -> bool:
        """Whether the partial is the stock one (its cards are :meth:`stock` cards)."""
        return self._loaded()[1]

    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, paper: Any, section: Any = None) -> str:
        if not self._loaded()[1]:
            template = self._partial()
            # A loop variable is not in the context Jinja passes: the caller names the section.
            return self._wrap(template.render(context.get_all(), section=section, paper=paper))
        # The stock cards read two things beyond the paper: the edition's vote link
        # (set only on a copy someone receives) and whether the HTML card prints its
        # 👍/👎, so both are part of the key.
        links = getattr(context.get("edition"), "links", None)
        vote = getattr(links, "vote", None) or None
        return self.stock(paper, vote, getattr(links, "thumbs", True))

    def joined(self, context: jinja2.runtime.Context, section: Any) -> str:
        """Every card of ``section``, joined: what calling this partial for each would
        write, the vote link and 👍/👎 read once for all (stock cards)."""
        if not self._loaded()[1]:
            return "".join([self(context, paper, section) for paper in section.cards])
        links = getattr(context.get("edition"), "links", None)
        vote = getattr(links, "vote", None) or None
        thumbs = getattr(links, "thumbs", True)
        stock = self.stock
        return "".join([stock(paper, vote, thumbs) for paper in section.cards])

    def _entry(self, paper: Any) -> _Made:
        """What was made of ``paper`` (a view), new if it is a view not seen alive before."""
        key = id(paper)
        made = self._made.get(key)
        if made is None or made() is not paper:
            made = self._made[key] = _Made(paper, self._forget, key)
        return made

    def _colours(self) -> dict[str, str]:
        palette = self._palette
        if palette is None:
            palette = self._palette = _palette(self._env)
        return palette

    def _key(self, vote: str | None, thumbs: bool) -> _LinkKey:
        """What a card's links depend on: the vote link base, and whether the HTML card
        prints its 👍/👎 (a partial that never drops them is keyed as printing them)."""
        return (vote, thumbs or not self._thumbs)

    def stock(self, paper: Any, vote: str | None, thumbs: bool = True) -> str:
        """The stock card of ``paper`` with the vote link base ``vote`` (made once per view);
        ``thumbs``: the HTML card prints its 👍/👎 (without, its "Abstract" still
        leads to them)."""
        key = self._key(vote, thumbs)
        made = self._entry(paper)
        text = made.cards.get(key)
        if text is not None:
            return text
        palette = self._colours()
        if palette and self._parts is not None:
            text = self._wrap(self._body(made, paper, palette) + self._links(made, paper, key))
        elif palette:
            if self._thumbs:
                text = self._wrap(self._fast(paper, palette, vote, thumbs=key[1]))
            else:
                text = self._wrap(self._fast(paper, palette, vote))
        else:  # a palette override without a colour: let Jinja name what is missing
            module = self._env.get_template(PALETTE).module
            template = self._partial()
            seen = _VoteOnly(vote, key[1])
            text = self._wrap(template.render(paper=paper, c=module, edition=seen))
        made.cards[key] = text
        return text

    def _body(self, made: _Made, paper: Any, palette: dict[str, str]) -> str:
        """The card's body (:data:`_parts`), made once per view, and what it weighs."""
        body = made.body
        if body is None:
            assert self._parts is not None
            body = made.body = self._parts[0](paper, palette)
            made.body_weight = weight(body) - body.count("\n")
            made.teaser_weight = _text_weight(paper.teaser)
        return body

    def _links(self, made: _Made, paper: Any, key: _LinkKey) -> str:
        """The card's links for ``key`` (:meth:`_key`; :data:`_parts`), made once per view
        and key."""
        found = made.links.get(key)
        if found is None:
            assert self._parts is not None and self._palette
            vote, thumbs = key
            if self._thumbs:
                links = self._parts[1](paper, self._palette, vote, thumbs=thumbs)
            else:
                links = self._parts[1](paper, self._palette, vote)
            found = made.links[key] = (links, weight(links) - links.count("\n"))
        return found[0]

    def compiled_weight(
        self, paper: Any, vote: str | None, teaser: str | None = None, thumbs: bool = True
    ) -> int:
        """What the :meth:`stock` card weighs in the compiled email
        (:func:`~newsletter.render.recipients.weight`), kept with it: MJML writes an
        ``<mj-text>``'s HTML back as it is, but drops the line breaks between its tags,
        and a stock card has line breaks there only (its text is on one line).

        With ``teaser``: what the card of ``paper`` with that teaser instead of its own
        would weigh (the card of the same paper in the same section with a shorter
        teaser, weighed without making it or its view: the size budget weighs the
        cards of several teaser lengths to show one).

        A stock card is weighed as its body (made once per view) and its links (made
        once per vote link): the card itself is made only when an email shows it, and
        the plans with and without 👍/👎 links share the body.  ``thumbs`` as :meth:`stock`."""
        key = self._key(vote, thumbs)
        made = self._entry(paper)
        palette = self._colours()
        if palette and self._parts is not None:
            self._body(made, paper, palette)
            self._links(made, paper, key)
            size = made.body_weight + made.links[key][1]
            if teaser is not None and teaser != paper.teaser:
                size += _text_weight(teaser) - made.teaser_weight
            return size
        # a card not cut in two (no body): weighed whole, its weights kept with it
        weights = made.weights
        if weights is None:
            weights = made.weights = {}
        if teaser is not None and teaser != paper.teaser and palette:
            rest = weights.get((key, "rest"))
            if rest is None:
                rest = self.compiled_weight(paper, vote, None, key[1])
                rest -= _text_weight(paper.teaser)
                weights[(key, "rest")] = rest
            return rest + _text_weight(teaser)
        kept = weights.get((key, "card"))
        if kept is None:
            text = self.stock(paper, vote, key[1])
            kept = weights[(key, "card")] = weight(text) - text.count("\n")
        return kept

    def plan_weight(
        self, papers: list[Any], vote: str | None, limit: int, thumbs: bool = True
    ) -> int:
        """The sum of :meth:`compiled_weight` of ``papers`` (views with whole teasers), each
        with its teaser cut to ``limit`` (:func:`~newsletter.render.teaser.teaser`)."""
        return self.weighed(papers, vote, thumbs).at(limit)

    def weighed(self, papers: list[Any], vote: str | None, thumbs: bool = True) -> Weighed:
        """What ``papers`` (views with whole teasers) weigh as cards with the vote link
        ``vote``, for any teaser length (:meth:`Weighed.at`): the size budget weighs the
        plans of one layout and vote link, which differ in their teasers' length only,
        from one pass over a hundred cards or more.  ``thumbs`` as :meth:`stock`."""
        key = self._key(vote, thumbs)
        palette = self._colours()
        if not palette or self._parts is None:
            return _Rendered(self, papers, vote, key[1])
        body, links, entry, made_all = self._body, self._links, self._entry, self._made
        base = 0
        long: list[tuple[str, int]] = []
        shared: int | None = None
        if vote and papers:
            # With a vote link every card's links are "<vote>/<ref>" and its 👍/👎 after
            # it, and a ref is a hash of a fixed length, URL-safe: the links of every card
            # weigh the same, so they are made only for the cards an email shows.
            first = papers[0]
            first_made = entry(first)
            links(first_made, first, key)
            shared = first_made.links[key][1]
        for paper in papers:
            found_made = made_all.get(id(paper))
            made = found_made if found_made is not None and found_made() is paper else entry(paper)
            if made.body is None:
                body(made, paper, palette)
            if shared is None:
                found = made.links.get(key)
                if found is None:
                    links(made, paper, key)
                    found = made.links[key]
                base += found[1]
            base += made.body_weight
            long.append((paper.teaser, made.teaser_weight))
        if shared is not None:
            base += shared * len(papers)
        return Weighed(base, long, len(papers))

    def _forget(self, made: _Made) -> None:
        """A view died: drop what was made of it, unless its id was taken again already.

        No lock (a weakref callback can run inside any statement, a lock held
        there would deadlock); a card lost to a race is rendered again, which
        costs time, never a wrong card: a hit needs the live view itself.
        """
        if self._made.get(made.key) is made:
            del self._made[made.key]


class Weighed:
    """What a list of stock cards weighs with their whole teasers (``base``), and the
    teasers with what each weighs, to weigh the same cards with shorter teasers."""

    def __init__(self, base: int, teasers: list[tuple[str, int]], count: int) -> None:
        self.base = base
        self.count = count
        self._teasers = sorted(teasers, key=lambda tw: -len(tw[0]))
        """Longest first: the loop of :meth:`at` stops at the first teaser that fits."""

    def at(self, limit: int) -> int:
        """What the cards weigh, each teaser cut to ``limit`` (a teaser that fits is whole)."""
        total = self.base
        for whole, weighs in self._teasers:
            if len(whole) <= limit:
                break
            total += _text_weight(cut_teaser(whole, limit)) - weighs
        return total


class _Rendered(Weighed):
    """:class:`Weighed` for cards that are not cut in two: each weighed by
    :meth:`Cards.compiled_weight` for each length asked."""

    def __init__(self, cards: Cards, papers: list[Any], vote: str | None, thumbs: bool) -> None:
        super().__init__(0, [], len(papers))
        self._cards = cards
        self._papers = papers
        self._vote = vote
        self._thumbs = thumbs

    def at(self, limit: int) -> int:
        weigh, vote, thumbs = self._cards.compiled_weight, self._vote, self._thumbs
        return sum([weigh(p, vote, cut_teaser(p.teaser, limit), thumbs) for p in self._papers])


class _Made(weakref.ref[Any]):
    """What a :class:`Cards` made of one live view: its cards by vote link, and for a
    stock card cut in two, its body, links and weights.  It is the weak reference to the
    view itself (calling it gives the view, or None once it died: it tells the view from
    a new one that got a dead one's id), so that an edition's first email makes one
    object per card view, not a reference, a callback and a record."""

    __slots__ = (
        "body",
        "body_weight",
        "cards",
        "key",
        "links",
        "teaser_weight",
        "weights",
    )

    def __new__(cls, paper: Any, callback: Callable[[_Made], None], key: int) -> _Made:
        return super().__new__(cls, paper, callback)

    def __init__(self, paper: Any, callback: Callable[[_Made], None], key: int) -> None:
        # (the reference itself is made by __new__; weakref.ref's __init__ does nothing more)
        self.key = key
        """The view's id, under which :class:`Cards` keeps this."""
        self.cards: dict[_LinkKey, str] = {}
        self.body: str | None = None
        self.body_weight = 0
        self.teaser_weight = 0
        self.links: dict[_LinkKey, tuple[str, int]] = {}
        self.weights: dict[tuple[_LinkKey, str], int] | None = None
        """Of a card not cut in two only (made when first weighed: most views never are)."""


class _VoteOnly:
    """What a stock card sees of the edition: ``edition.links.vote`` and
    ``edition.links.thumbs``, nothing else."""

    def __init__(self, vote: str | None, thumbs: bool = True) -> None:
        self.links = self
        self.vote = vote
        self.thumbs = thumbs


def finds_stock(env: jinja2.Environment, name: str, stock: Path) -> bool:
    """Whether ``env`` finds template ``name`` in the ``stock`` folder (no override of
    it), asked of its loader: the template is not compiled to know."""
    if env.loader is None:
        return False
    try:
        _, filename, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        return False
    return filename is not None and Path(filename).parent == stock


def is_stock_template(env: jinja2.Environment, name: str) -> bool:
    """Whether ``env`` finds the stock template ``name`` (no override of it)."""
    card = env.globals.get("card")
    if not isinstance(card, Cards):
        return False
    return finds_stock(env, name, card.stock_dir)


_COLOURS = ("rule", "link", "muted")
"""The palette colours a stock card uses."""


def _palette(env: jinja2.Environment) -> dict[str, str]:
    """The card colours of the palette (``_palette.j2``, maybe an override), escaped as
    ``{{ c.rule }}`` prints them; empty when one is missing."""
    module = env.get_template(PALETTE).module
    try:
        return {name: str(escape(getattr(module, name))) for name in _COLOURS}
    except AttributeError:
        return {}


def _e(value: object) -> str:
    """``value`` as autoescaping prints it (``{{ value }}``); a plain string without the
    Markup round trip, escaped as markupsafe escapes it."""
    if type(value) is not str:
        return str(escape(value))
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "'" in value:
        value = value.replace("'", "&#39;")
    if '"' in value:
        value = value.replace('"', "&#34;")
    return value


def _text_weight(text: str) -> int:
    """What ``text`` (one line, no ``%%``: cleaned) weighs in a card, escaped."""
    return len(_e(text).encode("utf-8"))


def stock_card(paper: Any, c: dict[str, str], vote: str | None, *, thumbs: bool = True) -> str:
    """``_paper.mjml.j2`` (the stock card) for ``paper``: the same bytes, without Jinja.

    With ``vote`` the "Abstract" link is the signed ``<vote>/<ref>`` (the archive's
    paper page with this reader's 👍/👎) and, with ``thumbs``, the 👍/👎 follow it:
    without them the card can still be voted on, one click later."""
    return stock_card_body(paper, c) + stock_card_links(paper, c, vote, thumbs=thumbs)


def stock_card_body(paper: Any, c: dict[str, str]) -> str:
    """:func:`stock_card` up to its links: the title, the meta line and the teaser, which
    do not depend on the vote link (made once per card view, whatever copies show it)."""
    meta = []
    if paper.byline:
        meta.append(_e(paper.byline))
    if paper.upvotes is not None:
        meta.append(_e(f"▲ {paper.upvotes}"))
    if paper.card_tags:
        meta.append(_e(", ".join(str(t.title) for t in paper.card_tags)))
    out = [
        f'<div class="nl-rule" style="border-top:1px solid {c["rule"]};padding:12px 0">\n'
        f'<h3 style="margin:0 0 2px;font-size:17px;line-height:1.35"><a href="{_e(paper.url)}"'
        f' style="color:{c["link"]};text-decoration:none">{_e(paper.title)}</a></h3>'
    ]
    if meta or paper.arxiv_id:
        muted = c["muted"]
        out.append(
            f'<p class="nl-muted" style="margin:0 0 4px;font-size:13px;color:{muted}">'
            + " · ".join(meta)
        )
        if paper.arxiv_id:
            out.append(
                f'{" · " if meta else ""}<a href="{_e(paper.abs_url)}" style="color:{muted}">'
                f'arXiv:{_e(paper.arxiv_id)}</a> · <a href="{_e(paper.pdf_url)}"'
                f' style="color:{muted}">PDF</a>'
            )
        out.append("</p>")
    out.append(f'<p style="margin:0">{_e(paper.teaser)} ')
    return "".join(out)


def stock_card_links(
    paper: Any, c: dict[str, str], vote: str | None, *, thumbs: bool = True
) -> str:
    """The end of :func:`stock_card` after :func:`stock_card_body`: the card's links, the
    only part that depends on ``vote`` (so a card is weighed with and without its 👍/👎
    links from one body)."""
    link = f"{_e(vote)}/{_e(paper_ref(paper.key))}" if vote else _e(paper.archive_url)
    out = [f'<a href="{link}" style="color:{c["link"]}">Abstract</a>']
    if vote and thumbs:
        out.append(f' <a href="{link}/up">👍</a> <a href="{link}/down">👎</a>')
    out.append("</p>\n</div>\n")
    return "".join(out)


def stock_card_text(
    paper: Any, c: dict[str, str], vote: str | None, *, wrap: Callable[..., str]
) -> str:
    """``_paper.txt.j2`` (the stock plain-text card) for ``paper``: the same text, without
    Jinja (``c`` is unused: a plain-text card has no colours)."""
    out = [f"\n* {wrap(str(paper.title), indent=2).strip()}\n  {paper.url}\n"]
    if paper.byline:
        out.append(f"  {wrap(str(paper.byline), indent=2).strip()}\n")
    meta = []
    if paper.upvotes is not None:
        meta.append(f"{paper.upvotes} upvotes")
    if paper.arxiv_id:
        meta.append(f"arXiv:{paper.arxiv_id}")
    if paper.card_tags:
        meta.append("also in " + ", ".join(str(t.title) for t in paper.card_tags))
    if meta:
        out.append(f"  [{' · '.join(meta)}]\n")
    if paper.pdf_url:
        out.append(f"  PDF: {paper.pdf_url}\n")
    out.append(f"{wrap(str(paper.teaser), indent=2)}\n  Abstract: {paper.archive_url}\n")
    if vote:
        ref = paper_ref(paper.key)
        out.append(f"  More like this: {vote}/{ref}/up\n  Less: {vote}/{ref}/down\n")
    return "".join(out)
