"""What the operator reads about delivery: states named by why rows wait, the servers'
last replies, what each run sent of every edition it went on sending, and ``status``
read from the send ledger as it is now (not from the last run's report)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_kit import init_project, newsletter, set_config
from delivery_kit import NOW, SAMPLE, add_subscribers, make_settings
from smtp_loopback import smtp_server

from newsletter import pipeline, status
from newsletter.store import Database
from newsletter.store.schema import send_ledger

GREY = "451 4.7.1 Greylisted"
GONE = "550 5.1.1 No such user"


def _smtp_project(tmp_path: Path, port: int, addresses: list[str]) -> Path:
    project = init_project(tmp_path)
    set_config(project, 'method = "maildir"', 'method = "smtp"')
    set_config(project, 'host = "localhost"', 'host = "127.0.0.1"')
    set_config(project, "port = 587", f"port = {port}")
    set_config(project, 'security = "starttls"', 'security = "none"')
    set_config(project, "backoff_seconds = 300.0", "backoff_seconds = 0.0")
    for address in addresses:
        newsletter("subscribers", "add", address, "--confirmed", cwd=project, check=True)
    return project


def _delivery_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Delivery")]


def test_the_next_days_run_reports_what_it_sent_of_the_earlier_edition(
    tmp_path: Path,
) -> None:
    """Day 1: two greylisted, one unknown mailbox; the run and ``status`` give the
    replies.  Day 2's cron run has no edition of its own but sends day 1's deferred
    rows: it says so, and ``status`` says what it sent."""
    script = {"grey1@example.org": [GREY], "grey2@example.org": [GREY], "gone@example.org": [GONE]}
    with smtp_server(script) as server:
        project = _smtp_project(tmp_path, server.port, [*script, "fine@example.org"])
        day1 = newsletter("run", "--date", "2026-11-20", cwd=project, check=True)
        [line] = _delivery_lines(day1.stdout)
        assert "1 sent, 0 skipped, 1 failed, 2 deferred (temporary reply) (of 4;" in line
        assert f"deferred: {GREY} (2)" in line and f"failed: {GONE} (1)" in line

        shown = newsletter("status", cwd=project).stdout
        [sending] = [s for s in shown.splitlines() if s.startswith("sending 2026-11-20")]
        assert "2 deferred (temporary reply)" in sending and f"{GREY} (2)" in sending
        assert "waiting for next try at" in sending and "min left" not in sending
        data = json.loads(newsletter("status", "--json", cwd=project).stdout)
        [edition] = data["sending"]
        assert (edition["deferred"], edition["failed"], edition["in_flight"]) == (2, 1, 0)
        assert edition["waiting_for_next_try"] is True
        assert {"state": "deferred", "reply": GREY, "count": 2} in edition["reasons"]
        assert {"state": "failed", "reply": GONE, "count": 1} in edition["reasons"]

        day2 = newsletter("run", "--date", "2026-11-21", cwd=project)
        assert "Nothing recorded" in day2.stdout  # no new papers: no edition of its own
        [line] = _delivery_lines(day2.stdout)
        assert line.startswith("Delivery of 2026-11-20 (resumed): 3 sent, 0 skipped, 1 failed")
        assert "(of 4; 2 sent by this run)" in line and "deferred" not in line
        for address in script:
            expected = 0 if address.startswith("gone") else 1
            assert len(server.handler.received_by(address)) == expected, address

    after = newsletter("status", cwd=project).stdout
    assert "sent by this run: 2 of 2026-11-20 (resumed)" in after
    assert "nothing was sent by this run" not in after
    assert "delivered 2026-11-20: 3 sent, 1 failed" in after
    [run] = json.loads(newsletter("status", "--json", cwd=project).stdout)["last_run"]["resumed"]
    assert (run["edition_date"], run["sent_now"], run["deferred"]) == ("2026-11-20", 2, 0)


def test_status_reads_the_ledger_after_rows_are_given_up(tmp_path: Path) -> None:
    """Still greylisted after ``delivery.max_age_days``: the rows fail with the last
    reply as reason, and the "sent / failed" line says so (the run report said 1
    failed, 1 deferred)."""
    script = {"grey@example.org": [GREY] * 20, "gone@example.org": [GONE]}
    with smtp_server(script) as server:
        settings = make_settings(
            tmp_path,
            delivery={"method": "smtp", "backoff_seconds": 300.0},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
        )
        add_subscribers(settings, [(a, None) for a in [*script, "fine@example.org"]])
        sample = str(Path(__file__).resolve().parents[1] / "digests" / "sample-digest.txt")
        first = pipeline.run(settings, [sample], NOW.date(), clock=lambda: NOW)
        assert first.delivery is not None
        assert (first.delivery.failed, first.delivery.deferred) == (1, 1)
        later = NOW + timedelta(days=4)
        pipeline.send(settings, clock=lambda: later)

    view = status.gather(settings, clock=lambda: later)
    shown = status.lines(view)
    assert "sent / failed: 1 / 2 (skipped 0, deferred 0, pending 0; from the send ledger now)" in (
        shown
    )
    [delivered] = [line for line in shown if line.startswith("delivered ")]
    assert f"failed: {GONE} (1)" in delivered and f"last reply: {GREY} (1)" in delivered
    assert view.sending == ()


def test_rows_the_pass_never_reached_are_pending_not_deferred(tmp_path: Path) -> None:
    """An outbox that cannot be written stops the pass: nobody was told "try later",
    so the rows are named pending, as the ledger has them."""
    project = init_project(tmp_path)
    (project / "not-a-folder").write_text("a file\n")
    set_config(project, 'maildir = "subscribers/outbox"', 'maildir = "not-a-folder/outbox"')
    for i in range(5):
        newsletter(
            "subscribers", "add", f"r{i}@example.org", "--confirmed", cwd=project, check=True
        )
    result = newsletter("run", cwd=project)
    assert result.returncode == 1
    [line] = _delivery_lines(result.stdout)
    assert "0 sent, 0 skipped, 0 failed, 5 pending (not tried yet) (of 5;" in line
    assert "deferred" not in line
    assert "sending stopped" in result.stderr and "Not a directory" in result.stderr
    [edition] = json.loads(newsletter("status", "--json", cwd=project).stdout)["sending"]
    assert (edition["pending"], edition["deferred"]) == (5, 0)


def test_claimed_rows_are_not_called_in_flight_nor_deferred(tmp_path: Path) -> None:
    """Another sender holds three rows, one of them being handed over: ``status`` says
    3 claimed (1 in flight); ``send`` beside it names them claimed by another sender."""
    project = init_project(tmp_path)
    set_config(project, "lease_seconds = 30", "lease_seconds = 2")
    for i in range(5):
        newsletter(
            "subscribers", "add", f"r{i}@example.org", "--confirmed", cwd=project, check=True
        )
    newsletter("run", cwd=project, check=True)
    url = f"sqlite:///{project / 'subscribers' / 'newsletter.db'}"
    now = datetime.now(UTC)
    with Database.open(url) as db, db.write() as tx:
        [stored] = tx.ledger.recent_editions(1)
        rows = [r.id for r in tx.ledger.rows(stored.id)][:3]
        # what a live sender elsewhere does: lease them for an hour, hand one over
        tx.ledger.lease(rows, "elsewhere:1:x", now, now + timedelta(hours=1))
        assert tx.ledger.hand_over(rows[0], "elsewhere:1:x", now) is None
    shown = newsletter("status", cwd=project).stdout
    [sending] = [s for s in shown.splitlines() if s.startswith("sending ")]
    assert "3 claimed (1 in flight)" in sending and "deferred" not in sending
    [edition] = json.loads(newsletter("status", "--json", cwd=project).stdout)["sending"]
    assert (edition["claimed"], edition["in_flight"]) == (3, 1)
    sent = newsletter("send", cwd=project)
    [line] = [s for s in sent.stdout.splitlines() if s.startswith("Edition ")]
    assert "3 claimed by another sender" in line and "deferred" not in line


@pytest.mark.parametrize(
    ("rate", "text"), [(0.42, "0.42"), (0.0167, "0.017"), (3.5, "3.5"), (812.4, "812")]
)
def test_small_sending_rates_are_not_shown_as_zero(rate: float, text: str) -> None:
    assert status.rate_text(rate) == text


def test_unconfirmed_rows_stay_at_two_copies_until_the_operator_resends_them(
    tmp_path: Path,
) -> None:
    """Two hand-overs without a reply: ``unconfirmed``, 2 copies, and no later pass sends
    a third; ``send --retry-unconfirmed`` sends exactly one more, same Message-ID."""
    script = {"lost@example.org": ["drop-after-data", "drop-after-data"]}
    with smtp_server(script) as server:
        project = _smtp_project(tmp_path, server.port, [*script, "fine@example.org"])
        first = newsletter("run", "--date", "2026-11-20", cwd=project, check=True)
        [line] = _delivery_lines(first.stdout)
        assert "1 sent, 0 skipped, 0 failed, 1 unconfirmed (handed over twice" in line
        newsletter("send", cwd=project, check=True)
        newsletter("run", "--date", "2026-11-21", cwd=project)
        assert len(server.handler.received_by("lost@example.org")) == 2  # never a third
        again = newsletter("send", "--retry-unconfirmed", cwd=project, check=True)
        assert "1 sent by this run" in again.stdout, again.stdout
        copies = server.handler.received_by("lost@example.org")
        assert len(copies) == 3 and len({c.split(b"Message-ID:")[1][:80] for c in copies}) == 1
        assert len(server.handler.received_by("fine@example.org")) == 1
    data = json.loads(newsletter("status", "--json", cwd=project).stdout)
    [edition] = data["deliveries"]
    assert edition["states"]["sent"] == 2 and edition["states"]["unconfirmed"] == 0


def test_the_rate_in_a_sends_first_minute_is_over_the_time_it_has_run(tmp_path: Path) -> None:
    """30 messages finished 10 s after the send began are 3 messages/s — not 0.5
    (30 over a whole minute), which made every young send look stuck."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(30)])
    pipeline.run(settings, [str(SAMPLE)], NOW.date(), clock=lambda: NOW)  # to the outbox
    began, now = NOW, NOW + timedelta(seconds=10)
    with Database.open(settings.database.url) as db, db.write() as tx:
        tx.ledger.conn.execute(
            send_ledger.update().values(claimed_at=began, finished_at=began + timedelta(seconds=5))
        )
    [edition] = status.gather(settings, clock=lambda: now).deliveries
    assert edition.rate == pytest.approx(3.0)
    # a minute and more into the send: the last minute's messages over the minute
    later = began + timedelta(minutes=2)
    with Database.open(settings.database.url) as db, db.write() as tx:
        tx.ledger.conn.execute(
            send_ledger.update().values(finished_at=later - timedelta(seconds=30))
        )
    [edition] = status.gather(settings, clock=lambda: later).deliveries
    assert edition.rate == pytest.approx(30 / 60)
