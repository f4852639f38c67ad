"""The subscriber store and the operator CLI: validation, consent records, CSV import/export."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_kit import NOW, make_settings

from newsletter import config
from newsletter.store import Database
from newsletter.subscribers.subscriptions import (
    AddressError,
    SignupLimited,
    Subscriptions,
    TopicError,
    normalize_address,
    parse_topics,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def subs(tmp_path: Path, db_url: str) -> Iterator[Subscriptions]:
    store = Database.open(db_url)
    yield Subscriptions(store)
    store.close()


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.org\r\nBcc: everyone@example.org",
        "victim@example.org\nSubject: spam",
        "a@b.org\x00",
        "Name <a@example.org>",
        '"quoted"@example.org',
        "no-at-sign",
        "a@[127.0.0.1]",
        "",
    ],
)
def test_unusable_and_header_injection_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressError):
        normalize_address(address)


def test_address_case_is_kept_and_unique_case_insensitively(subs: Subscriptions) -> None:
    first = subs.add("Ada.Lovelace@Example.ORG", None, confirmed=True, method="cli", now=NOW)
    again = subs.add("ada.lovelace@example.org", None, confirmed=True, method="cli", now=NOW)
    assert first.created and not again.created
    assert first.subscriber.email == "Ada.Lovelace@example.org"
    assert [s.email for s in subs.all()] == ["Ada.Lovelace@example.org"]


def test_unknown_topics_are_refused_and_all_topics_means_every_topic() -> None:
    taxonomy = config.load(None).taxonomy
    with pytest.raises(TopicError, match="unknown topic nope"):
        parse_topics("llm,nope", taxonomy)
    assert parse_topics("llm, vision", taxonomy) == frozenset({"llm", "vision"})
    assert parse_topics("", taxonomy) is None
    assert parse_topics([t.id for t in taxonomy.topics], taxonomy) is None


def test_consent_record_tells_when_and_how(subs: Subscriptions) -> None:
    change = subs.request(
        "reader@example.org", frozenset({"llm"}), method="web", now=NOW, detail={"ip": "192.0.2.1"}
    )
    public_id = change.subscriber.public_id
    assert change.subscriber.status == "pending"
    subs.confirm(public_id, method="web", now=NOW)
    subs.set_topics(public_id, frozenset({"llm", "audio"}), method="web", now=NOW)
    subs.unsubscribe(public_id, method="one-click", now=NOW)
    assert subs.unsubscribe(public_id, method="one-click", now=NOW).changed is False  # type: ignore[union-attr]
    record = subs.consents(change.subscriber.id)
    assert [(c.action, c.method) for c in record] == [
        ("subscribed", "web"),
        ("confirmed", "web"),
        ("topics", "web"),
        ("unsubscribed", "one-click"),
    ]
    assert record[0].detail["ip"] == "192.0.2.1" and "agreed" in record[0].detail
    assert record[0].detail["topics"] == "llm"


def test_a_sign_up_request_never_changes_a_confirmed_subscriber(subs: Subscriptions) -> None:
    subs.add("reader@example.org", frozenset({"llm"}), confirmed=True, method="cli", now=NOW)
    change = subs.request("READER@example.org", None, method="web", now=NOW)
    assert not change.changed
    assert change.subscriber.status == "confirmed" and change.subscriber.topics == {"llm"}


# ---------------------------------------------------------------- the CLI


def newsletter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("NEWSLETTER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    make_settings(tmp_path)
    (tmp_path / "config.toml").write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
    )
    return tmp_path


def test_cli_add_list_remove(workdir: Path) -> None:
    added = newsletter(
        "subscribers",
        "add",
        "Ada@Example.org",
        "--topics",
        "llm,vision",
        "--confirmed",
        cwd=workdir,
    )
    assert added.returncode == 0, added.stderr
    assert "added Ada@example.org (confirmed; topics: llm,vision)" in added.stdout
    again = newsletter("subscribers", "add", "ada@example.org", cwd=workdir)
    assert "on the list already" in again.stdout
    bad = newsletter("subscribers", "add", "x@example.org", "--topics", "llm,nope", cwd=workdir)
    assert bad.returncode == 1 and "unknown topic nope" in bad.stderr
    listed = json.loads(newsletter("subscribers", "list", "--json", cwd=workdir).stdout)
    assert [(s["email"], s["status"], s["topics"]) for s in listed] == [
        ("Ada@example.org", "confirmed", ["llm", "vision"])
    ]
    table = newsletter("subscribers", "list", cwd=workdir).stdout
    assert "Ada@example.org" in table and re.search(r"\b1 subscriber\b(?!s)", table)
    removed = newsletter("subscribers", "remove", "ADA@example.org", cwd=workdir)
    assert "unsubscribed Ada@example.org" in removed.stdout
    missing = newsletter("subscribers", "remove", "nobody@example.org", cwd=workdir)
    assert missing.returncode == 1 and "not on the list" in missing.stderr


def test_cli_import_reports_bad_rows_by_line_and_never_duplicates(workdir: Path) -> None:
    csv_file = workdir / "subscribers" / "list.csv"
    csv_file.parent.mkdir(exist_ok=True)
    csv_file.write_text(
        "email,topics\n"
        "one@example.org,llm\n"
        "not-an-address,\n"
        "two@example.org,llm;nope\n"
        "ONE@example.org,\n"
        '"evil@example.org\nBcc: x@example.org",\n'
        "three@example.org,vision audio\n",
        encoding="utf-8",
    )
    first = newsletter("subscribers", "import", str(csv_file), "--confirmed", cwd=workdir)
    assert first.returncode == 1
    assert "list.csv:line 3:" in first.stderr and "not-an-address" in first.stderr
    assert "line 4: unknown topic nope" in first.stderr
    assert "line 5: ONE@example.org is a duplicate of line 2" in first.stderr
    # a field never spans lines: the quoted one breaks its own line and the next only
    assert "line 6: unbalanced quote" in first.stderr
    assert "line 7: 'Bcc: x@example.org\"'" in first.stderr
    assert "7 rows: 2 added, 0 already on the list, 5 refused" in first.stdout
    second = newsletter("subscribers", "import", str(csv_file), "--confirmed", cwd=workdir)
    assert "2 already on the list" in second.stdout
    exported = newsletter("subscribers", "export", cwd=workdir).stdout.splitlines()
    assert exported[0] == (
        "email,status,topics,created_at,confirmed_at,unsubscribed_at,votes,ranking,votes_detail"
    )
    assert [line.split(",")[:3] for line in exported[1:]] == [
        ["one@example.org", "confirmed", "llm"],
        ["three@example.org", "confirmed", "audio;vision"],
    ]


def _import(workdir: Path, content: bytes) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    csv_file = workdir / "in.csv"
    csv_file.write_bytes(content)
    result = newsletter("subscribers", "import", str(csv_file), cwd=workdir)
    listed = json.loads(newsletter("subscribers", "list", "--json", cwd=workdir).stdout)
    return result, sorted(s["email"] for s in listed)


def test_a_stray_quote_refuses_its_own_line_and_every_other_row_is_imported(
    workdir: Path,
) -> None:
    rows = [
        b"\xef\xbb\xbfemail,topics",
        b"good1@example.org,llm",
        b'"unterminated@example.org,llm',  # line 3: no closing quote
        b"good2@example.org,",
        b'"quoted@example.org","llm;vision"',
        b"good3@example.org\r",
        b'"x"y@example.org,llm',  # line 7: a quote in the middle of a field
        b'good4@example.org,"agents"',
    ]
    result, imported = _import(workdir, b"\n".join(rows) + b"\n")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: in.csv:line 3: unbalanced quote: a quoted field is not closed on this line "
        "(a field cannot span lines)",
        "error: in.csv:line 7: misplaced quote (',' expected after '\"')",
    ]
    assert result.stdout.strip() == "7 rows: 5 added, 0 already on the list, 2 refused"
    assert imported == [
        "good1@example.org",
        "good2@example.org",
        "good3@example.org",
        "good4@example.org",
        "quoted@example.org",
    ]


def test_a_row_that_is_not_utf8_is_refused_by_line_and_the_others_imported(
    workdir: Path,
) -> None:
    result, imported = _import(
        workdir, b"email\ngood1@example.org\ncaf\xe9@example.org\ngood2@example.org\n"
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: in.csv:line 3: not UTF-8 (byte 4 of the line is 0xe9); save the file as UTF-8 CSV"
    ]
    assert result.stdout.strip() == "3 rows: 2 added, 0 already on the list, 1 refused"
    assert imported == ["good1@example.org", "good2@example.org"]


def test_a_huge_or_escape_laden_value_is_quoted_bounded_and_escaped(workdir: Path) -> None:
    huge = "x" * 100_000 + "@example.org"
    evil = "a\x1b]0;pwned\x07\x1b[31m@example.org"
    result, imported = _import(workdir, f"email\n{huge},\n{evil},\nok@example.org,\n".encode())
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(len(line) < 400 for line in lines)
    assert lines[0].startswith("error: in.csv:line 2: '" + "x" * 79 + "…")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert lines[1].startswith("error: in.csv:line 3: 'a\\x1b]0;pwned\\x07\\x1b[31m@example.org'")
    assert imported == ["ok@example.org"]


def test_invite_says_only_an_unsubscribed_address_can_sign_up_again_as_the_form_behaves(
    workdir: Path,
) -> None:
    result, _ = _import(
        workdir,
        b"email,status\nleft@example.org,unsubscribed\ngone@example.org,bounced\n"
        b"angry@example.org,complained\n",
    )
    assert result.returncode == 0, result.stderr
    invited = newsletter(
        "subscribers",
        "invite",
        "left@example.org",
        "gone@example.org",
        "angry@example.org",
        cwd=workdir,
    )
    assert invited.returncode == 1
    assert invited.stderr.splitlines() == [
        "error: left@example.org: unsubscribed: nothing sent (they can sign up again on the web "
        "form; an operator cannot re-subscribe them)",
        "error: gone@example.org: bounced: nothing sent (their mail server refused the address; "
        "the web form does not sign it up again and an operator cannot re-subscribe it (only "
        "deleting the record, `newsletter subscribers remove --purge`, would let it sign up "
        "again))",
        "error: angry@example.org: complained: nothing sent (they reported a digest as spam; "
        "the web form does not sign them up again and an operator cannot re-subscribe them "
        "(only deleting the record, `newsletter subscribers remove --purge`, would let them "
        "sign up again))",
    ]
    # what the web form does with each (its sign-up request): only the unsubscribed one
    # becomes pending, to be confirmed
    store = Database.open(config.load(workdir / "config.toml").database.url)
    try:
        subs = Subscriptions(store)
        for address in ("left@example.org", "gone@example.org", "angry@example.org"):
            subs.request(address, None, method="web", now=NOW)
        assert {s.email: s.status for s in subs.all(None)} == {
            "left@example.org": "pending",
            "gone@example.org": "bounced",
            "angry@example.org": "complained",
        }
    finally:
        store.close()
    assert not (workdir / "subscribers" / "outbox").exists()  # invite sent nothing


def test_importing_an_export_never_resubscribes_anyone(workdir: Path, tmp_path: Path) -> None:
    newsletter("subscribers", "add", "left@example.org", "--confirmed", cwd=workdir)
    newsletter("subscribers", "remove", "left@example.org", cwd=workdir)
    out = workdir / "export.csv"
    assert newsletter("subscribers", "export", str(out), cwd=workdir).returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.toml").write_text("")
    result = newsletter("subscribers", "import", str(out), "--confirmed", cwd=other)
    assert result.returncode == 0, result.stderr
    listed = json.loads(newsletter("subscribers", "list", "--json", cwd=other).stdout)
    assert [(s["email"], s["status"]) for s in listed] == [("left@example.org", "unsubscribed")]


def test_parallel_sign_ups_for_one_address_never_pass_the_daily_limit(db_url: str) -> None:
    """The count and the insert are one transaction: 30 connections at once record 3."""
    outcomes: list[str] = []
    barrier = threading.Barrier(30)

    def sign_up() -> None:
        store = Database.open(db_url)
        try:
            barrier.wait()
            Subscriptions(store).request(
                "victim@example.org", None, method="web", now=NOW, per_day=3
            )
            outcomes.append("recorded")
        except SignupLimited:
            outcomes.append("limited")
        finally:
            store.close()

    Database.open(db_url).close()  # migrated before the race
    threads = [threading.Thread(target=sign_up) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["limited"] * 27 + ["recorded"] * 3
    store = Database.open(db_url)
    try:
        subs = Subscriptions(store)
        found = subs.by_email("victim@example.org")
        assert found is not None
        actions = [c.action for c in subs.consents(found.id)]
        assert actions == ["subscribed"] * 3
    finally:
        store.close()


def test_a_pending_address_added_by_the_operator_gets_its_confirmation_by_invite(
    workdir: Path,
) -> None:
    added = newsletter("subscribers", "add", "Ada@Example.org", cwd=workdir)
    assert added.returncode == 0, added.stderr
    hint = "newsletter subscribers invite Ada@example.org"
    assert "added Ada@example.org (pending" in added.stdout and hint in added.stdout
    assert not (workdir / "subscribers" / "outbox").exists()  # add alone sends nothing
    invited = newsletter("subscribers", "invite", "ada@example.org", cwd=workdir)
    assert invited.returncode == 0, invited.stderr
    assert "sent the confirmation email to Ada@example.org" in invited.stdout
    [mail] = list((workdir / "subscribers" / "outbox" / "new").iterdir())
    text = mail.read_text()
    assert "To: Ada@example.org" in text and "Confirm your subscription" in text
    assert "https://papers.example.org/confirm?t=" in text
    newsletter("subscribers", "add", "bob@example.org", "--confirmed", cwd=workdir)
    refused = newsletter(
        "subscribers", "invite", "bob@example.org", "nobody@example.org", cwd=workdir
    )
    assert refused.returncode == 1
    assert "error: bob@example.org: confirmed already; nothing sent" in refused.stderr
    assert "error: nobody@example.org: not on the list" in refused.stderr
    assert len(list((workdir / "subscribers" / "outbox" / "new").iterdir())) == 1
