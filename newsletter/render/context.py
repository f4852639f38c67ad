"""The documented context every edition template receives.

Templates are a contract with operators who write their own: they see exactly
one object, :class:`EditionContext`, under the name ``edition`` (plus ``site``
on site pages), made of the frozen dataclasses below.  All text in it is
already cleaned (:mod:`newsletter.render.untrusted`) but *not* escaped:
templates rely on autoescaping.  ``docs/templates.md`` describes every field
and a test checks it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import markdown
from markupsafe import Markup

from newsletter import urls
from newsletter.edition import for_topics
from newsletter.history import EditionLine
from newsletter.identity import arxiv_abs_url, arxiv_pdf_url
from newsletter.model import Edition, Paper, PaperText, Section
from newsletter.render.recipients import RecipientLinks
from newsletter.render.teaser import contribution, teaser
from newsletter.render.untrusted import clean_text, safe_url

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""Month names, fixed so output never depends on the process locale."""


@dataclass(frozen=True)
class Plan:
    """How much of each section an email shows (the size budget's dial).

    ``teaser_chars``: longest teaser; ``cards``: papers per section shown as a
    card with a teaser (None = all), the next ones as title-only links;
    ``titles``: title-only links per section (None = all), the rest are
    counted in "N more in <topic>" linking to the edition page; ``votes``: the
    cards' 👍/👎 links, kept while teasers shorten to their short length (a
    reader votes to tell the ranking what they want; a short teaser still opens
    on the contribution sentence), dropped before any card is.  Without them a
    card of a subscriber's copy can still be voted on: its "Abstract" is the
    signed ``<vote link>/<ref>`` (the archive's paper page with the same 👍/👎,
    :attr:`Links.thumbs`), and the plain-text part keeps its vote lines.
    """

    teaser_chars: int
    cards: int | None = None
    titles: int | None = None
    votes: bool = True
    """Cards carry their 👍/👎 links (when the copy has a vote link at all); without
    them each card's "Abstract" still leads to them."""


@dataclass(frozen=True)
class Tag:
    """A topic a paper carries.

    Attributes:
        id: the topic id from the taxonomy (``llm``).
        title: its section title (``Language Models``).
        feed_url: absolute URL of the topic's RSS feed.
    """

    id: str
    title: str
    feed_url: str


@dataclass(frozen=True)
class PaperView:
    """One paper as templates show it.

    Attributes:
        key: identity key (``arxiv:2403.01234``), also the feed guid.
        title: cleaned title.
        url: the paper's own link (absolute http(s); its edition-page anchor if
            the source gave none or an unsafe one).
        archive_url: absolute URL of the paper on its edition page.
        anchor: the paper's element id on the edition page (``paper-<hash>``).
        abstract: the cleaned, full abstract.
        teaser: the abstract's sentence that says what the paper does
            (:func:`newsletter.render.teaser.contribution`), cut at a word to
            the plan's length in the email; whole on the edition page.
        truncated: whether ``teaser`` is shorter than ``abstract``.
        authors: author names, possibly empty.
        byline: the first three authors, then "et al." ("" when none are known).
        tags: every topic of the paper, primary first.
        card_tags: ``tags`` without the section the paper is shown in (a card
            does not repeat its section's name).
        arxiv_id: the versionless arXiv id (``2403.01234``), or None.
        abs_url: the arXiv abstract page, or None when the id is not known.
        pdf_url: the arXiv PDF, or None when the id is not known.
        upvotes: Hugging Face upvotes, or None when the source gave none.
    """

    key: str
    title: str
    url: str
    archive_url: str
    anchor: str
    abstract: str
    teaser: str
    truncated: bool
    authors: tuple[str, ...]
    tags: tuple[Tag, ...]
    byline: str = ""
    card_tags: tuple[Tag, ...] = ()
    arxiv_id: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    upvotes: int | None = None


BYLINE_AUTHORS = 3
"""Authors a card names before "et al."."""


