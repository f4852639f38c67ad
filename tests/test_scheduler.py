"""The scheduler: one edition per scheduled date, with an injected clock and real databases."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from corpus_kit import OWN_CORPUS

from newsletter import config, owners, pipeline
from newsletter.config import Schedule
from newsletter.errors import StoreError
from newsletter.model import Edition, RunReport
from newsletter.scheduler import DailyJob
from newsletter.states import RunStatus
from newsletter.store import Database
from newsletter.store.runs import Claim
from newsletter.web.app import build_app


def settings_for(tmp: Path, db_url: str, cron: str, tz: str, drop: bool = False) -> config.Settings:
    text = (
        f'[newsletter]\ntimezone = "{tz}"\n[database]\nurl = "{db_url}"\n'
        f'[schedule]\ncron = "{cron}"\n'
        + ('[[sources]]\nname = "drop"\nkind = "text"\npath = "drop"\n' if drop else "")
    )
    return config.parse(text, where="config.toml", base_dir=tmp)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def no_resume(settings: config.Settings) -> None:
    """A job whose edition exists tries to resume sending: nothing to send in these tests."""


def recording_runner(calls: list[date]) -> Callable[..., RunReport]:
    def runner(
        settings: config.Settings,
        inputs: tuple[str, ...],
        edition_date: date,
        *,
        trigger: str,
        clock: Callable[[], datetime],
    ) -> RunReport:
        calls.append(edition_date)
        return RunReport(Edition(edition_date, ()), (), status="published")

    return runner


DST_CASES = [
    ("Europe/Berlin", date(2026, 3, 29)),  # spring forward: 02:00 → 03:00
    ("Europe/Berlin", date(2026, 10, 25)),  # fall back: 03:00 → 02:00, 02:30 happens twice
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
]


@pytest.mark.parametrize(("tz", "transition"), DST_CASES)
@pytest.mark.parametrize("cron", ["30 2 * * *", "0 7 * * *", "*/20 * * * *"])
def test_one_run_per_date_across_dst_transitions(
    tmp_path: Path, tz: str, transition: date, cron: str
) -> None:
    """Ticks every 7 minutes for four days around the transition: each date runs once."""
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'nl.db'}", cron, tz)
    zone = ZoneInfo(tz)
    start = datetime(transition.year, transition.month, transition.day, tzinfo=zone) - timedelta(
        days=2
    )
    clock = Clock(start.astimezone(UTC))
    calls: list[date] = []
    job = DailyJob(
        settings, clock=clock, runner=recording_runner(calls), resumer=no_resume, owner="test:1:a"
    )
    end = clock.now + timedelta(days=4)
    while clock.now < end:
        job.tick("check")
        clock.now += timedelta(minutes=7)
    assert len(calls) == len(set(calls)), calls  # never twice for a date
    assert calls == [calls[0] + timedelta(days=i) for i in range(len(calls))]  # none skipped
    assert transition in calls and len(calls) >= 4


def test_due_date_at_the_missing_and_the_repeated_hour() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    schedule = Schedule("30 2 * * *", berlin)
    # 2026-03-29 02:30 does not exist in Berlin: the run happens once that day anyway
    assert schedule.due_date(datetime(2026, 3, 29, 4, 0, tzinfo=berlin)) == date(2026, 3, 29)
    assert schedule.due_date(datetime(2026, 3, 29, 1, 0, tzinfo=berlin)) == date(2026, 3, 28)
    # 2026-10-25 02:30 happens twice: both are the same date
    first = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST
    second = datetime(2026, 10, 25, 1, 45, tzinfo=UTC)  # 02:45 CET
    assert schedule.due_date(first) == schedule.due_date(second) == date(2026, 10, 25)


def test_after_downtime_only_the_latest_missed_date_is_made(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'nl.db'}", "0 7 * * *", "UTC")
    clock = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    calls: list[date] = []
    job = DailyJob(
        settings, clock=clock, runner=recording_runner(calls), resumer=no_resume, owner="test:1:a"
    )
    job.tick("catch-up")
    clock.now = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)  # down for four days, back before 07:00
    for _ in range(3):  # restarts
        job.tick("catch-up")
    assert calls == [date(2026, 3, 10), date(2026, 3, 13)]


def test_a_claim_of_a_dead_process_is_taken_over_and_a_live_one_is_respected(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'nl.db'}"
    settings = settings_for(tmp_path, url, "0 7 * * *", "UTC")
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    db = Database.open(url)
    alive = owners.process_owner().rsplit(":", 1)[0] + ":other"  # this pid, another token
    with db.write() as tx:
        live = tx.claims.claim(
            date(2026, 3, 10),
            f"elsewhere:{os.getpid()}:x",
            now,
            lease=timedelta(hours=2),
            retry_after=timedelta(hours=1),
        )
    assert live.won
    calls: list[date] = []
    job = DailyJob(
        settings, clock=Clock(now), runner=recording_runner(calls), resumer=no_resume, owner=alive
    )
    held = job.tick()
    assert held.outcome == "claimed-elsewhere" and "sends nothing" in held.detail
    assert calls == []
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    import socket

    host, dead_pid = socket.gethostname(), dead.stdout.strip()
    # the same host and PID seen from another container (PID namespace): not provably
    # dead, so its claim is respected until its lease expires
    other_container = f"{host}:{dead_pid}:y:0ther0ns"
    with db.write() as tx:
        tx.claims.claim(
            date(2026, 3, 12),
            other_container,
            now + timedelta(days=2),
            lease=timedelta(hours=2),
            retry_after=timedelta(hours=1),
        )
    dead_owner = f"{host}:{dead_pid}:y:{owners.NAMESPACE}"
    with db.write() as tx:
        tx.claims.claim(
            date(2026, 3, 11),
            dead_owner,
            now + timedelta(days=1),
            lease=timedelta(hours=2),
            retry_after=timedelta(hours=1),
        )
    db.close()
    job.clock = Clock(now + timedelta(days=1, minutes=5))
    assert job.tick().outcome == "ran"
    assert calls == [date(2026, 3, 11)]
    job.clock = Clock(now + timedelta(days=2, minutes=5))
    assert job.tick().outcome == "claimed-elsewhere"
    assert calls == [date(2026, 3, 11)]


def test_a_claim_left_open_by_a_run_killed_after_its_edition_is_taken_over(
    tmp_path: Path,
) -> None:
    """A run SIGKILLed between committing its edition and finishing (its files perhaps
    unwritten): the next tick takes the dead owner's claim over and runs again, which
    publishes and sends the recorded edition; a live owner's open claim is left alone."""
    url = f"sqlite:///{tmp_path / 'nl.db'}"
    settings = settings_for(tmp_path, url, "0 7 * * *", "UTC")
    day, now = date(2026, 3, 10), datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    import socket

    dead_owner = f"{socket.gethostname()}:{dead.stdout.strip()}:y:{owners.NAMESPACE}"
    lease, retry = timedelta(hours=2), timedelta(0)
    with Database.open(url) as db, db.write() as tx:
        tx.claims.claim(day, dead_owner, now, lease=lease, retry_after=retry)
        tx.editions.record(Edition(day, ()), now)
    calls: list[date] = []
    job = DailyJob(
        settings,
        clock=Clock(now),
        runner=recording_runner(calls),
        resumer=no_resume,
        owner="me:1:t",
    )
    assert job.tick().outcome == "ran"
    assert calls == [day]
    with Database.open(url) as db, db.read() as tx:
        [claim] = tx.claims.all()
    assert claim.status == "published" and claim.finished_at is not None
    assert job.tick().outcome == "exists" and calls == [day]  # once
    other = date(2026, 3, 11)
    with Database.open(url) as db, db.write() as tx:
        tx.claims.claim(other, "them:2:t", now, lease=lease, retry_after=retry)
        tx.editions.record(Edition(other, ()), now)
        assert not tx.claims.abandoned(other, now, lease=lease, is_dead=lambda owner: False)
        assert tx.claims.abandoned(other, now + lease, lease=lease, is_dead=lambda owner: False)


