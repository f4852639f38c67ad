"""Two and four ``newsletter send`` processes on one PostgreSQL database, killed at random.

Senders share the ledger: claims lock rows with ``FOR UPDATE SKIP LOCKED``, so
no two senders hold a row at once; a killed sender's rows come back (its
owner is provably dead on this host, or its lease runs out).  A real SMTP
server on loopback counts copies per recipient: nobody is missed, no message
arrives more than twice, and the extra copies are at most ``delivery.in_flight``
per kill (one, by default; 16 when each of the 4 connections marks groups of 4)
— none at all without kills, however many senders run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import faultkit
import figures
import pytest
from delivery_kit import SAMPLE, add_subscribers
from faultkit import FaultySmtp

from newsletter import config, pipeline
from newsletter.delivery.mailer import Mailer, MailerStopped
from newsletter.store import Database

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SUBSCRIBERS = 80
DAY = date(2026, 11, 20)


class _Down(Mailer):
    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        raise MailerStopped("the relay is down")


def _project(tmp: Path, db_url: str, port: int, in_flight: int = 1) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[database]\nurl = "{db_url}"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@papers.example.org"\n'
        f"backoff_seconds = 0.0\nlease_seconds = 5\nin_flight = {in_flight}\n"
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n',
        encoding="utf-8",
    )
    return path


def _sender(config_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": "k" * 32}
    env.pop("NEWSLETTER_CONFIG", None)
    env.pop("NEWSLETTER_FAULT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--config", str(config_path), "send"],
        cwd=config_path.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _unsent(settings: config.Settings) -> int:
    with Database.open(settings.database.url) as db, db.read() as tx:
        return sum(1 for r in tx.ledger.rows() if r.state.unsent)


@pytest.mark.parametrize(
    ("senders", "kills", "in_flight"),
    [
        (2, 0, 1),
        (4, 0, 1),
        (2, 3, 1),
        (4, 4, 1),
        (2, 0, 16),
        (2, 3, 16),
        (4, 4, 16),
    ],
)
def test_parallel_senders_share_the_ledger_and_lose_nothing_under_kills(
    senders: int,
    kills: int,
    in_flight: int,
    tmp_path: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _senders_under_kills(senders, kills, in_flight, tmp_path, postgres_url, capsys)


@pytest.mark.parametrize(("senders", "kills"), [(1, 4), (2, 3)])
def test_senders_in_group_mode_on_a_sqlite_file_lose_nothing_under_kills(
    senders: int, kills: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a SQLite file a group's start marks are lines of the loop's start journal
    (no write transaction per message): killed senders' rows are taken back by what
    the journals say, with the same promises as the database's marks."""
    url = f"sqlite:///{tmp_path / 'subscribers' / 'newsletter.db'}"
    (tmp_path / "subscribers").mkdir()
    _senders_under_kills(senders, kills, 16, tmp_path, url, capsys)


