"""Delivery through the send ledger: personalised editions, Maildir and a real SMTP server."""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from corpus_kit import OWN_CORPUS
from delivery_kit import (
    NOW,
    SAMPLE,
    add_subscribers,
    bodies,
    maildir_messages,
    make_settings,
    parse,
)
from smtp_loopback import smtp_server

from newsletter import config, pipeline
from newsletter.delivery import ledger
from newsletter.delivery.mailer import MaildirMailer, Mailer, MailerStopped
from newsletter.delivery.sending import Delivery
from newsletter.states import LedgerState
from newsletter.store import Database
from newsletter.store.ledger import LedgerRow
from newsletter.subscribers.subscriptions import BOUNCED, Subscriptions

DAY = date(2026, 11, 20)


def run(settings: config.Settings, day: date = DAY, **kwargs: object) -> pipeline.RunReport:
    return pipeline.run(settings, [str(SAMPLE)], day, **kwargs)  # type: ignore[arg-type]


def ledger_rows(settings: config.Settings) -> list[LedgerRow]:
    with Database.open(settings.database.url) as db, db.read() as tx:
        return tx.ledger.rows()


# ---------------------------------------------------------------- personalised editions


def test_each_subscriber_gets_only_their_topics_and_nothing_when_empty(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path, db_url)
    add_subscribers(
        settings,
        [
            ("Everything@Example.org", None),
            ("llm@example.org", frozenset({"llm"})),
            ("nothing@example.org", frozenset({"other"})),  # no "other" papers in the sample
        ],
    )
    report = run(settings)
    assert report.delivery is not None
    assert (report.delivery.sent, report.delivery.skipped, report.delivery.failed) == (2, 1, 0)
    messages = {m["To"]: m for m in maildir_messages(tmp_path / "subscribers" / "outbox")}
    assert set(messages) == {"Everything@example.org", "llm@example.org"}
    llm_text, _ = bodies(messages["llm@example.org"])
    all_text, _ = bodies(messages["Everything@example.org"])
    assert "Language Models" in llm_text and "Computer Vision" not in llm_text
    assert "Computer Vision" in all_text and "Language Models" in all_text
    # every paper tagged llm, filed under Language Models or not (as in topics/llm.xml)
    tagged = [p for p in report.edition.papers if "llm" in p.topics]
    assert len(tagged) > len(report.edition.sections[0].papers)
    assert f"{len(tagged)} new papers" in messages["llm@example.org"]["Subject"]
    skipped = [r for r in ledger_rows(settings) if r.state == LedgerState.SKIPPED]
    assert [r.email for r in skipped] == ["nothing@example.org"]
    assert "nothing in this edition" in str(skipped[0].reply)


def test_digest_carries_list_headers_unsubscribe_link_and_postal_address(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [("reader@example.org", None)])
    run(settings)
    [message] = maildir_messages(tmp_path / "subscribers" / "outbox")
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id"):
        assert message[header], header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Daily Papers Digest <daily-papers-digest.papers.example.org>"
    uris = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert uris[0].startswith("https://papers.example.org/unsubscribe?t=")
    assert uris[1].startswith("mailto:unsubscribe@papers.example.org?subject=unsubscribe")
    assert message.get_content_type() == "multipart/alternative"
    text, html = bodies(message)
    postal = settings.newsletter.postal_address
    assert postal in text and postal in html
    assert uris[0] in text and uris[0].replace("&", "&amp;") in html  # the header's URL, visible
    assert "https://papers.example.org/preferences?t=" in text
    assert "%%" not in text + html


