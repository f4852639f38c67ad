"""Config: paths in config.toml resolve against its folder, never the current one."""

from __future__ import annotations

from pathlib import Path

from newsletter import config


def test_a_relative_sqlite_url_resolves_against_the_config_folder() -> None:
    settings = config.parse(
        '[database]\nurl = "sqlite:///state/news.db"\n', where="c.toml", base_dir=Path("/srv/nl")
    )
    assert settings.database_url == "sqlite:////srv/nl/state/news.db"


def test_absolute_and_server_urls_are_kept() -> None:
    for url in ("sqlite:////var/lib/nl.db", "postgresql+psycopg://u@h/db"):
        settings = config.parse(f'[database]\nurl = "{url}"\n', where="c", base_dir=Path("/x"))
        assert settings.database_url == url
