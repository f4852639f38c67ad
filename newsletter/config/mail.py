"""How editions leave the machine: ``[delivery]``, ``[smtp]``, ``[dkim]``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.config.rules import (
    DOT_ATOM,
    ENV_NAME,
    CrossRule,
    Setting,
    Values,
    at_least,
    at_most,
    email_address,
    one_of,
)

DELIVERY_METHODS = ("maildir", "smtp")
SMTP_SECURITY = ("starttls", "ssl", "none")

DELIVERY_ROWS = (
    Setting(
        "delivery.method",
        "maildir",
        "How editions are delivered: 'maildir' (an outbox folder; nothing leaves the "
        "machine) or 'smtp'.",
        rules=(one_of(DELIVERY_METHODS, "method"),),
    ),
    Setting(
        "delivery.maildir",
        "subscribers/outbox",
        "The Maildir outbox delivery.method = 'maildir' writes to (read it with mutt -f).",
    ),
    Setting(
        "delivery.from_address",
        "digest@example.com",
        "Sender address of every email; its display name is newsletter.name.",
        rules=(email_address(),),
    ),
    Setting(
        "delivery.list_id",
        "",
        "List-Id identifier (a dot-atom like 'papers.example.com'); empty means the "
        "newsletter name as a label under the sender's domain.",
        rules=(DOT_ATOM,),
    ),
    Setting(
        "delivery.unsubscribe_mailto",
        "",
        "Address in the mailto: of List-Unsubscribe; empty means unsubscribe@<sender domain>. "
        "Mail to it must reach the bounce intake ([bounces]), which unsubscribes the sender.",
        rules=(email_address(optional=True),),
    ),
    Setting(
        "delivery.connections",
        4,
        "How many SMTP connections send at once (Maildir: writers).",
        int,
        rules=(at_least(1), at_most(64)),
    ),
    Setting(
        "delivery.in_flight",
        1,
        "Most messages handed to the server whose reply is not yet recorded: what a "
        "crash can at worst send twice. 1 keeps that to one message per crash; from "
        "twice delivery.connections up, each connection marks groups of "
        "in_flight / connections in one transaction (fewer fsyncs; not yet safe under "
        "repeated kills, see docs/delivery.md).",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "delivery.lease_seconds",
        30,
        "How long a sender's claim on a ledger row lasts unless renewed; a row whose "
        "sender died is taken back after this, whatever host it ran on.",
        int,
        rules=(at_least(2),),
    ),
    Setting(
        "delivery.backoff_seconds",
        300.0,
        "First wait before a recipient with a temporary failure (SMTP 4xx, greylisting) "
        "is tried again; it doubles with each further failure.",
        float,
        rules=(at_least(0),),
    ),
    Setting(
        "delivery.backoff_max_seconds",
        7200.0,
        "Longest wait between two attempts to one recipient.",
        float,
        rules=(at_least(0),),
    ),
    Setting(
        "delivery.max_age_days",
        3,
        "Every run resumes the unsent mail of editions up to this old; then a recipient "
        "still not reached is given up, with the last reply as the reason.",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "delivery.retries",
        4,
        "How often a relay that cannot be reached is tried again (pausing 1, 2, 4 ... s) "
        "before the run stops; the unsent mail stays for the next run.",
        int,
        rules=(at_least(0),),
    ),
    Setting(
        "delivery.rate_per_second",
        0.0,
        "Most messages per second to the relay, all senders together; 0 for no limit.",
        float,
        rules=(at_least(0),),
    ),
    Setting(
        "delivery.rate_per_day",
        0,
        "Most messages per day (UTC) to the relay, all senders together; 0 for no limit. "
        "Mail the ledger shows sent earlier that day counts, also what went out while the limit "
        "was off. What is over the limit goes out the next day.",
        int,
        rules=(at_least(0),),
    ),
)

SMTP_ROWS = (
    Setting("smtp.host", "localhost", "SMTP server for delivery.method = 'smtp'."),
    Setting(
        "smtp.port",
        587,
        "SMTP server port (587 STARTTLS, 465 SSL, 25 plain).",
        int,
        rules=(at_least(1), at_most(65535)),
    ),
    Setting(
        "smtp.security",
        "starttls",
        "Connection security: 'starttls', 'ssl' or 'none' (loopback test servers only).",
        rules=(one_of(SMTP_SECURITY),),
    ),
    Setting("smtp.username", "", "SMTP login name; empty for no authentication."),
    Setting(
        "smtp.password_env",
        "NEWSLETTER_SMTP_PASSWORD",
        "Environment variable holding the SMTP password (never stored in config or logged).",
        rules=(ENV_NAME,),
    ),
    Setting(
        "smtp.timeout_seconds",
        30,
        "Timeout of each SMTP network operation.",
        int,
        rules=(at_least(1),),
    ),
)

DKIM_ROWS = (
    Setting(
        "dkim.key_file",
        "",
        "PEM private key to DKIM-sign every email with (covering the list headers); "
        "empty for no signing.",
    ),
    Setting("dkim.selector", "", "DKIM selector (the DNS record <selector>._domainkey.<domain>)."),
    Setting("dkim.domain", "", "DKIM signing domain; empty means the sender's domain."),
)


def _dkim_pair(values: Mapping[str, Any]) -> str | None:
    if bool(values["dkim.key_file"]) == bool(values["dkim.selector"]):
        return None
    return "set both to sign, or neither"


CHECKS = (
    CrossRule("dkim key and selector together", "dkim.key_file and dkim.selector", _dkim_pair),
)


def _sender_domain(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


@dataclass(frozen=True)
class DeliverySettings:
    """``[delivery]``: the method, the sender identity, the queue and retry policy."""

    method: str
    maildir: Path
    from_address: str
    list_id: str
    unsubscribe_mailto: str
    connections: int
    in_flight: int
    lease_seconds: int
    backoff_seconds: float
    backoff_max_seconds: float
    max_age_days: int
    retries: int
    rate_per_second: float
    rate_per_day: int

    @property
    def sender_domain(self) -> str:
        return _sender_domain(self.from_address)

    @classmethod
    def build(cls, v: Values) -> DeliverySettings:
        address = v.text("delivery.from_address")
        domain = _sender_domain(address)
        label = re.sub(r"[^a-z0-9]+", "-", v.text("newsletter.name").lower()).strip("-")
        return cls(
            method=v.text("delivery.method"),
            maildir=v.path("delivery.maildir"),
            from_address=address,
            # configured, or the newsletter's name as a label under the sender domain
            list_id=v.text("delivery.list_id") or f"{label or 'newsletter'}.{domain}",
            unsubscribe_mailto=v.text("delivery.unsubscribe_mailto") or f"unsubscribe@{domain}",
            connections=v.integer("delivery.connections"),
            in_flight=v.integer("delivery.in_flight"),
            lease_seconds=v.integer("delivery.lease_seconds"),
            backoff_seconds=v.number("delivery.backoff_seconds"),
            backoff_max_seconds=v.number("delivery.backoff_max_seconds"),
            max_age_days=v.integer("delivery.max_age_days"),
            retries=v.integer("delivery.retries"),
            rate_per_second=v.number("delivery.rate_per_second"),
            rate_per_day=v.integer("delivery.rate_per_day"),
        )


@dataclass(frozen=True)
class SmtpSettings:
    """``[smtp]``: the server ``delivery.method = 'smtp'`` sends through."""

    host: str
    port: int
    security: str
    username: str
    password_env: str
    timeout_seconds: float

    @classmethod
    def build(cls, v: Values) -> SmtpSettings:
        return cls(
            host=v.text("smtp.host"),
            port=v.integer("smtp.port"),
            security=v.text("smtp.security"),
            username=v.text("smtp.username"),
            password_env=v.text("smtp.password_env"),
            timeout_seconds=v.number("smtp.timeout_seconds"),
        )


@dataclass(frozen=True)
class DkimSettings:
    """``[dkim]``: the signing key, or ``key_file`` None for no signing."""

    key_file: Path | None
    selector: str
    domain: str

    @classmethod
    def build(cls, v: Values) -> DkimSettings:
        return cls(
            key_file=v.optional_path("dkim.key_file"),
            selector=v.text("dkim.selector"),
            domain=v.text("dkim.domain") or _sender_domain(v.text("delivery.from_address")),
        )
