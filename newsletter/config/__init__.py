"""Load config.toml once into typed, frozen settings.

Every scalar setting is one row of :data:`SETTINGS` (dotted key, default, help);
that table drives validation, ``newsletter config show`` and the docs test.
Arrays of tables (``[[sources]]``, ``[[topics]]``) are validated by their own
parsers.  All problems are collected and reported together, each naming the
file and the dotted key, so an operator fixes a config in one pass.

Where a config comes from, first match wins: ``--config PATH``, the
``NEWSLETTER_CONFIG`` environment variable, ``./config.toml``, the default
bundled with the package.  Relative paths resolve against the folder of the
config file (for the bundled default: the current folder).

Owns: the settings table, reading and validating ``config.toml`` (every check),
and the typed settings every other package reads.

May import: ``errors``, ``resources`` and ``topics`` (the taxonomy is part of
the config); no subpackage.  See ``docs/architecture.md``.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newsletter import resources
from newsletter.errors import ConfigError
from newsletter.topics import Taxonomy, parse_taxonomy

SOURCE_KINDS = ("text", "feed", "hf")
SOURCE_KEYS = ("name", "kind", "path", "url", "allow_private")


@dataclass(frozen=True)
class Setting:
    """One scalar setting: its dotted key, default, type and help text."""

    key: str
    default: Any
    help: str
    type: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("newsletter.name", "Daily Papers Digest", "Name shown in the email header and feeds."),
    Setting("newsletter.language", "en", "Language of the edition (HTML lang, feed language)."),
    Setting("newsletter.timezone", "UTC", "IANA timezone that decides what 'today' is."),
    Setting(
        "newsletter.base_url",
        "http://localhost:8000/",
        "Public URL of the web archive; links in emails and feeds start with it.",
    ),
    Setting(
        "newsletter.postal_address",
        "Newsletter Operator, 1 Example Street, 00000 Example City",
        "Sender's postal address, printed in every email footer (CAN-SPAM).",
    ),
    Setting(
        "newsletter.editor_note",
        "",
        "Markdown file whose text opens the next edition; empty for none.",
    ),
    Setting(
        "database.url",
        "",
        "SQLAlchemy URL of the store; empty means the SQLite file "
        "subscribers/newsletter.db. NEWSLETTER_DATABASE_URL overrides it.",
    ),
    Setting("output.site_dir", "site", "Folder the web archive, feeds and edition.json go to."),
    Setting(
        "output.templates_dir",
        "",
        "Folder of your own templates; a file there overrides the stock one of that name.",
    ),
    Setting("email.budget_kb", 100, "Largest HTML email in KB (Gmail clips past ~102 KB).", int),
    Setting("email.teaser_chars", 280, "Longest abstract teaser in an email card.", int),
    Setting("feeds.max_items", 200, "How many of the newest papers the feeds keep.", int),
    Setting(
        "novelty.same_abstract",
        0.5,
        "Abstract similarity (0-1, estimated Jaccard of word pairs) above which a "
        "paper with another title is the same paper (a retitled version).",
        float,
    ),
    Setting(
        "novelty.different_abstract",
        0.25,
        "Abstract similarity below which two papers with the same title are different papers.",
        float,
    ),
    Setting(
        "fetch.timeout_seconds",
        20,
        "Longest time one feed or JSON fetch may take in all (connect, redirects, "
        "download); a slower source is skipped and reported.",
        int,
    ),
    Setting("fetch.max_mb", 10, "Largest feed or JSON document accepted, in MB.", int),
    Setting("fetch.max_redirects", 5, "Most HTTP redirects followed for one fetch.", int),
    Setting(
        "fetch.user_agent",
        "",
        "User-Agent header sent with every fetch; empty means "
        "'newsletter/<version> (+<newsletter.base_url>)'.",
    ),
    Setting(
        "schedule.cron",
        "0 7 * * *",
        "When 'newsletter serve' and 'newsletter schedule' make the daily edition: "
        "crontab syntax (minute hour day month weekday) in newsletter.timezone.",
    ),
    Setting(
        "schedule.misfire_grace_minutes",
        360,
        "How late a scheduled run may still start (after a suspend or a busy moment); "
        "a later one is logged as missed and the next check catches up.",
        int,
    ),
    Setting("serve.host", "127.0.0.1", "Address 'newsletter serve' listens on."),
    Setting("serve.port", 8000, "Port 'newsletter serve' listens on.", int),
    Setting(
        "subscribers.secret_env",
        "NEWSLETTER_SECRET_KEY",
        "Environment variable holding the key that signs confirmation, preferences and "
        "unsubscribe links (never logged).",
    ),
    Setting(
        "subscribers.secret_file",
        "subscribers/secret.key",
        "Key file used when that variable is unset: generated on first use with mode 0600.",
    ),
    Setting(
        "subscribers.confirm_hours",
        48,
        "How long a confirmation link stays valid, in hours.",
        int,
    ),
    Setting(
        "subscribers.per_address_per_day",
        3,
        "Most confirmation emails sent to one address in 24 hours (the sign-up form "
        "cannot be used to mail-bomb someone).",
        int,
    ),
    Setting(
        "subscribers.per_client_per_hour",
        20,
        "Most sign-up and link posts accepted from one client address in an hour.",
        int,
    ),
    Setting(
        "subscribers.overall_per_hour",
        500,
        "Most confirmation emails the sign-up form sends in an hour, all addresses together.",
        int,
    ),
    Setting(
        "delivery.method",
        "maildir",
        "How editions are delivered: 'maildir' (an outbox folder; nothing leaves the "
        "machine) or 'smtp'.",
    ),
    Setting(
        "delivery.maildir",
        "subscribers/outbox",
        "The Maildir outbox delivery.method = 'maildir' writes to (read it with mutt -f).",
    ),
    Setting(
        "delivery.from_address",
        "digest@example.com",
        "Sender address of every email; its display name is newsletter.name.",
    ),
    Setting(
        "delivery.list_id",
        "",
        "List-Id identifier (a dot-atom like 'papers.example.com'); empty means the "
        "newsletter name as a label under the sender's domain.",
    ),
    Setting(
        "delivery.unsubscribe_mailto",
        "",
        "Address in the mailto: of List-Unsubscribe; empty means unsubscribe@<sender domain>.",
    ),
    Setting(
        "delivery.connections",
        4,
        "How many SMTP connections send at once (Maildir: writers).",
        int,
    ),
    Setting(
        "delivery.in_flight",
        1,
        "Most messages handed to the server whose reply is not yet recorded: what a "
        "crash can at worst send twice. 1 keeps that to one message per crash.",
        int,
    ),
    Setting(
        "delivery.lease_seconds",
        30,
        "How long a sender's claim on a ledger row lasts unless renewed; a row whose "
        "sender died is taken back after this, whatever host it ran on.",
        int,
    ),
    Setting(
        "delivery.backoff_seconds",
        300.0,
        "First wait before a recipient with a temporary failure (SMTP 4xx, greylisting) "
        "is tried again; it doubles with each further failure.",
        float,
    ),
    Setting(
        "delivery.backoff_max_seconds",
        7200.0,
        "Longest wait between two attempts to one recipient.",
        float,
    ),
    Setting(
        "delivery.max_age_days",
        3,
        "Every run resumes the unsent mail of editions up to this old; then a recipient "
        "still not reached is given up, with the last reply as the reason.",
        int,
    ),
    Setting(
        "delivery.retries",
        4,
        "How often a relay that cannot be reached is tried again (pausing 1, 2, 4 ... s) "
        "before the run stops; the unsent mail stays for the next run.",
        int,
    ),
    Setting(
        "delivery.rate_per_second",
        0.0,
        "Most messages per second to the relay, all senders together; 0 for no limit.",
        float,
    ),
    Setting(
        "delivery.rate_per_day",
        0,
        "Most messages per day (UTC) to the relay, all senders together; 0 for no limit. "
        "What is over the limit goes out the next day.",
        int,
    ),
    Setting("smtp.host", "localhost", "SMTP server for delivery.method = 'smtp'."),
    Setting("smtp.port", 587, "SMTP server port (587 STARTTLS, 465 SSL, 25 plain).", int),
    Setting(
        "smtp.security",
        "starttls",
        "Connection security: 'starttls', 'ssl' or 'none' (loopback test servers only).",
    ),
    Setting("smtp.username", "", "SMTP login name; empty for no authentication."),
    Setting(
        "smtp.password_env",
        "NEWSLETTER_SMTP_PASSWORD",
        "Environment variable holding the SMTP password (never stored in config or logged).",
    ),
    Setting("smtp.timeout_seconds", 30, "Timeout of each SMTP network operation.", int),
    Setting(
        "dkim.key_file",
        "",
        "PEM private key to DKIM-sign every email with (covering the list headers); "
        "empty for no signing.",
    ),
    Setting("dkim.selector", "", "DKIM selector (the DNS record <selector>._domainkey.<domain>)."),
    Setting("dkim.domain", "", "DKIM signing domain; empty means the sender's domain."),
)

SETTING_BY_KEY = {s.key: s for s in SETTINGS}
SECTIONS = sorted({s.key.split(".")[0] for s in SETTINGS})


@dataclass(frozen=True)
class SourceSettings:
    """One ``[[sources]]`` entry.

    ``text`` sources read ``path``; ``feed`` and ``hf`` sources fetch ``url``.
    ``allow_private`` lets a source fetch from a loopback, private or
    link-local address (its own host only, never a redirect target elsewhere).
    """

    name: str
    kind: str
    path: str = ""
    url: str = ""
    allow_private: bool = False


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one run."""

    config_path: Path | None
    base_dir: Path
    values: Mapping[str, Any]
    sources: tuple[SourceSettings, ...]
    taxonomy: Taxonomy

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def name(self) -> str:
        return str(self.values["newsletter.name"])

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.values["newsletter.timezone"])

    @property
    def database_url(self) -> str:
        env = os.environ.get("NEWSLETTER_DATABASE_URL")
        if env:
            return env
        url = str(self.values["database.url"])
        if not url:
            return f"sqlite:///{self.base_dir / 'subscribers' / 'newsletter.db'}"
        relative = re.match(r"sqlite(\+\w+)?:///(?!/)(?!:memory:)(.+)$", url)
        if relative:  # like every path in config.toml: relative to its folder, not the cwd
            driver, path = relative.group(1) or "", relative.group(2)
            return f"sqlite{driver}:///{self.resolve(path)}"
        return url

    @property
    def site_dir(self) -> Path:
        return self.resolve(self.values["output.site_dir"])

    @property
    def templates_dir(self) -> Path | None:
        value = self.values["output.templates_dir"]
        return self.resolve(value) if value else None

    @property
    def editor_note(self) -> Path | None:
        value = self.values["newsletter.editor_note"]
        return self.resolve(value) if value else None

    @property
    def from_address(self) -> str:
        return str(self.values["delivery.from_address"])

    @property
    def sender_domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1].lower()

    @property
    def list_id(self) -> str:
        """The List-Id identifier: configured, or the name as a label under the sender domain."""
        configured = str(self.values["delivery.list_id"])
        if configured:
            return configured
        label = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "newsletter"
        return f"{label}.{self.sender_domain}"

    @property
    def unsubscribe_mailto(self) -> str:
        return (
            str(self.values["delivery.unsubscribe_mailto"]) or f"unsubscribe@{self.sender_domain}"
        )

    @property
    def user_agent(self) -> str:
        from newsletter import __version__

        value = str(self.values["fetch.user_agent"])
        return value or f"newsletter/{__version__} (+{self.values['newsletter.base_url']})"

    def resolve(self, value: str | Path) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


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
        logging.getLogger(__name__).warning(
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

    problems: list[str] = []
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    for section, body in data.items():
        if section in ("sources", "topics"):
            continue
        if section not in SECTIONS:
            problems.append(f"{where}: {section}: unknown section (expected: {_choices(SECTIONS)})")
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}: {section}: must be a table ([{section}])")
            continue
        for name, value in body.items():
            key = f"{section}.{name}"
            setting = SETTING_BY_KEY.get(key)
            if setting is None:
                known = [
                    s.key.split(".", 1)[1] for s in SETTINGS if s.key.startswith(section + ".")
                ]
                problems.append(f"{where}: {key}: unknown key (expected one of: {_choices(known)})")
                continue
            checked = _check_value(setting, value)
            if isinstance(checked, str) and checked.startswith("\0"):
                problems.append(f"{where}: {key}: {checked[1:]}")
            else:
                values[key] = checked
    problems += [f"{where}: {p}" for p in _check_semantics(values)]

    sources, source_problems = _parse_sources(data.get("sources", []))
    problems += [f"{where}: {p}" for p in source_problems]

    raw_topics = data.get("topics")
    if raw_topics is None:
        raw_topics = tomllib.loads(resources.bundled_config().read_text("utf-8")).get("topics", [])
    taxonomy, topic_problems = parse_taxonomy(raw_topics)
    problems += [f"{where}: {p}" for p in topic_problems]

    if problems:
        raise ConfigError(
            problems,
            hint="fix the keys named above; newsletter config show prints the effective settings",
        )
    return Settings(
        config_path=config_path,
        base_dir=base_dir,
        values=values,
        sources=tuple(sources),
        taxonomy=taxonomy,
    )


