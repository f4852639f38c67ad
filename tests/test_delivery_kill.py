"""SIGKILL the sender at random moments *while it sends*, resume it three ways, count copies.

The promise (docs/delivery.md): nobody is missed, no message arrives more
than twice, and each kill costs at most one extra copy (the message in
flight), however many connections send.  A real SMTP server on loopback
(``faultkit.FaultySmtp``) counts what it received, per recipient; the
sender is ``newsletter run`` in a subprocess, killed once the server has
received a random number of messages (so every kill lands mid-send), and
resumed by

* ``run``: the next ``newsletter run`` for that date;
* ``schedule``: ``newsletter schedule``, whose start-up tick resumes every
  unfinished edition (and is itself killed once mid-send);
* ``other-host``: ``newsletter run`` in its own UTS namespace with another
  hostname, as a new container per cron run would be: the dead sender
  cannot be proven dead from there, so its rows come back when their lease
  runs out (``delivery.lease_seconds = 3`` here).

The figures are printed (``pytest -s``) and kept in ``docs/delivery.md``.
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
from faultkit import DAY1, DAY2, FaultySmtp, Project

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SUBSCRIBERS = 160
KILLS = 3
KILL_SEEDS = {"run": 45886, "schedule": 75872, "other-host": 92155}
"""The seeds of one CI run (each case passed 20 runs in a row beside CPU hogs)."""
ADDRESSES = [f"reader{i:03d}@example.org" for i in range(SUBSCRIBERS)]
UNSENT = {"pending", "sending", "uncertain", "deferred"}


@pytest.fixture(scope="module")
def day1(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Project:
    """Day 1 published (to the Maildir outbox) for 160 confirmed subscribers; day 2 waiting."""
    project = faultkit.make_project(tmp_path_factory.mktemp("kill-day1") / "p")
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
    shutil.copy(sorted(seeds_dir.glob("000_*.txt"))[0], project.digests)
    assert faultkit.run(project, DAY1).returncode == 0
    shutil.copy(sorted(seeds_dir.glob("001_*.txt"))[0], project.digests)
    return project


@pytest.fixture
def server() -> Iterator[tuple[FaultySmtp, int]]:
    handler = FaultySmtp()
    with faultkit.smtp(handler) as port:
        yield handler, port


def _environment() -> dict[str, str]:
    env = {**os.environ}
    env.pop("NEWSLETTER_FAULT", None)
    env.pop("NEWSLETTER_CONFIG", None)
    return env


def _kill_when_received(
    argv: list[str], project: Project, handler: FaultySmtp, target: int, timeout: float = 120
) -> bool:
    """Start ``argv``; SIGKILL it once the server holds ``target`` messages in all.
    True if it was killed while sending (False: it finished first)."""
    process = subprocess.Popen(
        argv,
        cwd=project.root,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None:
            if len(handler.received) >= target:
                process.send_signal(signal.SIGKILL)
                process.wait()
                figures.count("faults", "kills")
                figures.count("faults", "kills while sending")
                return True
            assert time.monotonic() < deadline, "the sender neither sent nor finished"
            time.sleep(0.002)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _unsent(project: Project) -> int:
    states = faultkit.ledger_states(project, DAY2)
    return sum(n for state, n in states.items() if state in UNSENT)


def _schedule_until_sent(project: Project, timeout: float = 180) -> None:
    """``newsletter schedule`` until the day-2 ledger has nothing left, then SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--config", str(project.config), "schedule"],
        cwd=project.root,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while _unsent(project):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "schedule did not finish the sending"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err


def _other_host(argv: list[str]) -> list[str]:
    """``argv`` in a new UTS namespace with its own hostname (needs CAP_SYS_ADMIN)."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "elsewhere-$$" && exec "$@"', "sh", *argv]


def _can_change_hostname() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(_other_host(["hostname"]), capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.startswith("elsewhere-")


@pytest.mark.parametrize("resume", ["run", "schedule", "other-host"])
def test_kills_while_sending_lose_nothing_and_cost_at_most_one_copy_each(
    resume: str,
    day1: Project,
    tmp_path: Path,
    server: tuple[FaultySmtp, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if resume == "other-host" and not _can_change_hostname():
        pytest.skip("cannot start a process with another hostname here (unshare --uts)")
    # A fixed seed per case (CI must not flake); NEWSLETTER_KILL_SEED explores others.
    seed = int(os.environ.get("NEWSLETTER_KILL_SEED", str(KILL_SEEDS[resume])))
    rng = random.Random(seed)
    handler, port = server
    project = day1.copy(tmp_path / "p")
    faultkit.use_smtp(project, port, timeout=5, delivery="lease_seconds = 3\n")
    run = faultkit.command(project, DAY2)
    schedule = [sys.executable, "-m", "newsletter", "--config", str(project.config), "schedule"]
    started = time.monotonic()
    kills = 0
    for _ in range(KILLS):
        # At least two messages after the restart: a kill right after the first one —
        # most often the message the previous kill left uncertain, sent again — would
        # catch that one row twice in its window, which leaves it `unconfirmed` by
        # design (docs/delivery.md, "What a kill leaves unknowable"; the chain-kill
        # test measures that pattern). With in_flight 1 the second dot waits for the
        # first reply's transaction.
        target = len(handler.received) + rng.randint(2, SUBSCRIBERS // (KILLS + 1))
        argv = run
        if resume == "other-host" and kills:
            argv = _other_host(run)
        elif resume == "schedule" and kills:
            argv = schedule  # its start-up tick resumes the edition, and is killed too
        kills += _kill_when_received(argv, project, handler, target)
    if resume == "schedule":
        _schedule_until_sent(project)
    elif resume == "other-host":
        finished = subprocess.run(
            _other_host(run), cwd=project.root, env=_environment(), capture_output=True, text=True
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr
    else:
        faultkit.converge(project, DAY2)
    elapsed = time.monotonic() - started

    copies = handler.copies()
    ids = handler.message_ids()
    missed = [a for a in ADDRESSES if copies[a] == 0]
    extra = sum(n - 1 for n in copies.values())
    states = faultkit.ledger_states(project, DAY2)
    with capsys.disabled():
        print(
            f"\nkill while sending, resumed by {resume} (seed {seed}): {kills} kills, "
            f"{len(copies)} of {SUBSCRIBERS} got it, {len(missed)} missed, "
            f"{extra} extra copies, most copies of one message {max(copies.values())}, "
            f"{elapsed:.1f} s; ledger {dict(states)}"
        )
    figures.count("faults", "lost", len(missed))
    figures.count("faults", "duplicates (in flight, explained)", extra)
    assert missed == []
    assert max(copies.values()) <= 2
    assert extra <= kills
    assert all(len(v) == 1 for v in ids.values())  # a second copy has the same Message-ID
    # A row two kills both caught in flight (its message handed over twice without a
    # reply) ends `unconfirmed` by design: never a third copy.  The target above makes
    # that rare, not impossible on a loaded machine (CI rehearsal, 2026-12-04), so it is
    # allowed only after two or more kills, and only for a recipient who got the message.
    allowed = {"sent", "unconfirmed"} if kills >= 2 else {"sent"}
    assert set(states) <= allowed, states
    for address in faultkit.ledger_addresses(project, DAY2, "unconfirmed"):
        assert copies[address.lower()] >= 1, address
    assert states["unconfirmed"] <= kills - 1, states
