"""The ranked copy of an email: rendered once per topic set, cut where subscribers differ.

A subscriber who voted reads the same cards as everyone on their topics, in
their own order, under a "Top picks for you" block, each card with a one-line
reason.  Rendering (Jinja → MJML → HTML) per subscriber would cost milliseconds
each; so the topic set's email is rendered once more with a slot for the picks
(the template's ``top_picks`` is defined only here), and cut into a
:class:`RankedLayout`: constant text, the picks slot, and each section's run of
cards, every card as rendered.  A paper card is plain HTML inside the section's
``<mj-text>``, which MJML copies through, so each card is found verbatim in the
compiled HTML (and in the text part, which includes ``_paper.txt.j2`` per
card).  :meth:`Body.pieces` then lays one subscriber's copy out of those shared
strings — reordering only, plus the picks and reasons, which are small.
Delivery encodes each shared piece once (:mod:`newsletter.delivery.ranked`).

If an operator's templates make a card impossible to find (a card partial that
MJML rewrites), :func:`layout` returns None and everyone gets the unranked
email: ranking is an extra, never a reason not to send.

Picks are moved, not copied: a picked paper's card is taken out of its section
and shown once, under "Top picks for you"; a section whose every card was picked
keeps its heading and one line saying so (:data:`MOVED_HTML`, :data:`MOVED_TEXT`).
So the picks cost the email only their heading, and the room that copies took
(about 13 KB for five) holds more cards.

Budget: the copy is fitted to ``email.budget_kb`` less room for the picks'
heading (:data:`PICKS_ROOM`) and the reasons (per card: the reason line's markup
as the template renders it, plus :data:`REASON_BYTES`; a reason is cut to
:data:`REASON_CHARS` characters and to :data:`REASON_BYTES` bytes as the HTML
carries it, so that room is exact, not a guess), the reasons' room counted
in the choice of plan (shorter teasers and no 👍/👎 signs before fewer cards,
as the unranked email does) — so a ranked email
never weighs more than the budget either.

Title-only lines (a very large edition, where the plan keeps N cards a section) are
ranked too: each section is in the subscriber's order throughout — its N best papers
as its cards, the others as title lines (``_title.mjml.j2``, ``_title.txt.j2``), each
with its reason (``_title_reason.mjml.j2`` inside the line's ``<li>``; the text part's
card reason line after it).  So every paper of such a section has both its card and its
line cut here, and the plan keeps room for a reason per line and for the worst swap
(:func:`_swap_room`).  Picks are the best of the subscriber's cards (a section's
best paper is always one of its cards).  When that room would cost the email papers,
the copy ranks its cards only, its title lines in digest order (:func:`layout`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import escape

from newsletter.config import Settings
from newsletter.model import Edition
from newsletter.render import templates
from newsletter.render.context import (
    ContextBuilder,
    EditionContext,
    PaperView,
    Plan,
    SectionView,
)
from newsletter.render.email import fit, meta_for, paper_views
from newsletter.render.recipients import RecipientLinks, weight

log = logging.getLogger(__name__)

PICKS_TOKEN = "%%TOP_PICKS%%"
"""Where the picks go (never left in a message: every copy fills or empties it)."""
REASON_TOKEN = "%%REASON%%"
REASON_CHARS = 110
"""A reason longer than this is cut (with "…"): it is one line."""
REASON_BYTES = 160
"""The most bytes a reason takes in the HTML (escaped, UTF-8): a longer one is cut.
With the line's markup (about 120 bytes) this is the room kept free per card — a
shared copy must fit every subscriber's reasons, so the room is the most a reason
can take, and a tight one keeps the 👍/👎 links on editions that would lose them to
room no reason uses (420 bytes a card were kept before: a ranked subscriber's email
dropped its vote links where the unranked one kept them)."""
PICKS_ROOM = 600
"""Bytes kept free for the picks' heading (the picked cards are moved, not copied)."""
_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")
"""MJML drops the line breaks between two tags of an ``<mj-text>``; a card found in
the HTML has them dropped too."""
MOVED_HTML = (
    '<p class="nl-muted" style="margin:0 0 8px;font-size:13px">'
    "Its papers are in your top picks above.</p>"
)
"""What a section shows in place of its cards when all of them were picked (HTML)."""
MOVED_TEXT = "\n  (its papers are in your top picks above)\n"
"""The same in the text part."""
PICK_HEAD = "_picks"
PICK_REASON = "_pick_reason"


