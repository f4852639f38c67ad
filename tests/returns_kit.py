"""Shared set-up of the bounce tests: editions really sent (to the Maildir outbox, with
VERP return paths), and the corpus of messages that come back, filled in for them."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from corpus_kit import OWN_CORPUS
from delivery_kit import SAMPLE, add_subscribers, make_settings, parse

from newsletter import config, pipeline
from newsletter.returns.mailboxes import Incoming, Mailbox
from newsletter.store import Database

CORPUS = Path(__file__).resolve().parent / "data" / "bounces"
DAY = date(2026, 11, 20)
RETURN_PATH = "bounces@papers.example.org"
READER = "reader@example.org"
OTHERS = ("gone@example.org", "full@example.org", "angry@example.org", "leaving@example.org")


@dataclass(frozen=True)
class Sent:
    """One digest as it left: what a message coming back about it quotes."""

    recipient: str
    message_id: str
    return_path: str
    unsubscribe_token: str
    edition_id: int
    unsubscribe_mailto: str = ""
    """The address of its List-Unsubscribe ``mailto:`` (with VERP on, tokened)."""


def bounce_settings(tmp: Path, db_url: str | None = None, **bounces: Any) -> config.Settings:
    values: dict[str, Any] = {
        "return_path": RETURN_PATH,
        "intake": "maildir",
        "maildir": str(tmp / "bounces"),
        "max_kb": 16,
        "soft_limit": 3,
    }
    values.update(bounces)
    return make_settings(tmp, db_url, bounces=values)


def digests(n: int) -> list[Path]:
    return [SAMPLE, *OWN_CORPUS.files][:n]


def send_editions(settings: config.Settings, n: int, recipients: tuple[str, ...]) -> list[Sent]:
    """Subscribe ``recipients`` and send them ``n`` editions (one a day from DAY) through
    the Maildir outbox; what went out, oldest first."""
    add_subscribers(settings, [(r, None) for r in recipients])
    for i, digest in enumerate(digests(n)):
        report = pipeline.run(settings, [str(digest)], DAY + timedelta(days=i))
        assert report.delivery is not None and report.delivery.sent == len(recipients), report
    return outbox(settings)


def outbox(settings: config.Settings) -> list[Sent]:
    """Every digest in the outbox, in the order the ledger sent them."""
    with Database.open(settings.database.url) as db, db.read() as tx:
        editions = {r.message_id: r.edition_id for r in tx.ledger.rows()}
    found = []
    for path in (settings.delivery.maildir / "new").iterdir():
        message = parse(path.read_bytes())
        token = re.search(r"unsubscribe\?t=([^>\s]+)>", str(message["List-Unsubscribe"]))
        assert token, message["List-Unsubscribe"]
        message_id = str(message["Message-ID"])
        mailto = re.search(r"<mailto:([^?>]+)", str(message["List-Unsubscribe"]))
        found.append(
            Sent(
                recipient=str(message["To"]),
                message_id=message_id,
                return_path=str(message["Return-Path"]).strip("<>"),
                unsubscribe_token=token.group(1),
                edition_id=editions[message_id],
                unsubscribe_mailto=mailto.group(1) if mailto else "",
            )
        )
    return sorted(found, key=lambda s: (s.edition_id, s.recipient))


def sent_to(sent: list[Sent], recipient: str) -> list[Sent]:
    return [s for s in sent if s.recipient == recipient]


def fill(name: str, sent: Sent | None = None, copy: str = "1") -> bytes:
    """The corpus message ``name`` as it would come back about ``sent``."""
    raw = (CORPUS / name).read_bytes()
    values = {"{{id}}": f"{copy}.{name}"}
    if sent is not None:
        values.update(
            {
                "{{return_path}}": sent.return_path,
                "{{recipient}}": sent.recipient,
                "{{message_id}}": sent.message_id,
                "{{unsubscribe_token}}": sent.unsubscribe_token,
                # as an RFC 2047 Q-encoded word: "_" would read as a space
                "{{unsubscribe_token_q}}": sent.unsubscribe_token.replace("_", "=5F"),
            }
        )
    for key, value in values.items():
        raw = raw.replace(key.encode(), value.encode())
    return raw


def drop_into_maildir(root: Path, raw: bytes, name: str) -> Path:
    """Deliver as Postfix's local(8) does: tmp/, then rename into new/."""
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    unique = f"{time.time_ns()}.{name}.{os.getpid()}"
    tmp = root / "tmp" / unique
    tmp.write_bytes(raw)
    final = root / "new" / unique
    tmp.rename(final)
    return final


def status_of(settings: config.Settings, address: str) -> str:
    with Database.open(settings.database.url) as db, db.read() as tx:
        found = tx.subscribers.by_email(address)
        assert found is not None, address
        return str(found.status)


def consents_of(settings: config.Settings, address: str) -> list[tuple[str, str]]:
    with Database.open(settings.database.url) as db, db.read() as tx:
        found = tx.subscribers.by_email(address)
        assert found is not None
        return [(str(c.action), c.method) for c in tx.subscribers.consents(found.id)]


def folder_files(root: Path, folder: str) -> list[Path]:
    base = root / f".{folder}"
    if not base.exists():
        return []
    return sorted(p for sub in ("new", "cur") for p in (base / sub).iterdir())


class Listed:
    """A real mailbox (Maildir or IMAP), with ``between`` run after it has listed its
    messages and before the first is read: what another client of the folder does in
    that gap (moves a message away, takes the intake lock)."""

    def __init__(self, box: Mailbox, between: Callable[[list[Incoming]], None]) -> None:
        self.box = box
        self.source = box.source
        self.between = between

    def messages(self) -> Iterator[Incoming]:
        listed = list(self.box.messages())
        self.between(listed)
        yield from listed

    def read(self, incoming: Incoming) -> bytes:
        return self.box.read(incoming)

    def head(self, incoming: Incoming) -> bytes:
        return self.box.head(incoming)

    def settle(self, incoming: Incoming, folder: str) -> None:
        self.box.settle(incoming, folder)

    def close(self) -> None:
        self.box.close()
