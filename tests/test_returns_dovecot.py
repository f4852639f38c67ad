"""Bounce intake from a real IMAP mailbox: Dovecot started by the test on 127.0.0.1.

The digests are really sent (Maildir outbox, VERP return paths); what comes back
about them is delivered into Dovecot's INBOX; ``newsletter bounces fetch`` reads it
over IMAP and each subscriber's state changes as docs/delivery.md says.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from dovecot_kit import PASSWORD, USER, dovecot_server
from returns_kit import (
    OTHERS,
    READER,
    Listed,
    bounce_settings,
    consents_of,
    fill,
    send_editions,
    sent_to,
    status_of,
)

from newsletter.returns.mailboxes import ImapBox, Incoming, MailboxError

PASSWORD_ENV = "NEWSLETTER_TEST_IMAP_PASSWORD"


def test_imap_intake_changes_each_subscriber_and_files_the_unknown(tmp_path: Path) -> None:
    with dovecot_server() as dovecot:
        settings = bounce_settings(tmp_path, soft_limit=2)
        gone, full, angry, leaving = OTHERS
        sent = send_editions(settings, 2, (READER, *OTHERS))
        first = {r: sent_to(sent, r)[0] for r in (READER, *OTHERS)}
        dovecot.deliver(fill("hard-5.1.1.eml", first[gone]))
        dovecot.deliver(fill("soft-4.2.2.eml", sent_to(sent, full)[0], "a"))
        dovecot.deliver(fill("soft-4xx-in-5xx.eml", sent_to(sent, full)[1], "b"))
        dovecot.deliver(fill("arf-abuse.eml", first[angry]))
        dovecot.deliver(fill("mailto-unsubscribe.eml", first[leaving]))
        dovecot.deliver(fill("unknown.eml", first[READER]))
        dovecot.deliver(fill("oversized.eml", first[READER]))
        config = tmp_path / "config.toml"
        config.write_text(
            '[newsletter]\nbase_url = "https://papers.example.org/"\n'
            f'[database]\nurl = "{settings.database.url}"\n'
            '[delivery]\nfrom_address = "digest@papers.example.org"\n'
            '[bounces]\nreturn_path = "bounces@papers.example.org"\nintake = "imap"\n'
            f'imap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
            f'imap_username = "{USER}"\nimap_password_env = "{PASSWORD_ENV}"\n'
            "soft_limit = 2\nmax_kb = 16\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "newsletter", "--config", str(config), "bounces", "fetch"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, PASSWORD_ENV: PASSWORD},
        )
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        assert "7 read" in done.stdout, done.stdout

        assert status_of(settings, gone) == "bounced"
        assert ("bounced", "dsn") in consents_of(settings, gone)
        assert status_of(settings, full) == "bounced"  # soft bounces of 2 editions in a row
        assert "bounced after 2 soft bounces in a row" in done.stdout
        assert status_of(settings, angry) == "complained"
        assert ("bounced", "dsn") not in consents_of(settings, angry)
        assert status_of(settings, leaving) == "unsubscribed"
        assert consents_of(settings, leaving)[-1] == ("unsubscribed", "mailto")
        assert status_of(settings, READER) == "confirmed"

        # the inbox is empty; the unknown and the oversized wait for the operator
        assert dovecot.count("INBOX") == 0
        assert dovecot.count("Processed") == 5
        assert dovecot.subjects("Unrecognised") == [
            "Question about the digest",
            "Undelivered Mail Returned to Sender",
        ]

        # a second fetch finds nothing; a copy delivered again counts once
        dovecot.deliver(fill("arf-abuse.eml", first[angry]))
        again = subprocess.run(
            [sys.executable, "-m", "newsletter", "--config", str(config), "bounces", "fetch"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, PASSWORD_ENV: PASSWORD},
        )
        assert again.returncode == 0, again.stderr
        assert "1 seen before" in again.stdout, again.stdout
        assert consents_of(settings, angry).count(("complained", "arf")) == 1
        assert dovecot.count("INBOX") == 0


def test_a_wrong_imap_password_is_one_error_line() -> None:
    with dovecot_server() as dovecot:
        with pytest.raises(MailboxError, match=r"imap://127\.0\.0\.1:\d+/INBOX: .*") as caught:
            ImapBox(
                "127.0.0.1",
                dovecot.port,
                "none",
                USER,
                "wrong",
                "INBOX",
                "Processed",
                "Unrecognised",
            )
        assert "\n" not in caught.value.message and "wrong" not in caught.value.message


def test_imaps_and_starttls_read_the_mailbox_and_a_wrong_certificate_is_refused() -> None:
    with dovecot_server(tls=True) as dovecot:
        dovecot.deliver(fill("unknown.eml"))
        trusted = ssl.create_default_context(cafile=str(dovecot.certificate))
        for security, port in (("ssl", dovecot.imaps_port), ("starttls", dovecot.port)):
            box = ImapBox(
                "127.0.0.1",
                port,
                security,
                USER,
                PASSWORD,
                "INBOX",
                "Processed",
                "Unrecognised",
                ssl_context=trusted,
            )
            try:
                assert [m.label for m in box.messages()] == ["uid 1"]
            finally:
                box.close()
        # the system's trust store does not know the throw-away certificate
        with pytest.raises(MailboxError, match="certificate verify failed"):
            ImapBox("127.0.0.1", dovecot.imaps_port, "ssl", USER, PASSWORD, "INBOX", "P", "U")


def test_a_message_nested_a_thousand_deep_over_imap_goes_to_the_operator_and_the_rest_applied(
    tmp_path: Path,
) -> None:
    """Red team rt14r: a 30 KB message of nested message/rfc822 parts in the IMAP inbox
    made every `bounces fetch` exit 1 with it left there, the DSN behind it never read."""
    inner = b"Subject: inner\r\n\r\nbody\r\n"
    for _ in range(1000):
        inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
    nested = (
        b"From: a@example.org\r\nTo: bounces@papers.example.org\r\nSubject: nest\r\n"
        b"Message-ID: <nest.imap@example.org>\r\nMIME-Version: 1.0\r\n" + inner
    )
    with dovecot_server() as dovecot:
        settings = bounce_settings(tmp_path, max_kb=64)
        [sent] = send_editions(settings, 1, (READER,))
        dovecot.deliver(nested)
        dovecot.deliver(fill("hard-5.1.1.eml", sent))
        config = tmp_path / "config.toml"
        config.write_text(
            '[newsletter]\nbase_url = "https://papers.example.org/"\n'
            f'[database]\nurl = "{settings.database.url}"\n'
            '[delivery]\nfrom_address = "digest@papers.example.org"\n'
            '[bounces]\nreturn_path = "bounces@papers.example.org"\nintake = "imap"\n'
            f'imap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
            f'imap_username = "{USER}"\nimap_password_env = "{PASSWORD_ENV}"\nmax_kb = 64\n',
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "newsletter", "--config", str(config), "bounces", "fetch"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, PASSWORD_ENV: PASSWORD},
        )
        assert done.returncode == 0, done.stderr
        [line] = [x for x in done.stderr.splitlines() if "multipart/message parts" in x]
        assert line.startswith("warning: uid ") and "operator folder" in line
        assert f"{READER}: bounced (5.1.1)" in done.stdout
        assert status_of(settings, READER) == "bounced"
        assert dovecot.count("INBOX") == 0
        assert dovecot.subjects("Unrecognised") == ["nest"]
        assert dovecot.count("Processed") == 1


def _imap_config(tmp_path: Path, settings: object, port: int, max_kb: int = 16) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[database]\nurl = "{settings.database.url}"\n'  # type: ignore[attr-defined]
        '[delivery]\nfrom_address = "digest@papers.example.org"\n'
        '[bounces]\nreturn_path = "bounces@papers.example.org"\nintake = "imap"\n'
        f'imap_host = "127.0.0.1"\nimap_port = {port}\nimap_security = "none"\n'
        f'imap_username = "{USER}"\nimap_password_env = "{PASSWORD_ENV}"\nmax_kb = {max_kb}\n',
        encoding="utf-8",
    )
    return config


def _fetch(config: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(config), "bounces", "fetch"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, PASSWORD_ENV: PASSWORD},
    )
    assert done.returncode == 0, done.stderr
    return done


def _move_back(dovecot: object, folder: str, into: str = "INBOX") -> None:
    """What an operator (or a mail client's rule) does: every message of ``folder``
    moved back into the folder read, where the server gives each a new UID."""
    conn = dovecot.client()  # type: ignore[attr-defined]
    try:
        conn.select(f'"{folder}"')
        _, found = conn.uid("SEARCH", "ALL")
        for uid in found[0].split():
            typ, data = conn.uid("MOVE", uid, into)
            assert typ == "OK", data
    finally:
        conn.logout()


def test_an_oversized_message_moved_back_into_the_inbox_counts_once(tmp_path: Path) -> None:
    """Red team F13: a message over bounces.max_kb was keyed by its UID and size; moved
    back into the inbox it got a new UID and `status` counted it again every round."""
    from newsletter import status
    from newsletter.states import ReturnKind

    with dovecot_server() as dovecot:
        settings = bounce_settings(tmp_path)
        [sent] = send_editions(settings, 1, (READER,))
        big = fill("oversized.eml", sent)
        dovecot.deliver(big)
        # the same too-large message without a Message-ID: known by its header block
        dovecot.deliver(re.sub(rb"(?im)^message-id:[^\n]*\n", b"", big, count=1))
        config = _imap_config(tmp_path, settings, dovecot.port)
        first = _fetch(config)
        assert "2 read" in first.stdout and "2 moved to the operator folder" in first.stdout
        assert dovecot.count("Unrecognised") == 2
        for _ in range(2):  # two more rounds, each after the operator moved them back
            _move_back(dovecot, "Unrecognised")
            assert dovecot.count("INBOX") == 2
            again = _fetch(config)
            assert "2 seen before" in again.stdout, again.stdout
            assert dovecot.count("INBOX") == 0 and dovecot.count("Unrecognised") == 2
        came_back = status.gather(settings).returns
        assert came_back is not None and came_back.count(ReturnKind.UNRECOGNISED) == 2
        assert "2 unrecognised messages" in came_back.line()

        # raised max_kb: the same message is read now, and its DSN applied
        _move_back(dovecot, "Unrecognised")
        read = _fetch(_imap_config(tmp_path, settings, dovecot.port, max_kb=1024))
        assert f"{READER}: bounced" in read.stdout, read.stdout + read.stderr
        # ... and counted as what it is alone, no longer as too large too
        assert "bounces: 2 read: 2 hard" in read.stdout and "operator" not in read.stdout
        applied = status.gather(settings).returns
        assert applied is not None and applied.count(ReturnKind.UNRECOGNISED) == 0
        assert applied.count(ReturnKind.HARD) == 2, applied.line()
        assert dovecot.count("Processed") == 2 and dovecot.count("Unrecognised") == 0


def test_a_mailto_to_the_advertised_address_in_upper_case_unsubscribes_over_imap(
    tmp_path: Path,
) -> None:
    """The digest's tokened mailto: address as a case-folding server delivers it, the
    subject dropped by the reader's client: unsubscribed; a forged MAC: the operator."""
    with dovecot_server() as dovecot:
        settings = bounce_settings(tmp_path)
        sent = send_editions(settings, 1, (READER, OTHERS[0]))
        for who, mac in ((READER, None), (OTHERS[0], "0" * 20)):
            address = sent_to(sent, who)[0].unsubscribe_mailto
            if mac is not None:
                address = re.sub(r"[0-9a-f]{20}@", f"{mac}@", address)
            folded = address.upper()
            dovecot.deliver(
                (
                    f"Delivered-To: {folded}\r\nFrom: someone@example.org\r\nTo: {folded}\r\n"
                    f"Subject: \r\nMessage-ID: <{who}.mailto@example.org>\r\n\r\nstop\r\n"
                ).encode()
            )
        done = _fetch(_imap_config(tmp_path, settings, dovecot.port))
        assert f"{READER}: unsubscribed (mailto:)" in done.stdout, done.stdout
        assert status_of(settings, READER) == "unsubscribed"
        assert consents_of(settings, READER)[-1] == ("unsubscribed", "mailto")
        assert status_of(settings, OTHERS[0]) == "confirmed"
        assert dovecot.count("Processed") == 1 and dovecot.count("Unrecognised") == 1


# ---------------------------------------------------------------- one round per mailbox


def _imap_settings(tmp_path: Path, port: int, db_url: str | None = None, **more: object) -> object:
    return bounce_settings(
        tmp_path,
        db_url,
        intake="imap",
        imap_host="127.0.0.1",
        imap_port=port,
        imap_security="none",
        imap_username=USER,
        imap_password_env=PASSWORD_ENV,
        **more,
    )


def _imap_box(port: int) -> ImapBox:
    return ImapBox("127.0.0.1", port, "none", USER, PASSWORD, "INBOX", "Processed", "Unrecognised")


def _run_fetch(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(config), "bounces", "fetch"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, PASSWORD_ENV: PASSWORD},
    )


