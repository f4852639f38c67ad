"""What comes back, end to end: digests really sent with VERP return paths, the bounces,
complaints and mailto unsubscribes about them delivered to a real Maildir, read by
``newsletter bounces fetch`` / ``bounces read --stdin``, and each subscriber's state."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from delivery_kit import make_settings
from returns_kit import (
    DAY,
    OTHERS,
    READER,
    RETURN_PATH,
    Listed,
    Sent,
    bounce_settings,
    consents_of,
    digests,
    drop_into_maildir,
    fill,
    folder_files,
    outbox,
    send_editions,
    sent_to,
    status_of,
)
from smtp_loopback import smtp_server

from newsletter import config, pipeline, status
from newsletter.returns.mailboxes import Incoming, MaildirBox
from newsletter.returns.rounds import fetch
from newsletter.states import ReturnKind
from newsletter.store import Database
from newsletter.subscribers.returnpath import ReturnPath

ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp: Path, settings: config.Settings) -> Path:
    """A config.toml a subprocess reads: the same settings as ``bounce_settings``."""
    path = tmp / "config.toml"
    bounces = settings.bounces
    path.write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[database]\nurl = "{settings.database.url}"\n'
        '[delivery]\nfrom_address = "digest@papers.example.org"\n'
        f'[bounces]\nreturn_path = "{RETURN_PATH}"\nintake = "maildir"\n'
        f'maildir = "{bounces.maildir}"\nmax_kb = {bounces.max_bytes // 1024}\n'
        f"soft_limit = {bounces.soft_limit}\n",
        encoding="utf-8",
    )
    return path


def cli(config_path: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(config_path), *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        cwd=config_path.parent,
    )


def returns_rows(settings: config.Settings) -> int:
    with Database.open(settings.database.url) as db, db.read() as tx:
        return sum(tx.returns.counts(tx_since()).values())


def tx_since():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- the return path


def test_each_digest_leaves_with_its_own_signed_return_path(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, OTHERS[0]))
    paths = {s.recipient: s.return_path for s in sent}
    assert len(set(paths.values())) == 2
    for path in paths.values():
        assert re.fullmatch(
            r"bounces\+[0-9a-z]+\.[0-9a-z]+\.[0-9a-f]{16}@papers\.example\.org", path
        )
    return_path = ReturnPath.from_settings(settings)
    with Database.open(settings.database.url) as db, db.read() as tx:
        for s in sent:
            who = return_path.read(s.return_path)
            subscriber = tx.subscribers.by_email(s.recipient)
            assert who is not None and subscriber is not None
            assert (who.edition_id, who.subscriber_id) == (s.edition_id, subscriber.id)
    # a forged or altered token names nobody
    forged = re.sub(
        r"[0-9a-f](?=@)", lambda m: "0" if m.group(0) != "0" else "1", sent[0].return_path
    )
    assert return_path.read(forged) is None
    assert return_path.read(sent[0].return_path.upper()) is not None  # case folded on the way


def test_smtp_envelope_sender_is_the_verp_address_and_without_it_the_sender(
    tmp_path: Path,
) -> None:
    with smtp_server() as server:
        for name, bounces in (("verp", {"return_path": RETURN_PATH}), ("plain", {})):
            folder = tmp_path / name
            folder.mkdir()
            settings = make_settings(
                folder,
                delivery={"method": "smtp", "from_address": "digest@papers.example.org"},
                smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
                bounces=bounces,
            )
            from delivery_kit import SAMPLE, add_subscribers

            add_subscribers(settings, [(f"{name}@example.org", None)])
            pipeline.run(settings, [str(SAMPLE)], __import__("datetime").date(2026, 11, 20))
        senders = {m.rcpt_tos[0]: m.mail_from for m in server.handler.messages}
    assert senders["plain@example.org"] == "digest@papers.example.org"
    assert re.fullmatch(
        r"bounces\+[0-9a-z.]+\.[0-9a-f]{16}@papers\.example\.org", senders["verp@example.org"]
    )


# ---------------------------------------------------------------- a Maildir intake


def test_maildir_intake_changes_each_subscriber_as_documented(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    gone, full, angry, leaving = OTHERS
    sent = send_editions(settings, 3, (READER, *OTHERS))
    box = settings.bounces.maildir
    first = {r: sent_to(sent, r)[0] for r in (READER, *OTHERS)}
    drop_into_maildir(box, fill("hard-5.1.1.eml", first[gone]), "hard")
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent_to(sent, full)[0], "a"), "soft1")
    drop_into_maildir(box, fill("soft-4xx-in-5xx.eml", sent_to(sent, full)[1], "b"), "soft2")
    drop_into_maildir(box, fill("arf-abuse.eml", first[angry]), "arf")
    drop_into_maildir(box, fill("mailto-unsubscribe.eml", first[leaving]), "mailto")
    drop_into_maildir(box, fill("out-of-office.eml", first[READER]), "ooo")
    drop_into_maildir(box, fill("delayed.eml", first[READER]), "delayed")
    drop_into_maildir(box, fill("unknown.eml", first[READER]), "unknown")
    drop_into_maildir(box, fill("garbage.eml"), "garbage")
    drop_into_maildir(box, fill("oversized.eml", first[READER]), "oversized")
    path = write_config(tmp_path, settings)

    done = cli(path, "bounces", "fetch")
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert f"{gone}: bounced (5.1.1)" in out
    assert f"{full}: soft bounce 2 of 3 (4.4.7)" in out  # the 4.4.7 inside a 550 is soft
    assert f"{angry}: complained (spam report)" in out
    assert f"{leaving}: unsubscribed (mailto:)" in out
    # one line each for what could not be read, naming it; the intake went on
    assert len([line for line in err.splitlines() if "garbage" in line]) == 1
    assert len([line for line in err.splitlines() if "oversized" in line and "max_kb" in line]) == 1
    assert "3 moved to the operator folder" in out

    assert status_of(settings, gone) == "bounced"
    assert ("bounced", "dsn") in consents_of(settings, gone)
    assert status_of(settings, full) == "confirmed"  # two soft bounces: counted, not yet
    assert status_of(settings, angry) == "complained"
    assert consents_of(settings, angry)[-1] == ("complained", "arf")
    assert ("bounced", "dsn") not in consents_of(settings, angry)  # a complaint is no bounce
    assert status_of(settings, leaving) == "unsubscribed"
    assert consents_of(settings, leaving)[-1] == ("unsubscribed", "mailto")
    assert status_of(settings, READER) == "confirmed"  # out of office, delay: nothing

    # nothing left in the inbox; the unknown, the garbage and the oversized with the operator
    assert not list((box / "new").iterdir()) and not list((box / "cur").iterdir())
    operator = folder_files(box, "Unrecognised")
    assert sorted(p.name.split(".")[1] for p in operator) == ["garbage", "oversized", "unknown"]
    assert len(folder_files(box, "Processed")) == 7
    # status counts every message put in the operator folder, not only the mail it read
    came_back = status.gather(settings).returns
    assert came_back is not None and came_back.count(ReturnKind.UNRECOGNISED) == len(operator)
    assert "3 unrecognised messages" in came_back.line()

    # the third soft bounce in a row disables
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent_to(sent, full)[2], "c"), "soft3")
    again = cli(path, "bounces", "fetch")
    assert f"{full}: bounced after 3 soft bounces in a row (4.2.2)" in again.stdout.decode()
    assert status_of(settings, full) == "bounced"

    # everything delivered again (moved back by hand, a crash before the move): no double count
    rows, consents = returns_rows(settings), {a: consents_of(settings, a) for a in OTHERS}
    # (as a mail client moves them: into cur/, their flags kept, so each has a new name)
    for p in folder_files(box, "Processed") + folder_files(box, "Unrecognised"):
        p.rename(box / "cur" / p.name)
    third = cli(path, "bounces", "fetch")
    assert third.returncode == 0
    # the garbage and the oversized too: each known by its bytes or its header block
    assert "11 read: 11 seen before" in third.stdout.decode(), third.stdout.decode()
    assert returns_rows(settings) == rows
    assert {a: consents_of(settings, a) for a in OTHERS} == consents
    again_back = status.gather(settings).returns
    assert again_back is not None and again_back.count(ReturnKind.UNRECOGNISED) == 3


def test_soft_bounces_with_a_delivered_edition_between_do_not_disable(
    tmp_path: Path, db_url: str
) -> None:
    settings = bounce_settings(tmp_path, db_url, soft_limit=2)
    sent = sent_to(send_editions(settings, 3, (READER,)), READER)
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent[0], "a"), "soft1")
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent[2], "c"), "soft3")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db)
    assert [h.kind for h in report.handled] == [ReturnKind.SOFT, ReturnKind.SOFT]
    assert status_of(settings, READER) == "confirmed"  # edition 2 did not bounce
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent[1], "b"), "soft2")
    with Database.open(settings.database.url) as db:
        fetch(settings, db)
    assert status_of(settings, READER) == "bounced"  # now 3 in a row


def test_a_bounce_without_verp_is_attributed_by_the_dsn_recipient(
    tmp_path: Path, db_url: str
) -> None:
    settings = bounce_settings(tmp_path, db_url)
    [sent] = send_editions(settings, 1, (READER,))
    raw = fill("hard-5.1.1.eml", sent).replace(
        sent.return_path.encode(), b"digest@papers.example.org"
    )
    drop_into_maildir(settings.bounces.maildir, raw, "hard")
    with Database.open(settings.database.url) as db:
        [handled] = fetch(settings, db).handled
    assert handled.actions == (f"{READER}: bounced (5.1.1)",)
    assert status_of(settings, READER) == "bounced"


def test_a_bounce_with_a_forged_token_about_nobody_goes_to_the_operator(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    [sent] = send_editions(settings, 1, (READER,))
    forged = re.sub(r"\.[0-9a-f]{16}@", ".0123456789abcdef@", sent.return_path)
    raw = fill("qmail-bounce.eml", sent).replace(sent.return_path.encode(), forged.encode())
    raw = raw.replace(READER.encode(), b"stranger@example.org")
    drop_into_maildir(settings.bounces.maildir, raw, "forged")
    with Database.open(settings.database.url) as db:
        [handled] = fetch(settings, db).handled
    assert handled.kind == ReturnKind.UNRECOGNISED and handled.folder == "operator"
    assert status_of(settings, READER) == "confirmed"


def test_a_report_naming_a_subscriber_by_address_alone_changes_nothing(tmp_path: Path) -> None:
    """Anyone can write a DSN or an ARF report naming an address: without our return-path
    token, our Message-ID for that subscriber or their unsubscribe token it is not acted
    on (it would switch a subscriber off), and goes to the operator folder."""
    settings = bounce_settings(tmp_path)
    [sent] = send_editions(settings, 1, (READER,))
    bare = b"digest@papers.example.org"
    dsn = fill("hard-5.1.1.eml", sent).replace(sent.return_path.encode(), bare)
    dsn = dsn.replace(sent.message_id.encode(), b"<forged.1@elsewhere.example>")
    arf = fill("arf-abuse.eml", sent).replace(sent.return_path.encode(), bare)
    arf = arf.replace(sent.message_id.encode(), b"<forged.2@elsewhere.example>")
    arf = arf.replace(sent.unsubscribe_token.encode(), b"not-a-token")
    drop_into_maildir(settings.bounces.maildir, dsn, "forged-dsn")
    drop_into_maildir(settings.bounces.maildir, arf, "forged-arf")
    with Database.open(settings.database.url) as db:
        handled = fetch(settings, db).handled
    assert [(h.kind, h.folder) for h in handled] == [(ReturnKind.UNRECOGNISED, "operator")] * 2
    assert status_of(settings, READER) == "confirmed"


# ---------------------------------------------------------------- one message on stdin


def test_stdin_reads_one_message_as_a_postfix_pipe_does(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path, intake="none")
    [sent] = send_editions(settings, 1, (READER,))
    path = write_config(tmp_path, settings)
    done = cli(
        path,
        "bounces",
        "read",
        "--stdin",
        "--recipient",
        sent.return_path,
        stdin=fill("qmail-bounce.eml", sent),
    )
    assert done.returncode == 0, done.stderr.decode()
    assert f"{READER}: bounced" in done.stdout.decode()
    assert status_of(settings, READER) == "bounced"
    garbage = cli(path, "bounces", "read", "--stdin", stdin=fill("garbage.eml"))
    assert garbage.returncode == 0
    [line] = [x for x in garbage.stderr.decode().splitlines() if "not a mail message" in x]
    assert "stdin" in line
    [kept] = folder_files(settings.bounces.maildir, "Unrecognised")
    assert kept.read_bytes() == fill("garbage.eml")
    # too large: read no further than bounces.max_kb, kept whole for the operator
    big = fill("oversized.eml", sent)
    over = cli(path, "bounces", "read", "--stdin", stdin=big)
    assert over.returncode == 0 and "max_kb" in over.stderr.decode()
    kept_big = [p for p in folder_files(settings.bounces.maildir, "Unrecognised") if p != kept]
    assert [p.read_bytes() for p in kept_big] == [big]
    assert status_of(settings, READER) == "bounced"  # and nothing else changed
    # another too-large message is another message (all were keyed "stdin" and the
    # size read, so it was taken for the first); the first piped again counts once
    other = big.replace(b"Message-Id: <", b"Message-Id: <other.")
    for raw, seen in ((other, False), (big, True)):
        piped = cli(path, "bounces", "read", "--stdin", stdin=raw)
        assert piped.returncode == 0
        assert ("seen before" in piped.stdout.decode()) is seen, piped.stdout.decode()
    came_back = status.gather(settings).returns
    assert came_back is not None and came_back.count(ReturnKind.UNRECOGNISED) == 3


# ---------------------------------------------------------------- status


def test_status_shows_what_came_back_and_warns_above_the_complaint_limit(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, *OTHERS))
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("hard-5.1.1.eml", sent_to(sent, OTHERS[0])[0]), "hard")
    drop_into_maildir(box, fill("arf-abuse.eml", sent_to(sent, OTHERS[2])[0]), "arf")
    with Database.open(settings.database.url) as db:
        fetch(settings, db)
    path = write_config(tmp_path, settings)
    shown = cli(path, "status")
    text = shown.stdout.decode()
    assert "1 hard bounce, 1 complaint" in text
    assert "complaint rate 20.00% of 5 messages sent" in text
    assert "above 0.3%" in text
    data = json.loads(cli(path, "status", "--json").stdout)
    assert data["returns"]["counts"]["complaint"] == 1
    assert data["returns"]["complaint_rate"] == 0.2


# ---------------------------------------------------------------- serve / schedule


def test_serve_and_schedule_read_the_intake_on_its_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from newsletter.scheduler import build_scheduler

    settings = bounce_settings(tmp_path, interval_minutes=7)
    [sent] = send_editions(settings, 1, (READER,))
    job = pipeline.daily_job(settings)
    scheduler = build_scheduler(job)
    bounces = scheduler.get_job("bounces")
    assert bounces is not None and bounces.trigger.interval.total_seconds() == 7 * 60
    drop_into_maildir(settings.bounces.maildir, fill("hard-5.1.1.eml", sent), "hard")
    drop_into_maildir(settings.bounces.maildir, fill("unknown.eml", sent), "unknown")
    caplog.set_level(logging.INFO, logger="newsletter")
    bounces.func()  # what the scheduler runs every 7 minutes
    assert status_of(settings, READER) == "bounced"
    # one INFO line for the round, with every count; a WARNING for what the operator reads
    source = f"maildir:{settings.bounces.maildir.resolve()}"
    [round_line, warned] = [r for r in caplog.records if r.name == "newsletter.pipeline"]
    assert round_line.levelno == logging.INFO and warned.levelno == logging.WARNING
    assert round_line.getMessage() == (
        f"bounce intake {source}: 2 read; applied: 1 hard, 1 unrecognised; 0 seen before; "
        "1 to the operator folder; 0 skipped (moved away by someone else)"
    )
    assert warned.getMessage().startswith(f"bounce intake {source}: new/")
    assert warned.getMessage().endswith(
        f".unknown.{os.getpid()} moved to the operator folder: not a bounce report, "
        "complaint, unsubscribe or automatic reply"
    )
    caplog.clear()
    bounces.func()  # an empty round is one line too
    assert [r.getMessage() for r in caplog.records if r.name == "newsletter.pipeline"] == [
        f"bounce intake {source}: 0 read; applied: none; 0 seen before; "
        "0 to the operator folder; 0 skipped (moved away by someone else)"
    ]
    # without an interval there is no such job
    assert build_scheduler(pipeline.daily_job(bounce_settings(tmp_path))).get_job("bounces") is None


# ---------------------------------------------------------------- hostile and odd input


def _nested(depth: int) -> bytes:
    inner = b"Subject: inner\n\nbody\n"
    for _ in range(depth):
        inner = b"Content-Type: message/rfc822\n\n" + inner
    return (
        b"From: a@example.org\nTo: bounces@papers.example.org\nSubject: nest\n"
        b"Message-ID: <nest.1@example.org>\nMIME-Version: 1.0\n" + inner
    )


def test_a_message_nested_a_thousand_deep_is_filed_for_the_operator_and_the_rest_applied(
    tmp_path: Path,
) -> None:
    """Red team rt14r: 30 KB of nested message/rfc822 parts raised RecursionError, every
    fetch exited 1 with the message left in new/ and nothing after it ever applied."""
    settings = bounce_settings(tmp_path, max_kb=64)  # read, not refused for its size
    [sent] = send_editions(settings, 1, (READER,))
    box = settings.bounces.maildir
    drop_into_maildir(box, _nested(1000), "1-nested")
    drop_into_maildir(box, fill("hard-5.1.1.eml", sent), "2-hard")
    path = write_config(tmp_path, settings)
    done = cli(path, "bounces", "fetch")
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    [line] = [x for x in err.splitlines() if "nested" in x]
    assert "multipart/message parts" in line and "operator folder" in line
    assert f"{READER}: bounced (5.1.1)" in out
    assert status_of(settings, READER) == "bounced"
    assert not list((box / "new").iterdir()) and not list((box / "cur").iterdir())
    [kept] = folder_files(box, "Unrecognised")
    assert kept.read_bytes() == _nested(1000)
    assert cli(path, "bounces", "fetch").returncode == 0  # nothing left to choke on
    # on a Postfix pipe: filed for the operator, exit 0 (not "permanent failure: lost")
    piped = cli(path, "bounces", "read", "--stdin", stdin=_nested(1000))
    assert piped.returncode == 0, piped.stderr.decode()
    assert "filed in the operator folder" in piped.stdout.decode()
    assert [p.read_bytes() for p in folder_files(box, "Unrecognised")] == [_nested(1000)] * 2


def test_a_locked_database_is_try_again_later_for_stdin_and_fetch(tmp_path: Path) -> None:
    """Red team rt14r: with another process holding the SQLite write lock, `bounces read
    --stdin` waited 30 s per try, per retry, per migration step (still waiting at 797 s).
    Now both commands give up with one line and exit 75; the message stays where it is."""
    import sqlite3

    settings = bounce_settings(tmp_path)
    [sent] = send_editions(settings, 1, (READER,))
    drop_into_maildir(settings.bounces.maildir, fill("hard-5.1.1.eml", sent), "hard")
    path = write_config(tmp_path, settings)
    database = settings.database.url.removeprefix("sqlite:///")
    holder = sqlite3.connect(database, timeout=1, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        command = [sys.executable, "-m", "newsletter", "--config", str(path), "bounces"]
        kw: dict[str, object] = {"cwd": tmp_path, "stdout": subprocess.PIPE}
        fetching = subprocess.Popen([*command, "fetch"], stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]
        piping = subprocess.Popen(  # type: ignore[call-overload]
            [*command, "read", "--stdin", "--recipient", sent.return_path],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kw,
        )
        # a bound far above the ~30 s it takes, far below the old many minutes
        _, piped_err = piping.communicate(fill("hard-5.1.1.eml", sent), timeout=240)
        _, fetch_err = fetching.communicate(timeout=240)
    finally:
        holder.rollback()
        holder.close()
    assert piping.returncode == 75, piped_err.decode()
    assert "locked" in piped_err.decode() and "tries again" in piped_err.decode()
    assert fetching.returncode == 75, fetch_err.decode()
    [line] = [x for x in fetch_err.decode().splitlines() if x.startswith("error:")]
    assert "locked" in line
    assert len(list((settings.bounces.maildir / "new").iterdir())) == 1  # left in place
    assert status_of(settings, READER) == "confirmed"
    again = cli(path, "bounces", "fetch")  # the lock gone: the next fetch applies it
    assert again.returncode == 0 and f"{READER}: bounced (5.1.1)" in again.stdout.decode()


def test_soft_bounces_arriving_out_of_order_reach_the_limit(tmp_path: Path, db_url: str) -> None:
    """Red team rt14r: soft bounces of editions 3, 1, 2 never reached soft_limit 3: the
    run was counted back from the edition of the message read last."""
    settings = bounce_settings(tmp_path, db_url, soft_limit=3)
    sent = sent_to(send_editions(settings, 3, (READER,)), READER)
    box = settings.bounces.maildir
    for index in (2, 0):
        drop_into_maildir(box, fill("soft-4.2.2.eml", sent[index], str(index)), f"soft{index}")
        with Database.open(settings.database.url) as db:
            fetch(settings, db)
    assert status_of(settings, READER) == "confirmed"
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent[1], "1"), "soft1")
    with Database.open(settings.database.url) as db:
        [handled] = fetch(settings, db).handled
    assert handled.actions == (f"{READER}: bounced after 3 soft bounces in a row (4.2.2)",)
    assert status_of(settings, READER) == "bounced"


def test_a_mailto_unsubscribe_with_an_encoded_subject_unsubscribes(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, OTHERS[3]))
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("mailto-unsubscribe-encoded.eml", sent_to(sent, READER)[0]), "q")
    percent = fill("mailto-unsubscribe-percent.eml", sent_to(sent, OTHERS[3])[0])
    drop_into_maildir(box, percent, "pct")
    with Database.open(settings.database.url) as db:
        handled = fetch(settings, db).handled
    assert [(h.kind, h.folder) for h in handled] == [(ReturnKind.UNSUBSCRIBE, "processed")] * 2
    assert status_of(settings, READER) == "unsubscribed"
    assert status_of(settings, OTHERS[3]) == "unsubscribed"
    assert consents_of(settings, READER)[-1] == ("unsubscribed", "mailto")


def test_two_reports_of_one_message_are_one_complaint_in_the_rate(tmp_path: Path) -> None:
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, *OTHERS))
    angry = sent_to(sent, OTHERS[2])[0]
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("arf-abuse.eml", angry, "a"), "arf-a")
    drop_into_maildir(box, fill("arf-abuse.eml", angry, "b"), "arf-b")  # a second loop
    with Database.open(settings.database.url) as db:
        handled = fetch(settings, db).handled
    assert [h.kind for h in handled] == [ReturnKind.COMPLAINT] * 2
    assert handled[1].actions == (f"{OTHERS[2]}: complaint recorded",)
    came_back = status.gather(settings).returns
    assert came_back is not None and came_back.count(ReturnKind.COMPLAINT) == 1
    assert came_back.complaint_rate == 1 / 5


def test_an_unreadable_dsn_and_a_person_go_to_the_operator_not_to_processed(
    tmp_path: Path,
) -> None:
    """Red team rt14r: a DSN cut short (or with a broken boundary) was filed silently as
    an automatic reply for its Auto-Submitted header; so was a person's "Automatic reply
    …" subject."""
    settings = bounce_settings(tmp_path)
    [sent] = send_editions(settings, 1, (READER,))
    box = settings.bounces.maildir
    for name in ("dsn-cut-short.eml", "dsn-broken-boundary.eml", "human-automatic-reply.eml"):
        drop_into_maildir(box, fill(name, sent), name.removesuffix(".eml"))
    drop_into_maildir(box, fill("out-of-office.eml", sent), "ooo")
    with Database.open(settings.database.url) as db:
        handled = fetch(settings, db).handled
    assert [(h.kind, h.folder) for h in handled] == [(ReturnKind.UNRECOGNISED, "operator")] * 3 + [
        (ReturnKind.AUTO_REPLY, "processed")
    ]
    assert len(folder_files(box, "Unrecognised")) == 3
    assert status_of(settings, READER) == "confirmed"


