"""Fault injection on ``newsletter run`` with subscribers: kills mid-send, a faulty SMTP server.

The day-2 run of a project with confirmed subscribers sends through a real
SMTP server on loopback (aiosmtpd, ``faultkit.FaultySmtp``) that counts every
message it receives.  After each fault, running again must converge to:

* every paper recorded once, as in an unbroken run (``faultkit.compare``);
* every subscriber received the edition, except those the server refused
  on purpose with a permanent 5xx, which the ledger reports as failed;
* no copy beyond the documented budget: one message in flight per kill, and
  one per reply the server lost (timeout after DATA, a dropped connection),
  each again with the same Message-ID;
* no ledger row left pending, sending or uncertain; ``unconfirmed`` (handed
  over twice with no reply: the documented end of a row two kills both caught
  in flight) only after two or more kills, and only for a recipient who got
  the message.

The random kills use fixed seeds (``RANDOM_SEEDS``; ``NEWSLETTER_FAULT_SEED``
explores another): every seed that ever found a failure stays in the list.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import faultkit
import figures
import pytest
from corpus_kit import OWN_CORPUS
from faultkit import DAY1, DAY2, FaultySmtp, Project

pytestmark = pytest.mark.fault

SUBSCRIBERS = 40
ADDRESSES = [f"reader{i:03d}@example.org" for i in range(SUBSCRIBERS)]
TERMINAL = {"sent", "failed", "skipped"}
# 37920: CI, 2026-12-03 — two kills caught the same row in flight (it ends unconfirmed)
RANDOM_SEEDS = (
    [int(os.environ["NEWSLETTER_FAULT_SEED"])]
    if "NEWSLETTER_FAULT_SEED" in os.environ
    else [11, 37920]
)


@pytest.fixture(scope="module")
def day1(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Published day 1 (sent to the Maildir outbox), 40 confirmed subscribers, 001 waiting."""
    project = faultkit.make_project(tmp_path_factory.mktemp("send-day1") / "p")
    csv = project.root / "subscribers.csv"
    csv.write_text("email\n" + "".join(f"{a}\n" for a in ADDRESSES), encoding="utf-8")
    imported = subprocess.run(
        [
            *(sys.executable, "-m", "newsletter", "--config", str(project.config)),
            *("subscribers", "import", str(csv), "--confirmed"),
        ],
        capture_output=True,
        text=True,
        cwd=project.root,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    shutil.copy(OWN_CORPUS.file(0), project.digests)
    assert faultkit.run(project, DAY1).returncode == 0
    shutil.copy(OWN_CORPUS.file(1), project.digests)
    return project


@pytest.fixture(scope="module")
def reference(day1: Project, tmp_path_factory: pytest.TempPathFactory) -> faultkit.State:
    project = day1.copy(tmp_path_factory.mktemp("send-reference") / "p")
    server = FaultySmtp()
    with faultkit.smtp(server) as port:
        faultkit.use_smtp(project, port)
        faultkit.converge(project, DAY2)
    assert set(server.copies()) == {a.lower() for a in ADDRESSES}
    return faultkit.read_state(project)


@pytest.fixture
def project(day1: Project, tmp_path: Path) -> Project:
    return day1.copy(tmp_path / "p")


@pytest.fixture
def server() -> Iterator[tuple[FaultySmtp, int]]:
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        yield handler, port


def check(
    project: Project,
    reference: faultkit.State,
    handler: FaultySmtp,
    kills: int,
    refused: frozenset[str] = frozenset(),
    also: frozenset[str] = frozenset(),
) -> None:
    lost, duplicates = faultkit.compare(faultkit.read_state(project), reference)
    assert (lost, duplicates) == (0, 0)
    expected = {a.lower() for a in ADDRESSES}
    lost, _explained, unexplained = faultkit.compare_sends(handler, expected, refused, kills)
    assert (lost, unexplained) == (0, 0), handler.copies()
    states = faultkit.ledger_states(project, DAY2)
    if kills >= 2:
        # a row handed over twice without a reply ends unconfirmed, never a third copy
        also = also | {"unconfirmed"}
        got = handler.copies()
        for address in faultkit.ledger_addresses(project, DAY2, "unconfirmed"):
            assert got.get(address.lower(), 0) >= 1, address
    assert set(states) <= TERMINAL | also, states
    assert states["failed"] == len(refused)


# ---------------------------------------------------------------- kills at named points

POINTS = [
    "after-ingest",
    "before-commit",
    "after-commit",
    "mid-feed-write:3",
    "mid-send:1",
    "mid-send:17",
    "mid-send:40",  # the last message: sent, its reply never recorded
]


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_a_named_point_nobody_is_missed_or_sent_twice_beyond_the_one_in_flight(
    point: str,
    project: Project,
    reference: faultkit.State,
    server: tuple[FaultySmtp, int],
) -> None:
    handler, port = server
    faultkit.use_smtp(project, port)
    killed = faultkit.run(project, DAY2, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    faultkit.converge(project, DAY2)
    check(project, reference, handler, kills=1)
    if point.startswith("mid-send"):
        n = int(point.split(":")[1])
        # the message in flight went out twice, with the same Message-ID; nobody else did
        assert sorted(handler.copies().values()).count(2) <= 1
        assert sum(handler.copies().values()) in (SUBSCRIBERS, SUBSCRIBERS + 1), n


def test_killed_at_every_stage_in_turn_still_converges(
    project: Project, reference: faultkit.State, server: tuple[FaultySmtp, int]
) -> None:
    handler, port = server
    faultkit.use_smtp(project, port)
    points = ["after-ingest", "before-commit", "after-commit", "mid-send:5", "mid-send:9"]
    for point in points:
        assert faultkit.run(project, DAY2, fault=point).returncode == -signal.SIGKILL
    faultkit.converge(project, DAY2)
    check(project, reference, handler, kills=len(points))


# ---------------------------------------------------------------- kills at random times


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_kills_at_random_times_while_sending_converge(
    seed: int, day1: Project, reference: faultkit.State, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    print(f"random kills while sending: seed {seed}")
    timing = day1.copy(tmp_path / "timing")
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        faultkit.use_smtp(timing, port)
        started = time.monotonic()
        assert faultkit.run(timing, DAY2).returncode == 0
        clean = time.monotonic() - started
    for attempt in range(6):
        project = day1.copy(tmp_path / f"p{attempt}")
        handler = FaultySmtp()
        with faultkit.smtp(handler) as port:
            faultkit.use_smtp(project, port)
            kills = 0
            for _ in range(rng.choice((1, 2, 3))):
                if faultkit.run_killed_at_random(project, DAY2, rng.uniform(0.2, clean)):
                    kills += 1
            faultkit.converge(project, DAY2)
            check(project, reference, handler, kills=kills)
        shutil.rmtree(project.root)


# ---------------------------------------------------------------- a faulty SMTP server


def test_smtp_temporary_and_permanent_failures_resolve_with_nothing_lost(
    project: Project, reference: faultkit.State
) -> None:
    """421/451/452, 552 at RCPT (RFC 5321: temporary) and dropped connections are
    retried; 550 at RCPT bounces, 552/554 to the message fail; all are reported."""
    a = [x.lower() for x in ADDRESSES]
    handler = FaultySmtp(
        rcpt={
            a[1]: ["421 4.3.2 service shutting down"],
            a[2]: ["451 4.3.0 local error", "451 4.3.0 local error"],
            a[3]: ["452 4.2.2 mailbox full"],
            a[4]: ["550 5.1.1 no such user"],
            a[5]: ["drop"],
            a[6]: ["552 5.2.2 over quota"],
        },
        data={
            a[7]: ["451 4.6.0 try again"],
            a[8]: ["552 5.3.4 message too big"],
            a[9]: ["554 5.7.1 rejected as spam"],
            a[10]: ["timeout"],  # the reply comes after the client's 1 s timeout
            a[11]: ["drop"],  # message taken, connection closed without a reply
            a[12]: ["drop-mid-data", "drop-mid-data"],  # never taken: not uncertain
        },
    )
    refused = frozenset({a[4], a[8], a[9]})
    with faultkit.smtp(handler) as port:
        faultkit.use_smtp(project, port)
        first = faultkit.run(project, DAY2)
        assert first.returncode == 0, first.stdout + first.stderr
        faultkit.converge(project, DAY2)
        check(project, reference, handler, kills=0, refused=refused)
        copies = handler.copies()
        assert copies[a[10]] == 2 and copies[a[11]] == 2  # reply lost: sent again once
        assert copies[a[6]] == 1 and copies[a[12]] == 1  # 552 at RCPT, mid-DATA drops: once
    figures.count("faults", "smtp faults", 12)


@pytest.mark.parametrize("before_reply", [True, False], ids=["reply-lost", "after-reply"])
def test_a_server_dropping_the_connection_every_n_messages_loses_nothing(
    before_reply: bool, project: Project, reference: faultkit.State
) -> None:
    handler = FaultySmtp(drop_every=7, drop_before_reply=before_reply)
    with faultkit.smtp(handler) as port:
        faultkit.use_smtp(project, port)
        faultkit.converge(project, DAY2)
        # a message whose second copy lands on a drop as well was handed over twice
        # without a reply: it ends ``unconfirmed`` (it arrived, twice) and is never sent
        # a third time, as docs/delivery.md says; nobody is lost (``check``)
        check(project, reference, handler, kills=0, also=frozenset({"unconfirmed"}))
        unconfirmed = faultkit.ledger_states(project, DAY2)["unconfirmed"]
        assert unconfirmed == 0 or before_reply
        assert unconfirmed <= handler.reply_losses // 2
    figures.count("faults", "smtp faults", handler.reply_losses or SUBSCRIBERS // 7)


def test_smtp_server_down_stops_the_run_clearly_and_the_next_run_sends(
    project: Project, reference: faultkit.State
) -> None:
    """Nothing listens: the edition is recorded, delivery stops with a reason; later all arrive."""
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        pass  # the port is free again: connection refused
    faultkit.use_smtp(project, port)
    down = faultkit.run(project, DAY2)
    message = " ".join((down.stdout + down.stderr).split())
    assert "Connection refused" in message or "cannot connect" in message, message
    assert faultkit.ledger_states(project, DAY2)["sent"] == 0
    with faultkit.smtp(handler) as port:
        faultkit.use_smtp(project, port)
        faultkit.converge(project, DAY2)
        check(project, reference, handler, kills=0)
    figures.count("faults", "smtp faults")
