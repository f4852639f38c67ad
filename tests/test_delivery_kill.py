"""SIGKILL `newsletter run` at random moments while it sends to 1,000 subscribers, then again.

The promise (DESIGN.md, "Lessons"): nobody is missed, and each kill causes at
most one duplicate (the message in flight).  Checked against the Maildir
outbox and a real SMTP server on loopback, each counting copies per
recipient.  The figures are printed (``pytest -s``) and kept in
``docs/delivery.md``.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from delivery_kit import SAMPLE, make_settings, parse
from smtp_loopback import smtp_server

from newsletter.states import LedgerState, SubscriberStatus
from newsletter.store import Database

RECIPIENTS = 1000
KILLS = 8


def _seed_subscribers(url: str, n: int) -> None:
    """Many confirmed subscribers in one transaction (the operator CLI adds them one by one)."""
    now = datetime.now(UTC)
    with Database.open(url) as db, db.write() as tx:
        for i in range(n):
            topics = None if i % 4 else frozenset({"llm", "vision"})
            tx.subscribers.insert(
                f"reader{i:04d}@example.org", SubscriberStatus.CONFIRMED, topics, now
            )


def _config(tmp: Path, method: str, port: int) -> Path:
    text = (
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[delivery]\nmethod = "{method}"\nbackoff_seconds = 0.0\n'
        'from_address = "digest@papers.example.org"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    )
    path = tmp / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["maildir", "smtp"])
def test_killed_runs_resume_with_nobody_missed_and_at_most_one_duplicate_per_kill(
    tmp_path: Path, method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("NEWSLETTER_KILL_SEED", str(time.time_ns() % 10_000)))
    rng = random.Random(seed)
    with smtp_server() as server:
        config_path = _config(tmp_path, method, server.port)
        settings = make_settings(tmp_path)  # same database as the config file's default
        _seed_subscribers(settings.database.url, RECIPIENTS)
        env = {**os.environ, "NEWSLETTER_SECRET_KEY": "k" * 32}
        env.pop("NEWSLETTER_CONFIG", None)
        command = [sys.executable, "-m", "newsletter", "--config", str(config_path), "run"]
        command += [str(SAMPLE), "--date", "2026-11-20"]
        kills = runs = 0
        started = time.monotonic()
        while True:
            runs += 1
            proc = subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            if kills < KILLS:
                try:
                    proc.wait(timeout=rng.uniform(0.6, 1.6))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.communicate()
                    kills += 1
                    continue
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, out.decode() + err.decode()
            break
        elapsed = time.monotonic() - started
        if method == "smtp":
            copies = collections.Counter(parse(m.data)["To"] for m in server.handler.messages)
        else:
            box = tmp_path / "subscribers" / "outbox" / "new"
            copies = collections.Counter(parse(p.read_bytes())["To"] for p in box.iterdir())
    with Database.open(settings.database.url) as db, db.read() as tx:
        stored = tx.editions.latest_on(date(2026, 11, 20))
        assert stored is not None
        counts = tx.ledger.counts(stored.id)
        in_flight = sum(1 for r in tx.ledger.rows(stored.id) if r.uncertain)
    wanted = {f"reader{i:04d}@example.org" for i in range(RECIPIENTS)}
    missed = wanted - set(copies)
    duplicates = sum(n - 1 for n in copies.values())
    with capsys.disabled():
        print(
            f"\nkill test ({method}, seed {seed}): {runs} runs, {kills} kills, "
            f"{in_flight} messages in flight at a kill, "
            f"{len(copies)} recipients got mail, {len(missed)} missed, {duplicates} duplicates, "
            f"{elapsed:.1f} s"
        )
    assert counts[LedgerState.SENT] == RECIPIENTS
    assert not missed
    assert duplicates <= kills
    if method == "maildir":
        assert duplicates == 0  # the outbox recognises a message it already holds