def test_soft_bounces_on_two_pipes_at_once_reach_the_limit(tmp_path: Path) -> None:
    """Two Postfix pipes reading the soft bounces of both editions at the same moment:
    each counts the run over the editions sent, so the later of the two disables."""
    settings = bounce_settings(tmp_path, intake="none", soft_limit=2)
    sent = sent_to(send_editions(settings, 2, (READER,)), READER)
    path = write_config(tmp_path, settings)
    command = [sys.executable, "-m", "newsletter", "--config", str(path), "bounces", "read"]
    pipes = [
        subprocess.Popen(
            [*command, "--stdin", "--recipient", one.return_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        for one in sent
    ]
    outs = [
        p.communicate(fill("soft-4.2.2.eml", one, str(i)), timeout=300)
        for i, (p, one) in enumerate(zip(pipes, sent, strict=True))
    ]
    assert [p.returncode for p in pipes] == [0, 0], [e.decode() for _, e in outs]
    said = "".join(o.decode() for o, _ in outs)
    assert f"{READER}: soft bounce 1 of 2" in said
    assert f"{READER}: bounced after 2 soft bounces in a row (4.2.2)" in said
    assert status_of(settings, READER) == "bounced"


# ---------------------------------------------------------------- the mailto: address's token


def _mail_to(
    address: str, *, delivered_to: str | None = None, subject: str = "", tag: str = ""
) -> bytes:
    """A mail a reader's client sends to ``address`` (the subject dropped, as some
    clients drop a mailto:'s ?subject=); ``delivered_to``: as the server wrote it."""
    head = f"Delivered-To: {delivered_to}\r\n" if delivered_to else ""
    return (
        f"{head}From: A Reader <someone@example.org>\r\nTo: {address}\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{tag or address.lower()}.mt@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nplease stop\r\n"
    ).encode()


def test_the_advertised_mailto_address_carries_a_token_any_letter_case_keeps(
    tmp_path: Path,
) -> None:
    """A server may fold an address's local part to lower (or upper) case, and a client
    may drop the mailto:'s subject: the address's own token still names the reader.
    On main the digests advertised the plain unsubscribe@ address, and a link token put
    in the local part was read only as the (folded) Delivered-To spelled it."""
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, *OTHERS))
    mine = sent_to(sent, READER)[0]
    local, domain = mine.unsubscribe_mailto.split("@")
    assert re.fullmatch(r"unsubscribe\+[0-9a-z]+\.[0-9a-f]{20}", local), mine.unsubscribe_mailto
    assert domain == "papers.example.org"
    assert len({s.unsubscribe_mailto for s in sent}) == len(sent)  # one per reader
    gone, full, angry, leaving = OTHERS
    folded_up = sent_to(sent, gone)[0].unsubscribe_mailto.upper()
    # an older digest's link token in the address: the server folded Delivered-To only
    link_local = f"unsubscribe+{sent_to(sent, full)[0].unsubscribe_token}@papers.example.org"
    forged = re.sub(r"[0-9a-f](?=@)", "0", sent_to(sent, angry)[0].unsubscribe_mailto)
    if forged == sent_to(sent, angry)[0].unsubscribe_mailto:
        forged = re.sub(r"[0-9a-f](?=@)", "1", forged)
    box = settings.bounces.maildir
    drop_into_maildir(box, _mail_to(mine.unsubscribe_mailto.lower()), "lower")
    drop_into_maildir(box, _mail_to(folded_up, delivered_to=folded_up), "upper")
    drop_into_maildir(box, _mail_to(link_local, delivered_to=link_local.lower()), "link")
    drop_into_maildir(box, _mail_to(forged), "forged")
    done = cli(write_config(tmp_path, settings), "bounces", "fetch")
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert f"{READER}: unsubscribed (mailto:)" in out, out
    assert f"{gone}: unsubscribed (mailto:)" in out
    assert f"{full}: unsubscribed (mailto:)" in out
    assert "1 moved to the operator folder" in out  # the forged MAC names nobody
    assert [status_of(settings, a) for a in (READER, gone, full, angry, leaving)] == [
        "unsubscribed",
        "unsubscribed",
        "unsubscribed",
        "confirmed",
        "confirmed",
    ]
    assert consents_of(settings, gone)[-1] == ("unsubscribed", "mailto")


