"""The effective settings as plain data, for ``newsletter config show``."""

from __future__ import annotations

from typing import Any

from newsletter.config.database import redact
from newsletter.config.settings import Settings
from newsletter.config.table import SETTINGS


def effective(settings: Settings) -> dict[str, Any]:
    """Every setting with its effective value (secrets hidden), the sources and topics."""
    values = settings.values
    return {
        "config": str(settings.config_path) if settings.config_path else "(bundled default)",
        "database": settings.database.redacted,
        "settings": {
            s.key: redact(values[s.key])
            if s.key == "database.url" and values[s.key]
            else values[s.key]
            for s in SETTINGS
        },
        "sources": [
            {"name": s.name, "kind": s.kind, "path": str(settings.resolve(s.path))}
            if s.kind == "text"
            else {"name": s.name, "kind": s.kind, "url": s.url, "allow_private": s.allow_private}
            for s in settings.sources
        ],
        "topics": [t.id for t in settings.taxonomy.topics],
    }