def _senders_under_kills(
    senders: int,
    kills: int,
    in_flight: int,
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed = int(os.environ.get("NEWSLETTER_KILL_SEED", str(time.time_ns() % 100_000)))
    rng = random.Random(seed)
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        config_path = _project(tmp_path, db_url, port, in_flight)
        settings = config.load(config_path)
        add_subscribers(settings, [(f"r{i:03d}@example.org", None) for i in range(SUBSCRIBERS)])
        pipeline.run(settings, [str(SAMPLE)], DAY, mailer=_Down())  # recorded, nothing sent
        assert _unsent(settings) == SUBSCRIBERS
        started = time.monotonic()
        running = [_sender(config_path) for _ in range(senders)]
        killed = 0
        while killed < kills:
            target = len(handler.received) + rng.randint(3, SUBSCRIBERS // (kills + 2))
            while len(handler.received) < target and any(p.poll() is None for p in running):
                time.sleep(0.002)
            alive = [p for p in running if p.poll() is None]
            if not alive:
                break
            victim = rng.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed += 1
            figures.count("faults", "kills")
            running.append(_sender(config_path))  # a new sender takes its place
        for process in running:
            _, err = process.communicate(timeout=180)
            assert process.returncode in (0, -signal.SIGKILL), err
            assert "Traceback" not in err, err
        if _unsent(settings):  # rows of the last victim, if nobody was left to take them
            last = _sender(config_path)
            _, err = last.communicate(timeout=180)
            assert last.returncode == 0, err
        elapsed = time.monotonic() - started
    copies = handler.copies()
    missed = [
        f"r{i:03d}@example.org" for i in range(SUBSCRIBERS) if not copies[f"r{i:03d}@example.org"]
    ]
    extra = sum(n - 1 for n in copies.values())
    with capsys.disabled():
        print(
            f"\n{senders} senders on {db_url.split(':')[0]}, {killed} kills (seed {seed}): "
            f"{len(copies)} of {SUBSCRIBERS} got it, {len(missed)} missed, {extra} extra copies, "
            f"{elapsed:.1f} s"
        )
    figures.count("faults", "lost", len(missed))
    figures.count("faults", "duplicates (in flight, explained)", extra)
    assert missed == []
    assert max(copies.values()) <= 2
    # none without kills (no two senders ever hold one row); at most the messages in
    # flight per kill: 1, or groups of in_flight / connections marked at once
    assert extra <= killed * in_flight
    assert all(len(ids) == 1 for ids in handler.message_ids().values())
    assert _unsent(settings) == 0


CHAIN = 24
"""Subscribers of the chain-kill test: a few groups of 4 per connection."""


START_MARK_WINDOW = (
    "a window remains between a start mark and the message's final dot: killed there twice, "
    "a row ends unconfirmed with no copy (narrow: 1 run in 3 once, 0 in 10 since). It cannot be "
    "closed from the ledger: a kill just before the dot and one just after leave the same "
    "records, and sending such a row again would give the second case a third copy "
    "(docs/delivery.md, 'What a kill leaves unknowable'). Kept as the measure of that window."
)


@pytest.mark.xfail(reason=START_MARK_WINDOW, strict=False)
def test_a_sender_killed_after_every_message_loses_nobody_with_slow_start_marks(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A red team's chain pattern: one sender in group mode (``in_flight`` 16, four
    connections), killed as soon as one or two more messages arrived, again and again.
    The start marks' commits are made slow (a deferred trigger sleeps at commit), as
    a loaded PostgreSQL makes them: a mark that waited for its COMMIT before the final
    dot let the kill catch the other connections' rows started with no dot sent, and
    the same rows again after the next kill (``unconfirmed`` with no copy)."""
    seed = int(os.environ.get("NEWSLETTER_KILL_SEED", "2612"))  # fixed in CI
    rng = random.Random(seed)
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        config_path = _project(tmp_path, postgres_url, port, in_flight=16)
        settings = config.load(config_path)
        add_subscribers(settings, [(f"r{i:03d}@example.org", None) for i in range(CHAIN)])
        pipeline.run(settings, [str(SAMPLE)], DAY, mailer=_Down())  # recorded, nothing sent
        with Database.open(settings.database.url) as db, db.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION slow_start() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$"
            )
            conn.exec_driver_sql(  # only marks with a real time (started, or handed over)
                "CREATE CONSTRAINT TRIGGER slow_start AFTER UPDATE ON send_ledger "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "WHEN (NEW.handed_over_at > '1971-01-01') EXECUTE FUNCTION slow_start()"
            )
        started = time.monotonic()
        sender = _sender(config_path)
        killed = 0
        while killed < 8 and len(handler.received) < CHAIN:
            target = len(handler.received) + rng.randint(1, 2)
            while len(handler.received) < target and sender.poll() is None:
                time.sleep(0.002)
            if sender.poll() is not None:
                break
            sender.send_signal(signal.SIGKILL)
            sender.communicate()
            killed += 1
            figures.count("faults", "kills")
            sender = _sender(config_path)
        _, err = sender.communicate(timeout=180)
        assert sender.returncode == 0, err
        for _ in range(3):  # rows of a victim whose lease had not run out yet
            if not _unsent(settings):
                break
            last = _sender(config_path)
            _, err = last.communicate(timeout=180)
            assert last.returncode == 0, err
        elapsed = time.monotonic() - started
    copies = handler.copies()
    with Database.open(settings.database.url) as db, db.read() as tx:
        rows = tx.ledger.rows()
    unconfirmed = {r.email: r.uncertain for r in rows if r.state == "unconfirmed"}
    with capsys.disabled():
        print(
            f"\nchain kills on PostgreSQL, slow start marks: {killed} kills (seed {seed}), "
            f"{len(unconfirmed)} unconfirmed, {elapsed:.1f} s"
        )
    assert _unsent(settings) == 0
    # every hand-over counted was a copy that left: nobody unconfirmed without one
    assert {e: n for e, n in unconfirmed.items() if copies[e] < n} == {}
    assert [e for e in (f"r{i:03d}@example.org" for i in range(CHAIN)) if not copies[e]] == []
    assert max(copies.values()) <= 2