def test_a_digest_that_writes_the_link_markers_cannot_carry_a_readers_links_away(
    tmp_path: Path,
) -> None:
    """A red team's abstract read ``see https://evil.example/q?u=%%UNSUBSCRIBE_URL%%&p=
    %%PREFERENCES_URL%%`` and a title held ``%%VOTE_TOKEN%%``: each reader's email then
    carried their own unsubscribe and preferences links (and vote token) to that URL.
    Outside text never names a marker: the signs stay, the splice finds nothing."""
    hostile = tmp_path / "hostile.txt"
    sample = SAMPLE.read_text(encoding="utf-8")
    cut = sample.index("\n\n", sample.index("\n\n") + 2) + 2  # after the header block
    hostile.write_text(
        sample[:cut]
        + "Markers %%VOTE_TOKEN%% in a Title of Their Own\n\n"
        + "We show that see https://evil.example/q?u=%%UNSUBSCRIBE_URL%%&p=%%PREFERENCES_URL%% "
        + "is text. A second sentence says what it does.\n\n"
        + sample[cut:],
        encoding="utf-8",
    )
    settings = make_settings(tmp_path)
    add_subscribers(settings, [("reader@example.org", None)])
    report = pipeline.run(settings, [str(hostile)], DAY)
    assert any("Markers" in p.title for p in report.edition.papers), report
    [message] = maildir_messages(tmp_path / "subscribers" / "outbox")
    text, html = bodies(message)
    for body in (text, html):
        assert "evil.example/q?u=" in body  # the text is shown ...
        leaked = re.findall(r"evil\.example/q\?u=(\S{0,60})", body)
        assert leaked and all("/unsubscribe?t=" not in x for x in leaked), leaked  # ... inert
        assert "/preferences?t=" not in body.split("evil.example", 1)[1][:200]
    # the reader's own links are still there, once each where they belong
    assert text.count("https://papers.example.org/unsubscribe?t=") == 1


def test_spliced_message_equals_rendering_for_the_recipient(tmp_path: Path) -> None:
    """Splicing into the compiled message gives exactly what rendering with the links gives."""
    from newsletter.render import RecipientLinks, render_email

    settings = make_settings(tmp_path)
    add_subscribers(settings, [("reader@example.org", frozenset({"vision", "audio"}))])
    report = run(settings)
    [message] = maildir_messages(tmp_path / "subscribers" / "outbox")
    text, html = bodies(message)
    unsubscribe = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))[0]
    preferences = re.search(r"https://papers\.example\.org/preferences\?t=\S+", text)
    assert preferences is not None
    vote = re.search(r"https://papers\.example\.org/v/([^/\s]+)/", text)
    assert vote is not None
    expected = render_email(
        report.edition,
        settings,
        topics=frozenset({"vision", "audio"}),
        links=RecipientLinks(unsubscribe, preferences.group(0), vote.group(1)),
    )
    assert text == expected.text
    assert html == expected.html


def test_one_render_per_distinct_topic_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    specs: list[tuple[str, frozenset[str] | None]] = [
        (f"r{i}@example.org", [None, frozenset({"llm"}), frozenset({"llm", "vision"})][i % 3])
        for i in range(30)
    ]
    add_subscribers(settings, specs)
    ticks = itertools.count()

    def clock() -> datetime:  # each compile stamps the message's Date with the time it ran
        return NOW + timedelta(seconds=next(ticks))

    box = tmp_path / "box"
    report = pipeline.run(  # four workers (the default), one render cache
        settings, [str(SAMPLE)], DAY, mailer=lambda: MaildirMailer(box), clock=clock
    )
    assert report.delivery is not None and report.delivery.sent == 30
    wanted = dict(specs)
    dates: dict[frozenset[str] | None, set[str]] = {}
    for message in maildir_messages(box):
        dates.setdefault(wanted[message["To"]], set()).add(message["Date"])
    # one compile per topic set: every message of a set carries that compile's Date
    assert sorted(len(d) for d in dates.values()) == [1, 1, 1]
    assert len(set.union(*dates.values())) == 3


class _NeverMailer(Mailer):
    """A mailer whose server refuses everyone at once (nothing is sent)."""

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        raise MailerStopped("not sending in this test")

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- resuming


class _StopAfter(Mailer):
    """A real Maildir mailer whose server "goes away" after ``n`` messages."""

    def __init__(self, path: Path, n: int) -> None:
        self.inner = MaildirMailer(path)
        self.left = n

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        if self.left == 0:
            raise MailerStopped("the server went away")
        self.left -= 1
        return self.inner.send(sender, recipient, message, message_id)

    def close(self) -> None:
        pass


def test_a_rerun_for_the_date_sends_exactly_the_unsent_rows(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(12)])
    box = tmp_path / "subscribers" / "outbox"
    first = run(settings, mailer=_StopAfter(box, 5))
    assert first.delivery is not None and first.delivery.stopped
    assert (first.delivery.sent, first.delivery.pending) == (5, 7)  # never tried
    second = run(settings)  # the edition exists: its unsent rows go out
    assert second.status == "exists"
    assert second.delivery is not None
    assert (second.delivery.sent, second.delivery.sent_now, second.delivery.unsent) == (12, 7, 0)
    recipients = sorted(m["To"] for m in maildir_messages(box))
    assert recipients == sorted(f"r{i}@example.org" for i in range(12))


