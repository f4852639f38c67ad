"""Per-recipient links, and the tokens that stand for them until delivery.

An edition is rendered once per distinct topic set; what differs between two
recipients of the same topic set is only their unsubscribe and preferences
URLs.  :func:`newsletter.render.render_email` called without ``links`` puts a
token in their place:

=====================  =================================================
token                  replaced by
=====================  =================================================
``%%UNSUBSCRIBE_URL%%``  the recipient's one-click unsubscribe page URL
``%%PREFERENCES_URL%%``  the recipient's topic preferences page URL
``%%VOTE_TOKEN%%``       the recipient's signed 👍/👎 token (one per
                         recipient and edition; each card's links add the
                         paper, see :mod:`newsletter.subscribers.feedback`)
=====================  =================================================

The tokens contain no character that HTML escaping, MJML or a mail encoder
changes, so they survive rendering intact.  Delivery then compiles the
rendered email once into MIME wire bytes cut at the tokens
(:func:`newsletter.delivery.message.compile_digest`) and joins each
recipient's URLs into those bytes
(:meth:`~newsletter.delivery.message.CompiledMessage.for_recipient`: HTML-escaped
in the HTML part, quoted-printable in both), thousands of times cheaper than
rendering or building a message again.  That is the one per-recipient
splicer; rendering never splices.  The size budget keeps :data:`URL_HEADROOM`
bytes free per token occurrence for the longer real URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.urls import Site

UNSUBSCRIBE_TOKEN = "%%UNSUBSCRIBE_URL%%"
PREFERENCES_TOKEN = "%%PREFERENCES_URL%%"
VOTE_TOKEN = "%%VOTE_TOKEN%%"
URL_HEADROOM = 300
"""Bytes reserved per token occurrence for the real URL that replaces it."""
VOTE_TOKEN_CHARS = 56
"""Longest vote token (the compact token of :func:`newsletter.subscribers.feedback.vote_token`
is 53 characters for a 22-character public id and an edition number under 10)."""
VOTE_HEADROOM = VOTE_TOKEN_CHARS - len(VOTE_TOKEN)
"""Bytes reserved per vote-token occurrence beyond the placeholder itself: a token,
not a whole URL (it appears twice per card, so the URL headroom would eat the budget)."""


def weight(html: str) -> int:
    """Bytes ``html`` will weigh once every placeholder is replaced by a real URL (the size
    budget's measure; it adds up over pieces cut between tags, as a card and its frame)."""
    size = len(html.encode("utf-8"))
    if "%%" not in html:
        return size
    tokens = html.count(UNSUBSCRIBE_TOKEN) + html.count(PREFERENCES_TOKEN)
    return size + tokens * URL_HEADROOM + html.count(VOTE_TOKEN) * VOTE_HEADROOM


@dataclass(frozen=True)
class RecipientLinks:
    """The links that differ per recipient (absolute URLs)."""

    unsubscribe_url: str
    preferences_url: str
    vote_token: str = ""
    """The recipient's signed vote token; "" for copies nobody receives (no 👍/👎 links)."""

    @classmethod
    def placeholders(cls) -> RecipientLinks:
        """Tokens to splice later (what ``render_email(links=None)`` uses)."""
        return cls(
            unsubscribe_url=UNSUBSCRIBE_TOKEN,
            preferences_url=PREFERENCES_TOKEN,
            vote_token=VOTE_TOKEN,
        )

    @classmethod
    def public(cls, site: Site) -> RecipientLinks:
        """Generic pages of the site, for copies nobody receives (archive, preview)."""
        return cls(
            unsubscribe_url=site.absolute("unsubscribe/"),
            preferences_url=site.absolute("preferences/"),
        )
