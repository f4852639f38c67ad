"""``[database]``: which database holds the store.

The effective URL, first match wins: the ``NEWSLETTER_DATABASE_URL``
environment variable, ``database.url``, the SQLite file
``subscribers/newsletter.db`` next to config.toml.  Like every path in
config.toml, a relative SQLite path resolves against the config's folder,
not the current one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from newsletter.config.rules import EnvironmentRule, Rule, Setting, Values, resolve

ENV = "NEWSLETTER_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")


_URL = re.compile(r"^(?P<dialect>\w+)(\+\w+)?://")
"""What SQLAlchemy's ``make_url`` accepts: ``dialect[+driver]://...`` (parsed here
without importing SQLAlchemy, which only ``newsletter/store/`` does)."""


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot name the store, or None (never repeats it: it may hold a password)."""
    found = _URL.match(url)
    try:
        _port = urlsplit(url).port  # a port that is not a number is refused here
    except ValueError:
        found = None
    if found is None:
        return (
            "not a database URL (expected e.g. 'sqlite:///state/news.db' or "
            "'postgresql+psycopg://user@host/dbname')"
        )
    backend = found.group("dialect")
    if backend not in BACKENDS:
        return f"unsupported database {backend!r} (expected: {', '.join(BACKENDS)})"
    return None


DATABASE_URL = Rule("database url or empty", lambda value, _: url_problem(value) if value else None)

ROWS = (
    Setting(
        "database.url",
        "",
        "SQLAlchemy URL of the store; empty means the SQLite file "
        "subscribers/newsletter.db. NEWSLETTER_DATABASE_URL overrides it.",
        rules=(DATABASE_URL,),
    ),
)


def _environment_url(environ: Mapping[str, str]) -> str | None:
    value = environ.get(ENV)
    return url_problem(value) if value else None


ENVIRONMENT = (EnvironmentRule(ENV, _environment_url),)

_RELATIVE_SQLITE = re.compile(r"sqlite(\+\w+)?:///(?!/)(?!:memory:)(.+)$")


@dataclass(frozen=True)
class DatabaseSettings:
    """The database URL the store opens (secrets in it are never printed), and
    ``origin``: the setting that named it (``""``: neither did, the default file)."""

    url: str
    origin: str = "database.url"

    @property
    def redacted(self) -> str:
        return redact(self.url)

    @classmethod
    def build(cls, v: Values, environ: Mapping[str, str] = os.environ) -> DatabaseSettings:
        env = environ.get(ENV)
        if env:
            return cls(url=env, origin=ENV)
        url = v.text("database.url")
        if not url:
            return cls(url=f"sqlite:///{v.base_dir / 'subscribers' / 'newsletter.db'}", origin="")
        relative = _RELATIVE_SQLITE.match(url)
        if relative:
            driver, path = relative.group(1) or "", relative.group(2)
            return cls(url=f"sqlite{driver}:///{resolve(v.base_dir, path)}")
        return cls(url=url)


def redact(url: str) -> str:
    """Hide a password in a (checked) database URL: secrets are never printed."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return "(unparseable URL)"
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
