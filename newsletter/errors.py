"""One exception tree for everything the operator can get wrong or run into.

Every exception the package raises on purpose descends from
:class:`NewsletterError` (a test walks the package to hold that, and checks
each class is drawn here).  The classes that belong to one subsystem are
defined next to the code that raises them; the tree names their module::

    NewsletterError            message + hint; the CLI prints both, one line each; exit 1
    ├── ConfigError            config.toml problems, all of them at once; exit 2
    ├── InputError             an input that cannot be used; the run goes on without it
    │   ├── DigestError        a text digest: names the file and, where it helps, the line
    │   ├── FetchError         (sources.fetch) a fetch refused or failed: URL and why
    │   ├── Unreachable        (sources.network) a host that may not or cannot be connected to
    │   ├── CodingError        (sources.coding) a content coding refused, a broken compressed body
    │   ├── TooLarge           (sources.coding) a body past the size limit, counted decoded
    │   ├── FeedError          (sources.feed) the document is not a usable RSS/Atom feed
    │   ├── HfError            (sources.hf) the document is not the daily-papers JSON
    │   ├── ParseError         (sources.parsing) parsing overran the source's deadline, or died
    │   ├── AddressError       (subscribers.subscriptions) an email address that cannot be used
    │   ├── TopicError         (subscribers.subscriptions) a topic id not in the taxonomy
    │   ├── Malformed          (returns.reports) a message that came back is no mail message
    │   └── UnknownPaper       (corrections) a paper name that names no paper, or several
    ├── StoreError             the database refused (locked, wrong schema version, ...)
    │   ├── DatabaseDamaged    an empty (zero-length) or corrupt database file; exit 2
    │   └── EditionExists      (store.editions) the date has its edition already
    ├── TemplateError          a template failed: ``name`` and ``line`` of the template file
    ├── OutputError            a file could not be written (disk full, read-only): ``path``
    ├── TokenError             (subscribers.tokens) a link or form token tampered, expired, misused
    │   └── VoteRefused        (subscribers.feedback) a vote for a gone address or a foreign paper
    ├── SignupLimited          (subscribers.subscriptions) a sign-up past a limit: nothing recorded
    ├── Refusal                (web.pages) a request refused: ``status`` for the page
    ├── ListenError            (web.serve) ``serve`` cannot listen on its address; exit 3
    ├── HeaderInjection        (delivery.message) a header value with a line break
    ├── MailerStopped          (delivery.mailer) nothing can be sent at all: the run stops
    ├── RecorderFailed         (delivery.recorder) the send ledger could not be written
    ├── MailboxError           (returns.mailboxes) the bounce intake cannot be reached or read
    │   ├── IntakeBusy         (returns.mailboxes) another round is reading that mailbox; exit 75
    │   └── MessageGone        (returns.mailboxes) a message moved away between listing and reading
    ├── RankingError           (ranking.ranker) no corpus papers (or words) to fit the ranking on
    ├── PipeClosed             (cli) standard output closed by its reader: exit 141, quietly
    └── SendFailure            (delivery.mailer) one recipient's message was not accepted
        ├── TemporaryFailure   (delivery.mailer) 4xx, 552 at RCPT: deferred, tried later
        │   ├── ConnectionLost (delivery.mailer) dropped before the end of the message: not sent
        │   └── ReplyLost      (delivery.mailer) sent in full, no reply: *uncertain*
        └── PermanentFailure   (delivery.mailer) 5xx: this recipient failed

So a caller tells a template error (:class:`TemplateError`, with the
template's name and line) from a disk error (:class:`OutputError`, with the
path) from a configuration error (:class:`ConfigError`, with every problem)
by its class, not by reading messages.

Every error carries a ``hint``: what the operator can do about it.  The
raising code gives one when it knows better; otherwise the class's own
``hint`` applies.  Tracebacks are only shown with ``--debug``.
"""

from __future__ import annotations

