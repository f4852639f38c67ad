"""One row of the settings table, and the validation rules a row may carry.

A :class:`Setting` is one scalar key of config.toml: its dotted key, default,
help text, type and :class:`Rule` s.  A rule is a small named function from
the (type-checked) value to why it is wrong, or ``None``; the loader prefixes
the file and the dotted key, so a rule's message never repeats them.  A rule
that relates several keys is a :class:`CrossRule` over all the values.

Rules are data, so they can be listed (:func:`newsletter.config.table.rule_ids`)
and a test can check that every one of them refuses a bad value.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Check = Callable[[Any, Path], "str | None"]
"""(value, folder of the config file) → why the value is wrong, or None."""


@dataclass(frozen=True)
class Rule:
    """One named check of one setting's value."""

    name: str
    check: Check

    def __call__(self, value: Any, base_dir: Path) -> str | None:
        return self.check(value, base_dir)


@dataclass(frozen=True)
class Setting:
    """One scalar setting: its dotted key, default, type, help text and rules."""

    key: str
    default: Any
    help: str
    type: type = str
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class CrossRule:
    """A rule over several settings; ``keys`` names them in the error line."""

    name: str
    keys: str
    check: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class EnvironmentRule:
    """A rule on an environment variable that overrides a setting; ``name`` is the variable."""

    name: str
    check: Callable[[Mapping[str, str]], str | None]


def choices(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


# ------------------------------------------------------------------ rule makers


def at_least(low: int | float) -> Rule:
    def check(value: Any, _: Path) -> str | None:
        return None if value >= low else f"must be at least {low}, got {value!r}"

    return Rule(f"at least {low}", check)


def at_most(high: int | float) -> Rule:
    def check(value: Any, _: Path) -> str | None:
        return None if value <= high else f"must be at most {high}, got {value!r}"

    return Rule(f"at most {high}", check)


def between(low: float, high: float) -> Rule:
    def check(value: Any, _: Path) -> str | None:
        if low <= value <= high:
            return None
        return f"must be between {low:g} and {high:g}, got {value!r}"

    return Rule(f"between {low:g} and {high:g}", check)


def one_of(allowed: tuple[str, ...], noun: str = "value") -> Rule:
    def check(value: Any, _: Path) -> str | None:
        if value in allowed:
            return None
        return f"unknown {noun} {value!r} (expected: {choices(allowed)})"

    return Rule("one of " + "/".join(allowed), check)


def _timezone(value: Any, _: Path) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
        return f"unknown timezone {value!r} (e.g. 'Europe/Berlin', 'UTC')"
    return None


TIMEZONE = Rule("timezone", _timezone)


def _http_url(value: Any, _: Path) -> str | None:
    if value.startswith(("http://", "https://")):
        return None
    return f"must start with http:// or https://, got {value!r}"


HTTP_URL = Rule("http url", _http_url)


def existing(kind: str) -> Rule:
    """An optional path (empty for none) that must name an existing ``file`` or ``folder``."""

    def check(value: Any, base_dir: Path) -> str | None:
        if not value:
            return None
        path = resolve(base_dir, value)
        found = path.is_file() if kind == "file" else path.is_dir()
        return None if found else f"no such {kind} {str(path)!r} (empty for none)"

    return Rule(f"existing {kind} or empty", check)


def email_address(*, optional: bool = False) -> Rule:
    def check(value: Any, _: Path) -> str | None:
        from email_validator import EmailNotValidError, validate_email

        if optional and not value:
            return None
        try:
            validate_email(
                value, check_deliverability=False, allow_smtputf8=False, test_environment=True
            )
        except EmailNotValidError as exc:
            return f"not a usable address {value!r}: {exc}"
        return None

    return Rule("email address" + (" or empty" if optional else ""), check)


_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")


def _dot_atom(value: Any, _: Path) -> str | None:
    if not value or _DOT_ATOM.match(value):
        return None
    return f"expected a dot-atom like 'papers.example.com', got {value!r}"


DOT_ATOM = Rule("dot-atom or empty", _dot_atom)


def _env_name(value: Any, _: Path) -> str | None:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return None
    return f"must name an environment variable, got {value!r}"


ENV_NAME = Rule("environment variable name", _env_name)


def check_cron(expression: str) -> str | None:
    """Why a crontab expression is unusable, or None (five fields, as cron has them)."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expression.split()) != 5:
        return f"expected five fields (minute hour day month weekday), got {expression!r}"
    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as exc:
        return f"{exc} in {expression!r}"
    return None


CRONTAB = Rule("crontab", lambda value, _: check_cron(value))


# ------------------------------------------------------------------ typed reads


class Values:
    """The checked value of every setting by dotted key, read back with its type.

    Only the section builders read it; by then each value has passed its
    row's type check, so the asserts here document, not validate.
    """

    def __init__(self, data: Mapping[str, Any], base_dir: Path) -> None:
        self.data = data
        self.base_dir = base_dir

    def text(self, key: str) -> str:
        value = self.data[key]
        assert isinstance(value, str), key
        return value

    def integer(self, key: str) -> int:
        value = self.data[key]
        assert isinstance(value, int) and not isinstance(value, bool), key
        return value

    def number(self, key: str) -> float:
        value = self.data[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        return float(value)

    def path(self, key: str) -> Path:
        return resolve(self.base_dir, self.text(key))

    def optional_path(self, key: str) -> Path | None:
        value = self.text(key)
        return resolve(self.base_dir, value) if value else None


def resolve(base_dir: Path, value: str | Path) -> Path:
    """A path from config.toml: ``~`` expanded, relative to the config's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path