def test_a_fetch_while_another_round_holds_the_mailbox_reads_nothing_and_exits_75(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Red team (Dovecot 2.3): two `bounces fetch` runs (or a serve round and a fetch) on
    one IMAP folder at once fetched what the other had moved (an error per message) and
    filed a duplicate in the operator folder.  Now the second finds the mailbox's intake
    lock held (here by the test: on SQLite a flock, on PostgreSQL an advisory lock)."""
    from newsletter import pipeline
    from newsletter.returns.mailboxes import intake_source
    from newsletter.store import Database

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with dovecot_server() as dovecot:
        settings = _imap_settings(tmp_path, dovecot.port, db_url)
        [sent] = send_editions(settings, 1, (READER,))  # type: ignore[arg-type]
        dovecot.deliver(fill("hard-5.1.1.eml", sent))
        config = _imap_config(tmp_path, settings, dovecot.port)
        source = intake_source(settings)  # type: ignore[arg-type]
        assert source == f"imap://{USER}@127.0.0.1:{dovecot.port}/INBOX"
        with Database.open(db_url) as db, db.hold(f"intake {source}") as held:
            assert held
            refused = _run_fetch(config)
            caplog.set_level(logging.INFO, logger="newsletter")
            assert pipeline.read_returns(settings) is None  # type: ignore[arg-type]
        assert refused.returncode == 75, refused.stdout + refused.stderr
        [line] = [x for x in refused.stderr.splitlines() if x.startswith("error:")]
        assert (
            line
            == f"error: bounces: another intake round is reading {source}; this one read nothing"
        )
        assert "read:" not in refused.stdout and "Traceback" not in refused.stderr
        [skipped] = [r for r in caplog.records if "round skipped" in r.getMessage()]
        assert skipped.levelno == logging.INFO and source in skipped.getMessage()
        assert dovecot.count("INBOX") == 1 and status_of(settings, READER) == "confirmed"  # type: ignore[arg-type]

        # the lock let go: the next round reads it
        done = _run_fetch(config)
        assert done.returncode == 0, done.stderr
        assert f"{READER}: bounced (5.1.1)" in done.stdout
        assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 1


def test_a_fetch_during_a_serve_round_on_the_same_mailbox_files_every_message_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race itself, made deterministic: a round (as serve runs it) lists the folder and
    waits; a `bounces fetch` runs then and is refused; the round goes on and every message
    lands in one folder, once."""
    from newsletter.returns.rounds import fetch
    from newsletter.store import Database

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with dovecot_server() as dovecot:
        settings = _imap_settings(tmp_path, dovecot.port)
        sent = send_editions(settings, 1, (READER, *OTHERS))  # type: ignore[arg-type]
        dovecot.deliver(fill("hard-5.1.1.eml", sent_to(sent, OTHERS[0])[0]))
        dovecot.deliver(fill("unknown.eml", sent_to(sent, READER)[0]))
        dovecot.deliver(fill("arf-abuse.eml", sent_to(sent, OTHERS[2])[0]))
        config = _imap_config(tmp_path, settings, dovecot.port)
        refused: list[subprocess.CompletedProcess[str]] = []

        def other_fetch(_listed: list[Incoming]) -> None:
            refused.append(_run_fetch(config))

        with Database.open(settings.database.url) as db:  # type: ignore[attr-defined]
            report = fetch(settings, db, Listed(_imap_box(dovecot.port), other_fetch))  # type: ignore[arg-type]
        [other] = refused
        assert other.returncode == 75, other.stdout + other.stderr
        assert "another intake round is reading" in other.stderr
        assert len(report.handled) == 3 and report.skipped == 0, report.summary()
        assert dovecot.count("INBOX") == 0
        assert dovecot.count("Processed") == 2
        assert dovecot.subjects("Unrecognised") == ["Question about the digest"]


def test_messages_moved_away_between_listing_and_reading_are_skipped_not_errors(
    tmp_path: Path,
) -> None:
    """Red team (Dovecot 2.3): a message another client moved after the round listed the
    folder made IMAP FETCH return nothing and stopped the round with an error.  Now it
    is skipped (MessageGone): not counted, no error, never filed for the operator."""
    from newsletter.returns.rounds import fetch
    from newsletter.store import Database

    with dovecot_server() as dovecot:
        settings = bounce_settings(tmp_path)
        sent = send_editions(settings, 1, (READER, *OTHERS))
        dovecot.deliver(fill("hard-5.1.1.eml", sent_to(sent, OTHERS[0])[0]))
        dovecot.deliver(fill("oversized.eml", sent_to(sent, READER)[0]))  # over max_kb: head
        dovecot.deliver(fill("mailto-unsubscribe.eml", sent_to(sent, OTHERS[3])[0]))
        dovecot.deliver(fill("unknown.eml", sent_to(sent, READER)[0]))

        def mail_client_moves(listed: list[Incoming]) -> None:
            assert [m.label for m in listed] == ["uid 1", "uid 2", "uid 3", "uid 4"]
            conn = dovecot.client()
            try:
                conn.create("Elsewhere")
                conn.select("INBOX")
                for uid in ("2", "3"):
                    typ, data = conn.uid("MOVE", uid, "Elsewhere")
                    assert typ == "OK", data
            finally:
                conn.logout()

        with Database.open(settings.database.url) as db:
            report = fetch(settings, db, Listed(_imap_box(dovecot.port), mail_client_moves))
        assert report.skipped == 2
        assert [h.label for h in report.handled] == ["uid 1", "uid 4"]
        assert report.summary() == (
            "bounces: 2 read: 1 hard, 1 unrecognised; 1 moved to the operator folder; "
            "2 moved away by someone else first"
        )
        assert status_of(settings, OTHERS[0]) == "bounced"
        assert status_of(settings, OTHERS[3]) == "confirmed"  # its mail left unread
        assert dovecot.subjects("Unrecognised") == ["Question about the digest"]
        assert dovecot.count("Processed") == 1 and dovecot.count("Elsewhere") == 2
        assert dovecot.count("INBOX") == 0