def _choices(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names)


def _check_value(setting: Setting, value: Any) -> Any:
    """The value converted to the setting's type, or an error string starting with NUL."""
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, setting.type) or isinstance(value, bool):
        return f"\0expected {setting.type.__name__}, got {type(value).__name__} {value!r}"
    return value


def _check_semantics(values: dict[str, Any]) -> list[str]:
    problems = []
    tz = values["newsletter.timezone"]
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
        problems.append(
            f"newsletter.timezone: unknown timezone {tz!r} (e.g. 'Europe/Berlin', 'UTC')"
        )
    base = values["newsletter.base_url"]
    if not base.startswith(("http://", "https://")):
        problems.append(f"newsletter.base_url: must start with http:// or https://, got {base!r}")
    if values["email.budget_kb"] < 20:
        problems.append("email.budget_kb: must be at least 20")
    if values["email.teaser_chars"] < 40:
        problems.append("email.teaser_chars: must be at least 40")
    if values["feeds.max_items"] < 1:
        problems.append("feeds.max_items: must be at least 1")
    for key in ("novelty.same_abstract", "novelty.different_abstract"):
        if not 0.0 <= values[key] <= 1.0:
            problems.append(f"{key}: must be between 0 and 1, got {values[key]}")
    for key, low in (
        ("fetch.timeout_seconds", 1),
        ("fetch.max_mb", 1),
        ("fetch.max_redirects", 0),
        ("schedule.misfire_grace_minutes", 1),
        ("serve.port", 0),
    ):
        if values[key] < low:
            problems.append(f"{key}: must be at least {low}, got {values[key]}")
    if values["serve.port"] > 65535:
        problems.append(f"serve.port: must be at most 65535, got {values['serve.port']}")
    problems += _check_delivery(values)
    cron_problem = check_cron(values["schedule.cron"])
    if cron_problem:
        problems.append(f"schedule.cron: {cron_problem}")
    return problems


