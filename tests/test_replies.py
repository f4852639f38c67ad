"""SMTP replies → what happens to the recipient: one case per rule of the table.

The expected meanings are written out here, independently of
``newsletter.delivery.replies.RULES``; the last test checks that every rule
of the table is exercised by at least one case, so a new rule needs a case.
"""

from __future__ import annotations

import pytest

from newsletter.delivery.replies import RULES, Kind, Stage, classify

MAIL, RCPT, DATA, END = Stage.MAIL, Stage.RCPT, Stage.DATA, Stage.END
ACCEPTED, TEMPORARY, BOUNCE = Kind.ACCEPTED, Kind.TEMPORARY, Kind.BOUNCE
REFUSED, STOP = Kind.REFUSED, Kind.STOP

CASES = [
    # stage, code, text, meaning
    (RCPT, 530, "5.7.0 Authentication required", STOP),
    (MAIL, 535, "5.7.8 Authentication credentials invalid", STOP),
    (END, 250, "2.0.0 Ok: queued as 4F1C2", ACCEPTED),
    (RCPT, 451, "4.7.1 Greylisted, try again in 300 seconds", TEMPORARY),
    (RCPT, 452, "4.2.2 Mailbox full", TEMPORARY),
    (RCPT, 552, "5.2.2 Mailbox over quota", TEMPORARY),
    (END, 552, "5.2.2 Mailbox full", TEMPORARY),
    (MAIL, 550, "5.7.1 Sender address rejected: not owned by user", STOP),
    (RCPT, 553, "5.1.7 Bad sender's mailbox address syntax", STOP),
    (RCPT, 550, "5.1.8 Sender domain does not resolve", STOP),
    (RCPT, 550, "5.1.1 <gone@example.org>: Recipient address rejected: User unknown", BOUNCE),
    (RCPT, 553, "5.1.3 Bad destination mailbox address syntax", BOUNCE),
    (RCPT, 550, "5.1.10 Recipient domain has a null MX", BOUNCE),
    (END, 550, "5.1.1 User unknown (checked after DATA)", BOUNCE),
    (RCPT, 554, "5.7.1 <x@example.org>: Relay access denied", REFUSED),
    (RCPT, 550, "5.7.1 Recipient blocked by policy", REFUSED),
    (END, 552, "5.3.4 Message size exceeds fixed limit", REFUSED),
    (END, 554, "5.7.1 Message rejected as spam", REFUSED),
    (RCPT, 250, "OK", ACCEPTED),
    (DATA, 354, "End data with <CR><LF>.<CR><LF>", ACCEPTED),
    (RCPT, 421, "Service not available, closing transmission channel", TEMPORARY),
    (RCPT, 450, "Requested mail action not taken: mailbox unavailable", TEMPORARY),
    (MAIL, 553, "Requested action not taken: sender not allowed", STOP),
    (RCPT, 550, "Requested action not taken: mailbox unavailable", BOUNCE),
    (RCPT, 551, "User not local; please try <forward@example.org>", BOUNCE),
    (RCPT, 552, "Too many recipients", TEMPORARY),
    (RCPT, 553, "Requested action not taken: mailbox name not allowed", BOUNCE),
    (RCPT, 554, "Transaction failed", REFUSED),
    (END, 550, "Content rejected", REFUSED),
    (END, 552, "Requested mail action aborted: exceeded storage allocation", REFUSED),
    (DATA, 554, "No valid recipients", REFUSED),
]


@pytest.mark.parametrize(("stage", "code", "text", "meaning"), CASES)
def test_each_reply_means_what_the_rfcs_say(
    stage: Stage, code: int, text: str, meaning: Kind
) -> None:
    assert classify(stage, code, text).kind == meaning


def test_552_at_rcpt_never_bounces_with_or_without_an_enhanced_code() -> None:
    for text in ("5.2.2 over quota", "5.5.3 too many recipients", "too many recipients"):
        assert classify(RCPT, 552, text).kind != BOUNCE, text
    assert classify(RCPT, 552, "too many recipients").kind == TEMPORARY


def test_only_no_such_mailbox_kinds_bounce() -> None:
    bouncing = {
        (code, text)
        for stage, code, text, meaning in CASES
        if meaning == BOUNCE and stage in (RCPT, END)
    }
    assert {code for code, _ in bouncing} <= {550, 551, 553}
    assert all(not text[:2].isdigit() or text.startswith("5.1.") for _, text in bouncing)


def test_contradictory_codes_are_temporary_never_a_bounce() -> None:
    assert classify(RCPT, 450, "5.1.1 unknown user").kind == TEMPORARY
    assert classify(RCPT, 550, "4.2.0 try later").kind == TEMPORARY


def test_an_enhanced_code_is_read_only_at_the_start_of_the_text() -> None:
    reply = classify(RCPT, 550, "mailbox unavailable (see 5.7.1 policy)")
    assert reply.enhanced is None and reply.kind == BOUNCE
    assert classify(RCPT, 550, "5.1.1 user unknown").enhanced == "5.1.1"


def test_a_code_outside_smtp_is_not_a_reason_to_bounce() -> None:
    assert classify(RCPT, 999, "what").kind == TEMPORARY


def test_every_rule_of_the_table_is_exercised_by_a_case() -> None:
    used = {classify(stage, code, text).rule for stage, code, text, _meaning in CASES}
    assert [rule for rule in RULES if rule not in used] == []
