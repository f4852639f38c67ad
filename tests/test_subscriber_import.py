"""A CSV import large enough to span several batches writes what one ``subscribers add`` per
row would: the same subscribers, statuses, topics and consent record; bad rows reported by
line; nobody added twice; nobody already on the list changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from delivery_kit import NOW
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import config
from newsletter.states import SubscriberStatus
from newsletter.store import Database
from newsletter.subscribers import csvio
from newsletter.subscribers.subscriptions import (
    AddressError,
    Subscriber,
    Subscriptions,
    normalize_address,
    parse_topics,
    validated_address,
)

TAXONOMY = config.load(None).taxonomy
ROWS = 2 * csvio.BATCH_ROWS + 345  # three batches, the last one partial


@pytest.fixture
def subs(db_url: str) -> Iterator[Subscriptions]:
    store = Database.open(db_url)
    yield Subscriptions(store)
    store.close()


def _write_list(path: Path) -> list[str]:
    """The CSV; returns the good rows' addresses in file order."""
    lines = ["email,topics,status"]
    good: list[str] = []
    for i in range(ROWS):
        address = f"Reader{i:05d}@Example.org"
        topics = "llm;vision" if i % 3 == 0 else ""
        status = "unsubscribed" if i % 500 == 7 else ""
        lines.append(f"{address},{topics},{status}")
        good.append(address)
        if i in (10, 1500, 2300):  # a bad address, an unknown topic and a duplicate per batch
            lines.append(f"not-an-address-{i},,")
            lines.append(f"topic{i}@example.org,nope,")
            lines.append(f"reader{i:05d}@example.ORG,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good


def test_import_spanning_batches_writes_what_one_add_per_row_writes(
    subs: Subscriptions, tmp_path: Path
) -> None:
    path = tmp_path / "list.csv"
    good = _write_list(path)
    # Already on the list before the import: one who unsubscribed, one pending.
    subs.add("reader00100@example.org", None, confirmed=True, method="cli", now=NOW)
    left = subs.by_email("reader00100@example.org")
    assert left is not None
    subs.unsubscribe(left.public_id, method="cli", now=NOW)
    subs.add("READER02200@example.org", None, confirmed=False, method="cli", now=NOW)
    calls: list[tuple[int, int]] = []

    report = csvio.import_csv(
        subs, path, TAXONOMY, confirmed=True, now=NOW, progress=lambda *a: calls.append(a)
    )

    assert (report.rows, report.added, report.existing) == (ROWS + 9, ROWS - 2, 2)
    problems = [str(p) for p in report.problems]
    assert len(problems) == 9
    assert problems[0].startswith("line 13: 'not-an-address-10'")
    assert problems[1] == "line 14: unknown topic nope (known: " + ", ".join(TAXONOMY.ids) + ")"
    assert problems[2] == "line 15: reader00010@example.org is a duplicate of line 12"
    assert calls == [(1000, ROWS), (2000, ROWS), (ROWS, ROWS)]

    kept = subs.by_email("reader00100@example.org")
    assert kept is not None and kept.status == SubscriberStatus.UNSUBSCRIBED
    pending = subs.by_email("reader02200@example.org")
    assert pending is not None and pending.status == SubscriberStatus.PENDING

    # Every other row as `Subscriptions.add` would have written it, into a second store.
    reference = Subscriptions(Database.open(f"sqlite:///{tmp_path / 'reference.db'}"))
    try:
        for address in good:
            if address.lower() in ("reader00100@example.org", "reader02200@example.org"):
                continue
            i = int(address[6:11])
            line = i + 2 + 3 * sum(1 for bad in (10, 1500, 2300) if bad < i)
            topics = parse_topics("llm,vision" if i % 3 == 0 else "", TAXONOMY)
            status = "unsubscribed" if i % 500 == 7 else None
            detail = {"file": "list.csv", "line": line, "operator_asserted_consent": True}
            expected = reference.add(
                address,
                topics,
                confirmed=True,
                status=status,
                method="import",
                now=NOW,
                detail=detail,
            ).subscriber
            got = subs.by_email(address)
            assert got is not None, address
            assert _fields(got) == _fields(expected)
            assert _record(subs, got.id) == _record(reference, expected.id), address
    finally:
        reference.db.close()


def _utc(at: datetime | None) -> datetime | None:
    """A stored time as naive UTC (SQLite gives naive UTC, PostgreSQL aware)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at and at.tzinfo else at


def _fields(s: Subscriber) -> tuple[object, ...]:
    return (s.email, s.status, s.topics, _utc(s.confirmed_at), _utc(s.unsubscribed_at))


def _record(subs: Subscriptions, subscriber_id: int) -> list[tuple[object, ...]]:
    return [(_utc(c.at), c.action, c.method, c.detail) for c in subs.consents(subscriber_id)]


def test_importing_the_same_list_again_adds_nobody(subs: Subscriptions, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    _write_list(path)
    first = csvio.import_csv(subs, path, TAXONOMY, confirmed=False, now=NOW)
    again = csvio.import_csv(subs, path, TAXONOMY, confirmed=True, now=NOW)
    assert (again.added, again.existing) == (0, first.added)
    assert {s.status for s in subs.all()} == {
        SubscriberStatus.PENDING,
        SubscriberStatus.UNSUBSCRIBED,
    }


_PARTS = st.sampled_from(
    [
        "a",
        "Ada",
        "x.y",
        "o'neil",
        "a+b",
        "..",
        ".",
        "-",
        "é",
        "ß",
        "@",
        " ",
        "\t",
        "\n",
        "\x00",
        '"',
        "<",
        ">",
        "[1.2.3.4]",
        "Example.ORG",
        "example.org",
        "xn--bcher-kva.example",
        "bücher.example",
        "-bad.org",
        "a..b",
        "localhost",
        "x.invalid",
        "a.test",
        "Postmaster",
        "1.2",
        "x" * 64,
        "y" * 70,
        "z" * 250,
        "_",
        "a_b.com",
        "EXAMPLE.com.",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PARTS, min_size=1, max_size=6).map("".join))
def test_the_short_path_for_plain_addresses_answers_as_the_library_does(text: str) -> None:
    try:
        expected: str = validated_address(text)
    except AddressError as exc:
        expected = f"refused: {exc.message}"
    try:
        got: str = normalize_address(text)
    except AddressError as exc:
        got = f"refused: {exc.message}"
    assert got == expected


@pytest.mark.parametrize(
    "address",
    [
        "Reader@Example.ORG",
        "Postmaster@example.org",
        "a" * 64 + "@" + "b" * 60 + ".org",
        "x@" + "d" * 250 + ".org",
        "bad@-example.org",
        "a@localhost",
        "a@x.test",
    ],
)
def test_the_short_path_and_the_library_agree_on(address: str) -> None:
    outcomes = []
    for check in (normalize_address, validated_address):
        try:
            outcomes.append(check(address))
        except AddressError as exc:
            outcomes.append(f"refused: {exc.message}")
    assert outcomes[0] == outcomes[1]
