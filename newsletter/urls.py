"""Where each published file lives, and its public URL.

The layout of the site folder (``output.site_dir``) and of its public URL
(``newsletter.base_url``) is the same tree::

    index.html                        every edition, newest first
    feed.xml                          RSS 2.0, newest feeds.max_items papers
    atom.xml                          Atom (RFC 4287), the same items
    topics/<topic>.xml                RSS 2.0 of the papers carrying that topic
    editions/<date>[-<n>]/index.html  one edition, full abstracts ("view in browser")
    editions/<date>[-<n>]/email.html  the email as sent (placeholder recipient links)
    editions/<date>[-<n>]/email.txt   its plain-text part
    editions/<date>[-<n>]/edition.json

``<date>`` is the ISO date; ``-<n>`` is added for a second or later edition of
the same date (``run --force``).  On an edition page each section has the
anchor ``#topic-<id>`` and each paper ``#paper-<hash>``, where ``<hash>`` is the
first 12 hex digits of the SHA-1 of its key: stable, and safe for any key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from newsletter.model import Edition

FEED_RSS = "feed.xml"
FEED_ATOM = "atom.xml"
INDEX = "index.html"
_SLUG = re.compile(r"[^a-z0-9_-]+")


def edition_slug(edition: Edition) -> str:
    """``2026-11-20`` for the first edition of a date, ``2026-11-20-2`` for the second."""
    day = edition.date.isoformat()
    return day if edition.number <= 1 else f"{day}-{edition.number}"


def edition_dir(edition: Edition) -> str:
    """Folder of an edition, relative to the site root (with a trailing slash)."""
    return f"editions/{edition_slug(edition)}/"


def topic_slug(topic: str) -> str:
    """A topic id as it may appear in a file name or an anchor."""
    return _SLUG.sub("-", topic.lower()).strip("-") or "topic"


def topic_feed(topic: str) -> str:
    return f"topics/{topic_slug(topic)}.xml"


def topic_anchor(topic: str) -> str:
    return f"topic-{topic_slug(topic)}"


def paper_anchor(key: str) -> str:
    return "paper-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Site:
    """Absolute URLs of the published site, from ``newsletter.base_url``."""

    base_url: str

    @classmethod
    def from_base(cls, base_url: str) -> Site:
        return cls(base_url if base_url.endswith("/") else base_url + "/")

    def url(self, relative: str) -> str:
        return self.base_url + relative

    def edition_url(self, edition: Edition) -> str:
        return self.url(edition_dir(edition))
