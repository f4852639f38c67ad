"""The static web archive and the preview folder.

:func:`publish_site` writes, for one new edition: the pages of its papers, its
page, email and edition.json, the page of the edition before it (its "next"
link), the feeds, the topic pages, week and month views the edition changes,
the search page, and the index (last, so it never links to a page that is not
there yet); every file atomically.  Then, when Pagefind is installed, the
search index (:mod:`newsletter.render.search`).  Pages link to each other with
relative links, so the folder works opened from disk.  The layout is described
in :mod:`newsletter.urls` and :mod:`newsletter.render.archive`, and so is why a
run writes a bounded number of files whatever the length of the history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from newsletter import resources, urls
from newsletter.config import Settings
from newsletter.edition import to_json
from newsletter.history import History
from newsletter.model import Edition
from newsletter.render import archive, search, templates
from newsletter.render.archive import Chrome, EditionNav, ListPage, Pager, Published, Views
from newsletter.render.context import ContextBuilder, IndexContext, Meta, date_label, summarize
from newsletter.render.email import RenderedEmail, meta_for, render_email
from newsletter.render.feeds import build_feeds
from newsletter.render.files import write_atomic
from newsletter.render.recipients import RecipientLinks
from newsletter.render.untrusted import clean_text

log = logging.getLogger(__name__)

FEED_NAMES = (
    (urls.FEED_RSS, "RSS feed", "application/rss+xml"),
    (urls.FEED_ATOM, "Atom feed", "application/atom+xml"),
    ("feed.json", "JSON feed", "application/feed+json"),
    ("feeds.opml", "All topic feeds (OPML)", "text/x-opml"),
)
"""The site-wide feeds pages link to, when :func:`build_feeds` makes them."""

INDEX_PAGE = "index.html.j2"
PAPER_PAGE = "paper.html.j2"
TOPIC_PAGE = "topic.html.j2"
PERIOD_PAGE = "period.html.j2"
SEARCH_PAGE = "search.html.j2"


def _editions(edition: Edition, history: Sequence[Edition]) -> list[Edition]:
    """``[edition, *history]`` without another copy of ``edition`` (same date and number)."""
    slug = urls.edition_slug(edition)
    return [edition, *(e for e in history if urls.edition_slug(e) != slug)]


def _published(edition: Edition, history: Sequence[Edition] | History) -> History:
    """The history after publishing ``edition``: from the store's totals (a run), or
    counted over a full list of the editions before it (tests, previews)."""
    if isinstance(history, History):
        return history.with_newest(edition)
    return History.of(_editions(edition, history))


def public_email(edition: Edition, settings: Settings) -> RenderedEmail:
    """The email as archived and previewed: generic unsubscribe/preferences pages, no tokens."""
    site = settings.site.base
    return render_email(edition, settings, links=RecipientLinks.public(site))


def _page_meta(settings: Settings, page: str) -> Meta:
    """The render values for a site page: links relative to ``page`` (works from disk)."""
    meta = meta_for(settings)
    return replace(meta, site=meta.site.for_page(page))


class _Frame:
    """What every archive page shares: the feeds that exist, search, the topics."""

    def __init__(self, settings: Settings, feeds: Sequence[str], searchable: bool) -> None:
        self.settings = settings
        self.name = clean_text(settings.newsletter.name)
        self.feeds = [f for f in FEED_NAMES if f[0] in feeds]
        self.published = frozenset(feeds)  # every feed file, the topics' included
        self.searchable = searchable

    def chrome(self, page: str, title: str, description: str, og_type: str = "website") -> Chrome:
        site = self.settings.site.base
        folder = page.removesuffix(urls.INDEX)
        views = Views(site.for_page(page), self.settings.taxonomy)
        return Chrome(
            title=title,
            description=description,
            canonical=site.absolute(folder),
            og_type=og_type,
            search=urls.relative_link(page, archive.SEARCH_PAGE) if self.searchable else "",
            feeds=tuple((label, urls.relative_link(page, f), t) for f, label, t in self.feeds),
            topics=tuple(views.topic_link(t.id, page) for t in self.settings.taxonomy.topics),
        )

    def links(self, page: str) -> Any:
        meta = _page_meta(self.settings, page)
        return {
            "archive": meta.site.url(""),
            "feed": meta.site.url(urls.FEED_RSS),
            "atom": meta.site.url(urls.FEED_ATOM),
            "subscribe": meta.site.absolute(urls.SUBSCRIBE_PAGE),
            "vote": meta.site.absolute(urls.VOTE_LINK),
            "canonical": meta.site.absolute(page.removesuffix(urls.INDEX)),
        }


def _nav(edition: Edition, editions: Sequence[Edition], page: str) -> EditionNav:
    at = next(
        i for i, e in enumerate(editions) if urls.edition_slug(e) == urls.edition_slug(edition)
    )
    older = editions[at + 1] if at + 1 < len(editions) else None
    newer = editions[at - 1] if at > 0 else None

    def link(e: Edition | None) -> tuple[str, str] | None:
        if e is None:
            return None
        return archive.edition_label(e), urls.relative_link(page, urls.edition_dir(e))

    keys = {p.key for s in edition.sections for p in s.papers}
    return EditionNav(
        previous=link(older),
        next=link(newer),
        paper_urls={k: urls.relative_link(page, archive.paper_dir(k)) for k in keys},
        week_url=urls.relative_link(page, archive.week_dir(edition.date)),
        month_url=urls.relative_link(page, archive.month_dir(edition.date)),
    )


def edition_page(
    edition: Edition,
    settings: Settings,
    editions: Sequence[Edition] | None = None,
    frame: _Frame | None = None,
) -> str:
    """The HTML page of one edition: every paper, abstracts folded, same sections as the email."""
    page = urls.edition_page(edition)
    editions = list(editions) if editions is not None else [edition]
    frame = frame or _Frame(settings, [urls.FEED_RSS, urls.FEED_ATOM], search.available())
    meta = _page_meta(settings, page)
    context = ContextBuilder(edition, meta, RecipientLinks.public(meta.site), None).build(None)
    label = archive.edition_label(edition)
    topics = ", ".join(f"{s.title} ({s.count})" for s in context.sections) or "no new papers"
    chrome = frame.chrome(
        page,
        f"{context.name}: {label}, {context.paper_count} new papers",
        f"{context.paper_count} new research papers on {label}: {topics}.",
        "article",
    )
    env = templates.environment(settings.output.templates_dir)
    return templates.render(
        env,
        templates.EDITION_PAGE,
        edition=context,
        chrome=chrome,
        nav=_nav(edition, editions, page),
    )


def index_page(
    editions: Sequence[Edition] | History, settings: Settings, frame: _Frame | None = None
) -> str:
    """The archive index: the latest editions and their sizes per topic, topics, months.

    ``editions`` is every edition, newest first, or a :class:`History` of them
    (whose ``editions[0]`` is the newest)."""
    history = editions if isinstance(editions, History) else History.of(editions)
    frame = frame or _Frame(settings, [urls.FEED_RSS, urls.FEED_ATOM], search.available())
    meta = _page_meta(settings, urls.INDEX)
    first = history.editions[0]
    newest = ContextBuilder(first, meta, RecipientLinks.public(meta.site), frozenset())
    latest = history.latest
    index = IndexContext(
        name=meta.name,
        language=meta.language,
        editions=summarize(latest, meta.site),
        links=replace(newest.links, canonical=meta.site.absolute("")),
    )
    sizes = [tuple((clean_text(title), n) for title, n in e.sections) for e in latest]
    counts = history.topic_counts
    months = [
        (
            archive.period_heading(date(y, m, 1), "month"),
            urls.relative_link(urls.INDEX, archive.month_dir(date(y, m, 1))),
            n,
        )
        for y, m, n in history.months
    ]
    chrome = frame.chrome(
        urls.INDEX,
        f"{meta.name}: new research papers, every edition",
        f"{meta.name}: the archive of every edition, by topic, week and month, with feeds.",
    )
    env = templates.environment(settings.output.templates_dir)
    return templates.render(
        env,
        INDEX_PAGE,
        archive=index,
        chrome=chrome,
        sizes=sizes,
        topic_counts={t.id: counts.get(t.id, 0) for t in settings.taxonomy.topics},
        months=tuple(months),
        more_editions=max(0, history.count - len(latest)),
    )


def write_preview(
    edition: Edition, history: Sequence[Edition], settings: Settings, out_dir: Path
) -> list[Path]:
    """Write email.html, email.txt, feed.xml, atom.xml and edition.json into ``out_dir``.

    The feeds cover ``[edition, *history]`` as they would after publishing.
    """
    email = public_email(edition, settings)
    feeds = build_feeds(_editions(edition, history), settings)
    files = {
        "email.html": email.html.encode("utf-8"),
        "email.txt": email.text.encode("utf-8"),
        urls.FEED_RSS: feeds[urls.FEED_RSS],
        urls.FEED_ATOM: feeds[urls.FEED_ATOM],
        "edition.json": to_json(edition).encode("utf-8"),
    }
    return [write_atomic(out_dir / name, data) for name, data in files.items()]


class _Archive:
    """Renders the archive pages a run writes (see :mod:`newsletter.render.archive`)."""

    def __init__(
        self,
        editions: Sequence[Edition],
        settings: Settings,
        frame: _Frame,
        totals: Mapping[str, int] | None = None,
    ) -> None:
        self.editions = editions
        # Papers per topic over the whole archive (``editions`` may hold only the newest).
        self.totals = History.of(editions).topic_counts if totals is None else totals
        self.settings = settings
        self.frame = frame
        self.env = templates.environment(settings.output.templates_dir)
        self.all = archive.published(editions)
        self.name = frame.name

    def _render(self, template: str, page: str, **context: Any) -> bytes:
        return templates.render(
            self.env,
            template,
            site_name=self.name,
            language=self.settings.newsletter.language,
            links=self.frame.links(page),
            **context,
        ).encode("utf-8")

    def paper(self, entry: Published) -> tuple[str, bytes]:
        page = archive.paper_dir(entry.paper.key) + urls.INDEX
        view = Views(self.settings.site.base, self.settings.taxonomy).paper_page(entry)
        lead = view.abstract[:200].rsplit(" ", 1)[0] + ("…" if len(view.abstract) > 200 else "")
        chrome = self.frame.chrome(page, f"{view.title} · {self.name}", lead, "article")
        return page, self._render(PAPER_PAGE, page, chrome=chrome, paper=view)

    def topic(self, topic: str, new: int) -> dict[str, bytes]:
        """The topic's first page, plus the numbered pages its ``new`` newest papers fall on."""
        # The newest PAGE_SIZE + new papers of the topic are read (History), oldest first.
        newest = [e for e in self.all if topic in e.paper.topics][: archive.PAGE_SIZE + new]
        papers = newest[::-1]
        title = clean_text(self.settings.taxonomy.title(topic)) or topic
        total = max(self.totals.get(topic, 0), len(papers))
        skipped = total - len(papers)
        pages = archive.topic_chunks(total)
        out: dict[str, bytes] = {}
        wanted: list[int | None] = [None, *archive.chunks_touched(total, new)]
        for number in wanted:
            page = archive.topic_page(topic, number)
            if number is None:
                shown = list(reversed(papers[-archive.PAGE_SIZE :]))
                older = pages - 1 if total > archive.PAGE_SIZE else 0
                newer = 0
            else:
                shown = archive.chunk(papers, number, skipped)
                older = number - 1
                newer = number + 1 if number < pages else -1  # -1: the first page

            def link(n: int, page: str = page) -> str:
                if n == 0:
                    return ""
                return urls.relative_link(page, archive.topic_page(topic, None if n < 0 else n))

            pager = Pager(
                newer=link(newer),
                older=link(older),
                pages=tuple(
                    (f"{n}", urls.relative_link(page, archive.topic_page(topic, n)))
                    for n in range(pages, 0, -1)
                ),
            )
            views = Views(self.settings.site.base.for_page(page), self.settings.taxonomy)
            span = (
                f"papers {(number - 1) * archive.PAGE_SIZE + 1}–"
                f"{min(number * archive.PAGE_SIZE, total)} of {total}, counted from the first"
                if number is not None
                else f"the {len(shown)} newest of {total} papers"
            )
            listing = ListPage(
                heading=title,
                intro=f"{title}: {span}, newest first.",
                papers=tuple(views.item(e, page) for e in shown),
                pager=pager if pages > 1 else None,
                # No feed is published for a topic without papers (nor linked).
                feed_url=urls.relative_link(page, urls.topic_feed(topic))
                if urls.topic_feed(topic) in self.frame.published
                else "",
            )
            suffix = "" if number is None else f", page {number}"
            chrome = self.frame.chrome(
                page,
                f"{title}{suffix} · {self.name}",
                f"Research papers on {title} in {self.name}, newest first ({total} so far).",
            )
            out[page] = self._render(TOPIC_PAGE, page, chrome=chrome, listing=listing)
        return out

    def period(self, day: Any, kind: str) -> tuple[str, bytes]:
        folder = archive.week_dir(day) if kind == "week" else archive.month_dir(day)
        page = folder + urls.INDEX
        editions = archive.period_editions(self.editions, day, kind)
        views = Views(self.settings.site.base.for_page(page), self.settings.taxonomy)
        entries = archive.published(editions)
        heading = archive.period_heading(day, kind)
        listing = ListPage(
            heading=heading,
            intro=f"{len(entries)} papers in {len(editions)} editions, newest first.",
            papers=tuple(views.item(e, page) for e in entries),
            editions=tuple(
                (archive.edition_label(e), urls.relative_link(page, urls.edition_dir(e)))
                for e in editions
            ),
        )
        chrome = self.frame.chrome(
            page,
            f"{self.name}: {heading}",
            f"The {len(entries)} research papers {self.name} published in {heading}.",
        )
        return page, self._render(PERIOD_PAGE, page, chrome=chrome, listing=listing)

    def search_page(self) -> tuple[str, bytes]:
        page = archive.SEARCH_PAGE
        chrome = self.frame.chrome(
            page, f"Search · {self.name}", f"Search the papers of {self.name}."
        )
        topics = [clean_text(t.title) for t in self.settings.taxonomy.topics]
        return page, self._render(
            SEARCH_PAGE,
            page,
            chrome=chrome,
            installed=self.frame.searchable,
            topics=topics,
            bundle=urls.relative_link(page, search.INDEX_DIR + "/pagefind.js")[
                : -len("pagefind.js")
            ],
        )


