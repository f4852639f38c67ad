"""Shared set-up of the subscriber and delivery tests: settings, subscribers, mailbox reading."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import uvicorn
from smtp_loopback import Server, smtp_server

from newsletter import config
from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "digests" / "sample-digest.txt"
BASE_URL = "https://papers.example.org/"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def make_settings(
    tmp: Path, db_url: str | None = None, **sections: dict[str, Any]
) -> config.Settings:
    """Settings for a test: its own folder, database, https base URL and no back-off pauses."""
    values: dict[str, dict[str, Any]] = {
        "newsletter": {"base_url": BASE_URL},
        "database": {"url": db_url or f"sqlite:///{tmp / 'subscribers' / 'newsletter.db'}"},
        "delivery": {"backoff_seconds": 0.0, "from_address": "digest@papers.example.org"},
    }
    for section, body in sections.items():
        values.setdefault(section, {}).update(body)
    text = "\n".join(
        f"[{section}]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in body.items())
        for section, body in values.items()
    )
    return config.parse(text, where="config.toml", base_dir=tmp)


def add_subscribers(
    settings: config.Settings,
    specs: list[tuple[str, frozenset[str] | None]],
    confirmed: bool = True,
) -> None:
    store = Database.open(settings.database.url)
    try:
        subs = Subscriptions(store)
        for address, topics in specs:
            subs.add(address, topics, confirmed=confirmed, method="test", now=NOW)
    finally:
        store.close()


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The (text, html) parts of a digest, decoded."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def maildir_messages(path: Path) -> list[EmailMessage]:
    return [parse(p.read_bytes()) for p in sorted((path / "new").iterdir())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An ASGI app under uvicorn on 127.0.0.1, in a thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}/"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@contextmanager
def served_subscribers(tmp_path: Path) -> Iterator[tuple[str, config.Settings, Database, Server]]:
    """The subscriber web app over real HTTP, mailing through a loopback SMTP server."""
    from newsletter.web.subscribe import SubscriberPages, build_subscriber_app

    with smtp_server() as smtp:
        port = free_port()
        settings = make_settings(
            tmp_path,
            newsletter={"base_url": f"http://127.0.0.1:{port}/"},
            delivery={"method": "smtp"},
            smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none"},
        )
        store = Database.open(settings.database.url)
        pages = SubscriberPages(settings, store)
        try:
            with Served(build_subscriber_app(pages), port) as base:
                yield base, settings, store, smtp
        finally:
            pages.close()
            store.close()