def test_stdin_reads_the_mailto_token_from_the_recipient_in_any_case(tmp_path: Path) -> None:
    """A Postfix pipe's ${original_recipient} as a case-folding server gives it."""
    settings = bounce_settings(tmp_path, intake="none")
    sent = send_editions(settings, 1, (READER, OTHERS[0]))
    path = write_config(tmp_path, settings)
    for who, fold in ((READER, str.upper), (OTHERS[0], str.lower)):
        address = fold(sent_to(sent, who)[0].unsubscribe_mailto)
        # the reader's client wrote the plain address: only the envelope has the token
        raw = _mail_to("unsubscribe@papers.example.org", subject="stop", tag=who)
        done = cli(path, "bounces", "read", "--stdin", "--recipient", address, stdin=raw)
        assert done.returncode == 0, done.stderr.decode()
        assert f"{who}: unsubscribed (mailto:)" in done.stdout.decode(), done.stdout.decode()
        assert status_of(settings, who) == "unsubscribed"
    assert len(folder_files(settings.bounces.maildir, "Processed")) == 2


def test_without_verp_the_plain_mailto_address_is_advertised(tmp_path: Path) -> None:
    """No return path means no recipient delimiter is known to work on the server:
    unsubscribe+…@ could be refused there, so the plain address and the subject."""
    settings = bounce_settings(tmp_path, return_path="")
    [sent] = send_editions(settings, 1, (READER,))
    assert sent.unsubscribe_mailto == "unsubscribe@papers.example.org"