def byline(authors: Sequence[str]) -> str:
    """``A, B, C et al.``: the first :data:`BYLINE_AUTHORS` names, "et al." if there are more."""
    shown = ", ".join(authors[:BYLINE_AUTHORS])
    return shown + " et al." if len(authors) > BYLINE_AUTHORS else shown


def card_order(papers: Sequence[Paper]) -> list[Paper]:
    """A section's papers as cards show them: most upvoted first, then the rest.

    Papers with upvotes (the source gave them) come first, most upvoted first;
    then papers without, in digest order.  Ties keep digest order, so the
    order is stable from one rendering to the next.
    """
    ranked = sorted(
        enumerate(papers),
        key=lambda ip: (ip[1].upvotes is None, -(ip[1].upvotes or 0), ip[0]),
    )
    return [p for _, p in ranked]


@dataclass(frozen=True)
class SectionView:
    """The papers of one topic.

    Attributes:
        topic: the topic id.
        title: the section title.
        anchor: element id of the section (``topic-<id>``), in the email and on
            the edition page.
        count: how many papers the section has in this edition.
        cards: papers shown as cards with a teaser, in :func:`card_order`.
        titles: papers shown as title-only links (when the email is large).
        more: how many papers are left out of the email (0 on the edition page).
        more_url: URL of the section on the edition page (the page itself when
            the edition files no paper under that topic: a subscriber's section
            may hold only papers tagged with it).
        feed_url: absolute URL of the topic's RSS feed.
    """

    topic: str
    title: str
    anchor: str
    count: int
    cards: tuple[PaperView, ...]
    titles: tuple[PaperView, ...]
    more: int
    more_url: str
    feed_url: str


@dataclass(frozen=True)
class Links:
    """URLs templates link to: absolute in the email, relative between site pages.

    Attributes:
        edition: this edition's page ("view in browser").
        archive: the index of all editions.
        feed: the RSS 2.0 feed of all papers.
        atom: the Atom feed of all papers.
        unsubscribe: the recipient's unsubscribe URL, or a token (see
            :mod:`newsletter.render.recipients`).
        preferences: the recipient's topic preferences URL, or a token.
        subscribe: absolute URL of the sign-up page (answered by ``newsletter serve``).
        canonical: absolute URL of the page being rendered (its ``rel=canonical``).
        vote: the recipient's 👍/👎 link base with its signed token
            (``…/v/<token>``), to which a card adds ``/<paper ref>/up`` or
            ``/down`` (the ``vote_ref`` filter of the paper's key); "" on every
            copy nobody receives (archive, feeds, preview), which then shows no
            vote links.  Set, a card's "Abstract" and a title-only line link to
            ``<vote>/<paper ref>`` (the archive's paper page with this reader's
            👍/👎) and the plain-text part always lists the two vote links.
        thumbs: whether the HTML cards print their 👍/👎 links after "Abstract"
            (with ``vote`` set).  The size budget turns them off before it cuts
            any card (:func:`newsletter.render.email.plans`); the card's
            "Abstract" then still leads to the same 👍/👎 one click later.
    """

    edition: str
    archive: str
    feed: str
    atom: str
    unsubscribe: str
    preferences: str
    subscribe: str = ""
    canonical: str = ""
    vote: str = ""
    thumbs: bool = True


@dataclass(frozen=True)
class EditionContext:
    """Everything an edition template (email, text part, edition page) may use.

    Attributes:
        name: the newsletter's name (``newsletter.name``).
        language: BCP 47 language tag (``newsletter.language``), for ``lang``.
        date: the edition date (a :class:`datetime.date`).
        date_label: the date spelled out, locale-independent (``Friday 20 November 2026``).
        number: 1, or 2+ for a further edition of the same date.
        subject: the email subject line.
        preheader: the one-line summary mail clients show after the subject.
        paper_count: papers in this rendering (after any topic filter).
        sections: the sections, in taxonomy order.  For a subscriber's topics,
            one per picked topic with every paper tagged with it, each paper
            once (:func:`newsletter.edition.for_topics`).
        note_html: the editor's note rendered from Markdown (``Markup``), or None.
        note_text: the editor's note as written (Markdown source), or None.
        postal_address: the sender's postal address (``newsletter.postal_address``).
        base_url: the site's base URL, ending in ``/``.
        links: the :class:`Links` of this edition.
        complete: False when the size budget moved some papers out of the email.
    """

    name: str
    language: str
    date: date
    date_label: str
    number: int
    subject: str
    preheader: str
    paper_count: int
    sections: tuple[SectionView, ...]
    note_html: Markup | None
    note_text: str | None
    postal_address: str
    base_url: str
    links: Links
    complete: bool


