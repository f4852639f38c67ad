"""The URLs of a subscriber's pages: confirm, preferences, unsubscribe (signed, absolute).

They live under ``newsletter.base_url``, where ``newsletter serve`` mounts the
subscriber pages (:mod:`newsletter.web.subscribe`) next to the archive.  The
unsubscribe URL is both the footer link (a GET shows a page with a button)
and the RFC 8058 one-click target of ``List-Unsubscribe`` (a POST
unsubscribes), so the header's URL also appears in the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from newsletter.config import Settings
from newsletter.subscribers.tokens import CONFIRM, PREFERENCES, UNSUBSCRIBE, Tokens
from newsletter.urls import Site

_URL_SAFE = re.compile(r"[A-Za-z0-9_.-]*")
CONFIRM_PATH = "confirm"
PREFERENCES_PATH = "preferences"
UNSUBSCRIBE_PATH = "unsubscribe"
SUBSCRIBE_PATH = "subscribe"
_LINK_PURPOSES = (UNSUBSCRIBE, PREFERENCES)


@dataclass(frozen=True)
class Links:
    """One subscriber's signed URLs."""

    unsubscribe: str
    preferences: str
    unsubscribe_token: str


@dataclass(frozen=True)
class SubscriberLinks:
    site: Site
    tokens: Tokens

    @classmethod
    def from_settings(cls, settings: Settings, tokens: Tokens) -> SubscriberLinks:
        return cls(settings.site.base, tokens)

    def _url(self, path: str, token: str) -> str:
        # a token is URL-safe base64 and dots, which quote() leaves as they are
        safe = token if _URL_SAFE.fullmatch(token) else quote(token, safe="")
        return self.site.url(f"{path}?t={safe}")

    def for_subscriber(self, public_id: str) -> Links:
        """The links of one recipient of a digest (both signed at once, once per
        recipient: a token is URL-safe base64 and dots, so it goes in as it is)."""
        unsubscribe, preferences = self.tokens.make_each(_LINK_PURPOSES, public_id)
        url = self.site.url
        return Links(
            unsubscribe=url(f"{UNSUBSCRIBE_PATH}?t={unsubscribe}"),
            preferences=url(f"{PREFERENCES_PATH}?t={preferences}"),
            unsubscribe_token=unsubscribe,
        )

    def confirm(self, public_id: str) -> str:
        return self._url(CONFIRM_PATH, self.tokens.make(CONFIRM, public_id))

    def subscribe(self) -> str:
        return self.site.url(SUBSCRIBE_PATH)
