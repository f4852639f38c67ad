"""Files the package needs at run time: stock templates, default config, sample digest.

In a wheel they live in ``newsletter/_bundled/`` (hatch force-includes them from
the top-level ``templates/``, ``config.toml`` and ``digests/``); in a source
checkout or editable install they are read from the top level directly, so
there is one copy of each in the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_bundled"
_SOURCE_TREE = _PACKAGE.parent


def _find(bundled_name: str, source_path: str) -> Path:
    bundled = _BUNDLED / bundled_name
    if bundled.exists():
        return bundled
    return _SOURCE_TREE / source_path


def stock_templates() -> Path:
    """Folder of the stock Jinja2 templates."""
    return _find("templates", "templates")


def bundled_config() -> Path:
    """The default config.toml, commented, as ``newsletter init`` writes it."""
    return _find("config.toml", "config.toml")


def sample_digest() -> Path:
    """The sample digest the embedded default runs on."""
    return _find("sample-digest.txt", "digests/sample-digest.txt")