@dataclass(frozen=True)
class EditionSummary:
    """One line of the archive index.

    Attributes:
        date: the edition date.
        date_label: the date spelled out.
        number: 1, or 2+ for a further edition of the same date.
        url: absolute URL of the edition page.
        paper_count: how many papers it had.
        topics: its section titles, in order.
    """

    date: date
    date_label: str
    number: int
    url: str
    paper_count: int
    topics: tuple[str, ...]


@dataclass(frozen=True)
class IndexContext:
    """What the archive index template (``index.html.j2``) receives as ``archive``.

    Attributes:
        name: the newsletter's name.
        language: BCP 47 language tag.
        editions: every edition, newest first.
        links: the :class:`Links` of the newest edition.
    """

    name: str
    language: str
    editions: tuple[EditionSummary, ...]
    links: Links


def date_label(day: date) -> str:
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return f"{weekday[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Meta:
    """The per-edition values that do not depend on the plan (computed once)."""

    name: str
    language: str
    postal_address: str
    site: urls.Site
    titles: dict[str, str]


def paper_text(paper: Paper) -> PaperText:
    """The cleaned text of ``paper`` its views show: made once per paper at ingest
    (:func:`with_texts`), as it depends on the paper alone and is most of the cost of an
    edition's first email (the contribution sentence, the abstract's cleaning)."""
    abstract = clean_text(paper.abstract)
    return PaperText(
        title=clean_text(paper.title),
        abstract=abstract,
        teaser=contribution(abstract),
        authors=tuple(a for a in (clean_text(a) for a in paper.authors) if a),
    )


def text_of(paper: Paper) -> PaperText:
    """``paper.text`` if it was made already (at ingest, read from the store), else made now:
    the same value either way."""
    return paper.text if paper.text is not None else paper_text(paper)


def with_texts(edition: Edition) -> Edition:
    """``edition`` with each paper's :class:`~newsletter.model.PaperText` made (a paper
    that has one keeps it), so no rendering of it computes them again."""
    if all(p.text is not None for p in edition.papers):
        return edition
    made: dict[str, PaperText] = {}

    def texted(paper: Paper) -> Paper:
        if paper.text is not None:
            return paper
        text = made.get(paper.key)
        if text is None:
            text = made[paper.key] = paper_text(paper)
        return replace(paper, text=text)

    return replace(
        edition,
        sections=tuple(
            replace(s, papers=tuple(texted(p) for p in s.papers)) for s in edition.sections
        ),
    )