def publish_site(
    edition: Edition,
    history: Sequence[Edition] | History,
    settings: Settings,
    site_dir: Path,
) -> list[Path]:
    """Publish ``edition`` into the site folder; return the files written, in writing order.

    ``history`` is every earlier edition, newest first, or what a run reads of
    them (:class:`newsletter.history.History`: the editions it shows papers of
    and the archive's totals).
    """
    full = _published(edition, history)
    editions = list(full.editions)
    feeds = build_feeds(editions, settings)
    frame = _Frame(settings, list(feeds), search.available())
    pages = _Archive(editions, settings, frame, full.topic_counts)
    email = public_email(edition, settings)
    folder = urls.edition_dir(edition)
    files: dict[str, bytes] = {}
    new = [e for e in pages.all if e.edition is edition]
    for entry in new:
        rel, data = pages.paper(entry)
        files[rel] = data
    files.update(
        {
            folder + "edition.json": to_json(edition).encode("utf-8"),
            folder + "email.html": email.html.encode("utf-8"),
            folder + "email.txt": email.text.encode("utf-8"),
            folder + "index.html": edition_page(edition, settings, editions, frame).encode("utf-8"),
        }
    )
    if len(editions) > 1:  # the edition before this one gains its "next" link
        before = editions[1]
        files[urls.edition_page(before)] = edition_page(before, settings, editions, frame).encode(
            "utf-8"
        )
    files.update(sorted(feeds.items()))
    added: dict[str, int] = {}
    for entry in new:
        for t in dict.fromkeys(entry.paper.topics):
            added[t] = added.get(t, 0) + 1
    for topic in settings.taxonomy.ids:
        if topic in added or not (site_dir / archive.topic_page(topic, None)).exists():
            files.update(pages.topic(topic, added.get(topic, 0)))
    for kind in ("week", "month"):
        rel, data = pages.period(edition.date, kind)
        files[rel] = data
    rel, data = pages.search_page()
    files[rel] = data
    files[archive.SEARCH_SCRIPT] = resources.stock_templates().joinpath("search.js").read_bytes()
    files[archive.VOTE_SCRIPT] = resources.stock_templates().joinpath("vote.js").read_bytes()
    files[urls.INDEX] = index_page(full, settings, frame).encode("utf-8")
    written = [write_atomic(site_dir / rel, data) for rel, data in files.items()]
    warning = search.build_index(site_dir)
    if warning:
        log.warning("%s", warning)
    return written


__all__ = ["date_label", "edition_page", "index_page", "public_email", "publish_site"]