def test_message_in_flight_at_a_kill_goes_again_once_with_its_message_id(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [("a@example.org", None), ("b@example.org", None)])
    run(settings, mailer=_NeverMailer())
    with Database.open(settings.database.url) as db:
        with db.read() as tx:
            stored = tx.editions.latest_on(DAY)
        assert stored is not None
        # a sender on another host claimed both rows, handed one over and vanished
        # (its lease ran out long ago)
        gone = ledger.Queue(
            db,
            stored.id,
            "gone-host:1:x:y:z",
            ledger.Policy(),
            clock=lambda: NOW,
            is_dead=lambda owner: False,
            relay="test",
            edition_topics=frozenset(s.topic for s in stored.edition.sections),
        )
        claimed, other = gone.claim().claimed
        assert gone.commit([], [claimed.row_id]) == {claimed.row_id}
        delivery = Delivery(settings, db, MaildirMailer(tmp_path / "box"))
        report = delivery.deliver(stored)
        with db.read() as tx:
            rows = {r.id: r for r in tx.ledger.rows(stored.id)}
    assert report.resent_uncertain == 1 and report.sent == 2
    again, never = rows[claimed.row_id], rows[other.row_id]
    assert (again.state, again.uncertain) == ("sent", 1)
    assert (never.state, never.uncertain) == ("sent", 0)  # never handed over: not uncertain
    ids = {m["Message-ID"] for m in maildir_messages(tmp_path / "box")}
    assert claimed.message_id in ids


class _UnsubscribeOnFirstSend(Mailer):
    """Someone unsubscribes on the web while the run is sending."""

    def __init__(self, path: Path, settings: config.Settings, who: str) -> None:
        self.inner = MaildirMailer(path)
        self.settings, self.who, self.done = settings, who, False

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        if not self.done:
            self.done = True
            store = Database.open(self.settings.database.url)
            subs = Subscriptions(store)
            found = subs.by_email(self.who)
            assert found is not None
            subs.unsubscribe(found.public_id, method="web", now=NOW)
            store.close()
        return self.inner.send(sender, recipient, message, message_id)

    def close(self) -> None:
        pass


def test_who_unsubscribes_while_sending_is_not_sent_to(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(4)])
    box = tmp_path / "box"
    report = run(settings, mailer=_UnsubscribeOnFirstSend(box, settings, "r3@example.org"))
    assert report.delivery is not None
    assert (report.delivery.sent, report.delivery.skipped) == (3, 1)
    assert "r3@example.org" not in {m["To"] for m in maildir_messages(box)}