def test_two_jobs_at_once_on_one_database_make_one_edition(tmp_path: Path, db_url: str) -> None:
    (tmp_path / "drop").mkdir()
    shutil.copy(OWN_CORPUS.file(2), tmp_path / "drop")
    settings = settings_for(tmp_path, db_url, "0 7 * * *", "Europe/Berlin", drop=True)
    clock = Clock(datetime(2026, 3, 14, 9, 0, tzinfo=UTC))
    jobs = [pipeline.daily_job(settings, clock=clock, owner=f"test:{i}:t") for i in range(2)]
    results = []
    barrier = threading.Barrier(2)

    def go(job: DailyJob) -> None:
        barrier.wait()
        results.append(job.tick("catch-up"))

    threads = [threading.Thread(target=go, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(r.outcome for r in results)
    assert outcomes in (["claimed-elsewhere", "ran"], ["exists", "ran"])
    with Database.open(db_url) as db, db.read() as tx:
        assert tx.editions.count_on(date(2026, 3, 14)) == 1
        assert [c.status for c in tx.claims.all()] == ["published"]
        reports = tx.runs.recent()
        assert [r.trigger for r in reports] == ["catch-up"]


def test_health_endpoint_and_site_are_served(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'nl.db'}", "0 7 * * *", "UTC")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>archive</h1>", encoding="utf-8")
    app = build_app(settings)

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    health = anyio.run(get, "/healthz")
    assert health.status_code == 200
    assert health.json()["last_run"] is None and health.json()["next_run"]
    assert "archive" in anyio.run(get, "/").text


def _serve(workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    env.pop("NEWSLETTER_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", "0"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def _one_finished_ok_claim(claims: list[Claim]) -> bool:
    return (
        len(claims) == 1
        and claims[0].finished_at is not None
        and bool(claims[0].status and RunStatus(claims[0].status).ok)
    )


def test_two_serve_processes_restarted_repeatedly_make_one_edition(tmp_path: Path) -> None:
    workdir = tmp_path / "nl"
    (workdir / "drop").mkdir(parents=True)
    for digest in OWN_CORPUS.files:  # one edition of them all: a run long enough to interrupt
        shutil.copy(digest, workdir / "drop")
    (workdir / "config.toml").write_text(
        '[schedule]\ncron = "* * * * *"\n'
        '[[sources]]\nname = "drop"\nkind = "text"\npath = "drop"\n',
        encoding="utf-8",
    )
    db = workdir / "subscribers" / "newsletter.db"
    procs = [_serve(workdir), _serve(workdir)]
    stderr: list[bytes] = []
    try:
        for round_ in range(4):
            time.sleep(1.5)
            victim = procs[round_ % 2]
            victim.send_signal(signal.SIGKILL if round_ % 2 else signal.SIGTERM)
            stderr.append(victim.communicate(timeout=30)[1])
            procs[round_ % 2] = _serve(workdir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                opened = Database.open_read_only(f"sqlite:///{db}")
            except StoreError:  # a process starting up is migrating it right now
                time.sleep(0.5)
                continue
            with opened, opened.read() as tx:
                # the edition, and its run's report: the run commits the edition a
                # moment before it marks its claim, and stopping both servers in
                # between would test that moment, not the restarts
                # (its claim "published", or "exists" when a run killed after recording
                # it was taken over and published the recorded edition)
                done = _one_finished_ok_claim(tx.claims.all())
                if tx.editions.count_on(datetime.now(UTC).date()) and done:
                    break
            time.sleep(0.5)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            stderr.append(proc.communicate(timeout=30)[1])
    today = datetime.now(UTC).date()
    with Database.open_read_only(f"sqlite:///{db}") as opened, opened.read() as tx:
        assert tx.editions.count_on(today) == 1, b"\n".join(stderr).decode()
        assert tx.editions.count_on(today - timedelta(days=1)) == 0
        claims = tx.claims.all()
        assert _one_finished_ok_claim(claims), claims
    editions = sorted(p.parent.name for p in (workdir / "site").rglob("edition.json"))
    assert editions == [today.isoformat()]


def test_tick_after_the_edition_exists_resumes_unsent_mail(tmp_path: Path) -> None:
    """A long-running scheduler retries deferred and interrupted sends on every tick."""
    from newsletter.edition import build_edition
    from newsletter.listings import new_papers
    from newsletter.model import RawEntry
    from newsletter.novelty import split
    from newsletter.store.papers import NewPaper

    settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'nl.db'}", "0 7 * * *", "UTC")
    verdicts = split([RawEntry("A paper", "An abstract of the paper.", "t.txt")], None)
    papers = new_papers(verdicts, settings.taxonomy)
    new = [NewPaper(p, v.title_key, v.signature) for v, p in zip(verdicts, papers, strict=True)]
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    with Database.open(settings.database.url) as db, db.write() as tx:
        stored = tx.editions.record(
            build_edition([n.paper for n in new], settings.taxonomy, date(2026, 3, 2)), now
        )
        tx.papers.mark_seen(new, stored.id, now)
    resumed: list[str] = []
    job = DailyJob(
        settings,
        clock=Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        runner=recording_runner([]),
        resumer=lambda s: resumed.append(s.database.url),
        owner="test:1:a",
    )
    assert job.tick("check").outcome == "exists"
    assert job.tick("check").outcome == "exists"
    assert resumed == [settings.database.url] * 2