Arrangement = tuple[list[str], list[list[str]]]
"""The picks, then each section's papers, in one subscriber's order (:meth:`Body.arrange`):
its cards, then its title-only lines — the last ``len(Body.titles[i])`` of section ``i``
(a pick is always a card, so a section shows all of its title lines)."""


class Reason(str):
    """A subscriber's reason, already escaped for its body: the one piece of a ranked
    copy that is not shared (delivery encodes it on its own, without a template)."""

    __slots__ = ()


@dataclass(frozen=True)
class Body:
    """One body of the ranked copy (HTML or text).

    ``parts`` alternates constant text, ``None`` (the picks slot) and section
    indexes (that section's cards); ``sections[i]`` are its cards' keys in
    digest order and ``gaps[i]`` the text between two consecutive cards;
    ``cards`` maps a key to its card as rendered; ``reason`` is the reason line
    cut at its reason; ``escape`` makes a reason safe for this body.
    """

    parts: tuple[str | int | None, ...]
    sections: tuple[tuple[str, ...], ...]
    gaps: tuple[tuple[str, ...], ...]
    cards: Mapping[str, str]
    head: str
    reason: tuple[str, str]
    escape: Callable[[str], str]
    moved: str = MOVED_HTML
    """Shown in place of a section's cards when every one of them was picked (and it
    has no title-only lines)."""
    titles: tuple[tuple[str, ...], ...] = ()
    """Each section's title-only lines (a very large edition) as keys, in digest order;
    empty when it has none, or when the copy ranks its cards only (:func:`layout`)."""
    title_gaps: tuple[tuple[str, ...], ...] = ()
    """The text between two consecutive title lines of each section."""
    bridges: tuple[str, ...] = ()
    """Each section's text between its last card and its first title line (its list's
    opening tag in the HTML); "" when it has no cards or no title lines."""
    title_lines: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Every paper of a section with title lines (cards too: any may become a line) as a
    title line, cut where its reason goes: (before, after) — ``after`` is "" when the
    reason follows the line (the text part) and the line's closing tag in the HTML
    (``_title.mjml.j2``'s ``why``)."""
    title_reason: tuple[str, str] = ("", "")
    """A title line's reason line cut at its reason (``_title_reason.mjml.j2`` in the
    HTML, the card's ``_pick_reason.txt.j2`` in the text part)."""
    lines: dict[str, tuple[str, Reason, str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Reason lines made so far: subscribers share most reasons ("because you liked
    …"), and each is cut and escaped once."""
    places: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    """Each card's sections, made on the first :meth:`arrange` (:meth:`_places`)."""
    line_places: list[dict[str, int] | None] = field(
        default_factory=list, compare=False, repr=False
    )
    """Each paper's section in a copy with title lines, once made (:meth:`_line_places`)."""

    def reason_line(self, reason: str) -> tuple[str, Reason, str]:
        """The reason line as three pieces: the template's text around the reason
        (shared) and the reason, made safe for this body (a :class:`Reason`)."""
        found = self.lines.get(reason)
        if found is None:
            before, after = self.reason
            found = (before, Reason(self.escape(one_line(reason))), after)
            if len(self.lines) > 50000:
                self.lines.clear()
            self.lines[reason] = found
        return found

    def pieces(
        self,
        ranked: Sequence[str],
        reasons: Mapping[str, str],
        picks: int,
        *,
        shared: Mapping[str, Any] | None = None,
        line: Callable[[str], Sequence[Any]] | None = None,
        arranged: Arrangement | None = None,
    ) -> list[Any]:
        """This body for one subscriber: ``ranked`` keys best first, a reason per key,
        the first ``picks`` cards on top.  Constant pieces are the shared strings —
        or what ``shared`` maps each to, and the reason lines what ``line`` makes of a
        reason (delivery hands its pre-encoded pieces: the same layout, no string
        looked up twice).  ``arranged``: what :meth:`arrange` made of ``ranked`` and
        ``picks`` already (for the other body: both bodies show the same sections)."""
        put: Callable[[str], Any] = shared.__getitem__ if shared is not None else str
        reason_line = line or self.reason_line
        chosen, ordered = arranged if arranged is not None else self.arrange(ranked, picks)
        cards = self.cards
        out: list[Any] = []
        append, extend = out.append, out.extend
        for part in self.parts:
            if isinstance(part, str):
                append(put(part))
            elif part is None:
                if chosen:
                    append(put(self.head))
                    for key in chosen:
                        append(put(cards[key]))
                        extend(reason_line(reasons.get(key, "")))
            else:
                keys = ordered[part]
                titles = len(self.titles[part]) if self.titles else 0
                if titles:
                    keys, lines = keys[: len(keys) - titles], keys[len(keys) - titles :]
                elif not keys:
                    append(put(self.moved))
                gaps = self.gaps[part]
                for j, key in enumerate(keys):
                    if j:
                        append(put(gaps[j - 1]))
                    append(put(cards[key]))
                    if key in reasons:
                        extend(reason_line(reasons[key]))
                if titles:
                    if self.bridges[part]:
                        append(put(self.bridges[part]))
                    between = self.title_gaps[part]
                    before, after = self.title_reason
                    for j, key in enumerate(lines):
                        if j:
                            append(put(between[j - 1]))
                        head, tail = self.title_lines[key]
                        append(put(head))
                        if key in reasons:
                            extend((put(before), reason_line(reasons[key])[1], put(after)))
                        if tail:
                            append(put(tail))
        return out

    def arrange(self, ranked: Sequence[str], picks: int) -> Arrangement:
        """One subscriber's arrangement of the cards: the picks (best first), then each
        section's other cards in the subscriber's order (those not in ``ranked`` last, in
        digest order), then its title lines in that order too (:meth:`_with_titles`)."""
        if any(self.titles):
            return self._with_titles(ranked, picks)
        chosen = self.picked(ranked, picks)
        rank = {key: i for i, key in enumerate(ranked)}
        places = self._places()
        if places is not None and len(rank) == len(ranked):
            return chosen, self._dealt(ranked, chosen, rank, places)
        return chosen, self._sorted(chosen, rank)

    def _with_titles(self, ranked: Sequence[str], picks: int) -> Arrangement:
        """:meth:`arrange` of a copy with title-only lines: each section is ordered by
        score throughout.  A section that shows N cards shows its N best papers as cards
        (its cards and title lines sorted together by rank, those not ranked last in
        digest order) and the others as title lines, in the same order; the picks are
        the best of those cards (moved out of their sections, so a section can show
        fewer cards, never more, and every one of its title lines)."""
        rank = {key: i for i, key in enumerate(ranked)}
        places = self._line_places()
        if places is not None and len(rank) == len(ranked):
            best, lines = self._dealt_lines(ranked, rank, places)
        else:
            best, lines = self._sorted_lines(rank)
        chosen: list[str] = []
        if picks:
            shown = {key for keys in best for key in keys}
            for key in ranked:
                if key in shown:
                    chosen.append(key)
                    if len(chosen) == picks:
                        break
        taken = set(chosen)
        return chosen, [
            [k for k in keys if k not in taken] + rest if taken else keys + rest
            for keys, rest in zip(best, lines, strict=True)
        ]

    def _sorted_lines(self, rank: dict[str, int]) -> tuple[list[list[str]], list[list[str]]]:
        """Each section's papers sorted by rank (those not ranked last, in digest order,
        cards before lines), cut into its cards and its title lines."""
        last = len(rank)
        get = rank.get

        def by_rank(key: str) -> int:
            return get(key, last)

        best: list[list[str]] = []
        lines: list[list[str]] = []
        for keys, titles in zip(self.sections, self.titles, strict=True):
            both = sorted((*keys, *titles), key=by_rank)
            best.append(both[: len(keys)])
            lines.append(both[len(keys) :])
        return best, lines

    def _dealt_lines(
        self, ranked: Sequence[str], rank: dict[str, int], places: dict[str, int]
    ) -> tuple[list[list[str]], list[list[str]]]:
        """:meth:`_sorted_lines` (a test checks) made by dealing ``ranked`` (no key twice)
        into the sections once: each section's cards fill first, then its lines; then
        its papers not ranked, in digest order."""
        sections, titles = self.sections, self.titles
        best: list[list[str]] = [[] for _ in sections]
        lines: list[list[str]] = [[] for _ in sections]
        room = [len(keys) for keys in sections]
        get = places.get
        for key in ranked:
            i = get(key)
            if i is not None:
                (best[i] if len(best[i]) < room[i] else lines[i]).append(key)
        for i, keys in enumerate(sections):
            if len(best[i]) + len(lines[i]) < len(keys) + len(titles[i]):
                for key in (*keys, *titles[i]):
                    if key not in rank:
                        (best[i] if len(best[i]) < room[i] else lines[i]).append(key)
        return best, lines

    def _line_places(self) -> dict[str, int] | None:
        """Each paper's section in a copy with title lines (made once per body), or None
        when a paper is in two places (then :meth:`_sorted_lines` arranges)."""
        if not self.line_places:
            where: dict[str, int] = {}
            count = 0
            for i, (keys, titles) in enumerate(zip(self.sections, self.titles, strict=True)):
                for key in (*keys, *titles):
                    where[key] = i
                    count += 1
            self.line_places.append(where if len(where) == count else None)
        return self.line_places[0]

    def _places(self) -> dict[str, tuple[int, ...]] | None:
        """Each card's sections (made once per body), or None when a section lists a
        card twice (then :meth:`_sorted` arranges, as it always did)."""
        if not self.places:
            found: dict[str, list[int]] = {}
            for i, keys in enumerate(self.sections):
                if len(set(keys)) != len(keys):
                    return None
                for key in keys:
                    found.setdefault(key, []).append(i)
            self.places.update((k, tuple(v)) for k, v in found.items())
        return self.places

    def _dealt(
        self,
        ranked: Sequence[str],
        chosen: list[str],
        rank: dict[str, int],
        places: dict[str, tuple[int, ...]],
    ) -> list[list[str]]:
        """:meth:`_sorted`'s arrangement (a test checks), made by dealing ``ranked`` (no
        key twice) into the sections once instead of sorting each section by rank: the
        ranked cards in their order, then a section's unranked ones in digest order."""
        ordered: list[list[str]] = [[] for _ in self.sections]
        taken = set(chosen)
        for key in ranked:
            at = places.get(key)
            if at is not None and key not in taken:
                for i in at:
                    ordered[i].append(key)
        picked = [0] * len(self.sections)  # each section's cards among the picks
        for key in chosen:
            for i in places.get(key, ()):
                picked[i] += 1
        for i, keys in enumerate(self.sections):
            if len(ordered[i]) + picked[i] < len(keys):  # some not ranked: last, in order
                ordered[i] += [k for k in keys if k not in taken and k not in rank]
        return ordered

    def _sorted(self, chosen: list[str], rank: dict[str, int]) -> list[list[str]]:
        """Each section's cards but the picks, in the subscriber's order (a stable sort
        by rank: those not ranked last, in digest order)."""
        last = len(rank)
        get = rank.get
        if chosen:
            taken = set(chosen)
            ordered = [
                sorted([k for k in keys if k not in taken], key=lambda k: get(k, last))
                for keys in self.sections
            ]
        else:
            ordered = [sorted(keys, key=lambda k: get(k, last)) for keys in self.sections]
        return ordered

    def picked(self, ranked: Sequence[str], picks: int) -> list[str]:
        """The top ``picks`` cards of ``ranked``, best first (each moved out of its
        section)."""
        if not picks:
            return []
        cards = self.cards
        found: list[str] = []
        for k in ranked:
            if k in cards:
                found.append(k)
                if len(found) == picks:
                    break
        return found


@dataclass(frozen=True)
class RankedLayout:
    """A topic set's ranked copy, cut; ``keys`` are the papers it shows as cards in
    digest order, ``lines`` those it shows as title-only lines (both ranked)."""

    subject: str
    html: Body
    text: Body
    keys: tuple[str, ...]
    lines: tuple[str, ...] = ()
    """The papers it shows as title-only lines and ranks too (:func:`layout`)."""

    @property
    def papers(self) -> tuple[str, ...]:
        """Every paper it ranks, section by section: its cards, then its title lines."""
        if not self.lines:
            return self.keys
        order: list[str] = []
        for cards, titles in zip(self.html.sections, self.html.titles, strict=True):
            order += [*cards, *titles]
        return tuple(order)


def one_line(reason: str) -> str:
    """The reason as one line, cut to :data:`REASON_CHARS` characters and, escaped for
    HTML, to :data:`REASON_BYTES` bytes."""
    line = " ".join(reason.split())
    if len(line) > REASON_CHARS:
        line = line[: REASON_CHARS - 1].rstrip() + "…"
    if line.isascii() and _ESCAPED.search(line) is None:
        return line  # its own bytes in the HTML: at most REASON_CHARS <= REASON_BYTES
    size = len(_html_escape(line).encode("utf-8"))
    if size <= REASON_BYTES:
        return line
    # drop characters from the end (each weighs what its escape weighs) until it fits
    weights = [len(_html_escape(ch).encode("utf-8")) for ch in line]
    room = REASON_BYTES - len("…".encode())
    end, size = 0, 0
    while end < len(line) and size + weights[end] <= room:
        size += weights[end]
        end += 1
    return line[:end].rstrip().removesuffix("…") + "…"


_ESCAPED = re.compile(r"[&<>\"']")
"""What HTML escaping changes."""


def _text_escape(reason: str) -> str:
    return reason


def _html_escape(reason: str) -> str:
    return str(escape(reason))


_ENVIRONMENTS: dict[int, jinja2.Environment] = {}


def ranked_environment(env: jinja2.Environment) -> jinja2.Environment:
    """``env`` with ``top_picks`` defined (its own template cache: templates bind
    their globals when loaded)."""
    found = _ENVIRONMENTS.get(id(env))
    if found is None:
        found = env.overlay(cache_size=100)
        found.globals = {**env.globals, "top_picks": PICKS_TOKEN}
        _ENVIRONMENTS[id(env)] = found
    return found


TITLE = "_title"
TITLE_REASON = "_title_reason"
FITS = 3
"""Plans tried for a copy whose title lines are ranked (:func:`layout`) before it ranks
its cards only."""


class _Recording(ContextBuilder):
    """A builder that remembers the plan of each context it built: :func:`fit` returns a
    context, and a ranked copy needs its plan's teaser length to render the card of a
    paper the plan shows as a title line (it may become one of a section's cards)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.built: list[tuple[EditionContext, Plan | None]] = []

    def build(self, plan: Plan | None) -> EditionContext:
        context = super().build(plan)
        self.built.append((context, plan))
        return context

    def plan_of(self, context: EditionContext) -> Plan | None:
        return next((plan for made, plan in reversed(self.built) if made is context), None)


def layout(
    edition: Edition, settings: Settings, topics: frozenset[str] | None, picks: int
) -> RankedLayout | None:
    """The ranked copy of ``edition`` for subscribers on ``topics``, or None when its
    cards cannot be found in the rendered email (then nobody's copy is ranked).

    When the size plan shows some papers of a section as title-only lines, those are
    ranked too: every paper of the section gets its card and its title line rendered,
    and a subscriber's N best become the section's N cards (:meth:`Body.arrange`).  The
    plan is then chosen with room for the worst such swap (each section's N papers
    whose card outweighs their line the most) and a reason per title line.  The copy
    ranks its cards only (its title lines keep the digest order, without reasons, as
    before) when no plan of :data:`FITS` tried leaves that room, when that room would
    leave papers out of the email (an edition so large that even its title list is
    cut), or when the templates' title lines cannot be found."""
    env = ranked_environment(templates.environment(settings.output.templates_dir))
    meta = meta_for(settings)
    builder = _Recording(
        edition, meta, RecipientLinks.placeholders(), topics, paper_views(edition, meta)
    )
    budget = settings.email.budget_bytes - (PICKS_ROOM if picks else 0) - 600
    palette = env.get_template("_palette.j2").module

    def extra(name: str, context: EditionContext, **values: Any) -> str:
        made = templates.render(env, name, edition=context, c=palette, count=picks, **values)
        return _BETWEEN_TAGS.sub("><", made).strip() if name.endswith(".mjml.j2") else made

    markup = templates.render(env, f"{PICK_REASON}.mjml.j2", c=palette, reason="", count=picks)
    room = len(_BETWEEN_TAGS.sub("><", markup).strip().encode("utf-8")) + REASON_BYTES
    try:
        line_markup = templates.render(env, f"{TITLE_REASON}.mjml.j2", c=palette, reason="")
    except jinja2.TemplateNotFound:
        line_markup = None
    line_room = (
        len(_BETWEEN_TAGS.sub("><", line_markup).strip().encode("utf-8")) + REASON_BYTES
        if line_markup is not None
        else 0
    )
    # the reasons' room weighs in the choice of plan (shorter teasers before fewer cards):
    # with title lines ranked every paper shown has a reason, a card's or a line's, so
    # a line's room is kept for each paper and a card's extra for each card
    teasers = settings.email.teaser_chars
    papers = sum(len(s.papers) for s in builder.sections)
    per_card = max(room - line_room, 0)
    target = budget - line_room * papers
    chosen: tuple[str, EditionContext] | None = None  # the cards alone ranked, if so
    found: tuple[str, EditionContext, tuple[Body, Body]] | None = None
    for _ in range(FITS if line_markup is not None else 0):
        html, context = fit(builder, env, target, teasers, per_card=per_card)
        plan = builder.plan_of(context)
        n_cards = sum(len(s.cards) for s in context.sections)
        if plan is None or not any(s.titles for s in context.sections):
            if weight(html) + room * n_cards <= budget:
                chosen = (html, context)  # no title lines: its cards alone are ranked
            break
        text = templates.render(env, templates.EMAIL_TEXT, edition=context)
        bodies = _bodies(env, builder, context, plan, palette, html, text, extra, line_markup)
        if bodies is None:
            break  # its title lines cannot be found: the cards alone are ranked
        needed = weight(html) + room * n_cards + _swap_room(bodies[0], room, line_room)
        log.debug("ranked copy: %s needs %d bytes of %d (%d tried)", plan, needed, budget, target)
        if needed <= budget:
            found = (html, context, bodies)
            break
        # the worst swap's room: a plan that leaves it (a more compact one than this)
        target = min(target - (needed - budget), weight(html) + per_card * n_cards - 1)
    if found is not None:
        # ranking the title lines never costs a paper: when their reasons' room would
        # push some out of the email (one so large that its title list is cut), the
        # copy ranks its cards only, as the plan without that room shows them
        cards_only = fit(builder, env, budget, teasers, per_card=room)
        log.debug(
            "ranked copy: %d papers shown, %d with cards only",
            _shown(found[1]),
            _shown(cards_only[1]),
        )
        if _shown(found[1]) < _shown(cards_only[1]):
            chosen, found = cards_only, None
    if found is not None:
        html, context, made = found
    else:
        html, context = chosen or fit(builder, env, budget, teasers, per_card=room)
        text = templates.render(env, templates.EMAIL_TEXT, edition=context)
        cut = _bodies(env, builder, context, None, palette, html, text, extra, None)
        if cut is None:
            log.warning(
                "the email templates' cards cannot be found in the rendered email: "
                "ranked subscribers get the unranked email"
            )
            return None
        made = cut
    html_body, text_body = made
    keys = tuple(p.key for s in context.sections for p in s.cards)
    lines = tuple(k for titles in html_body.titles for k in titles)
    return RankedLayout(context.subject, html_body, text_body, keys, lines)


def _shown(context: EditionContext) -> int:
    """How many papers an email shows (as cards or title lines)."""
    return sum(len(s.cards) + len(s.titles) for s in context.sections)


def _bodies(
    env: jinja2.Environment,
    builder: ContextBuilder,
    context: EditionContext,
    plan: Plan | None,
    palette: Any,
    html: str,
    text: str,
    extra: Callable[..., str],
    line_markup: str | None,
) -> tuple[Body, Body] | None:
    """The HTML and text bodies cut, their title lines too when ``plan`` is given (None
    when something cannot be found)."""
    papers = {p.key: p for s in builder.sections for p in s.papers}

    def card(name: str, html: bool) -> Callable[[PaperView, SectionView], str]:
        def render(paper: PaperView, section: SectionView) -> str:
            made = templates.render(
                env, name, paper=paper, section=section, edition=context, c=palette
            )
            return _BETWEEN_TAGS.sub("><", made).strip() if html else made

        return render

    def title_card(name: str, html: bool) -> Callable[[PaperView, SectionView], str]:
        """The card a title line's paper shows when it is one of a section's best."""
        render = card(name, html)

        def made(paper: PaperView, section: SectionView) -> str:
            assert plan is not None
            view = builder.views.card(papers[paper.key], section.topic, plan.teaser_chars)
            return render(view, section)

        return made

    def line(name: str, html: bool) -> Callable[[PaperView, SectionView], tuple[str, str]]:
        def render(paper: PaperView, section: SectionView) -> tuple[str, str]:
            made = templates.render(
                env, name, paper=paper, section=section, edition=context, c=palette,
                why=REASON_TOKEN,
            )  # fmt: skip
            if html:
                made = _BETWEEN_TAGS.sub("><", made).strip()
            before, _, after = made.partition(REASON_TOKEN)
            return before, after

        return render

    titled = plan is not None and line_markup is not None
    html_body = _cut(
        html,
        context,
        card("_paper.mjml.j2", True),
        extra(f"{PICK_HEAD}.mjml.j2", context),
        extra(f"{PICK_REASON}.mjml.j2", context, reason=REASON_TOKEN),
        _html_escape,
        MOVED_HTML,
        lines=(line(f"{TITLE}.mjml.j2", True), title_card("_paper.mjml.j2", True))
        if titled
        else None,
        title_reason=extra(f"{TITLE_REASON}.mjml.j2", context, reason=REASON_TOKEN)
        if titled
        else "",
    )
    text_body = _cut(
        text,
        context,
        card("_paper.txt.j2", False),
        extra(f"{PICK_HEAD}.txt.j2", context),
        extra(f"{PICK_REASON}.txt.j2", context, reason=REASON_TOKEN),
        _text_escape,
        MOVED_TEXT,
        lines=(line(f"{TITLE}.txt.j2", False), title_card("_paper.txt.j2", False))
        if titled
        else None,
        title_reason=extra(f"{PICK_REASON}.txt.j2", context, reason=REASON_TOKEN) if titled else "",
    )
    if html_body is None or text_body is None:
        return None
    return html_body, text_body


def _swap_room(body: Body, room: int, line_room: int) -> int:
    """The most a subscriber's copy of ``body`` (HTML) can weigh beyond the digest
    order's with a reason under every card: in each section with title lines, its N
    papers whose card (and reason) outweigh their title line the most as its N cards,
    and a reason under every title line."""
    more = 0
    for keys, titles in zip(body.sections, body.titles, strict=True):
        if not titles:
            continue
        gain = {
            k: weight(body.cards[k]) + room - weight("".join(body.title_lines[k]))
            for k in (*keys, *titles)
        }
        best = sorted(gain.values(), reverse=True)[: len(keys)]
        more += sum(best) - sum(gain[k] for k in keys) + line_room * len(titles)
    return more


def _cut(
    body: str,
    context: EditionContext,
    render_card: Callable[[PaperView, SectionView], str],
    head: str,
    reason: str,
    escape_: Callable[[str], str],
    moved: str,
    *,
    lines: tuple[
        Callable[[PaperView, SectionView], tuple[str, str]],
        Callable[[PaperView, SectionView], str],
    ]
    | None = None,
    title_reason: str = "",
) -> Body | None:
    """``body`` cut into a :class:`Body`; with ``lines`` (how a paper's title line and
    a title line paper's card are rendered) its title lines too."""
    at = body.find(PICKS_TOKEN)
    if at < 0 or REASON_TOKEN not in reason:
        return None
    if lines is not None and REASON_TOKEN not in title_reason:
        return None
    parts: list[str | int | None] = [body[:at], None]
    pos = at + len(PICKS_TOKEN)
    sections: list[tuple[str, ...]] = []
    gaps: list[tuple[str, ...]] = []
    titles: list[tuple[str, ...]] = []
    title_gaps: list[tuple[str, ...]] = []
    bridges: list[str] = []
    cards: dict[str, str] = {}
    title_lines: dict[str, tuple[str, str]] = {}
    for section in context.sections:
        shown = section.titles if lines is not None else ()
        if not section.cards and not shown:
            continue
        found_gaps: list[str] = []
        start = end = -1
        for paper in section.cards:
            rendered = render_card(paper, section)
            where = body.find(rendered, pos if end < 0 else end)
            if where < 0 or not rendered.strip():
                return None
            if end < 0:
                start = where
            else:
                found_gaps.append(body[end:where])
            end = where + len(rendered)
            cards[paper.key] = rendered
        bridge = ""
        found_lines: list[str] = []
        if lines is not None and shown:
            render_line, render_title_card = lines
            last = -1
            for paper in shown:
                cut = render_line(paper, section)
                rendered = "".join(cut)
                where = body.find(rendered, pos if end < 0 else end if last < 0 else last)
                if where < 0 or not rendered.strip():
                    return None
                if last < 0:
                    if end < 0:
                        start = where
                    else:
                        bridge = body[end:where]
                else:
                    found_lines.append(body[last:where])
                last = where + len(rendered)
                title_lines[paper.key] = cut
                cards[paper.key] = render_title_card(paper, section)
            for paper in section.cards:  # any of them may become a title line
                title_lines[paper.key] = render_line(paper, section)
            end = last
        parts += [body[pos:start], len(sections)]
        sections.append(tuple(p.key for p in section.cards))
        gaps.append(tuple(found_gaps))
        titles.append(tuple(p.key for p in shown))
        title_gaps.append(tuple(found_lines))
        bridges.append(bridge)
        pos = end
    parts.append(body[pos:])
    before, _, after = reason.partition(REASON_TOKEN)
    title_before, _, title_after = title_reason.partition(REASON_TOKEN)
    return Body(
        parts=tuple(p for p in parts if p != ""),
        sections=tuple(sections),
        gaps=tuple(gaps),
        cards=cards,
        head=head,
        reason=(before, after),
        escape=escape_,
        moved=moved,
        titles=tuple(titles),
        title_gaps=tuple(title_gaps),
        bridges=tuple(bridges),
        title_lines=title_lines,
        title_reason=(title_before, title_after),
    )