def test_preview_never_sends(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    add_subscribers(settings, [("reader@example.org", None)])
    pipeline.preview(settings, [str(SAMPLE)], DAY, tmp_path / "preview")
    assert not (tmp_path / "subscribers" / "outbox").exists()


# ---------------------------------------------------------------- SMTP


def smtp_settings(
    tmp: Path, port: int, db_url: str | None = None, **smtp: object
) -> config.Settings:
    return make_settings(
        tmp,
        db_url,
        delivery={"method": "smtp", "retries": 3},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", **smtp},
    )


def test_temporary_failures_are_deferred_at_once_and_sent_when_due(tmp_path: Path) -> None:
    """No pause in the loop: a 4xx defers that recipient with its own back-off; a later
    run sends it once due, not before.  A connection dropped before the message is
    simply tried again at once on a new connection."""
    script = {
        "greylisted@example.org": ["451 4.7.1 greylisted", "451 4.7.1 greylisted"],
        "closing@example.org": ["421 4.3.2 shutting down"],
        "dropped@example.org": ["drop"],
        "middata@example.org": ["drop-mid-data"],
    }
    everyone = [*script, "fine@example.org"]
    with smtp_server(script) as server:
        settings = make_settings(
            tmp_path,
            delivery={"method": "smtp", "backoff_seconds": 300.0, "backoff_max_seconds": 7200.0},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
        )
        add_subscribers(settings, [(a, None) for a in everyone])
        pauses: list[float] = []
        at = [NOW]

        def later(seconds: float) -> pipeline.RunReport:
            at[0] += timedelta(seconds=seconds)
            return run(settings, clock=lambda: at[0], sleep=pauses.append)

        first = later(0)
        assert first.delivery is not None
        assert (first.delivery.sent, first.delivery.deferred) == (3, 2)
        second = later(60)  # nothing due yet
        assert second.delivery is not None
        assert (second.delivery.sent, second.delivery.deferred, second.delivery.sent_now) == (
            3,
            2,
            0,
        )
        third = later(250)  # 310 s after the first try: both due; greylisted answers 451 again
        assert third.delivery is not None
        assert (third.delivery.sent_now, third.delivery.deferred) == (1, 1)
        fourth = later(300)  # its back-off doubled to 600 s: not due yet
        assert fourth.delivery is not None and fourth.delivery.sent_now == 0
        last = later(300)
        assert last.delivery is not None
        assert (last.delivery.sent, last.delivery.deferred, last.delivery.failed) == (5, 0, 0)
        for address in everyone:
            assert len(server.handler.received_by(address)) == 1, address
    assert pauses == []
    rows = {r.email: r for r in ledger_rows(settings)}
    grey = rows["greylisted@example.org"]
    assert (grey.temporary, grey.uncertain) == (2, 0)  # two replies recorded, none lost
    # Dropped mid-DATA: the mailer looks for the server's close before the final dot and
    # then tries again at once on a new connection (not uncertain).  On a loaded machine
    # the server's close can come after that look; then the dot went out, no reply came,
    # and the message is resent once as uncertain.  Either way exactly one copy arrives
    # (checked above), and never more than one uncertain hand-over.
    assert rows["middata@example.org"].uncertain <= 1


def test_a_greylisted_few_do_not_slow_the_run_down(tmp_path: Path) -> None:
    """5% greylisted: the run takes about as long as a clean one (nothing waits for them).

    Clean and greylisted runs alternate, three each, and the fastest of each kind
    are compared: on a loaded machine one run can be slowed by anything, the
    fastest of three only by what the run itself does."""
    everyone = [f"r{i:02d}@example.org" for i in range(40)]
    grey = everyone[::20]
    seconds: dict[str, list[float]] = {"clean": [], "grey": []}
    reports = []
    for attempt in range(3):
        for kind in ("clean", "grey"):
            script = {a: ["451 4.7.1 greylisted"] for a in grey} if kind == "grey" else {}
            with smtp_server(script) as server:
                settings = make_settings(
                    tmp_path / f"{kind}{attempt}",
                    delivery={"method": "smtp", "backoff_seconds": 300.0},
                    smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
                )
                add_subscribers(settings, [(a, None) for a in everyone])
                started = time.monotonic()
                report = run(settings)
                seconds[kind].append(time.monotonic() - started)
            if kind == "grey":
                reports.append(report)
    for report in reports:
        assert report.delivery is not None
        assert (report.delivery.sent, report.delivery.deferred) == (38, 2)
    clean, greylisted = min(seconds["clean"]), min(seconds["grey"])
    # Waiting for the greylisted (300 s of backoff) would show; a loaded box's noise
    # (seconds) must not: the slack is far below the backoff, far above the noise.
    assert greylisted <= 1.5 * clean + 20, seconds


def test_smtp_5xx_fails_that_recipient_bounces_them_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    with smtp_server({"gone@example.org": ["550 5.1.1 no such user"]}) as server:
        settings = smtp_settings(tmp_path, server.port)
        add_subscribers(settings, [("gone@example.org", None), ("here@example.org", None)])
        report = run(settings)
        assert report.delivery is not None
        assert (report.delivery.sent, report.delivery.failed) == (1, 1)
        assert server.handler.received_by("here@example.org")
        # the next edition is not sent to the bounced address
        seed = OWN_CORPUS.file(0)
        later = pipeline.run(settings, [str(seed)], date(2026, 11, 21))
        assert later.delivery is not None
        assert (later.delivery.recipients, later.delivery.sent) == (1, 1)
        assert len(server.handler.received_by("gone@example.org")) == 0
    store = Database.open(settings.database.url)
    gone = Subscriptions(store).by_email("gone@example.org")
    store.close()
    assert gone is not None and gone.status == BOUNCED
    [row] = [r for r in ledger_rows(settings) if r.email == "gone@example.org"]
    assert row.state == "failed" and "550" in str(row.reply)


def test_smtp_lost_reply_is_sent_once_more_with_the_same_message_id(tmp_path: Path) -> None:
    script = {
        "once@example.org": ["drop-after-data"],
        "twice@example.org": ["drop-after-data", "drop-after-data"],
    }
    with smtp_server(script) as server:
        settings = smtp_settings(tmp_path, server.port)
        add_subscribers(settings, [(a, None) for a in script])
        report = run(settings)
        once = server.handler.received_by("once@example.org")
        twice = server.handler.received_by("twice@example.org")
    assert report.delivery is not None
    assert len(once) == 2 and len({parse(m)["Message-ID"] for m in once}) == 1
    assert len(twice) == 2  # never a third copy
    states = {r.email: (r.state, r.uncertain) for r in ledger_rows(settings)}
    assert states["once@example.org"] == ("sent", 1)
    assert states["twice@example.org"] == ("unconfirmed", 2)  # not "failed": it did arrive
    assert (report.delivery.sent, report.delivery.unconfirmed, report.delivery.failed) == (1, 1, 0)


def test_smtp_4xx_is_deferred_to_the_next_run(tmp_path: Path) -> None:
    with smtp_server({"busy@example.org": ["452 4.2.2 mailbox full"]}) as server:
        settings = smtp_settings(tmp_path, server.port)
        add_subscribers(settings, [("busy@example.org", None)])
        first = run(settings)
        assert first.delivery is not None and first.delivery.deferred == 1
        second = run(settings)
        assert second.delivery is not None and second.delivery.sent == 1
        assert len(server.handler.received_by("busy@example.org")) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_authentication_failure_stops_the_run_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    with smtp_server(auth=("mailer", "right")) as server:
        settings = smtp_settings(
            tmp_path, server.port, username="mailer", password_env="TEST_SMTP_PASSWORD"
        )
        add_subscribers(settings, [("a@example.org", None), ("b@example.org", None)])
        report = run(settings)
        assert report.delivery is not None
        assert report.delivery.stopped is not None
        assert "authentication failed" in report.delivery.stopped
        assert "wrong" not in report.delivery.stopped  # the password is never shown
        assert (report.delivery.sent, report.delivery.pending) == (0, 2)
        assert server.handler.messages == []
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "right")
        again = run(settings)
        assert again.delivery is not None and again.delivery.sent == 2


