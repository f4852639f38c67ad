"""`newsletter status` and `/healthz` judge the scheduled date's edition; every run leaves a
report; an empty drop folder and a day of 304s are "nothing new", not failures."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from cli_kit import error_lines, newsletter
from corpus_kit import OWN_CORPUS
from loopback import body, serving

from newsletter import config, pipeline, status
from newsletter.web.app import build_app, health

DAY = date(2026, 3, 14)  # the scheduled date at 09:00 UTC with cron "0 7 * * *"
AT_9 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def project(tmp: Path, extra: str = "", site: str = "site") -> config.Settings:
    (tmp / "drop").mkdir(exist_ok=True)
    text = (
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        f'[output]\nsite_dir = "{site}"\n'
        '[schedule]\ncron = "0 7 * * *"\n'
        '[[sources]]\nname = "drop"\nkind = "text"\npath = "drop"\n' + extra
    )
    (tmp / "config.toml").write_text(text, encoding="utf-8")
    return config.parse(text, where="config.toml", base_dir=tmp, config_path=tmp / "config.toml")


def healthz(settings: config.Settings, now: datetime) -> httpx.Response:
    app = build_app(settings, clock=lambda: now)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/healthz")

    return anyio.run(get)


def test_a_manual_run_for_another_date_does_not_turn_a_failed_scheduled_day_green(
    tmp_path: Path,
) -> None:
    settings = project(tmp_path)
    # the scheduled run of the day finds nothing new: the empty drop folder
    scheduled = pipeline.run(settings, (), DAY, trigger="schedule", clock=lambda: AT_9)
    assert scheduled.status == "stale"
    # then an operator makes an edition for an old date by hand, and it publishes
    manual = pipeline.run(settings, [str(OWN_CORPUS.file(0))], date(2026, 3, 1))
    assert manual.status == "published"

    view = status.gather(settings, clock=lambda: AT_9)
    data = view.to_json()  # what `status --json` prints
    assert data["last_run"]["status"] == "published"  # the last run of any kind...
    # every time in it carries its offset, like "now" (SQLite hands back naive times)
    for at in (data["last_run"]["started_at"], data["last_run"]["finished_at"]):
        assert at.endswith("+00:00"), at
    assert data["scheduled"]["finished_at"].endswith("+00:00"), data["scheduled"]
    assert data["scheduled"]["date"] == DAY.isoformat()  # ...is not what health is about
    assert data["scheduled"]["state"] == "stale" and not data["scheduled"]["ok"]
    assert status.lines(view)[0].startswith(f"scheduled edition: {DAY.isoformat()}")
    response = healthz(settings, AT_9)
    assert response.status_code == 503
    assert response.json()["ok"] is False and response.json()["scheduled"]["state"] == "stale"

    # the day's own edition arrives: green
    shutil.copy(OWN_CORPUS.file(1), tmp_path / "drop")
    assert pipeline.run(settings, (), DAY, clock=lambda: AT_9).status == "published"
    assert healthz(settings, AT_9).status_code == 200
    (tmp_path / "fresh").mkdir()
    fresh = project(tmp_path / "fresh")  # no database yet: nothing has run
    assert status.gather(fresh, clock=lambda: AT_9).scheduled.state == "idle"


def test_status_before_and_after_the_scheduled_time(tmp_path: Path) -> None:
    settings = project(tmp_path)
    shutil.copy(OWN_CORPUS.file(0), tmp_path / "drop")
    assert health(settings, lambda: AT_9).ok is True  # nothing ran yet: a fresh install
    # the day before, at 9: this installation's first run, before the slots below
    pipeline.run(settings, (), date(2026, 3, 13), clock=lambda: AT_9 - timedelta(days=1))
    # 14 March 07:30: due half an hour ago, not run yet: pending, within the grace
    pending = health(settings, lambda: datetime(2026, 3, 14, 7, 30, tzinfo=UTC))
    assert pending.ok is True and pending.scheduled.state == "pending"
    # 14 March 20:00, still no run for the day: missed (the grace is 6 hours)
    late = health(settings, lambda: datetime(2026, 3, 14, 20, 0, tzinfo=UTC))
    assert late.ok is False and late.scheduled.state == "missed"
    assert "is `newsletter serve`" in late.scheduled.reason


def test_a_slot_due_before_the_first_run_ever_was_not_missed(tmp_path: Path) -> None:
    """Installed and first run at 00:40, the 07:00 slot of the day before is no failure."""
    settings = project(tmp_path)
    shutil.copy(OWN_CORPUS.file(0), tmp_path / "drop")
    first = datetime(2026, 3, 14, 0, 40, tzinfo=UTC)
    pipeline.run(settings, (), date(2026, 3, 14), clock=lambda: first)
    night = health(settings, lambda: first + timedelta(minutes=5))
    assert night.ok is True and night.scheduled.state == "idle"
    assert night.scheduled.date == date(2026, 3, 13)
    assert "before the first run" in night.scheduled.reason
    # the next evening the 14 March slot is this installation's: its run counts
    evening = health(settings, lambda: datetime(2026, 3, 14, 20, 0, tzinfo=UTC))
    assert evening.ok is True and evening.scheduled.state == "published"
    # and a day with no run after that is missed, as ever
    later = health(settings, lambda: datetime(2026, 3, 15, 20, 0, tzinfo=UTC))
    assert later.ok is False and later.scheduled.state == "missed"


def test_a_run_that_records_its_edition_but_cannot_write_the_site_leaves_a_report(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    settings = project(tmp_path, site="a-file/site")
    shutil.copy(OWN_CORPUS.file(0), tmp_path / "drop")
    result = newsletter("run", "--date", DAY.isoformat(), cwd=tmp_path)
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if "could not be published" in line]
    assert line.startswith("failed: the edition for 2026-03-14")  # one line: what and what next
    assert "is recorded" in line and "run again" in line and "Not a directory" in line
    assert error_lines(result.stderr) == []  # the problem once, not also as an error line
    view = status.gather(settings, clock=lambda: AT_9)
    assert view.last_run is not None and view.last_run.status == "failed"  # a report, why
    assert view.last_run.paper_count == OWN_CORPUS.fresh[0]  # recorded
    assert view.scheduled.state == "failed" and not view.scheduled.ok

    # fixed: the next run publishes the recorded edition, and the day is green
    fixed = project(tmp_path)
    again = pipeline.run(fixed, (), DAY)
    assert again.status == "exists" and (tmp_path / "site" / "index.html").is_file()
    assert health(fixed, lambda: AT_9).ok is True


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>papers</title><link>https://example.org/</link>
<description>test</description>
<item><title>Sparse Adapters for Streaming Speech Recognition</title>
<link>https://arxiv.org/abs/2603.01234</link>
<description>We study adapters for streaming recognizers. Sparse adapters match full
fine-tuning at a tenth of the cost, on four benchmarks and two languages.</description></item>
</channel></rss>"""


def test_an_empty_drop_folder_is_no_error_and_a_day_of_304s_is_stale(tmp_path: Path) -> None:
    with serving() as server:
        server.route("/feed.xml", body(RSS, etag='"v1"'))
        extra = (
            f'[[sources]]\nname = "arxiv"\nkind = "feed"\nurl = "{server.url("/feed.xml")}"\n'
            "allow_private = true\n"
        )
        project(tmp_path, extra)  # the default drop folder stays empty
        first = newsletter("run", "--date", "2026-03-13", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert error_lines(first.stderr) == [] and "no files match" not in first.stderr
        second = newsletter("run", "--date", "2026-03-14", cwd=tmp_path)  # the feed says 304
    assert server.hits[-1][1].get("If-None-Match") == '"v1"'
    assert second.returncode == 1  # nothing new is never silent...
    assert "stale: nothing new" in second.stderr  # ...but it is not a failure to read
    assert "no source could be read" not in second.stderr and error_lines(second.stderr) == []
