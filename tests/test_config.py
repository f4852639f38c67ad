"""Config: every validation rule refuses a bad value with one line naming file and key.

Each rule of the settings table (``config.rule_ids()``) has its own cases
below, written out by hand — a bad value that must be refused and, where a
boundary exists, the nearest good value that must pass — so deleting or
loosening any one rule fails a test here.  Paths resolve against the config's
folder, never the current one; no module outside ``newsletter/config/`` looks a
setting up by its dotted key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter import config
from newsletter.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def setting(key: str, value: object) -> str:
    section, name = key.split(".")
    return f"[{section}]\n{name} = {_toml(value)}\n"


TEXT_SOURCE = '[[sources]]\nname = "drop"\npath = "digests"\n'
FEED_SOURCE = '[[sources]]\nname = "arxiv"\nkind = "feed"\nurl = "https://example.org/rss"\n'


@dataclass(frozen=True)
class Bad:
    """A config that must be refused: its problem names ``key`` and says ``why``.

    With ``env`` the problem is in an environment variable: its line names the
    variable, not the file.
    """

    text: str
    key: str
    why: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Good:
    """A config (and environment) that must be accepted."""

    text: str
    env: tuple[tuple[str, str], ...] = ()


def row(
    key: str, bad: list[object], good: list[object], why: str
) -> tuple[list[Bad], list[str | Good]]:
    return [Bad(setting(key, b), key, why) for b in bad], [setting(key, g) for g in good]


DB_ENV = "NEWSLETTER_DATABASE_URL"

# rule id -> (configs refused, configs accepted); each config's folder holds
# note.md and templates/ (see _write)
CASES: dict[str, tuple[list[Bad], list[str | Good]]] = {
    "newsletter.timezone: timezone": row(
        "newsletter.timezone",
        ["Mars/Olympus", "Europe/" + "x" * 300, ""],
        ["Europe/Berlin", "UTC"],
        "unknown timezone",
    ),
    "newsletter.editor_note: existing file or empty": row(
        "newsletter.editor_note",
        ["absent.md", "templates"],
        ["note.md", ""],
        "no such file",
    ),
    "database.url: database url or empty": (
        [
            Bad(setting("database.url", "garbage"), "database.url", "not a database URL"),
            Bad(setting("database.url", "postgresql://u@h:port/db"), "database.url", "not a"),
            Bad(
                setting("database.url", "mysql://u@h/db"),
                "database.url",
                "unsupported database 'mysql' (expected: sqlite, postgresql)",
            ),
        ],
        [
            setting("database.url", ""),
            setting("database.url", "sqlite:///state/news.db"),
            setting("database.url", "postgresql+psycopg://u:pw@db.example.org:5433/nl"),
        ],
    ),
    "output.templates_dir: existing folder or empty": row(
        "output.templates_dir",
        ["absent", "note.md"],
        ["templates", "", "~"],
        "no such folder",
    ),
    "environment: NEWSLETTER_DATABASE_URL": (
        [
            Bad("", DB_ENV + " (environment)", "not a database URL", ((DB_ENV, "garbage"),)),
            Bad("", DB_ENV + " (environment)", "unsupported", ((DB_ENV, "oracle://h/db"),)),
        ],
        [Good("", ((DB_ENV, "postgresql+psycopg://u@h/db"),)), Good("", ((DB_ENV, ""),))],
    ),
    "newsletter.base_url: http url": row(
        "newsletter.base_url",
        ["ftp://papers.example.org/", "papers.example.org"],
        ["https://papers.example.org/", "http://localhost:8000"],
        "must start with http:// or https://",
    ),
    "email.budget_kb: at least 20": row("email.budget_kb", [19], [20], "must be at least 20"),
    "ranking.top_picks: at least 0": row("ranking.top_picks", [-1], [0], "must be at least 0"),
    "ranking.top_picks: at most 20": row("ranking.top_picks", [21], [20], "must be at most 20"),
    "email.teaser_chars: at least 40": row("email.teaser_chars", [39], [40], "must be at least 40"),
    "feeds.max_items: at least 1": row("feeds.max_items", [0], [1], "must be at least 1"),
    "novelty.same_abstract: between 0 and 1": row(
        "novelty.same_abstract", [1.01, -0.01], [1.0, 0.0, 1], "must be between 0 and 1"
    ),
    "novelty.different_abstract: between 0 and 1": row(
        "novelty.different_abstract", [1.5, -1], [1.0, 0], "must be between 0 and 1"
    ),
    "fetch.timeout_seconds: at least 1": row(
        "fetch.timeout_seconds", [0], [1], "must be at least 1"
    ),
    "fetch.max_mb: at least 1": row("fetch.max_mb", [0], [1], "must be at least 1"),
    "fetch.max_redirects: at least 0": row("fetch.max_redirects", [-1], [0], "must be at least 0"),
    "schedule.cron: crontab": (
        [
            Bad(setting("schedule.cron", "61 7 * * *"), "schedule.cron", "61"),
            Bad(setting("schedule.cron", "0 7 * *"), "schedule.cron", "expected five fields"),
            Bad(setting("schedule.cron", "0 0 7 * * *"), "schedule.cron", "five fields"),
        ],
        [setting("schedule.cron", "30 6 * * 1-5")],
    ),
    "schedule.misfire_grace_minutes: at least 1": row(
        "schedule.misfire_grace_minutes", [0], [1], "must be at least 1"
    ),
    "serve.port: at least 0": row("serve.port", [-1], [0], "must be at least 0"),
    "serve.port: at most 65535": row("serve.port", [65536], [65535], "must be at most 65535"),
    "serve.header_timeout_seconds: at least 1": row(
        "serve.header_timeout_seconds", [0], [1], "must be at least 1"
    ),
    "serve.keepalive_seconds: at least 1": row(
        "serve.keepalive_seconds", [0], [1], "must be at least 1"
    ),
    "serve.max_connections: at least 1": row(
        "serve.max_connections", [0], [1], "must be at least 1"
    ),
    "serve.max_connections_per_client: at least 1": row(
        "serve.max_connections_per_client", [0, -5], [1], "must be at least 1"
    ),
    "subscribers.secret_env: environment variable name": row(
        "subscribers.secret_env",
        ["1KEY", "MY-KEY", ""],
        ["MY_KEY", "_k1"],
        "must name an environment variable",
    ),
    "subscribers.confirm_hours: at least 1": row(
        "subscribers.confirm_hours", [0], [1], "must be at least 1"
    ),
    "subscribers.per_address_per_day: at least 1": row(
        "subscribers.per_address_per_day", [0], [1], "must be at least 1"
    ),
    "subscribers.per_client_per_hour: at least 1": row(
        "subscribers.per_client_per_hour", [0], [1], "must be at least 1"
    ),
    "subscribers.overall_per_hour: at least 1": row(
        "subscribers.overall_per_hour", [0], [1], "must be at least 1"
    ),
    "delivery.method: one of maildir/smtp": row(
        "delivery.method", ["pigeon", "SMTP"], ["smtp", "maildir"], "(expected: maildir, smtp)"
    ),
    "delivery.from_address: email address": row(
        "delivery.from_address",
        ["not an address", "a@b@example.org"],
        ["news@example.org"],
        "not a usable address",
    ),
    "delivery.list_id: dot-atom or empty": row(
        "delivery.list_id",
        ["papers", "papers example.org", "papers..example.org"],
        ["papers.example.org", ""],
        "expected a dot-atom",
    ),
    "delivery.unsubscribe_mailto: email address or empty": row(
        "delivery.unsubscribe_mailto",
        ["unsubscribe", "u@"],
        ["", "leave@example.org"],
        "not a usable address",
    ),
    "delivery.retries: at least 0": row("delivery.retries", [-1], [0], "must be at least 0"),
    "delivery.connections: at least 1": row(
        "delivery.connections", [0, -2], [1, 4], "must be at least 1"
    ),
    "delivery.connections: at most 64": row(
        "delivery.connections", [65, 1000], [64], "must be at most 64"
    ),
    "delivery.in_flight: at least 1": row("delivery.in_flight", [0], [1, 8], "must be at least 1"),
    "delivery.lease_seconds: at least 2": row(
        "delivery.lease_seconds", [1, 0], [2, 30], "must be at least 2"
    ),
    "delivery.backoff_max_seconds: at least 0": row(
        "delivery.backoff_max_seconds", [-1.0], [0, 7200.0], "must be at least 0"
    ),
    "delivery.max_age_days: at least 1": row(
        "delivery.max_age_days", [0], [1, 3], "must be at least 1"
    ),
    "delivery.rate_per_second: at least 0": row(
        "delivery.rate_per_second", [-0.1], [0, 12.5], "must be at least 0"
    ),
    "delivery.rate_per_day: at least 0": row(
        "delivery.rate_per_day", [-1], [0, 10000], "must be at least 0"
    ),
    "delivery.backoff_seconds: at least 0": row(
        "delivery.backoff_seconds", [-0.5], [0, 0.0], "must be at least 0"
    ),
    "smtp.port: at least 1": row("smtp.port", [0], [1], "must be at least 1"),
    "smtp.port: at most 65535": row("smtp.port", [65536], [65535], "must be at most 65535"),
    "smtp.security: one of starttls/ssl/none": row(
        "smtp.security", ["tls"], ["ssl", "none", "starttls"], "unknown value 'tls'"
    ),
    "smtp.password_env: environment variable name": row(
        "smtp.password_env", ["SMTP PASSWORD"], ["SMTP_PW"], "must name an environment variable"
    ),
    "smtp.timeout_seconds: at least 1": row("smtp.timeout_seconds", [0], [1], "must be at least 1"),
    "bounces.return_path: email address or empty": row(
        "bounces.return_path",
        ["bounces", "b@"],
        ["", "bounces@example.org"],
        "not a usable address",
    ),
    "bounces.return_path: no VERP delimiter in it": row(
        "bounces.return_path",
        ["bounces+x@example.org", "my-bounces@example.org"],
        ["bounces@example.org"],
        "holds a VERP delimiter",
    ),
    "bounces.delimiter: one of +/-/=": row(
        "bounces.delimiter", ["#", "++"], ["+", "-", "="], "unknown delimiter"
    ),
    "bounces.intake: one of none/maildir/imap": row(
        "bounces.intake", ["pop3", ""], ["none", "maildir"], "unknown intake"
    ),
    "bounces.imap_port: at least 1": row("bounces.imap_port", [0], [1], "must be at least 1"),
    "bounces.imap_port: at most 65535": row(
        "bounces.imap_port", [65536], [65535], "must be at most 65535"
    ),
    "bounces.imap_security: one of ssl/starttls/none": row(
        "bounces.imap_security", ["tls"], ["ssl", "starttls", "none"], "unknown value 'tls'"
    ),
    "bounces.imap_password_env: environment variable name": row(
        "bounces.imap_password_env", ["IMAP PW"], ["IMAP_PW"], "must name an environment variable"
    ),
    "bounces.imap_folder: folder name": row(
        "bounces.imap_folder", ["", "a/b", '"x"', ".hidden"], ["INBOX", "Bounces 2"], "folder name"
    ),
    "bounces.processed_folder: folder name": row(
        "bounces.processed_folder", ["x.y", "a\\b"], ["Done"], "folder name"
    ),
    "bounces.operator_folder: folder name": row(
        "bounces.operator_folder", ["../up", "x" * 65], ["For me"], "folder name"
    ),
    "bounces.interval_minutes: at least 0": (
        [Bad(setting("bounces.interval_minutes", -1), "bounces.interval_minutes", "at least 0")],
        [
            setting("bounces.interval_minutes", 0),
            '[bounces]\ninterval_minutes = 15\nintake = "maildir"\n',
        ],
    ),
    "bounces.soft_limit: at least 1": row("bounces.soft_limit", [0], [1, 3], "must be at least 1"),
    "bounces.max_kb: at least 16": row("bounces.max_kb", [15, 0], [16], "must be at least 16"),
    "bounces.complaint_window_days: at least 1": row(
        "bounces.complaint_window_days", [0], [1, 30], "must be at least 1"
    ),
    "cross: imap intake needs a user": (
        [
            Bad(
                '[bounces]\nintake = "imap"\n',
                "bounces.intake and bounces.imap_username",
                "needs imap_username",
            )
        ],
        [
            '[bounces]\nintake = "imap"\nimap_username = "bounces"\n',
            '[bounces]\nintake = "maildir"\n',
        ],
    ),
    "cross: interval needs an intake": (
        [
            Bad(
                "[bounces]\ninterval_minutes = 10\n",
                "bounces.interval_minutes and bounces.intake",
                "needs an intake",
            )
        ],
        ['[bounces]\ninterval_minutes = 10\nintake = "maildir"\n', "[bounces]\n"],
    ),
    "cross: bounce folders differ": (
        [
            Bad(
                '[bounces]\nprocessed_folder = "inbox"\n',
                "bounces.imap_folder, processed_folder and operator_folder",
                "must differ",
            ),
            Bad(
                '[bounces]\noperator_folder = "Processed"\n',
                "bounces.imap_folder, processed_folder and operator_folder",
                "must differ",
            ),
        ],
        ['[bounces]\nprocessed_folder = "Done"\noperator_folder = "Look"\n'],
    ),
    "cross: dkim key and selector together": (
        [
            Bad(
                '[dkim]\nkey_file = "dkim.pem"\n',
                "dkim.key_file and dkim.selector",
                "set both to sign, or neither",
            ),
            Bad(
                '[dkim]\nselector = "mail"\n',
                "dkim.key_file and dkim.selector",
                "set both to sign, or neither",
            ),
        ],
        ['[dkim]\nkey_file = "dkim.pem"\nselector = "mail"\n', "[dkim]\n"],
    ),
    "sources: known_keys": (
        [Bad(TEXT_SOURCE + 'colour = "red"\n', "sources[0].colour", "unknown key")],
        [TEXT_SOURCE],
    ),
    "sources: known_kind": (
        [Bad('[[sources]]\nname = "a"\nkind = "atomm"\npath = "d"\n', "sources[0].kind", "atomm")],
        [FEED_SOURCE, '[[sources]]\nname = "h"\nkind = "hf"\nurl = "https://hf.co/x"\n'],
    ),
    "sources: named": (
        [
            Bad('[[sources]]\npath = "d"\n', "sources[0].name", "required"),
            Bad('[[sources]]\nname = "  "\npath = "d"\n', "sources[0].name", "required"),
            Bad('[[sources]]\nname = 3\npath = "d"\n', "sources[0].name", "required"),
        ],
        [TEXT_SOURCE],
    ),
    "sources: allow_private_is_bool": (
        [Bad(FEED_SOURCE + 'allow_private = "yes"\n', "sources[0].allow_private", "true or false")],
        [FEED_SOURCE + "allow_private = true\n"],
    ),
    "sources: text_reads_a_path": (
        [
            Bad('[[sources]]\nname = "a"\n', "sources[0].path", "required for a text source"),
            Bad('[[sources]]\nname = "a"\npath = 5\n', "sources[0].path", "required"),
            Bad(
                TEXT_SOURCE + 'url = "https://example.org/"\n',
                "sources[0].url",
                "a text source reads path, not url",
            ),
        ],
        [TEXT_SOURCE],
    ),
    "sources: fetched_reads_a_url": (
        [
            Bad('[[sources]]\nname = "f"\nkind = "feed"\n', "sources[0].url", "required"),
            Bad(
                '[[sources]]\nname = "f"\nkind = "hf"\nurl = "file:///etc/passwd"\n',
                "sources[0].url",
                "an http:// or https:// URL, got 'file:///etc/passwd'",
            ),
            Bad(
                FEED_SOURCE + 'path = "d"\n',
                "sources[0].path",
                "a feed source fetches url, not path",
            ),
        ],
        [FEED_SOURCE],
    ),
    "sources: unique_names": (
        [Bad(TEXT_SOURCE + TEXT_SOURCE, "sources[1].name", "'drop' is used by another source")],
        [TEXT_SOURCE + FEED_SOURCE],
    ),
}

# Rules of the loader itself (not rows of the table): the file's shape and each value's type.
STRUCTURE: dict[str, Bad] = {
    "not TOML": Bad("[newsletter\nname = 1\n", "", "not valid TOML"),
    "unknown section": Bad("[newsleter]\nname = 'x'\n", "newsleter", "unknown section"),
    "section not a table": Bad("newsletter = 5\n", "newsletter", "must be a table"),
    "unknown key": Bad("[newsletter]\nnmae = 'x'\n", "newsletter.nmae", "unknown key"),
    "int for a text": Bad(setting("newsletter.name", 5), "newsletter.name", "expected str"),
    "text for an int": Bad(setting("email.budget_kb", "big"), "email.budget_kb", "expected int"),
    "bool for an int": Bad(setting("serve.port", True), "serve.port", "expected int"),
    "float for an int": Bad(setting("email.budget_kb", 20.5), "email.budget_kb", "expected int"),
    "text for a float": Bad(
        setting("novelty.same_abstract", "half"), "novelty.same_abstract", "expected float"
    ),
    "bool for a float": Bad(
        setting("delivery.backoff_seconds", False), "delivery.backoff_seconds", "expected float"
    ),
    "sources not an array": Bad("sources = 5\n", "sources", "must be an array of tables"),
    "source not a table": Bad("sources = [1]\n", "sources[0]", "must be a table"),
    "bad topic": Bad('[[topics]]\nid = "llm"\ncolour = "red"\n', "topics[0].colour", "unknown key"),
}


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "note.md").write_text("Hello.\n", encoding="utf-8")
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path: Path, bad: Bad, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, bad.text)
    monkeypatch.delenv(DB_ENV, raising=False)
    for name, value in bad.env:
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    problems = caught.value.problems
    assert all("\n" not in p for p in problems)  # one line per problem
    if bad.env:
        prefix = f"{bad.key}: "
        assert all(value not in p for p in problems for _, value in bad.env)  # may hold secrets
    else:
        prefix = f"{path}: {bad.key}: " if bad.key else f"{path}: "
    assert any(p.startswith(prefix) and bad.why in p for p in problems), problems


def test_every_validation_rule_has_its_own_cases() -> None:
    assert sorted(CASES) == sorted(config.rule_ids())


@pytest.mark.parametrize("rule", sorted(CASES))
def test_a_bad_value_is_refused_naming_the_file_and_the_key(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused, _ = CASES[rule]
    for bad in refused:
        _refused(tmp_path, bad, monkeypatch)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_nearest_good_value_is_accepted(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, accepted = CASES[rule]
    for case in accepted:
        good = case if isinstance(case, Good) else Good(case)
        monkeypatch.delenv(DB_ENV, raising=False)
        for name, value in good.env:
            monkeypatch.setenv(name, value)
        config.load(_write(tmp_path, good.text))


@pytest.mark.parametrize("name", sorted(STRUCTURE))
def test_a_config_of_the_wrong_shape_is_refused(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refused(tmp_path, STRUCTURE[name], monkeypatch)


def test_every_problem_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        '[newsletter]\ntimezone = "Mars/Olympus"\nnmae = "x"\n'
        '[email]\nbudget_kb = 5\n[smtp]\nport = 0\n[dkim]\nselector = "s"\n'
        '[[sources]]\nname = "a"\nkind = "atomm"\n'
    )
    monkeypatch.setenv(DB_ENV, "garbage")
    with pytest.raises(ConfigError) as caught:
        config.load(_write(tmp_path, text))
    *in_file, in_environment = caught.value.problems
    assert in_environment.startswith(f"{DB_ENV} (environment): not a database URL")
    keys = [p.split(": ")[1] for p in in_file]
    assert keys == [
        "newsletter.timezone",
        "newsletter.nmae",
        "email.budget_kb",
        "smtp.port",
        "dkim.key_file and dkim.selector",
        "sources[0].kind",
    ]


def test_the_defaults_pass_every_rule_and_have_their_rows_type(tmp_path: Path) -> None:
    for row_ in config.SETTINGS:
        assert type(row_.default) is row_.type, row_.key
        assert all(rule(row_.default, tmp_path) is None for rule in row_.rules), row_.key
    config.load(_write(tmp_path, ""))


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        config.load(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[newsletter]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin\.toml: cannot read"):
        config.load(latin)


def test_from_values_checks_like_a_config_file(tmp_path: Path) -> None:
    settings = config.from_values({"email.budget_kb": 40, "smtp.port": 2525}, base_dir=tmp_path)
    assert settings.email.budget_bytes == 40_000 and settings.smtp.port == 2525
    with pytest.raises(ConfigError, match=r"^settings: email\.budget_kb: must be at least 20"):
        config.from_values({"email.budget_kb": 5}, base_dir=tmp_path)
    assert [t.id for t in settings.taxonomy.topics] == [
        t.id for t in config.load(_write(tmp_path, "")).taxonomy.topics
    ]  # the bundled taxonomy
    with pytest.raises(ConfigError, match=r"email\.nmae: unknown key \(expected one of: budget_kb"):
        config.from_values({"email.nmae": 1}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"bogus: unknown section \(expected: bounces, database"):
        config.from_values({"bogus.key": 1}, base_dir=tmp_path)


# ---------------------------------------------------------------- typed sections


def test_sections_are_typed_and_resolved_against_the_config_folder(tmp_path: Path) -> None:
    text = (
        '[newsletter]\nname = "Papers Daily"\nbase_url = "https://papers.example.org"\n'
        'timezone = "Europe/Berlin"\neditor_note = "note.md"\n'
        '[output]\nsite_dir = "public"\n[fetch]\ntimeout_seconds = 7\nmax_mb = 2\n'
        '[delivery]\nfrom_address = "News@Mail.Example.org"\nmaildir = "~/outbox"\n'
        "[smtp]\nport = 2525\ntimeout_seconds = 9\n"
        '[dkim]\nkey_file = "keys/dkim.pem"\nselector = "s1"\n'
    )
    s = config.load(_write(tmp_path, text))
    assert s.site.base.url("feed.xml") == "https://papers.example.org/feed.xml"
    assert not config.load(_write(tmp_path, "")).site.https and s.site.https
    assert s.newsletter.timezone.key == "Europe/Berlin" == s.schedule.timezone.key
    assert s.newsletter.editor_note == tmp_path / "note.md"
    assert s.output.site_dir == tmp_path / "public" and s.output.templates_dir is None
    assert s.fetch.timeout_seconds == 7.0 and isinstance(s.fetch.timeout_seconds, float)
    assert s.fetch.max_bytes == 2 * 1024 * 1024
    assert s.fetch.user_agent.endswith("(+https://papers.example.org)")
    assert s.delivery.maildir == Path("~/outbox").expanduser()
    assert s.delivery.sender_domain == "mail.example.org"
    assert s.delivery.list_id == "papers-daily.mail.example.org"
    assert s.delivery.unsubscribe_mailto == "unsubscribe@mail.example.org"
    assert s.smtp.port == 2525 and s.smtp.timeout_seconds == 9.0
    assert s.dkim.key_file == tmp_path / "keys" / "dkim.pem" and s.dkim.domain == "mail.example.org"
    assert s.subscribers.secret_file == tmp_path / "subscribers" / "secret.key"
    assert s.subscribers.confirm_seconds == 48 * 3600


def test_a_relative_sqlite_url_resolves_against_the_config_folder() -> None:
    settings = config.parse(
        '[database]\nurl = "sqlite:///state/news.db"\n', where="c.toml", base_dir=Path("/srv/nl")
    )
    assert settings.database.url == "sqlite:////srv/nl/state/news.db"


def test_absolute_and_server_urls_are_kept() -> None:
    for url in ("sqlite:////var/lib/nl.db", "postgresql+psycopg://u@h/db", "sqlite:///:memory:"):
        settings = config.parse(f'[database]\nurl = "{url}"\n', where="c", base_dir=Path("/x"))
        assert settings.database.url == url


def test_the_database_defaults_to_a_file_beside_the_config_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)
    default = config.parse("", where="c", base_dir=Path("/srv/nl"))
    assert default.database.url == "sqlite:////srv/nl/subscribers/newsletter.db"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://u:secret@db/nl")
    chosen = config.parse('[database]\nurl = "sqlite:///x.db"\n', where="c", base_dir=Path("/a"))
    assert chosen.database.url == "postgresql+psycopg://u:secret@db/nl"
    assert config.effective(chosen)["database"] == "postgresql+psycopg://u:***@db/nl"


# ---------------------------------------------------------------- no string-keyed lookups


def test_no_module_outside_config_looks_a_setting_up_by_its_key() -> None:
    lookup = re.compile(r"""settings\w*\s*\[\s*["']|\.values\s*\[""")
    inside = ROOT / "newsletter" / "config"
    files = [
        p for folder in ("newsletter", "tests", "bench") for p in (ROOT / folder).rglob("*.py")
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(files)
        if inside not in path.parents and path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if lookup.search(line)
    ]
    assert offenders == []
    assert not hasattr(config.Settings, "__getitem__")