import errno as errnos
from pathlib import Path
from typing import ClassVar

EX_TEMPFAIL = 75
"""The exit status of "try again later" (sysexits.h): a database locked past its waits,
a mailbox another intake round is reading.  A Postfix ``pipe`` keeps the message; a
cron job or a person runs the command again.  An error class says it by its
``exit_code``; the CLI exits with it."""


class NewsletterError(Exception):
    """Base of every error the newsletter raises on purpose."""

    exit_code: ClassVar[int] = 1
    default_hint: ClassVar[str | None] = None
    """The hint when the raising code gives none (each subclass has one)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class ConfigError(NewsletterError):
    """The configuration has one or more problems; ``problems`` lists them all."""

    exit_code = 2
    default_hint = "fix the file named above; newsletter config show prints the effective settings"

    def __init__(self, problems: list[str], hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint)


class InputError(NewsletterError):
    """An input (digest file, feed, CSV) could not be used; the rest of the run goes on."""

    default_hint = "fix this input or leave it out; the other inputs are not affected"


class DigestError(InputError):
    """A text digest is unreadable; ``where`` is ``file`` or ``file:line``."""

    default_hint = "save the digest page again, or leave the file out"

    def __init__(self, where: str, reason: str, hint: str | None = None) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}", hint)


class StoreError(NewsletterError):
    """The database could not be opened, migrated or written."""

    default_hint = "check database.url; `newsletter migrate` upgrades an older database"


class DatabaseDamaged(StoreError):
    """The database file is empty (zero bytes) or not a readable database any more.

    Never re-initialised silently: an empty file would make every paper new
    again and lose the subscribers, so the operator decides (restore, or delete
    the file to start afresh)."""

    exit_code = 2
    default_hint = "restore it from a backup (or delete it to start afresh)"


class TemplateError(NewsletterError):
    """A template could not be loaded or rendered.

    ``name`` is the template file (the operator's override or the stock one)
    and ``line`` the line in it, when Jinja or MJML says.
    """

    default_hint = "fix the template (your override in output.templates_dir, or remove it)"

    def __init__(self, name: str, line: int | None, reason: str, hint: str | None = None) -> None:
        self.name = name
        self.line = line
        self.reason = reason
        where = f"template {name}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {reason}", hint)


class OutputError(NewsletterError):
    """A file (site page, feed, preview) could not be written; ``path`` names it.

    ``errno`` is the system's reason when there was one; the hint follows it
    (a file where a folder should be is not a full disk), unless the raising
    code gives its own.
    """

    default_hint = "check the path and its folders"

    def __init__(
        self, path: Path, reason: str, hint: str | None = None, *, errno: int | None = None
    ) -> None:
        self.path = path
        self.reason = reason
        self.errno = errno
        super().__init__(f"cannot write {path}: {reason}", hint or output_hint(errno))

    @classmethod
    def of(cls, path: Path, exc: OSError) -> OutputError:
        """The error for ``exc``, raised writing ``path``."""
        return cls(path, exc.strerror or str(exc), errno=exc.errno)


def output_hint(number: int | None) -> str | None:
    """What to do when a write failed with the system error ``number`` (None: not known)."""
    return _OUTPUT_HINTS.get(number) if number is not None else None


_OUTPUT_HINTS = {
    errnos.ENOTDIR: "a part of that path is a file, not a folder: choose another path, "
    "or move that file away",
    errnos.ENOENT: "a folder on that path does not exist: create it, or choose another path",
    errnos.EACCES: "this user may not write there: fix the folder's permissions, "
    "or choose another path",
    errnos.EPERM: "this user may not write there: fix the folder's permissions, "
    "or choose another path",
    errnos.ENOSPC: "the disk is full: free some space",
    errnos.EDQUOT: "the disk quota is used up: free some space",
    errnos.EROFS: "that file system is read-only: choose a path on a writable one",
    errnos.EISDIR: "a folder has that name: choose a file name, or move the folder away",
}
