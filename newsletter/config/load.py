"""Find, read and check config.toml; every problem at once, each naming file and key.

Where a config comes from, first match wins: ``--config PATH``, the
``NEWSLETTER_CONFIG`` environment variable, ``./config.toml``, the default
bundled with the package.  Relative paths resolve against the folder of the
config file (for the bundled default: the current folder).
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newsletter import resources
from newsletter.config.rules import Setting, choices
from newsletter.config.settings import Settings, build
from newsletter.config.sources import parse_sources
from newsletter.config.table import (
    CROSS_RULES,
    ENVIRONMENT_RULES,
    SECTIONS,
    SETTING_BY_KEY,
    SETTINGS,
)
from newsletter.errors import ConfigError
from newsletter.topics import Taxonomy, parse_taxonomy

log = logging.getLogger("newsletter.config")  # the package's logger: one name for operators

HINT = "fix the keys named above; newsletter config show prints the effective settings"


def find_config(explicit: str | Path | None) -> Path | None:
    """The config file to use, or None for the bundled default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("NEWSLETTER_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.exists() else None


def load(explicit: str | Path | None = None) -> Settings:
    """Find, read and validate the configuration; raise ConfigError listing every problem."""
    path = find_config(explicit)
    if path is None:
        log.warning(
            "no config.toml here: using the bundled default with paths relative to %s "
            "(run 'newsletter init DIR' to write a config and a sample digest)",
            Path.cwd(),
        )
        text = resources.bundled_config().read_text(encoding="utf-8")
        return parse(text, where="config.toml (bundled default)", base_dir=Path.cwd())
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file"], hint="newsletter init DIR writes a fresh config.toml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    return parse(text, where=str(path), base_dir=path.resolve().parent, config_path=path)


def parse(text: str, *, where: str, base_dir: Path, config_path: Path | None = None) -> Settings:
    """Validate config text completely; every problem is named ``where: dotted.key: why``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML: {exc}"]) from None
    return _settings(data, where=where, base_dir=base_dir, config_path=config_path)


def from_values(
    given: Mapping[str, Any] | None = None,
    *,
    base_dir: Path,
    taxonomy: Taxonomy | None = None,
    where: str = "settings",
) -> Settings:
    """Settings from dotted keys (defaults for the rest), checked exactly like config.toml.

    For tests and benchmarks: ``from_values({"email.budget_kb": 40}, base_dir=tmp)``.
    No sources; without ``taxonomy`` the bundled one applies.
    """
    data: dict[str, Any] = {}
    for key, value in (given or {}).items():
        section, _, name = key.partition(".")
        data.setdefault(section, {})[name] = value
    return _settings(data, where=where, base_dir=base_dir, config_path=None, taxonomy=taxonomy)


def _settings(
    data: dict[str, Any],
    *,
    where: str,
    base_dir: Path,
    config_path: Path | None,
    taxonomy: Taxonomy | None = None,
) -> Settings:
    problems: list[str] = []
    given: dict[str, Any] = {}
    for section, body in data.items():
        if section in ("sources", "topics"):
            continue
        if section not in SECTIONS:
            problems.append(f"{section}: unknown section (expected: {choices(SECTIONS)})")
            continue
        if not isinstance(body, dict):
            problems.append(f"{section}: must be a table ([{section}])")
            continue
        given.update({f"{section}.{name}": value for name, value in body.items()})
    values, value_problems = check(given, base_dir)
    problems += value_problems

    sources, source_problems = parse_sources(data.get("sources", []))
    problems += source_problems

    if taxonomy is None:
        raw_topics = data.get("topics")
        if raw_topics is None:
            bundled = resources.bundled_config().read_text("utf-8")
            raw_topics = tomllib.loads(bundled).get("topics", [])
        taxonomy, topic_problems = parse_taxonomy(raw_topics)
        problems += topic_problems

    problems = [f"{where}: {p}" for p in problems]
    for env_rule in ENVIRONMENT_RULES:  # the variable is not in the file: name it alone
        why = env_rule.check(os.environ)
        if why is not None:
            problems.append(f"{env_rule.name} (environment): {why}")
    if problems:
        raise ConfigError(problems, hint=HINT)
    return build(
        values, base_dir=base_dir, config_path=config_path, sources=sources, taxonomy=taxonomy
    )


def check(given: Mapping[str, Any], base_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """Defaults overlaid with ``given``, and every problem as ``dotted.key: why``.

    Each given value is checked for its row's type, then against the row's
    rules (the defaults pass them; a test pins it); a value that fails keeps
    its default for the cross rules, which run over all values.
    """
    problems: list[str] = []
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    for key, value in given.items():
        setting = SETTING_BY_KEY.get(key)
        if setting is None:
            problems.append(_unknown(key))
            continue
        typed, why = _typed(setting, value)
        if why is None:
            why = next((w for rule in setting.rules if (w := rule(typed, base_dir))), None)
        if why is not None:
            problems.append(f"{key}: {why}")
            continue
        values[key] = typed
    for cross in CROSS_RULES:
        why = cross.check(values)
        if why is not None:
            problems.append(f"{cross.keys}: {why}")
    return values, problems


def _unknown(key: str) -> str:
    section = key.split(".", 1)[0]
    known = [s.key.split(".", 1)[1] for s in SETTINGS if s.key.startswith(section + ".")]
    return f"{key}: unknown key (expected one of: {choices(known)})"


def _typed(setting: Setting, value: Any) -> tuple[Any, str | None]:
    """The value as the setting's type (an int is a float), or why it is not one."""
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value), None
    if not isinstance(value, setting.type) or isinstance(value, bool):
        return value, f"expected {setting.type.__name__}, got {type(value).__name__} {value!r}"
    return value, None