class PaperViews:
    """The view of every paper of one edition, built once and shared by every
    rendering of it: the email of each topic set, its text part, the edition page.

    A paper is cleaned and its contribution sentence chosen once; a card of it
    in one section with one teaser length is made once.
    """

    def __init__(self, edition: Edition, meta: Meta) -> None:
        self.meta = meta
        self.edition_url = meta.site.edition_url(edition)
        self._tags: dict[str, Tag] = {}
        self._papers = {p.key: self._paper(p) for p in edition.papers}
        self._cards: dict[tuple[str, str, int | str | None], PaperView] = {}
        """By (key, section, teaser limit), and by (key, section, teaser text)."""
        self._card_tags: dict[tuple[str, str], tuple[Tag, ...]] = {}

    def _tag(self, topic: str) -> Tag:
        tag = self._tags.get(topic)
        if tag is None:
            title = clean_text(self.meta.titles.get(topic, topic))
            tag = Tag(id=topic, title=title, feed_url=self.meta.site.url(urls.topic_feed(topic)))
            self._tags[topic] = tag
        return tag

    def _paper(self, paper: Paper) -> PaperView:
        anchor = urls.paper_anchor(paper.key)
        archive_url = f"{self.edition_url}#{anchor}"
        text = text_of(paper)
        authors = text.authors
        arxiv_id = paper.arxiv_id or None
        topics = paper.topics
        tag = self._tag
        # Made as PaperView(...) would make it, without the frozen dataclass's __init__
        # (16 fields each set through object.__setattr__): an edition's first email makes
        # one per paper (tests/test_render_texts.py compares the two).
        view = object.__new__(PaperView)
        view.__dict__.update(
            key=paper.key,
            title=text.title or "(untitled)",
            url=safe_url(paper.url, archive_url),
            archive_url=archive_url,
            anchor=anchor,
            abstract=text.abstract,
            teaser=text.teaser,
            truncated=False,
            authors=authors,
            tags=(tag(topics[0]),)
            if len(topics) == 1
            else tuple([tag(t) for t in dict.fromkeys(topics)]),
            byline=byline(authors),
            card_tags=(),
            arxiv_id=arxiv_id,
            abs_url=arxiv_abs_url(arxiv_id) if arxiv_id else None,
            pdf_url=arxiv_pdf_url(arxiv_id) if arxiv_id else None,
            upvotes=paper.upvotes,
        )
        return view

    def card(self, paper: Paper, section: str, limit: int | None) -> PaperView:
        """The paper as shown in ``section``, its teaser cut to ``limit`` (None: whole)."""
        key = (paper.key, section, limit)
        view = self._cards.get(key)
        if view is None:
            base = self._papers.get(paper.key) or self._paper(paper)
            short = base.teaser if limit is None else teaser(base.teaser, limit)
            # Two lengths that leave the teaser whole (or cut it alike) make one view,
            # so its card is rendered once (cards are kept per view).
            same = self._cards.get((paper.key, section, short))
            if same is not None:
                self._cards[key] = same
                return same
            tags = self._card_tags.get((paper.key, section))
            if tags is None:
                tags = tuple(t for t in base.tags if t.id != section)
                self._card_tags[(paper.key, section)] = tags
            # The base view with three fields changed, made as dataclasses.replace would,
            # without its __init__ (a frozen dataclass sets each of its 16 fields through
            # object.__setattr__): the first email makes a view per card per teaser length.
            view = object.__new__(PaperView)
            fields = view.__dict__
            fields.update(base.__dict__)
            fields["teaser"] = short
            fields["truncated"] = short != base.abstract
            fields["card_tags"] = tags
            self._cards[key] = self._cards[(paper.key, section, short)] = view
        return view


