"""Fuzzing what subscribers and operators hand us: addresses, topics, CSV imports, tokens.

Same promise as ``test_fuzz_parsers.py``: accepted, or refused with a
:class:`NewsletterError` that says why; never another exception, and never a
corrupt state (an address stored that would not validate, a subscriber added
twice, an existing subscriber changed by an import).  The message builder is
fuzzed too: whatever the newsletter's name, the subject and the recipient,
a message either has exactly its own headers or is refused as header
injection.
"""

from __future__ import annotations

import email
import email.policy
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import figures
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import config
from newsletter.delivery.message import (
    HeaderInjection,
    Recipient,
    Sender,
    compile_digest,
    confirmation_message,
)
from newsletter.errors import NewsletterError
from newsletter.render.email import RenderedEmail
from newsletter.render.recipients import PREFERENCES_TOKEN, UNSUBSCRIBE_TOKEN
from newsletter.store import Database
from newsletter.subscribers.csvio import import_csv
from newsletter.subscribers.subscriptions import Subscriptions, normalize_address, parse_topics
from newsletter.subscribers.tokens import (
    CONFIRM,
    FORM,
    PREFERENCES,
    UNSUBSCRIBE,
    TokenError,
    Tokens,
)

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("NEWSLETTER_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
TAXONOMY = config.load(None).taxonomy

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
address_parts = st.sampled_from(
    [
        "reader@example.org",
        "Reader@Example.ORG",
        "a+b@example.org",
        "x@y",
        "@example.org",
        "a@@example.org",
        "a@example.org\r\nBcc: victim@example.org",
        "a@example.org\nX: y",
        "a\u2028@example.org",
        "a\x85@example.org",
        '"quoted"@example.org',
        "a@[127.0.0.1]",
        "Name <a@example.org>",
        "a@exämple.org",
        "ü@example.org",
        "a@example.org,b@example.org",
        " a@example.org ",
        "a" * 70 + "@example.org",
        "a@" + "b" * 260 + ".org",
        "",
    ]
)
address = st.one_of(address_parts, text, st.tuples(text, address_parts).map("".join))


def _example() -> None:
    figures.count("fuzz", "examples")
    figures.count("fuzz", "hypothesis examples")


# ---------------------------------------------------------------- addresses and topics


@FUZZ
@given(address)
def test_an_address_is_stored_clean_or_refused(value: str) -> None:
    _example()
    try:
        stored = normalize_address(value)
    except NewsletterError as exc:
        assert exc.message
        figures.count("fuzz", "refused")
        return
    assert stored == stored.strip() and stored.isascii()
    assert not any(ord(ch) < 33 or ord(ch) == 127 for ch in stored)
    assert stored.count("@") == 1
    assert normalize_address(stored) == stored  # storing twice changes nothing


@FUZZ
@given(st.one_of(text, st.lists(st.one_of(text, st.sampled_from(["llm", "vision", "other"])))))
def test_topics_are_known_ids_or_refused(raw: str | list[str]) -> None:
    _example()
    try:
        chosen = parse_topics(raw, TAXONOMY)
    except NewsletterError:
        figures.count("fuzz", "refused")
        return
    known = {t.id for t in TAXONOMY.topics}
    assert chosen is None or (chosen and chosen < known)


# ---------------------------------------------------------------- CSV imports


@pytest.fixture
def subs(tmp_path: Path) -> Iterator[Subscriptions]:
    store = Database.open(f"sqlite:///{tmp_path / 'subs.db'}")
    yield Subscriptions(store)
    store.close()


csv_cell = st.one_of(
    address,
    st.sampled_from(["llm", "llm;vision", "bogus", "confirmed", "unsubscribed", "nope", ""]),
    text,
)
csv_row = st.lists(csv_cell, max_size=4)
csv_header = st.sampled_from(
    ["email", "email,topics", "email,topics,status", "Email,Status", "name,mail", ""]
)


def _csv(header: str, rows: list[list[str]]) -> str:
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell

    lines = [header] if header else []
    lines += [",".join(quote(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


@FUZZ
@given(
    data=st.one_of(
        st.tuples(csv_header, st.lists(csv_row, max_size=8)).map(lambda t: _csv(*t).encode()),
        st.binary(max_size=300),
    ),
    confirmed=st.booleans(),
)
def test_a_csv_import_adds_only_valid_addresses_once_and_changes_no_one(
    data: bytes, confirmed: bool, subs: Subscriptions, tmp_path: Path
) -> None:
    _example()
    before = {s.email: (s.status, s.topics) for s in subs.all()}
    path = tmp_path / "import.csv"
    path.write_bytes(data)
    try:
        report = import_csv(subs, path, TAXONOMY, confirmed=confirmed, now=NOW)
    except NewsletterError as exc:
        assert exc.message
        figures.count("fuzz", "refused")
        assert {s.email: (s.status, s.topics) for s in subs.all()} == before
        return
    after = subs.all()
    assert report.rows == report.added + report.existing + len(report.problems)
    assert len(after) == len(before) + report.added
    for subscriber in after:
        assert normalize_address(subscriber.email) == subscriber.email
        if subscriber.email in before:  # an import never changes an existing subscriber
            assert (subscriber.status, subscriber.topics) == before[subscriber.email]
    keys = [s.email.lower() for s in after]
    assert len(keys) == len(set(keys))
    again = import_csv(subs, path, TAXONOMY, confirmed=confirmed, now=NOW)
    assert again.added == 0  # importing the same file twice adds nobody


# ---------------------------------------------------------------- tokens

TOKENS = Tokens(b"k" * 32, 48 * 3600, lambda: NOW)
PURPOSES = [CONFIRM, UNSUBSCRIBE, PREFERENCES, FORM]


@FUZZ
@given(st.sampled_from(PURPOSES), st.one_of(text, st.binary(max_size=200).map(bytes.hex)))
def test_any_string_is_refused_as_a_token(purpose: str, token: str) -> None:
    _example()
    with pytest.raises(TokenError):
        TOKENS.check(purpose, token)
    figures.count("fuzz", "refused")


@FUZZ
@given(
    st.sampled_from(PURPOSES),
    st.sampled_from(PURPOSES),
    st.text("abcdef0123456789", min_size=1, max_size=32),
    st.integers(0, 10_000),
    st.sampled_from(["flip", "drop", "add", "swap", "case"]),
)
def test_a_tampered_or_misdirected_token_is_refused(
    made_for: str, used_for: str, public_id: str, where: int, how: str
) -> None:
    """Tampering: any one-character change, or a token of another purpose, is refused."""
    _example()
    token = TOKENS.make(made_for, public_id)
    i = where % len(token)
    changed = {
        "flip": token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :],
        "drop": token[:i] + token[i + 1 :],
        "add": token[:i] + "x" + token[i:],
        "swap": token[:i] + token[i + 1 : i + 2] + token[i : i + 1] + token[i + 2 :],
        "case": token[:i] + token[i].swapcase() + token[i + 1 :],
    }[how]
    if changed == token and made_for == used_for:
        assert TOKENS.check(used_for, changed) == public_id
        return
    try:
        value = TOKENS.check(used_for, changed)
    except TokenError:
        figures.count("fuzz", "refused")
        return
    # base64 padding bits: a change that decodes to the very same bytes is the same token
    assert made_for == used_for and value == public_id


# ---------------------------------------------------------------- message headers

HEADERS = {
    "from",
    "subject",
    "date",
    "list-id",
    "to",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
}
hostile_header = st.one_of(
    text,
    st.sampled_from(
        [
            "Papers\r\nBcc: victim@example.org",
            "Papers\nBcc: victim@example.org",
            "Papers\rBcc: x",
            "Papers\u2028Bcc: x",
            "Papers\x85Bcc: x",
            '"Quoted" <evil@example.org>',
            "=?utf-8?q?encoded?=",
            "Ünïcödé Papers",
            "a" * 300,
        ]
    ),
)


@FUZZ
@given(hostile_header, hostile_header, address_parts)
def test_a_message_has_exactly_its_own_headers_or_is_refused(
    name: str, subject: str, to: str
) -> None:
    _example()
    sender = Sender(
        name=name,
        address="digest@news.example.org",
        list_id="papers.news.example.org",
        unsubscribe_mailto="unsubscribe@news.example.org",
    )
    rendered = RenderedEmail(
        subject=subject,
        html=f"<p>hi</p><a href='{UNSUBSCRIBE_TOKEN}'>u</a> <a href='{PREFERENCES_TOKEN}'>p</a>",
        text=f"hi\nunsubscribe: {UNSUBSCRIBE_TOKEN}\npreferences: {PREFERENCES_TOKEN}\n",
    )
    try:
        recipient = Recipient(
            address=normalize_address(to),
            message_id="<m.1@news.example.org>",
            unsubscribe_url="https://news.example.org/unsubscribe?t=abc",
            one_click_url="https://news.example.org/unsubscribe?t=abc",
            preferences_url="https://news.example.org/preferences?t=abc",
            mailto_subject="unsubscribe abc",
        )
        data = compile_digest(rendered, sender, NOW).for_recipient(recipient)
        confirmation = confirmation_message(
            sender, recipient.address, subject, "text", "<p>html</p>", NOW, "<c.1@x.org>"
        )
    except (HeaderInjection, NewsletterError):
        figures.count("fuzz", "refused")
        return
    for wire, expected in ((data, HEADERS), (confirmation, None)):
        parsed = email.message_from_bytes(wire, policy=email.policy.default)
        names = [k.lower() for k in parsed]
        assert len(names) == len(set(names)), names  # no header twice
        assert "bcc" not in names and "cc" not in names
        if expected is not None:
            assert set(names) == expected, names
        assert parsed["To"].addresses[0].addr_spec == recipient.address
    assert b"\r\n\r\n" in data and all(
        line.endswith(b"\r") or not line for line in data.split(b"\n")[:-1]
    )
