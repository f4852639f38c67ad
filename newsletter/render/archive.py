"""The browsable archive: a page per paper, per topic (paged), per week and per month.

Layout, beside what :mod:`newsletter.urls` lists::

    papers/<key-slug>/index.html      one paper: abstract, authors, links, topics and why
    topics/<topic>/index.html         the topic's newest PAGE_SIZE papers, newest first
    topics/<topic>/page-<n>.html      its papers PAGE_SIZE*(n-1)+1 .. PAGE_SIZE*n, counted
                                      from the *oldest* (so a full page never changes)
    weeks/<YYYY>-W<ww>/index.html     the editions of one ISO week
    months/<YYYY>-<MM>/index.html     the editions of one month
    search/index.html                 the search page (or "search is not installed")

What a run writes (see :func:`pages_to_write`): the pages of the new edition's
papers (a paper is published once, so its page is written once), the new
edition's page and the one before it (its "next" link), for each topic of the
new edition its first page, the last (partial) numbered page and any numbered
page the new papers just filled, the edition's week and month, and the index.
So a run writes O(papers of the edition + PAGE_SIZE) files whatever the
length of the history; older numbered pages are never rewritten, because
numbering from the oldest keeps their content fixed.  Nor does a run read the
whole history: it gets a :class:`newsletter.history.History`, the editions
whose papers it shows again (each topic's newest PAGE_SIZE + new papers, the
feeds' newest, the week and month, the neighbours) and the totals (editions,
papers per topic and per month, the index lines) from the store's summary
tables.

Everything here is a value: the dataclasses are what the archive templates
receive (``docs/templates.md`` lists them); links are relative to the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from newsletter import urls
from newsletter.history import LATEST_EDITIONS as LATEST_EDITIONS
from newsletter.history import PAGE_SIZE as PAGE_SIZE
from newsletter.model import Edition, Paper
from newsletter.render.context import MONTHS, date_label
from newsletter.render.untrusted import clean_text, safe_url
from newsletter.topics import Taxonomy, classify
from newsletter.urls import paper_dir as paper_dir
from newsletter.urls import paper_slug as paper_slug


def topic_dir(topic: str) -> str:
    return f"topics/{urls.topic_slug(topic)}/"


def topic_page(topic: str, number: int | None) -> str:
    """The file of a topic's page: its first page (``None``) or numbered page ``number``."""
    name = urls.INDEX if number is None else f"page-{number}.html"
    return topic_dir(topic) + name


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_dir(day: date) -> str:
    return f"weeks/{week_of(day)}/"


def month_dir(day: date) -> str:
    return f"months/{day.year}-{day.month:02d}/"


SEARCH_PAGE = "search/index.html"
SEARCH_SCRIPT = "search/search.js"
#: The paper pages' one script: shows 👍/👎 when the page was reached from an email.
VOTE_SCRIPT = "vote.js"


@dataclass(frozen=True)
class Published:
    """A paper with the edition it was published in (newest edition first in lists)."""

    paper: Paper
    edition: Edition


def published(editions: Sequence[Edition]) -> list[Published]:
    """Every paper of ``editions`` once, in the editions' order (newest first) and
    section order within one; a paper filed under several topics counts once."""
    seen: set[str] = set()
    out: list[Published] = []
    for edition in editions:
        for section in edition.sections:
            for paper in section.papers:
                if paper.key not in seen:
                    seen.add(paper.key)
                    out.append(Published(paper, edition))
    return out


# ---- what templates receive ----


@dataclass(frozen=True)
class TopicLink:
    """A topic as a link: id, title, its topic page, and (on a paper page) why it was chosen."""

    id: str
    title: str
    url: str
    why: str = ""


@dataclass(frozen=True)
class PaperItem:
    """A paper in a list (topic, week, month pages).

    Attributes:
        title, url: the title and the paper's page on this site.
        authors: the first three authors, then "et al.".
        date_label, edition_url: when it was published and the edition page.
        topics: its topics, primary first.
    """

    title: str
    url: str
    authors: str
    date_label: str
    edition_url: str
    topics: tuple[TopicLink, ...]


@dataclass(frozen=True)
class PaperPage:
    """What ``paper.html.j2`` receives as ``paper``.

    Attributes:
        key: the identity key (``arxiv:2403.01234``).
        title, abstract, authors: cleaned text.
        link: the paper's own page (absolute http(s)).
        pdf_url: arXiv's PDF link, or "".
        arxiv_id: the arXiv id, or "".
        categories: arXiv categories as given by the source.
        upvotes: Hugging Face upvotes, or None.
        topics: its topics with the rules that put it there.
        edition_label, edition_url: the edition it was in and its page (anchored).
        date: ISO date of that edition (the search filter).
        vote_ref: the paper's 8-character reference in vote links (:func:`urls.paper_ref`).
        vote_script: the relative link of :data:`VOTE_SCRIPT`.
    """

    key: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    link: str
    pdf_url: str
    arxiv_id: str
    categories: tuple[str, ...]
    upvotes: int | None
    topics: tuple[TopicLink, ...]
    edition_label: str
    edition_url: str
    date: str
    vote_ref: str = ""
    vote_script: str = ""


