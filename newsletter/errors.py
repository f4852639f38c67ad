"""One exception tree for everything the operator can get wrong or run into.

::

    NewsletterError            message + hint; the CLI prints it on one line, exit 1
    ├── ConfigError            config.toml problems, all of them at once; exit 2
    ├── InputError             a digest, feed or other input that cannot be read
    │   └── DigestError        a text digest: names the file and, where it helps, the line
    └── StoreError             the database refused (locked, wrong schema version, ...)

Errors carry a ``hint``: what the operator can do about it.  Tracebacks are
only shown with ``--debug``.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the newsletter raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class ConfigError(NewsletterError):
    """The configuration has one or more problems; ``problems`` lists them all."""

    exit_code = 2

    def __init__(self, problems: list[str], hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint)


class InputError(NewsletterError):
    """An input (digest file, feed, CSV) could not be used; the rest of the run goes on."""


class DigestError(InputError):
    """A text digest is unreadable; ``where`` is ``file`` or ``file:line``."""

    def __init__(self, where: str, reason: str, hint: str | None = None) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}", hint)


class StoreError(NewsletterError):
    """The database could not be opened, migrated or written."""