DELIVERY_METHODS = ("maildir", "smtp")
SMTP_SECURITY = ("starttls", "ssl", "none")
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")


def _check_delivery(values: dict[str, Any]) -> list[str]:
    from email_validator import EmailNotValidError, validate_email

    problems = []
    if values["delivery.method"] not in DELIVERY_METHODS:
        problems.append(
            f"delivery.method: unknown method {values['delivery.method']!r} "
            f"(expected: {_choices(DELIVERY_METHODS)})"
        )
    if values["smtp.security"] not in SMTP_SECURITY:
        problems.append(
            f"smtp.security: unknown value {values['smtp.security']!r} "
            f"(expected: {_choices(SMTP_SECURITY)})"
        )
    for key in ("delivery.from_address", "delivery.unsubscribe_mailto"):
        if key == "delivery.unsubscribe_mailto" and not values[key]:
            continue
        try:
            validate_email(
                values[key], check_deliverability=False, allow_smtputf8=False, test_environment=True
            )
        except EmailNotValidError as exc:
            problems.append(f"{key}: not a usable address {values[key]!r}: {exc}")
    list_id = values["delivery.list_id"]
    if list_id and not _DOT_ATOM.match(list_id):
        problems.append(
            f"delivery.list_id: expected a dot-atom like 'papers.example.com', got {list_id!r}"
        )
    for key, low in (
        ("subscribers.confirm_hours", 1),
        ("subscribers.per_address_per_day", 1),
        ("subscribers.per_client_per_hour", 1),
        ("subscribers.overall_per_hour", 1),
        ("delivery.retries", 0),
        ("delivery.connections", 1),
        ("delivery.in_flight", 1),
        ("delivery.lease_seconds", 2),
        ("delivery.max_age_days", 1),
        ("delivery.rate_per_day", 0),
        ("smtp.port", 1),
        ("smtp.timeout_seconds", 1),
    ):
        if values[key] < low:
            problems.append(f"{key}: must be at least {low}, got {values[key]}")
    for key in (
        "delivery.backoff_seconds",
        "delivery.backoff_max_seconds",
        "delivery.rate_per_second",
    ):
        if values[key] < 0:
            problems.append(f"{key}: must not be negative, got {values[key]}")
    if values["delivery.connections"] > 64:
        problems.append(
            f"delivery.connections: must be at most 64, got {values['delivery.connections']}"
        )
    for key in ("subscribers.secret_env", "smtp.password_env"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", values[key]):
            problems.append(f"{key}: must name an environment variable, got {values[key]!r}")
    if bool(values["dkim.key_file"]) != bool(values["dkim.selector"]):
        problems.append("dkim.key_file and dkim.selector: set both to sign, or neither")
    return problems


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


def _parse_sources(raw: Any) -> tuple[list[SourceSettings], list[str]]:
    if not isinstance(raw, list):
        return [], ["sources: must be an array of tables ([[sources]])"]
    sources: list[SourceSettings] = []
    problems: list[str] = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        at = f"sources[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be a table")
            continue
        unknown = sorted(set(item) - set(SOURCE_KEYS))
        for key in unknown:
            problems.append(f"{at}.{key}: unknown key (expected one of: {_choices(SOURCE_KEYS)})")
        kind = item.get("kind", "text")
        if kind not in SOURCE_KINDS:
            problems.append(
                f"{at}.kind: unknown kind {kind!r} (expected: {_choices(SOURCE_KINDS)})"
            )
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{at}.name: required, a non-empty string")
            name = f"source-{i}"
        elif name in names:
            problems.append(f"{at}.name: {name!r} is used by another source")
        names.add(name)
        path, url = item.get("path", ""), item.get("url", "")
        allow_private = item.get("allow_private", False)
        if not isinstance(allow_private, bool):
            problems.append(f"{at}.allow_private: expected true or false, got {allow_private!r}")
            allow_private = False
        if kind == "text":
            if not isinstance(path, str) or not path:
                problems.append(f"{at}.path: required for a text source (a file, folder or glob)")
                path = ""
            if url:
                problems.append(f"{at}.url: a text source reads path, not url")
        elif kind in SOURCE_KINDS:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                problems.append(
                    f"{at}.url: required for a {kind} source, an http:// or https:// URL"
                    + (f", got {url!r}" if url else "")
                )
                url = ""
            if path:
                problems.append(f"{at}.path: a {kind} source fetches url, not path")
        sources.append(
            SourceSettings(
                name=name,
                kind=str(kind),
                path=path if isinstance(path, str) else "",
                url=url if isinstance(url, str) else "",
                allow_private=allow_private,
            )
        )
    return sources, problems


def effective(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, for ``config show``."""
    return {
        "config": str(settings.config_path) if settings.config_path else "(bundled default)",
        "database": _redact(settings.database_url),
        "settings": {
            s.key: _redact(settings.values[s.key])
            if s.key == "database.url" and settings.values[s.key]
            else settings.values[s.key]
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


def _redact(url: str) -> str:
    """Hide a password in a database URL (secrets are never printed)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.netloc.rpartition("@")[0].split(":", 1)[0]
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "(unparseable URL)"
