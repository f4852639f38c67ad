"""Reading what comes back: golden results over the corpus in tests/data/bounces/, and the
rules that classify a DSN recipient (the enhanced code decides, not the reply around it).

Regenerate the golden file after an intended change:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_returns_reports.py
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns_kit import CORPUS, Sent, fill

from newsletter.returns.reports import Malformed, Report, classify_status, read
from newsletter.states import ReturnKind

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN = CORPUS / "expected.json"
MAILTO = "unsubscribe@papers.example.org"
SENT = Sent(
    recipient="reader@example.org",
    message_id="<2026-11-20.1.9f8e7d6c5b4a3921@papers.example.org>",
    return_path="bounces+1.2.0123456789abcdef@papers.example.org",
    unsubscribe_token="InJlYWRlci1wdWJsaWMtaWQi.aT8x0Q.Vq3kUJ5oZ2xYc1bW7nE4rT6yHgA",
    edition_id=1,
)


def _summary(report: Report) -> dict[str, Any]:
    return {
        "key": report.key,
        "kind": str(report.kind),
        "envelope": list(report.envelope),
        "recipients": [
            {"kind": str(r.kind), "address": r.address, "status": r.status}
            for r in report.recipients
        ],
        "original_message_id": report.original.message_id,
        "original_tokens": list(report.original.unsubscribe_tokens),
        "unsubscribe_tokens": list(report.unsubscribe_tokens),
        "feedback_type": report.feedback_type,
        "reporter": report.reporter,
    }


def _read_all() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(CORPUS.glob("*.eml")):
        try:
            found[path.name] = _summary(read(fill(path.name, SENT), mailto=MAILTO))
        except Malformed as exc:
            found[path.name] = {"malformed": str(exc)}
    return found


def test_the_corpus_reads_as_its_golden_file() -> None:
    found = _read_all()
    if UPDATE:
        GOLDEN.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert found == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("hard-5.1.1.eml", ReturnKind.HARD),
        ("soft-4.2.2.eml", ReturnKind.SOFT),
        ("soft-4xx-in-5xx.eml", ReturnKind.SOFT),
        ("delayed.eml", ReturnKind.NOTICE),
        ("arf-abuse.eml", ReturnKind.COMPLAINT),
        ("mailto-unsubscribe.eml", ReturnKind.UNSUBSCRIBE),
        ("out-of-office.eml", ReturnKind.AUTO_REPLY),
        ("qmail-bounce.eml", ReturnKind.HARD),
        ("unknown.eml", ReturnKind.UNRECOGNISED),
        ("dsn-cut-short.eml", ReturnKind.UNRECOGNISED),
        ("dsn-broken-boundary.eml", ReturnKind.UNRECOGNISED),
        ("human-automatic-reply.eml", ReturnKind.UNRECOGNISED),
        ("mailto-unsubscribe-encoded.eml", ReturnKind.UNSUBSCRIBE),
        ("mailto-unsubscribe-percent.eml", ReturnKind.UNSUBSCRIBE),
    ],
)
def test_each_corpus_message_is_what_its_readme_says(name: str, kind: ReturnKind) -> None:
    report = read(fill(name, SENT), mailto=MAILTO)
    assert report.kind == kind
    if kind in (ReturnKind.HARD, ReturnKind.SOFT):
        assert [r.address for r in report.recipients] == [SENT.recipient]
    if kind == ReturnKind.COMPLAINT:
        assert report.original.message_id == SENT.message_id
        assert SENT.unsubscribe_token in report.original.unsubscribe_tokens
    if kind == ReturnKind.UNSUBSCRIBE:
        assert report.unsubscribe_tokens == (SENT.unsubscribe_token,)


def test_garbage_is_malformed_with_a_reason() -> None:
    with pytest.raises(Malformed, match="not a mail message"):
        read(fill("garbage.eml"))


def test_a_token_in_the_mailto_address_unsubscribes_too() -> None:
    raw = fill("mailto-unsubscribe.eml", SENT)
    raw = raw.replace(
        f"unsubscribe {SENT.unsubscribe_token}".encode(), b"Unsubscribe me please"
    ).replace(MAILTO.encode(), f"unsubscribe+{SENT.unsubscribe_token}@papers.example.org".encode())
    report = read(raw, mailto=MAILTO)
    assert report.kind == ReturnKind.UNSUBSCRIBE
    assert report.unsubscribe_tokens == (SENT.unsubscribe_token,)  # its letter case kept


def test_a_link_token_in_the_address_is_read_as_the_to_header_spelled_it() -> None:
    """A server that folds the local part writes Delivered-To in lower case; the To
    the reader's client wrote keeps the case the link token needs (on main only the
    folded spelling was read, and the mail went to the operator folder)."""
    tokened = f"unsubscribe+{SENT.unsubscribe_token}@papers.example.org"
    raw = fill("mailto-unsubscribe.eml", SENT)
    raw = raw.replace(f"unsubscribe {SENT.unsubscribe_token}".encode(), b"stop")
    raw = raw.replace(
        f"Delivered-To: {MAILTO}".encode(), f"Delivered-To: {tokened.lower()}".encode()
    )
    raw = raw.replace(f"To: {MAILTO}".encode(), f"To: {tokened}".encode())
    report = read(raw, mailto=MAILTO)
    assert report.kind == ReturnKind.UNSUBSCRIBE
    assert SENT.unsubscribe_token in report.unsubscribe_tokens


@pytest.mark.parametrize(
    ("action", "status", "diagnostic", "kind", "code"),
    [
        ("failed", "5.1.1", "smtp; 550 5.1.1 User unknown", ReturnKind.HARD, "5.1.1"),
        ("failed", "4.2.2", "smtp; 452 4.2.2 Mailbox full", ReturnKind.SOFT, "4.2.2"),
        # listmonk classes these hard: the 5xx reply is not what decides
        ("failed", "4.4.7", "smtp; 550 4.4.7 Message expired", ReturnKind.SOFT, "4.4.7"),
        ("failed", "", "smtp; 550 4.2.2 over quota", ReturnKind.SOFT, "4.2.2"),
        ("failed", "5.2.2", "smtp; 552 5.2.2 Mailbox full", ReturnKind.SOFT, "5.2.2"),
        ("failed", "5.7.1", "smtp; 554 5.7.1 Rejected", ReturnKind.HARD, "5.7.1"),
        ("failed", "", "smtp; 550 No such user", ReturnKind.HARD, "5.0.0"),
        ("failed", "", "smtp; 421 Try later", ReturnKind.SOFT, "4.0.0"),
        ("delayed", "4.4.1", "X-Postfix; connect timed out", ReturnKind.NOTICE, "4.4.1"),
        ("delivered", "2.0.0", "", ReturnKind.NOTICE, "2.0.0"),
        ("Failed", "5.0.0 (permanent failure)", "", ReturnKind.HARD, "5.0.0"),
    ],
)
def test_a_dsn_recipient_is_classed_by_its_enhanced_code(
    action: str, status: str, diagnostic: str, kind: ReturnKind, code: str
) -> None:
    assert classify_status(action, status, diagnostic) == (kind, code)


@given(st.binary(max_size=2000))
def test_any_bytes_read_as_a_report_or_malformed_never_an_exception(raw: bytes) -> None:
    try:
        report = read(raw, mailto=MAILTO)
    except Malformed:
        return
    assert isinstance(report.kind, ReturnKind) and len(report.key) <= 300


def test_a_message_without_from_reads_without_a_library_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """flufl.bounce logs a detector that chokes on a From-less message as an ERROR with a
    traceback (a red team saw it on `bounces fetch`): the message is simply no bounce."""
    with caplog.at_level("DEBUG"):
        result = read(b"Subject: x\r\n\r\n")
    assert not isinstance(result, Report) or not result.recipients
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], [
        r.getMessage() for r in caplog.records
    ]


def _nested_rfc822(depth: int) -> bytes:
    inner = b"Subject: inner\n\nbody\n"
    for _ in range(depth):
        inner = b"Content-Type: message/rfc822\n\n" + inner
    return b"From: a@example.org\nSubject: nest\nMIME-Version: 1.0\n" + inner


def _nested_multiparts(depth: int) -> bytes:
    head = b"From: a@example.org\nSubject: nest\nMIME-Version: 1.0\n"
    for i in range(depth):
        head += b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i)
    return head + b"\nbody\n"


@pytest.mark.parametrize("nested", [_nested_rfc822, _nested_multiparts])
def test_a_message_nested_a_thousand_deep_is_malformed_not_a_recursion_error(
    nested: Any,
) -> None:
    """30-60 KB of nesting used to exhaust the stack in the stdlib parser (red team rt14r)."""
    raw = nested(1000)
    with pytest.raises(Malformed, match="multipart/message parts"):
        read(raw, mailto=MAILTO)


def test_a_message_nested_a_few_levels_is_read() -> None:
    report = read(_nested_rfc822(20), mailto=MAILTO)
    assert report.kind == ReturnKind.UNRECOGNISED


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office: Daily Papers Digest",  # without any automatic-message header
        "Automatic reply settings broke my subscription",
        "Re: your out of office reply policy",
    ],
)
def test_a_person_writing_about_automatic_replies_is_no_automatic_reply(subject: str) -> None:
    raw = fill("unknown.eml", SENT)
    raw = re.sub(rb"(?m)^Subject: .*$", f"Subject: {subject}".encode(), raw)
    assert read(raw, mailto=MAILTO).kind == ReturnKind.UNRECOGNISED
    marked = raw.replace(b"Subject:", b"Auto-Submitted: no\nSubject:", 1)
    assert read(marked, mailto=MAILTO).kind == ReturnKind.UNRECOGNISED


def test_an_out_of_office_subject_with_an_automatic_sign_is_an_automatic_reply() -> None:
    raw = fill("unknown.eml", SENT)
    raw = re.sub(rb"(?m)^Subject: .*$", b"Subject: Automatic reply: Daily Papers Digest", raw)
    raw = raw.replace(b"Subject:", b"X-Auto-Response-Suppress: All\nSubject:", 1)
    assert read(raw, mailto=MAILTO).kind == ReturnKind.AUTO_REPLY


def test_a_token_with_underscores_in_an_encoded_subject_unsubscribes() -> None:
    sent = replace(SENT, unsubscribe_token="InJl_YWRl-ci1w.aT8x_0Q.Vq3k_UJ5oZ2xYc1bW7nE4rT6yHgA")
    report = read(fill("mailto-unsubscribe-encoded.eml", sent), mailto=MAILTO)
    assert report.kind == ReturnKind.UNSUBSCRIBE
    assert report.unsubscribe_tokens == (sent.unsubscribe_token,)
    assert report.subject.endswith("— merci")
