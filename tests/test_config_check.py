"""`newsletter config check`: what a run will need, tried without writing or connecting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter import config, preflight

ROOT = Path(__file__).resolve().parents[1]


def _settings(tmp_path: Path, text: str = "") -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def _failed(findings: list[preflight.Finding]) -> dict[str, str]:
    return {f.what: f.detail for f in findings if not f.ok}


def _newsletter(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "300", **env}
    full.pop("NEWSLETTER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWSLETTER_SECRET_KEY", "NEWSLETTER_SMTP_PASSWORD", "NEWSLETTER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_a_fresh_config_passes_every_check_and_nothing_is_written(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    findings = preflight.check(settings)
    assert _failed(findings) == {}
    assert [f.what for f in findings] == [
        "config",
        "templates",
        "sample edition",
        "delivery",
        "bounces",
        "dkim",
        "link signing key",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no key, no db


def test_a_template_override_with_a_syntax_error_is_named_with_its_line(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "email.txt.j2").write_text("Hello\n{% if %}\n", encoding="utf-8")
    failed = _failed(
        preflight.check(_settings(tmp_path, '[output]\ntemplates_dir = "templates"\n'))
    )
    assert failed["templates"].startswith(f"template {own / 'email.txt.j2'}, line 2: ")
    assert "not rendered" in failed["sample edition"]


def test_an_override_naming_an_unknown_field_fails_the_sample_edition(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "_footer.mjml.j2").write_text("{{ edition.postal_adress }}\n", encoding="utf-8")
    failed = _failed(
        preflight.check(_settings(tmp_path, '[output]\ntemplates_dir = "templates"\n'))
    )
    assert list(failed) == ["sample edition"]
    assert "_footer.mjml.j2" in failed["sample edition"]
    assert "postal_adress" in failed["sample edition"]


def test_smtp_login_without_its_password_variable_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = '[delivery]\nmethod = "smtp"\n[smtp]\nusername = "mailer"\npassword_env = "SMTP_PW"\n'
    monkeypatch.delenv("SMTP_PW", raising=False)
    assert _failed(preflight.check(_settings(tmp_path, text))) == {
        "delivery": "smtp localhost:587 (starttls): smtp.username is set but $SMTP_PW is not"
    }
    monkeypatch.setenv("SMTP_PW", "hunter2")
    assert _failed(preflight.check(_settings(tmp_path, text))) == {}


def test_a_dkim_key_that_is_not_a_key_fails_and_a_real_one_signs(tmp_path: Path) -> None:
    (tmp_path / "dkim.pem").write_text("not a key\n", encoding="utf-8")
    text = '[dkim]\nkey_file = "dkim.pem"\nselector = "mail"\n'
    assert "DKIM signing failed" in _failed(preflight.check(_settings(tmp_path, text)))["dkim"]
    subprocess.run(
        ["openssl", "genrsa", "-out", str(tmp_path / "dkim.pem"), "1024"],
        check=True,
        capture_output=True,
    )
    findings = {f.what: f for f in preflight.check(_settings(tmp_path, text))}
    assert findings["dkim"].ok and "mail._domainkey.example.com" in findings["dkim"].detail


def test_a_short_signing_key_in_the_environment_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "short")
    assert "too short" in _failed(preflight.check(_settings(tmp_path)))["link signing key"]


# ---------------------------------------------------------------- the command


def test_config_check_prints_one_line_per_check_and_exits_2_on_a_failure(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    good = _newsletter("config", "check", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert [line.split(":")[0] for line in good.stdout.splitlines()] == ["ok"] * 6
    assert good.stderr.startswith("warning: bounces: bounces.intake is 'none'")  # the 7th
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "index.html.j2").write_text("{% for %}\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text('[output]\ntemplates_dir = "t"\n', encoding="utf-8")
    bad = _newsletter("config", "check", cwd=tmp_path)
    assert bad.returncode == 2
    assert f"error: templates: template {tmp_path / 't' / 'index.html.j2'}, line 1:" in bad.stderr


def test_nothing_reading_the_advertised_mailto_is_a_warning_and_a_missing_imap_password_fails(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    default = _newsletter("config", "check", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stderr.splitlines() == [
        "warning: bounces: bounces.intake is 'none': nothing reads mail to "
        "mailto:unsubscribe@example.com, which every digest advertises in List-Unsubscribe, "
        "nor bounces and complaints (unless your mail server pipes them to `newsletter "
        "bounces read --stdin`); set bounces.intake to 'maildir' or 'imap'"
    ]
    (tmp_path / "config.toml").write_text('[bounces]\nintake = "maildir"\n', encoding="utf-8")
    never = _newsletter("config", "check", cwd=tmp_path)
    assert never.returncode == 0, never.stderr
    assert never.stderr.splitlines() == [
        f"warning: bounces: maildir {tmp_path / 'subscribers/bounces'}: bounces.interval_minutes "
        "is 0, so serve "
        "and schedule never read it (mail to mailto:unsubscribe@example.com waits for "
        "`newsletter bounces fetch`); set an interval or run that command from cron"
    ]
    (tmp_path / "config.toml").write_text(
        '[bounces]\nintake = "imap"\nimap_username = "b@example.org"\n'
        'imap_password_env = "BOUNCE_PW"\ninterval_minutes = 10\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "BOUNCE_PW"}
    unset = subprocess.run(
        [sys.executable, "-m", "newsletter", "config", "check"],
        cwd=tmp_path,
        env={**env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unset.returncode == 2
    assert unset.stderr.splitlines() == [
        "error: bounces: bounces.imap_password_env: $BOUNCE_PW is not set "
        "(intake = 'imap' logs in as b@example.org)"
    ]
    good = _newsletter("config", "check", cwd=tmp_path, BOUNCE_PW="hunter2")
    assert good.returncode == 0, good.stderr
    assert good.stderr == ""
    assert "ok: bounces: imap b@example.org@localhost:993 folder INBOX, read every 10 min" in (
        good.stdout.splitlines()
    )


def test_a_bad_database_url_in_the_environment_exits_2_with_one_error_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    result = _newsletter("status", cwd=tmp_path, NEWSLETTER_DATABASE_URL="garbage:pass@word")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: NEWSLETTER_DATABASE_URL (environment): not a database URL (expected e.g. "
        "'sqlite:///state/news.db' or 'postgresql+psycopg://user@host/dbname')"
    ]
    assert "pass@word" not in result.stderr and "Traceback" not in result.stderr


def test_a_missing_editor_note_stops_the_run_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[newsletter]\neditor_note = "notes/next.md"\n', encoding="utf-8")
    result = _newsletter("preview", "--out", "p", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: config.toml: newsletter.editor_note: no such file" in result.stderr
    assert not (tmp_path / "p").exists()