# ---------------------------------------------------------------- one round per mailbox


def test_a_fetch_while_another_round_holds_the_maildir_exits_75_and_others_go_on(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A second round over one Maildir reads nothing (exit 75, one error line; a serve
    round logs that it skipped); a round over another mailbox is not held up."""
    settings = bounce_settings(tmp_path, db_url)
    sent = send_editions(settings, 1, (READER, OTHERS[0]))
    drop_into_maildir(
        settings.bounces.maildir, fill("hard-5.1.1.eml", sent_to(sent, READER)[0]), "h"
    )
    path = write_config(tmp_path, settings)
    source = f"maildir:{settings.bounces.maildir.resolve()}"
    elsewhere = bounce_settings(tmp_path, db_url, maildir=str(tmp_path / "other-box"))
    drop_into_maildir(
        elsewhere.bounces.maildir, fill("hard-5.1.1.eml", sent_to(sent, OTHERS[0])[0], "2"), "h"
    )
    with Database.open(db_url) as db, db.hold(f"intake {source}") as held:
        assert held
        refused = cli(path, "bounces", "fetch")
        caplog.set_level(logging.INFO, logger="newsletter")
        assert pipeline.read_returns(settings) is None
        with Database.open(db_url) as other_db:  # another mailbox: its own lock
            assert len(fetch(elsewhere, other_db).handled) == 1
    err = refused.stderr.decode()
    assert refused.returncode == 75, err
    assert [x for x in err.splitlines() if x.startswith("error:")] == [
        f"error: bounces: another intake round is reading {source}; this one read nothing"
    ]
    assert any("round skipped" in r.getMessage() for r in caplog.records)
    assert status_of(settings, READER) == "confirmed"
    assert status_of(settings, OTHERS[0]) == "bounced"
    assert len(list((settings.bounces.maildir / "new").iterdir())) == 1  # left in place
    done = cli(path, "bounces", "fetch")
    assert done.returncode == 0 and f"{READER}: bounced (5.1.1)" in done.stdout.decode()


def test_a_maildir_message_moved_away_after_listing_is_skipped_not_an_error(
    tmp_path: Path,
) -> None:
    settings = bounce_settings(tmp_path)
    sent = send_editions(settings, 1, (READER, OTHERS[0]))
    root = settings.bounces.maildir
    drop_into_maildir(root, fill("hard-5.1.1.eml", sent_to(sent, OTHERS[0])[0]), "1-hard")
    drop_into_maildir(root, fill("oversized.eml", sent_to(sent, READER)[0]), "2-big")
    drop_into_maildir(root, fill("unknown.eml", sent_to(sent, READER)[0]), "3-unknown")
    away = tmp_path / "away"
    away.mkdir()

    def another_reader_moves(listed: list[Incoming]) -> None:
        for incoming in listed[1:]:
            Path(incoming.ref).rename(away / Path(incoming.ref).name)

    box = MaildirBox(root, "Processed", "Unrecognised")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db, Listed(box, another_reader_moves))
    assert report.skipped == 2 and len(report.handled) == 1
    assert report.summary() == "bounces: 1 read: 1 hard; 2 moved away by someone else first"
    assert folder_files(root, "Unrecognised") == [] and len(folder_files(root, "Processed")) == 1
    assert len(list(away.iterdir())) == 2
    assert returns_rows(settings) == 1  # the two gone recorded nowhere


def test_an_oversized_message_read_once_max_kb_is_raised_counts_only_as_what_it_is(
    tmp_path: Path,
) -> None:
    """Red team: a message refused for its size, moved back after max_kb was raised, was
    applied (a hard bounce) and still counted as unrecognised: in both categories."""
    settings = bounce_settings(tmp_path)  # max_kb 16
    [sent] = send_editions(settings, 1, (READER,))
    root = settings.bounces.maildir
    drop_into_maildir(root, fill("oversized.eml", sent), "big")
    path = write_config(tmp_path, settings)
    first = cli(path, "bounces", "fetch")
    assert "1 read: 1 unrecognised; 1 moved to the operator folder" in first.stdout.decode()
    assert "unrecognised" in json.loads(cli(path, "status", "--json").stdout)["returns"]["counts"]
    came_back = status.gather(settings).returns
    assert came_back is not None and came_back.count(ReturnKind.UNRECOGNISED) == 1

    def move_back(folder: str) -> None:
        for p in folder_files(root, folder):
            p.rename(root / "cur" / p.name)

    move_back("Unrecognised")
    raised = bounce_settings(tmp_path, max_kb=1024)
    path = write_config(tmp_path, raised)
    read = cli(path, "bounces", "fetch")
    out = read.stdout.decode()
    assert read.returncode == 0, read.stderr.decode()
    assert f"{READER}: bounced (5.1.1)" in out
    assert "bounces: 1 read: 1 hard" in out and "unrecognised" not in out
    counts = json.loads(cli(path, "status", "--json").stdout)["returns"]["counts"]
    assert counts["hard"] == 1 and counts["unrecognised"] == 0, counts
    assert "unrecognised" not in cli(path, "status").stdout.decode()
    assert folder_files(root, "Unrecognised") == [] and len(folder_files(root, "Processed")) == 1

    # max_kb lowered again and the message moved back once more: seen before, still hard
    move_back("Processed")
    path = write_config(tmp_path, settings)
    again = cli(path, "bounces", "fetch").stdout.decode()
    assert "1 read: 1 seen before" in again and "operator" not in again, again
    assert len(folder_files(root, "Processed")) == 1
    counts = json.loads(cli(path, "status", "--json").stdout)["returns"]["counts"]
    assert counts["hard"] == 1 and counts["unrecognised"] == 0, counts


def test_an_old_report_does_not_switch_off_someone_who_subscribed_again(
    tmp_path: Path, db_url: str
) -> None:
    """A bounce about an edition sent before the subscriber left and confirmed again
    (late, or replayed by whoever holds the old Return-Path) is recorded and changes
    nothing; their old soft bounces no longer count.  A complaint about an old edition
    still counts: the reader pressed "spam" now."""
    from datetime import UTC, datetime

    from newsletter.subscribers.subscriptions import Subscriptions

    settings = bounce_settings(tmp_path, db_url, soft_limit=2)
    gone, full = OTHERS[0], OTHERS[1]
    sent = send_editions(settings, 2, (gone, full))
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent_to(sent, full)[1], "old"), "soft-old")
    with Database.open(settings.database.url) as db:
        fetch(settings, db)
    with Database.open(settings.database.url) as db:
        subs = Subscriptions(db)
        for address in (gone, full):  # unsubscribe, sign up again, confirm again
            found = subs.by_email(address)
            assert found is not None
            subs.unsubscribe(found.public_id, method="test", now=datetime.now(UTC))
            subs.request(address, None, method="test", now=datetime.now(UTC))
            subs.confirm(found.public_id, method="test", now=datetime.now(UTC))
    assert status_of(settings, gone) == status_of(settings, full) == "confirmed"
    late = [
        fill("hard-5.1.1.eml", sent_to(sent, gone)[0], "late"),
        fill("hard-5.1.1.eml", sent_to(sent, gone)[1], "late2"),
        fill("soft-4.2.2.eml", sent_to(sent, full)[0], "late"),
    ]
    for n, raw in enumerate(late):
        drop_into_maildir(box, raw, f"late{n}")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db)
    lines = [line for handled in report.handled for line in handled.actions]
    assert status_of(settings, gone) == "confirmed", lines
    assert status_of(settings, full) == "confirmed", lines
    assert sum("sent before they subscribed again" in line for line in lines) == 3, lines
    # an edition sent after the new confirmation: its soft bounce is the first of the run
    more = send_editions_again(settings, (gone, full))
    drop_into_maildir(box, fill("soft-4.2.2.eml", sent_to(more, full)[-1], "new"), "soft-new")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db)
    assert [line for h in report.handled for line in h.actions] == [
        f"{full}: soft bounce 1 of 2 (4.2.2)"
    ]
    assert status_of(settings, full) == "confirmed"
    drop_into_maildir(box, fill("hard-5.1.1.eml", sent_to(more, gone)[-1], "new"), "hard-new")
    with Database.open(settings.database.url) as db:
        fetch(settings, db)
    assert status_of(settings, gone) == "bounced"  # a report about a new edition still counts
    drop_into_maildir(box, fill("arf-abuse.eml", sent_to(sent, full)[1], "old"), "arf-old")
    with Database.open(settings.database.url) as db:
        fetch(settings, db)
    assert status_of(settings, full) == "complained"  # about an old edition, said now


def send_editions_again(settings: config.Settings, recipients: tuple[str, ...]) -> list[Sent]:
    """One more edition (the third digest, the day after the first two) to ``recipients``."""
    from datetime import timedelta

    report = pipeline.run(settings, [str(digests(3)[2])], DAY + timedelta(days=2))
    assert report.delivery is not None and report.delivery.sent == len(recipients), report
    return outbox(settings)


def test_stdin_with_nowhere_to_keep_the_copy_is_try_again_later_with_nothing_applied(
    tmp_path: Path,
) -> None:
    """The Postfix pipe keeps a copy of every message: when it cannot be written (a full
    disk, a file where the Maildir should be), nothing is applied and the exit status
    is 75, so the mail server keeps the message and tries again; no partial copy."""
    blocker = tmp_path / "blocker"
    settings = bounce_settings(tmp_path, intake="none", maildir=str(blocker / "box"))
    [sent] = send_editions(settings, 1, (READER,))
    path = write_config(tmp_path, settings)
    blocker.write_text("a file, not a folder\n", encoding="utf-8")
    message = fill("hard-5.1.1.eml", sent)
    refused = cli(path, "bounces", "read", "--stdin", stdin=message)
    err = refused.stderr.decode()
    assert refused.returncode == 75, err
    assert "Traceback" not in err and "cannot keep a copy" in err, err
    assert status_of(settings, READER) == "confirmed" and returns_rows(settings) == 0
    blocker.unlink()  # the operator makes room: the retry applies it, once
    again = cli(path, "bounces", "read", "--stdin", stdin=message)
    assert again.returncode == 0, again.stderr.decode()
    assert status_of(settings, READER) == "bounced"
    [kept] = folder_files(settings.bounces.maildir, "Processed")
    assert kept.read_bytes() == message
    assert not list((settings.bounces.maildir / "tmp").iterdir())


def test_fetch_tells_each_change_as_it_happens_and_a_stopped_round_is_try_again_later(
    tmp_path: Path,
) -> None:
    """Each message's line is printed when it is applied (an unrecognised one gets a
    warning naming it and why); a round stopped part way — here the operator folder
    cannot be made, a file is in its place — has told what it changed, exits 75, and
    leaves the rest in the intake for the next fetch."""
    settings = bounce_settings(tmp_path)
    gone, full = OTHERS[0], OTHERS[1]
    sent = send_editions(settings, 1, (gone, full))
    box = settings.bounces.maildir
    drop_into_maildir(box, fill("hard-5.1.1.eml", sent_to(sent, gone)[0]), "hard1")
    drop_into_maildir(box, fill("unknown.eml", sent_to(sent, gone)[0]), "unknown")
    drop_into_maildir(box, fill("hard-5.1.1.eml", sent_to(sent, full)[0], "2"), "hard2")
    (box / ".Unrecognised").write_text("in the way\n", encoding="utf-8")
    path = write_config(tmp_path, settings)
    stopped = cli(path, "bounces", "fetch")
    out, err = stopped.stdout.decode(), stopped.stderr.decode()
    assert stopped.returncode == 75, err
    assert f"{gone}: bounced (5.1.1)" in out and "Traceback" not in err
    assert "the round stopped" in err and "stay in the intake" in err, err
    assert status_of(settings, gone) == "bounced" and status_of(settings, full) == "confirmed"
    (box / ".Unrecognised").unlink()
    again = cli(path, "bounces", "fetch")
    out, err = again.stdout.decode(), again.stderr.decode()
    assert again.returncode == 0, err
    assert f"{full}: bounced (5.1.1)" in out
    [warned] = [line for line in err.splitlines() if "unknown" in line]
    assert "moved to the operator folder" in warned  # applied before the stop: seen before
    assert status_of(settings, full) == "bounced"
    assert [p.name.split(".")[1] for p in folder_files(box, "Unrecognised")] == ["unknown"]
    drop_into_maildir(box, fill("unknown.eml", sent_to(sent, full)[0], "3"), "stranger")
    third = cli(path, "bounces", "fetch")
    [warned] = [line for line in third.stderr.decode().splitlines() if "stranger" in line]
    assert warned.startswith("warning: ") and "not a bounce report" in warned, warned


def test_a_complaint_naming_us_only_by_its_return_path_is_attributed_and_a_forged_one_is_not(
    tmp_path: Path,
) -> None:
    """Some feedback loops rewrite the Message-ID and strip List-Unsubscribe: the signed
    VERP token of ``Original-Mail-From`` (and the quoted ``Return-Path``) still names
    the subscriber; the same report with a forged token goes to the operator folder."""
    settings = bounce_settings(tmp_path)
    angry, other = OTHERS[2], OTHERS[3]
    sent = send_editions(settings, 1, (angry, other))
    box = settings.bounces.maildir
    mine = sent_to(sent, angry)[0]
    drop_into_maildir(box, fill("arf-return-path-only.eml", mine), "arf")
    theirs = sent_to(sent, other)[0]
    forged = theirs.return_path.replace("+", "+9", 1)  # the token altered
    raw = fill("arf-return-path-only.eml", theirs, "2").replace(
        theirs.return_path.encode(), forged.encode()
    )
    drop_into_maildir(box, raw, "forged")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db)
    assert status_of(settings, angry) == "complained"
    assert status_of(settings, other) == "confirmed"
    kinds = {h.label.split(".")[1]: h.kind for h in report.handled}
    assert kinds == {"arf": ReturnKind.COMPLAINT, "forged": ReturnKind.UNRECOGNISED}


def test_a_late_bounce_for_a_purged_subscriber_never_hits_who_got_their_id(
    tmp_path: Path,
) -> None:
    """SQLite gives a purged subscriber's id (the highest) to the next one added: the
    old return path's signed token names that id, but the edition was never sent to
    the newcomer, so the bounce changes nobody and goes to the operator folder."""
    from datetime import UTC, datetime

    from newsletter.subscribers.subscriptions import Subscriptions

    settings = bounce_settings(tmp_path)
    gone = OTHERS[0]
    sent = send_editions(settings, 1, (READER, gone))
    old = sent_to(sent, gone)[0]
    with Database.open(settings.database.url) as db:
        subs = Subscriptions(db)
        before = subs.by_email(gone)
        assert before is not None
        subs.remove(gone, method="test", now=datetime.now(UTC), purge=True)
        subs.add("stranger@example.net", None, confirmed=True, method="test", now=datetime.now(UTC))
        stranger = subs.by_email("stranger@example.net")
        assert stranger is not None and stranger.id == before.id  # the id reused
    drop_into_maildir(settings.bounces.maildir, fill("hard-5.1.1.eml", old), "late")
    with Database.open(settings.database.url) as db:
        report = fetch(settings, db)
    assert [h.kind for h in report.handled] == [ReturnKind.UNRECOGNISED]
    assert status_of(settings, "stranger@example.net") == "confirmed"
