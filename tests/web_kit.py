"""The subscriber pages on a loopback HTTP server, with a clock the test moves.

A kit, not a test module: imported by ``test_web_subscribe.py`` and
``test_security_web.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
from delivery_kit import BASE_URL, Served, bodies, make_settings, parse

from newsletter.delivery.mailer import MaildirMailer
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions
from newsletter.subscribers.tokens import Tokens
from newsletter.web.subscribe import RateLimiter, SubscriberPages, build_subscriber_app

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Site:
    """One app with its store, outbox and clock."""

    def __init__(self, tmp: Path, **sections: dict[str, object]) -> None:
        self.settings = make_settings(tmp, **sections)  # type: ignore[arg-type]
        store = Database.open(self.settings.database.url)
        self.store = store
        self.subs = Subscriptions(store)
        self.outbox = tmp / "outbox"
        self.clock = Clock()
        self.pages = SubscriberPages(
            self.settings,
            store,
            mailer_factory=lambda: MaildirMailer(self.outbox),
            clock=self.clock,
            limiter=RateLimiter(clock=lambda: self.clock().timestamp()),
        )
        self.app = build_subscriber_app(self.pages)
        self.server = Served(self.app)
        self.client = httpx.Client(base_url=self.server.__enter__(), timeout=10)
        self.tokens = Tokens.from_settings(self.settings, self.clock)

    def close(self) -> None:
        self.client.close()
        self.server.__exit__()
        self.pages.close()
        self.store.close()

    def mails(self) -> list[bytes]:
        """The outbox, once the sign-up desk has handled every request it accepted."""
        assert self.pages.desk.join(10), "the sign-up desk did not finish"
        new = self.outbox / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []

    def form_token(self, html: str) -> str:
        found = re.search(r'name="form_token" value="([^"]+)"', html)
        assert found, html
        return found.group(1)

    def subscribe(self, email: str, topics: list[str] | None = None) -> httpx.Response:
        page = self.client.get("/subscribe")
        data = {
            "email": email,
            "topics": topics or ["llm", "vision"],
            "form_token": self.form_token(page.text),
        }
        response = self.client.post("/subscribe", data=data)
        assert self.pages.desk.join(10), "the sign-up desk did not finish"
        return response

    def status(self, email: str) -> str:
        found = self.subs.by_email(email)
        return found.status if found else "absent"


def confirm_link(mail: bytes) -> str:
    text, _ = bodies(parse(mail))
    found = re.search(r"https://papers\.example\.org/confirm\?t=\S+", text)
    assert found, text
    return local(found.group(0))


def local(url: str) -> str:
    """A link to the public site, as a path on the local test server."""
    return url.replace("&amp;", "&").removeprefix(BASE_URL.rstrip("/"))
