"""Publishing an edition: the email (HTML + text), the feeds, the web archive.

Public API (what the pipeline and the CLI call)::

    render_email(edition, settings, *, topics=None, links=None) -> RenderedEmail
    build_feeds(editions, settings) -> {relative path: bytes}
    write_preview(edition, history, settings, out_dir) -> [Path]
    publish_site(edition, history, settings, site_dir) -> [Path]

Modules, one idea each:

=================  ==========================================================
``context``        the documented dataclasses templates receive
``templates``      the Jinja environment: operator folder first, then stock
``email``          MJML → HTML within the size budget; the RenderedEmail
``recipients``     per-recipient links and the placeholder tokens for them
``feeds``          RSS 2.0 / Atom (feedgen), JSON Feed 1.1, OPML
``site``           edition pages, the index, preview and publish
``teaser``         the sentence that says what a paper does, fitted
``untrusted``      making titles, abstracts and URLs inert
``files``          atomic writes
=================  ==========================================================

Owns: everything a reader sees of an edition: templates and their contexts,
the email within its byte budget (with placeholder tokens for the
per-recipient links, which delivery splices), feeds, site pages.

May import: the core values (``model``, ``errors``, ``edition``, ``faults``,
``resources``, ``urls``) and ``config``.  Never ``store``, ``delivery``, ``web``,
``pipeline`` or ``cli``: rendering takes values and returns values (and
writes files atomically).  See ``docs/architecture.md`` and
``docs/templates.md``.

The site layout and its URLs (:class:`newsletter.urls.Site`) live one level up,
in :mod:`newsletter.urls`, so that :mod:`newsletter.config` can hand out a
``Site`` without importing the renderer.
"""

from newsletter.render.context import EditionContext
from newsletter.render.email import RenderedEmail, render_email
from newsletter.render.feeds import build_feeds
from newsletter.render.recipients import (
    PREFERENCES_TOKEN,
    UNSUBSCRIBE_TOKEN,
    VOTE_TOKEN,
    RecipientLinks,
)
from newsletter.render.site import publish_site, write_preview

__all__ = [
    "PREFERENCES_TOKEN",
    "UNSUBSCRIBE_TOKEN",
    "VOTE_TOKEN",
    "EditionContext",
    "RecipientLinks",
    "RenderedEmail",
    "build_feeds",
    "publish_site",
    "render_email",
    "write_preview",
]
