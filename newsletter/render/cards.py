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
its text can be kept.  An operator's override of a partial may read the whole
context (``edition``, ``section``, documented in docs/templates.md), so an
override is rendered with it, every time, as an include would.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from newsletter.urls import paper_ref

PAPER_MJML = "_paper.mjml.j2"
PAPER_TEXT = "_paper.txt.j2"
PALETTE = "_palette.j2"


def register(env: jinja2.Environment, stock: Path) -> None:
    """Give ``env`` the ``card`` and ``card_text`` globals its stock templates call."""
    env.globals["card"] = _Cards(env, stock, PAPER_MJML, markup=True)
    env.globals["card_text"] = _Cards(env, stock, PAPER_TEXT, markup=False)
    env.filters["vote_ref"] = paper_ref  # a card's 👍/👎 links name the paper by it


class _Cards:
    """``card(paper, section)`` in a template: the partial rendered for ``paper``, kept per
    view (a card view is made per section already, so ``section`` only matters to an
    override, which gets it with the rest of the context).

    Kept by the view's identity (a ``PaperView`` is made once per card by
    ``PaperViews`` and reused), with a weak reference to tell a live view from
    a new one that got a dead one's id; a frozen dataclass's own hash would
    walk every field on every lookup.
    """

    def __init__(self, env: jinja2.Environment, stock: Path, name: str, *, markup: bool) -> None:
        self._env = env
        self._stock = stock
        self._name = name
        self._wrap: Callable[[str], str] = Markup if markup else str
        self._kept: dict[tuple[int, str | None], tuple[weakref.ref[Any], str]] = {}
        self._template: tuple[jinja2.Template, bool] | None = None  # the partial, is it stock

    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, paper: Any, section: Any = None) -> str:
        if self._template is None:  # templates never reload (auto_reload=False)
            template = self._env.get_template(self._name)
            self._template = (template, _is_stock(template, self._stock))
        template, stock = self._template
        if not stock:
            # A loop variable is not in the context Jinja passes: the caller names the section.
            return self._wrap(template.render(context.get_all(), section=section, paper=paper))
        # The stock cards read one thing beyond the paper: the edition's vote link
        # (set only on a copy someone receives), so it is part of the key.
        edition = context.get("edition")
        vote = getattr(getattr(edition, "links", None), "vote", None) or None
        key = (id(paper), vote)
        found = self._kept.get(key)
        if found is not None and found[0]() is paper:
            return found[1]
        palette = self._env.get_template(PALETTE).module
        text = self._wrap(template.render(paper=paper, c=palette, edition=_VoteOnly(vote)))
        self._kept[key] = (weakref.ref(paper, functools.partial(self._forget, key)), text)
        return text

    def _forget(self, key: tuple[int, str | None], ref: weakref.ref[Any]) -> None:
        """A view died: drop its card, unless its id was taken again already.

        No lock (a weakref callback can run inside any statement, a lock held
        there would deadlock); a card lost to a race is rendered again, which
        costs time, never a wrong card: a hit needs the live view itself.
        """
        found = self._kept.get(key)
        if found is not None and found[0] is ref:
            del self._kept[key]


class _VoteOnly:
    """What a stock card sees of the edition: ``edition.links.vote``, nothing else."""

    def __init__(self, vote: str | None) -> None:
        self.links = self
        self.vote = vote


def _is_stock(template: jinja2.Template, stock: Path) -> bool:
    return template.filename is not None and Path(template.filename).parent == stock
