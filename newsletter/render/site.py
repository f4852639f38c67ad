"""The static web archive and the preview folder.

:func:`publish_site` writes, for one new edition, its page and its email beside
it, then the feeds, then the index (last, so it never links to a page that is
not there yet); every file atomically.  Pages link to each other with relative
links, so the folder works opened from disk.  The layout is described in
:mod:`newsletter.urls`.  Older edition pages are not rewritten: they are
written once, when their edition is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from newsletter import urls
from newsletter.config import Settings
from newsletter.edition import to_json
from newsletter.model import Edition
from newsletter.render import templates
from newsletter.render.context import ContextBuilder, IndexContext, Meta, summarize
from newsletter.render.email import RenderedEmail, meta_for, render_email
from newsletter.render.feeds import build_feeds
from newsletter.render.files import write_atomic
from newsletter.render.recipients import RecipientLinks


def _editions(edition: Edition, history: Sequence[Edition]) -> list[Edition]:
    """``[edition, *history]`` without another copy of ``edition`` (same date and number)."""
    slug = urls.edition_slug(edition)
    return [edition, *(e for e in history if urls.edition_slug(e) != slug)]


def public_email(edition: Edition, settings: Settings) -> RenderedEmail:
    """The email as archived and previewed: generic unsubscribe/preferences pages, no tokens."""
    site = settings.site.base
    return render_email(edition, settings, links=RecipientLinks.public(site))


def _page_meta(settings: Settings, page: str) -> Meta:
    """The render values for a site page: links relative to ``page`` (works from disk)."""
    meta = meta_for(settings)
    return replace(meta, site=meta.site.for_page(page))


def edition_page(edition: Edition, settings: Settings) -> str:
    """The HTML page of one edition: every paper, full abstracts, same sections as the email."""
    meta = _page_meta(settings, urls.edition_page(edition))
    context = ContextBuilder(edition, meta, RecipientLinks.public(meta.site), None).build(None)
    env = templates.environment(settings.output.templates_dir)
    return templates.render(env, templates.EDITION_PAGE, edition=context)


def index_page(editions: Sequence[Edition], settings: Settings) -> str:
    """The archive index: every edition, newest first, the feeds and the sign-up page."""
    meta = _page_meta(settings, urls.INDEX)
    newest = ContextBuilder(editions[0], meta, RecipientLinks.public(meta.site), frozenset())
    archive = IndexContext(
        name=meta.name,
        language=meta.language,
        editions=summarize(editions, meta.site),
        links=replace(newest.links, canonical=meta.site.absolute("")),
    )
    env = templates.environment(settings.output.templates_dir)
    return templates.render(env, templates.INDEX_PAGE, archive=archive)


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


def publish_site(
    edition: Edition, history: Sequence[Edition], settings: Settings, site_dir: Path
) -> list[Path]:
    """Publish ``edition`` into the site folder; return the files written, in writing order.

    ``history`` is every earlier edition, newest first.
    """
    editions = _editions(edition, history)
    email = public_email(edition, settings)
    folder = urls.edition_dir(edition)
    files: dict[str, bytes] = {
        folder + "edition.json": to_json(edition).encode("utf-8"),
        folder + "email.html": email.html.encode("utf-8"),
        folder + "email.txt": email.text.encode("utf-8"),
        folder + "index.html": edition_page(edition, settings).encode("utf-8"),
    }
    feeds = build_feeds(editions, settings)
    files.update(sorted(feeds.items()))
    files[urls.INDEX] = index_page(editions, settings).encode("utf-8")
    return [write_atomic(site_dir / rel, data) for rel, data in files.items()]