@dataclass(frozen=True)
class Pager:
    """Links between a topic's pages: ``newer`` / ``older`` ("" at the ends) and every page."""

    newer: str
    older: str
    pages: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ListPage:
    """What ``topic.html.j2`` and ``period.html.j2`` receive as ``listing``.

    Attributes:
        heading: the page heading (``Language Models``, ``Week 47, 2026``).
        intro: one line under it.
        papers: the papers, newest first.
        pager: links to the other pages of a topic, or None.
        feed_url: the topic's RSS feed, or "".
        editions: (label, url) of the editions of a week or month.
    """

    heading: str
    intro: str
    papers: tuple[PaperItem, ...]
    pager: Pager | None = None
    feed_url: str = ""
    editions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Chrome:
    """The frame every archive page shares (``_page.html.j2`` reads it as ``chrome``).

    Attributes:
        title: the ``<title>``, unique per page.
        description: ``<meta name=description>`` and ``og:description``.
        canonical: absolute URL of the page.
        og_type: ``website`` or ``article``.
        search: link to the search page, or "" when search is not installed.
        feeds: (label, url, MIME type) of every feed the site publishes.
        topics: links to every topic page, for the navigation.
    """

    title: str
    description: str
    canonical: str
    og_type: str
    search: str
    feeds: tuple[tuple[str, str, str], ...]
    topics: tuple[TopicLink, ...] = ()


@dataclass(frozen=True)
class EditionNav:
    """Extra links of an edition page (``edition.html.j2`` reads it as ``nav``).

    Attributes:
        previous, next: (label, url) of the neighbouring editions, or None.
        paper_urls: the page of each paper on the edition, by key.
        week_url, month_url: the week and month views the edition is in.
    """

    previous: tuple[str, str] | None
    next: tuple[str, str] | None
    paper_urls: dict[str, str]
    week_url: str
    month_url: str


def edition_label(edition: Edition) -> str:
    label = date_label(edition.date)
    return label if edition.number <= 1 else f"{label} (edition {edition.number})"


def short_authors(authors: Iterable[str], first: int = 3) -> str:
    names = [a for a in (clean_text(a) for a in authors) if a]
    return ", ".join(names[:first]) + (" et al." if len(names) > first else "")


def pdf_url(arxiv_id: str | None) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else ""


class Views:
    """Builds the template values of archive pages, links relative to each page."""

    def __init__(self, site: urls.Site, taxonomy: Taxonomy) -> None:
        self.site = site
        self.taxonomy = taxonomy

    def topic_link(self, topic: str, page: str, why: str = "") -> TopicLink:
        title = clean_text(self.taxonomy.title(topic)) or topic
        return TopicLink(topic, title, urls.relative_link(page, topic_dir(topic)), why)

    def item(self, entry: Published, page: str) -> PaperItem:
        p, e = entry.paper, entry.edition
        return PaperItem(
            title=clean_text(p.title) or "(untitled)",
            url=urls.relative_link(page, paper_dir(p.key)),
            authors=short_authors(p.authors),
            date_label=edition_label(e),
            edition_url=urls.relative_link(page, urls.edition_dir(e)),
            topics=tuple(self.topic_link(t, page) for t in dict.fromkeys(p.topics)),
        )

    def paper_page(self, entry: Published) -> PaperPage:
        p, e = entry.paper, entry.edition
        page = paper_dir(p.key) + urls.INDEX
        reasons = classify(p.title, p.abstract, p.categories, self.taxonomy).reasons
        why = {line.split(" ", 1)[0]: line.split(": ", 1)[-1] for line in reasons[1:]}
        anchor = urls.relative_link(page, urls.edition_dir(e) + "#" + urls.paper_anchor(p.key))
        return PaperPage(
            key=p.key,
            title=clean_text(p.title) or "(untitled)",
            abstract=clean_text(p.abstract),
            authors=tuple(a for a in (clean_text(a) for a in p.authors) if a),
            link=safe_url(p.url, ""),
            pdf_url=pdf_url(p.arxiv_id),
            arxiv_id=p.arxiv_id or "",
            categories=tuple(clean_text(c) for c in p.categories),
            upvotes=p.upvotes,
            topics=tuple(
                self.topic_link(t, page, clean_text(why.get(t, "")))
                for t in dict.fromkeys(p.topics)
            ),
            edition_label=edition_label(e),
            edition_url=anchor,
            date=e.date.isoformat(),
            vote_ref=urls.paper_ref(p.key),
            vote_script=urls.relative_link(page, VOTE_SCRIPT),
        )


def topic_chunks(count: int) -> int:
    """How many numbered pages a topic of ``count`` papers has (the last may be partial)."""
    return (count + PAGE_SIZE - 1) // PAGE_SIZE


def chunk(
    papers_oldest_first: Sequence[Published], number: int, skipped: int = 0
) -> list[Published]:
    """Numbered page ``number`` (from 1, oldest first): its papers, newest first.

    ``papers_oldest_first`` are the topic's papers after its ``skipped`` oldest ones
    (a run holds only the newest: :class:`newsletter.history.History`)."""
    start = (number - 1) * PAGE_SIZE - skipped
    part = papers_oldest_first[max(start, 0) : number * PAGE_SIZE - skipped]
    return list(reversed(part))


def chunks_touched(total: int, new: int) -> list[int]:
    """The numbered pages that the last ``new`` of ``total`` papers fall on."""
    if new <= 0 or total <= 0:
        return []
    first = (total - new) // PAGE_SIZE + 1
    return list(range(first, topic_chunks(total) + 1))


def period_editions(editions: Sequence[Edition], day: date, kind: str) -> list[Edition]:
    """The editions (newest first) of the ISO week or the month of ``day``."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return [e for e in editions if start <= e.date < start + timedelta(days=7)]
    return [e for e in editions if (e.date.year, e.date.month) == (day.year, day.month)]


def period_heading(day: date, kind: str) -> str:
    if kind == "week":
        year, week, _ = day.isocalendar()
        start = day - timedelta(days=day.weekday())
        return f"Week {week}, {year} (from {date_label(start)})"
    return f"{MONTHS[day.month - 1]} {day.year}"
