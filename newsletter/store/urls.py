"""Database URLs: which file a SQLite URL names, and a URL fit to print (password hidden)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def display_url(url: str) -> str:
    """The URL with any password hidden (for messages and logs); raises on a URL
    that does not parse."""
    return make_url(url).render_as_string(hide_password=True)
