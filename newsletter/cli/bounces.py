"""``newsletter bounces …``: read what came back (bounces, complaints, mailto
unsubscribes).  Each command calls one function of :mod:`newsletter.returns.rounds`
and prints what it returns."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from newsletter.cli.output import output
from newsletter.errors import EX_TEMPFAIL


def register(
    main: click.Group, handle_errors: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Add the ``bounces`` group to ``main``; the intake is imported when a command runs."""

    @main.group("bounces")
    def bounces_group() -> None:
        """Read bounce reports, spam complaints and mailto unsubscribes."""

    @bounces_group.command("fetch")
    @click.pass_obj
    @handle_errors
    def fetch(obj: Any) -> None:
        """Read every message waiting in the intake (bounces.intake: a Maildir or an
        IMAP folder), apply it, and move it to the processed or the operator folder.

        One round at a time per mailbox: while another (a fetch, a serve or
        schedule round) reads it, this one reads nothing. Exit status 75 ("try
        again later") then, and when the database cannot be written (locked by
        another process): the messages not yet applied stay in the intake."""
        import imaplib

        from newsletter.errors import StoreError
        from newsletter.returns.intake import OPERATOR, Handled
        from newsletter.returns.rounds import fetch as fetch_round
        from newsletter.returns.rounds import open_database, operator_line

        def progress(handled: Handled) -> None:
            """Each message's lines as soon as it is applied (before its move)."""
            for line in handled.actions:
                output.line(f"{handled.label}: {line}")
            if handled.problem:
                output.warning(handled.problem)
            elif handled.folder == OPERATOR:
                output.warning(operator_line(handled))

        settings = obj.settings
        later = "the messages not yet applied stay in the intake; the next fetch reads them"
        try:
            with open_database(settings) as db:
                report = fetch_round(settings, db, progress=progress)
        except StoreError as exc:
            output.error(f"bounces: {exc.message}", later)
            sys.exit(EX_TEMPFAIL)
        except BrokenPipeError:  # our own standard output closed (| head): exit 141
            raise
        except (OSError, imaplib.IMAP4.abort) as exc:  # the connection dropped, a folder
            output.error(f"bounces: the round stopped: {type(exc).__name__}: {exc}", later)
            sys.exit(EX_TEMPFAIL)
        output.line(report.summary())

    @bounces_group.command("read")
    @click.option(
        "--stdin",
        "from_stdin",
        is_flag=True,
        required=True,
        help="Read one message from standard input.",
    )
    @click.option(
        "--recipient",
        default=None,
        help="The address it was delivered to (Postfix pipe: ${original_recipient}).",
    )
    @click.pass_obj
    @handle_errors
    def read(obj: Any, from_stdin: bool, recipient: str | None) -> None:
        """Read one message from standard input (for a Postfix pipe) and apply it.

        What is not recognised is filed in the operator subfolder of
        bounces.maildir; exit status 75 (try again later) when the database
        cannot be written, so the mail server keeps the message.
        """
        from newsletter.errors import StoreError
        from newsletter.returns.mailboxes import MaildirBox
        from newsletter.returns.rounds import open_database, read_one

        settings = obj.settings
        if sys.stdin is None:  # started with standard input closed (<&-)
            output.error("bounces: standard input is closed: no message to read")
            sys.exit(1)
        raw = sys.stdin.buffer.read(settings.bounces.max_bytes + 1)
        envelope = (recipient,) if recipient else ()
        bounces = settings.bounces
        keep = "the mail server keeps the message and tries again"
        try:
            # the copy first (a message over bounces.max_kb was read only that far: the
            # rest is copied, unread), so a full disk fails the pipe with nothing applied
            box = MaildirBox.made(
                bounces.maildir, bounces.processed_folder, bounces.operator_folder
            )
            staged = box.stage(raw, rest=sys.stdin.buffer)
        except OSError as exc:
            output.error(f"bounces: cannot keep a copy in {bounces.maildir}: {exc}", keep)
            sys.exit(EX_TEMPFAIL)
        try:
            with open_database(settings) as db:
                handled = read_one(settings, db, raw, envelope=envelope)
        except StoreError as exc:
            staged.unlink(missing_ok=True)
            output.error(exc.message, keep)
            sys.exit(EX_TEMPFAIL)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        try:
            box.file_staged(staged, "stdin", handled.folder)
        except OSError as exc:
            # applied, its copy not filed: the retry finds it seen before and files it
            staged.unlink(missing_ok=True)
            output.error(f"bounces: applied, but its copy cannot be filed: {exc}", keep)
            sys.exit(EX_TEMPFAIL)
        for line in handled.actions:
            output.line(line)
        if handled.problem:
            output.warning(handled.problem)
        seen = " (seen before: nothing done)" if handled.duplicate else ""
        output.line(f"{handled.kind}{seen}; filed in the {handled.folder} folder")
