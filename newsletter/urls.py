"""Where each published file lives, and its public URL.

The layout of the site folder (``output.site_dir``) and of its public URL
(``newsletter.base_url``) is the same tree::

    index.html                        every edition, newest first
    feed.xml                          RSS 2.0, newest feeds.max_items papers
    atom.xml                          Atom (RFC 4287), the same items
    feed.json                         JSON Feed 1.1, the same items
    feeds.opml                        OPML list of every published feed
    topics/<topic>.xml                RSS 2.0 of the papers carrying that topic
    topics/<topic>.json               JSON Feed 1.1 of the same
    editions/<date>[-<n>]/index.html  one edition, full abstracts ("view in browser")
    editions/<date>[-<n>]/email.html  the email as sent (placeholder recipient links)
    editions/<date>[-<n>]/email.txt   its plain-text part
    editions/<date>[-<n>]/edition.json

``<date>`` is the ISO date; ``-<n>`` is added for a second or later edition of
the same date (``run --force``).  On an edition page each section has the
anchor ``#topic-<id>`` and each paper ``#paper-<hash>``, where ``<hash>`` is the
first 12 hex digits of the SHA-1 of its key: stable, and safe for any key.

Links *between the site's own pages* are relative (``../../feed.xml``), and a
link to a folder names its ``index.html``, so the archive works from disk
(``file://``), from any folder it is copied to and behind any prefix.  Only
what leaves the site is absolute, from ``newsletter.base_url``: the email and
its text part (read in a mail client), the feeds (read in a feed reader), a
page's ``rel=canonical`` link, and the subscriber pages (``subscribe``...),
which only ``newsletter serve`` answers.  :class:`Site` makes both kinds:
:meth:`Site.url` is absolute unless the Site was made :meth:`Site.for_page`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from newsletter.model import Edition

FEED_RSS = "feed.xml"
FEED_ATOM = "atom.xml"
FEED_JSON = "feed.json"
FEEDS_OPML = "feeds.opml"
INDEX = "index.html"
SUBSCRIBE_PAGE = "subscribe"
"""The sign-up page of ``newsletter serve``, relative to ``newsletter.base_url``."""
VOTE_PAGE = "vote"
"""The 👍/👎 page of ``newsletter serve`` (a GET shows a button, only a POST records)."""
VOTE_LINK = "v"
"""The short 👍/👎 links of an email: ``v/<token>/<paper ref>/up|down`` (a GET shows
the vote page)."""
REF_CHARS = 8
"""Length of a paper's reference in a vote link (48 bits: two papers of one edition
sharing one is a 1 in 10^10 event for 100 papers; such a link is refused, never
misattributed)."""
_SLUG = re.compile(r"[^a-z0-9_-]+")


_KEY_SLUG = re.compile(r"[^a-z0-9._-]+")


def paper_slug(key: str) -> str:
    """``arxiv:2403.01234`` → ``arxiv-2403.01234``; other keys get a hash to stay unique.

    The ``:`` after the scheme becomes ``-``; a key that needed any other change
    (case, spaces, punctuation) or is long gets ``-<8 hex of its SHA-1>`` so two
    keys never share a folder.
    """
    plain = key.replace(":", "-", 1)
    slug = _KEY_SLUG.sub("-", plain.lower()).strip("-.")[:60]
    if slug != plain or not slug:
        slug = (
            (slug[:50].rstrip("-.") or "paper") + "-" + hashlib.sha1(key.encode()).hexdigest()[:8]
        )
    return slug


def paper_dir(key: str) -> str:
    return f"papers/{paper_slug(key)}/"


def paper_ref(paper_key: str) -> str:
    """The short reference of a paper in a vote link: 8 URL-safe characters of a hash
    of its key.  It names a paper only together with an edition (the vote token's),
    so a link weighs the same whatever the key (a title key is a whole title)."""
    digest = hashlib.blake2b(paper_key.encode("utf-8"), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


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


def topic_json_feed(topic: str) -> str:
    return f"topics/{topic_slug(topic)}.json"


def topic_anchor(topic: str) -> str:
    return f"topic-{topic_slug(topic)}"


def paper_anchor(key: str) -> str:
    return "paper-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def edition_page(edition: Edition) -> str:
    """The edition page's file, relative to the site root."""
    return edition_dir(edition) + INDEX


def relative_link(page: str, target: str) -> str:
    """The link from the file ``page`` to ``target`` (both relative to the site root).

    A ``target`` naming a folder (``""``, ``editions/2026-11-20/``) links to its
    ``index.html``: a browser opening files from disk shows no folder index.
    A fragment (``#paper-...``) is kept.
    """
    path, hash_mark, fragment = target.partition("#")
    if path == "" or path.endswith("/"):
        path += INDEX
    here = page.split("/")[:-1]
    there = path.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    link = "/".join([".."] * (len(here) - common) + there[common:])
    return link + hash_mark + fragment


@dataclass(frozen=True)
class Site:
    """URLs of the published site: absolute from ``newsletter.base_url``, or relative
    to one page of the site (:meth:`for_page`).

    ``page`` is the file links are written from, relative to the site root
    (``editions/2026-11-20/index.html``); ``None`` means absolute URLs.
    """

    base_url: str
    page: str | None = None

    @classmethod
    def from_base(cls, base_url: str) -> Site:
        return cls(base_url if base_url.endswith("/") else base_url + "/")

    def for_page(self, page: str) -> Site:
        """The same site, linking relative to the file ``page``."""
        return Site(self.base_url, page)

    def url(self, relative: str) -> str:
        """The link to ``relative``: from this page when there is one, else absolute."""
        if self.page is None:
            return self.base_url + relative
        return relative_link(self.page, relative)

    def absolute(self, relative: str) -> str:
        """Always the absolute URL (canonical links, pages only ``serve`` answers)."""
        return self.base_url + relative

    def edition_url(self, edition: Edition) -> str:
        return self.url(edition_dir(edition))
