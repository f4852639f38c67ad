"""What comes back: ``[bounces]`` — the per-recipient return path (VERP), where bounce
reports, complaints and mailto unsubscribes are read from, and how they count."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.config.rules import (
    ENV_NAME,
    CrossRule,
    Rule,
    Setting,
    Values,
    at_least,
    at_most,
    email_address,
    one_of,
)

INTAKES = ("none", "maildir", "imap")
IMAP_SECURITY = ("ssl", "starttls", "none")
VERP_DELIMITERS = ("+", "-", "=")

_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,63}")


def _folder(value: Any, _: Path) -> str | None:
    if _FOLDER.fullmatch(value):
        return None
    return f"expected a folder name of letters, digits, ' ', '_' or '-', got {value!r}"


FOLDER = Rule("folder name", _folder)


def _local_part(value: Any, _: Path) -> str | None:
    if not value:
        return None
    local = value.rsplit("@", 1)[0]
    if any(d in local for d in VERP_DELIMITERS):
        return (
            f"the local part of {value!r} holds a VERP delimiter ({' '.join(VERP_DELIMITERS)}); "
            "use a plain one like 'bounces@example.org'"
        )
    return None


ROWS = (
    Setting(
        "bounces.return_path",
        "",
        "Envelope sender (Return-Path) of every digest, made per recipient (VERP): "
        "'bounces@example.org' sends each as bounces+<token>@example.org, so a bounce is "
        "attributed without parsing; empty keeps delivery.from_address.",
        rules=(email_address(optional=True), Rule("no VERP delimiter in it", _local_part)),
    ),
    Setting(
        "bounces.delimiter",
        "+",
        "What separates the return path's local part from the token: your mail server's "
        "recipient delimiter (Postfix recipient_delimiter, Dovecot recipient_delimiter).",
        rules=(one_of(VERP_DELIMITERS, "delimiter"),),
    ),
    Setting(
        "bounces.intake",
        "none",
        "Where `newsletter bounces fetch` (and serve/schedule, see interval_minutes) read "
        "what comes back: 'maildir', 'imap' or 'none' (`bounces read --stdin` works anyway).",
        rules=(one_of(INTAKES, "intake"),),
    ),
    Setting(
        "bounces.maildir",
        "subscribers/bounces",
        "The Maildir intake = 'maildir' reads (where Postfix or Dovecot deliver the return "
        "path's mail); its subfolders hold what was processed and what was not recognised.",
    ),
    Setting("bounces.imap_host", "localhost", "IMAP server for intake = 'imap'."),
    Setting(
        "bounces.imap_port",
        993,
        "IMAP server port (993 for ssl, 143 for starttls or none).",
        int,
        rules=(at_least(1), at_most(65535)),
    ),
    Setting(
        "bounces.imap_security",
        "ssl",
        "IMAP connection security: 'ssl' (IMAPS), 'starttls', or 'none' (a server on this "
        "machine only).",
        rules=(one_of(IMAP_SECURITY),),
    ),
    Setting("bounces.imap_username", "", "IMAP login name (needed for intake = 'imap')."),
    Setting(
        "bounces.imap_password_env",
        "NEWSLETTER_IMAP_PASSWORD",
        "Environment variable holding the IMAP password (never stored in config or logged).",
        rules=(ENV_NAME,),
    ),
    Setting(
        "bounces.imap_folder",
        "INBOX",
        "The IMAP folder read.",
        rules=(FOLDER,),
    ),
    Setting(
        "bounces.processed_folder",
        "Processed",
        "Subfolder (Maildir) or folder (IMAP) each recognised message is moved to.",
        rules=(FOLDER,),
    ),
    Setting(
        "bounces.operator_folder",
        "Unrecognised",
        "Subfolder (Maildir) or folder (IMAP) for what was not recognised, too large or "
        "malformed: for you to read; never dropped.",
        rules=(FOLDER,),
    ),
    Setting(
        "bounces.interval_minutes",
        0,
        "serve and schedule read the intake this often; 0 means only by "
        "`newsletter bounces fetch`.",
        int,
        rules=(at_least(0),),
    ),
    Setting(
        "bounces.soft_limit",
        3,
        "Soft bounces (4.x.x) of this many editions in a row disable a subscriber (bounced).",
        int,
        rules=(at_least(1),),
    ),
    Setting(
        "bounces.max_kb",
        1024,
        "Largest message read; a larger one goes to the operator folder unparsed.",
        int,
        rules=(at_least(16),),
    ),
    Setting(
        "bounces.complaint_window_days",
        30,
        "Days over which `status` gives the complaint rate (complaints / messages sent).",
        int,
        rules=(at_least(1),),
    ),
)


def _imap_user(values: Mapping[str, Any]) -> str | None:
    if values["bounces.intake"] == "imap" and not values["bounces.imap_username"]:
        return "intake = 'imap' needs imap_username"
    return None


def _interval_intake(values: Mapping[str, Any]) -> str | None:
    if values["bounces.interval_minutes"] and values["bounces.intake"] == "none":
        return "an interval needs an intake to read ('maildir' or 'imap')"
    return None


def _distinct_folders(values: Mapping[str, Any]) -> str | None:
    names = [
        values["bounces.imap_folder"],
        values["bounces.processed_folder"],
        values["bounces.operator_folder"],
    ]
    if len({n.casefold() for n in names}) < 3:
        return "the folder read, the processed folder and the operator folder must differ"
    return None


CHECKS = (
    CrossRule("imap intake needs a user", "bounces.intake and bounces.imap_username", _imap_user),
    CrossRule(
        "interval needs an intake",
        "bounces.interval_minutes and bounces.intake",
        _interval_intake,
    ),
    CrossRule(
        "bounce folders differ",
        "bounces.imap_folder, processed_folder and operator_folder",
        _distinct_folders,
    ),
)


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    username: str
    password_env: str
    folder: str


@dataclass(frozen=True)
class BouncesSettings:
    """``[bounces]``: the return path, the intake, and how bounces count."""

    return_path: str
    """The plain return-path address (``bounces@example.org``); empty for no VERP."""
    delimiter: str
    intake: str
    maildir: Path
    imap: ImapSettings
    processed_folder: str
    operator_folder: str
    interval_minutes: int
    soft_limit: int
    max_bytes: int
    complaint_window_days: int

    @classmethod
    def build(cls, v: Values) -> BouncesSettings:
        return cls(
            return_path=v.text("bounces.return_path"),
            delimiter=v.text("bounces.delimiter"),
            intake=v.text("bounces.intake"),
            maildir=v.path("bounces.maildir"),
            imap=ImapSettings(
                host=v.text("bounces.imap_host"),
                port=v.integer("bounces.imap_port"),
                security=v.text("bounces.imap_security"),
                username=v.text("bounces.imap_username"),
                password_env=v.text("bounces.imap_password_env"),
                folder=v.text("bounces.imap_folder"),
            ),
            processed_folder=v.text("bounces.processed_folder"),
            operator_folder=v.text("bounces.operator_folder"),
            interval_minutes=v.integer("bounces.interval_minutes"),
            soft_limit=v.integer("bounces.soft_limit"),
            max_bytes=v.integer("bounces.max_kb") * 1024,
            complaint_window_days=v.integer("bounces.complaint_window_days"),
        )