class ContextBuilder:
    """Builds contexts of one edition for several plans, from its shared :class:`PaperViews`."""

    def __init__(
        self,
        edition: Edition,
        meta: Meta,
        links: RecipientLinks,
        topics: frozenset[str] | None,
        views: PaperViews | None = None,
    ) -> None:
        self.edition = edition
        self.meta = meta
        self.topics = topics
        site = meta.site
        self.edition_url = site.edition_url(edition)
        self.links = Links(
            edition=self.edition_url,
            archive=site.url(""),
            feed=site.url(urls.FEED_RSS),
            atom=site.url(urls.FEED_ATOM),
            unsubscribe=links.unsubscribe_url,
            preferences=links.preferences_url,
            subscribe=site.absolute(urls.SUBSCRIBE_PAGE),
            canonical=site.absolute(urls.edition_dir(edition)),
            vote=site.url(f"{urls.VOTE_LINK}/{links.vote_token}") if links.vote_token else "",
        )
        shown = edition if topics is None else for_topics(edition, topics, meta.titles)
        self.sections: tuple[Section, ...] = tuple(s for s in shown.sections if s.papers)
        self._page_sections = frozenset(s.topic for s in edition.sections if s.papers)
        self.views = views if views is not None else PaperViews(edition, meta)
        self._order = {s.topic: card_order(s.papers) for s in self.sections}
        self._note_html = _note_html(edition.note)

    def cards(self, plan: Plan, *, whole: bool = False) -> list[PaperView]:
        """The card views ``plan`` shows, section after section: the ``cards`` of the
        sections :meth:`build` makes, without making the context (the size budget weighs
        plans it does not show).  ``whole``: the same papers' views with their whole
        teasers, which the plan's views cut (:func:`~newsletter.render.teaser.teaser`
        of ``teaser_chars``), and differ from in the teaser only."""
        shown: list[PaperView] = []
        card = self.views.card
        limit = None if whole else plan.teaser_chars
        for section in self.sections:
            ordered = self._order[section.topic]
            topic = section.topic
            if plan.cards is not None:
                ordered = ordered[: plan.cards]
            shown.extend(card(p, topic, limit) for p in ordered)
        return shown

    def vote_link(self, plan: Plan) -> str:
        """The ``links.vote`` of :meth:`build`'s context for ``plan`` (every plan's: a
        plan without 👍/👎 keeps the signed "Abstract" link and the text part's votes)."""
        return self.links.vote

    def build(self, plan: Plan | None) -> EditionContext:
        """The context for ``plan``; ``None`` means everything, full abstracts (edition page)."""
        views = []
        for section in self.sections:
            ordered = self._order[section.topic]
            if plan is None:
                cards = [self.views.card(p, section.topic, None) for p in ordered]
                titles, rest = [], []
            else:
                n_cards = len(ordered) if plan.cards is None else plan.cards
                cards = [
                    self.views.card(p, section.topic, plan.teaser_chars) for p in ordered[:n_cards]
                ]
                after = [self.views.card(p, section.topic, None) for p in ordered[n_cards:]]
                n_titles = len(after) if plan.titles is None else plan.titles
                titles, rest = after[:n_titles], after[n_titles:]
            anchor = urls.topic_anchor(section.topic)
            views.append(
                SectionView(
                    topic=section.topic,
                    title=clean_text(section.title) or section.topic,
                    anchor=anchor,
                    count=len(ordered),
                    cards=tuple(cards),
                    titles=tuple(titles),
                    more=len(rest),
                    more_url=f"{self.edition_url}#{anchor}"
                    if section.topic in self._page_sections
                    else self.edition_url,  # its papers are in other sections of the page
                    feed_url=self.meta.site.url(urls.topic_feed(section.topic)),
                )
            )
        thumbs = plan is None or plan.votes
        return self._context(
            tuple(views), self.links if thumbs else replace(self.links, thumbs=False)
        )

    def _context(self, sections: tuple[SectionView, ...], links: Links) -> EditionContext:
        edition, meta = self.edition, self.meta
        count = sum(s.count for s in sections)
        label = date_label(edition.date)
        noun = "paper" if count == 1 else "papers"
        subject = f"{meta.name}: {count} new {noun}, {label}"
        if edition.number > 1:
            subject += f" (edition {edition.number})"
        preheader = ", ".join(f"{s.title} ({s.count})" for s in sections) or "No new papers today."
        return EditionContext(
            name=meta.name,
            language=meta.language,
            date=edition.date,
            date_label=label,
            number=edition.number,
            subject=subject,
            preheader=preheader,
            paper_count=count,
            sections=sections,
            note_html=self._note_html,
            note_text=edition.note or None,
            postal_address=meta.postal_address,
            base_url=meta.site.base_url,
            links=links,
            complete=all(s.more == 0 for s in sections),
        )


def _note_html(text: str | None) -> Markup | None:
    """The editor's note (Markdown, written by the operator: may hold HTML) as HTML."""
    if not text:
        return None
    return Markup(markdown.markdown(text, output_format="html"))


def summarize(editions: Sequence[EditionLine], site: urls.Site) -> tuple[EditionSummary, ...]:
    """Index lines of ``editions`` (kept in the order given: newest first)."""
    return tuple(
        EditionSummary(
            date=e.date,
            date_label=date_label(e.date),
            number=e.number,
            url=site.edition_url(Edition(date=e.date, sections=(), number=e.number)),
            paper_count=e.paper_count,
            topics=tuple(clean_text(title) for title, _ in e.sections),
        )
        for e in editions
    )