def test_unreachable_smtp_server_stops_the_run_and_keeps_the_rows(tmp_path: Path) -> None:
    with smtp_server() as server:
        port = server.port
    settings = smtp_settings(tmp_path, port)
    add_subscribers(settings, [("a@example.org", None)])
    report = run(settings)
    assert report.delivery is not None and report.delivery.stopped
    assert "cannot connect" in report.delivery.stopped
    assert (report.delivery.pending, report.delivery.deferred) == (1, 0)  # no server said later


# ---------------------------------------------------------------- DKIM


def test_dkim_signature_covers_the_list_headers_and_verifies(tmp_path: Path) -> None:
    import dkim

    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    settings = make_settings(
        tmp_path, dkim={"key_file": str(key), "selector": "news", "domain": "papers.example.org"}
    )
    add_subscribers(settings, [("reader@example.org", None)])
    run(settings)
    [path] = list((tmp_path / "subscribers" / "outbox" / "new").iterdir())
    data = path.read_bytes()
    message = parse(data)
    signed = str(message["DKIM-Signature"])
    for header in ("list-unsubscribe", "list-unsubscribe-post", "list-id", "from", "subject"):
        assert header in signed.lower()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news._domainkey.papers.example.org."
        return record

    assert dkim.verify(data, dnsfunc=dns)


def test_an_outbox_that_cannot_be_written_stops_the_run_and_leaves_nothing_sending(
    tmp_path: Path,
) -> None:
    """Not "unexpected PermissionError" with the row left ``sending``: one line, rows back."""
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    settings = make_settings(tmp_path, delivery={"maildir": str(tmp_path / "file" / "outbox")})
    add_subscribers(settings, [("a@example.org", None), ("b@example.org", None)])
    report = run(settings)
    assert report.delivery is not None and report.delivery.stopped is not None
    assert "cannot use the outbox" in report.delivery.stopped
    assert {r.state for r in ledger_rows(settings)} == {LedgerState.PENDING}
    fixed = make_settings(tmp_path, delivery={"maildir": str(tmp_path / "outbox")})
    again = run(fixed)
    assert again.delivery is not None and again.delivery.sent == 2
