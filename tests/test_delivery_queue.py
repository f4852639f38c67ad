"""The send ledger as a queue with leases: who may take a row back, when a row is given
up, the in-flight budget, the shared rate limit, one loop per edition per process.

Real databases throughout (SQLite file and PostgreSQL); time is passed in.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from delivery_kit import NOW, SAMPLE, add_subscribers, maildir_messages, make_settings
from smtp_loopback import smtp_server

from newsletter import config, pipeline
from newsletter.delivery import lease, ledger
from newsletter.delivery.mailer import MaildirMailer, Mailer
from newsletter.delivery.message import (
    Recipient,
    Sender,
    compile_digest,
    transparent,
)
from newsletter.delivery.recorder import Recorder
from newsletter.delivery.sending import Delivery
from newsletter.render import PREFERENCES_TOKEN, UNSUBSCRIBE_TOKEN
from newsletter.render.email import RenderedEmail
from newsletter.states import LedgerState
from newsletter.store import Database, StoredEdition
from newsletter.store.ledger import started

DAY = date(2026, 11, 20)


def _recorded(settings: config.Settings, day: date = DAY, mailer: Mailer | None = None) -> None:
    """Record the sample's edition for ``day``; send nothing (or with ``mailer``)."""
    pipeline.run(settings, [str(SAMPLE)], day, mailer=mailer or _Refusing(), clock=lambda: NOW)


class _Refusing(Mailer):
    """The relay refuses to start: nothing is sent, every row stays pending."""

    def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
        from newsletter.delivery.mailer import MailerStopped

        raise MailerStopped("not now")


def _stored(db: Database, day: date = DAY) -> StoredEdition:
    with db.read() as tx:
        stored = tx.editions.latest_on(day)
    assert stored is not None
    return stored


def _queue(db: Database, stored: StoredEdition, owner: str, clock: datetime) -> ledger.Queue:
    return ledger.Queue(
        db,
        stored.id,
        owner,
        ledger.Policy(lease=timedelta(seconds=30)),
        clock=lambda: clock,
        is_dead=lease.owner_is_dead,
        relay="test",
        edition_topics=frozenset(s.topic for s in stored.edition.sections),
    )


# ---------------------------------------------------------------- who is dead


def test_an_owner_is_dead_only_when_that_is_certain() -> None:
    me = lease.loop_owner()
    host, pid = socket.gethostname(), os.getpid()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    assert not lease.owner_is_dead(me)
    assert not lease.owner_is_dead(lease.loop_owner())  # another loop of this process: alive
    namespace = me.split(":")[3]
    assert lease.owner_is_dead(f"{host}:{dead_pid}:abcdef01:{namespace}:loop")
    # our own PID, but another process token: an earlier process that had this PID
    assert lease.owner_is_dead(f"{host}:{pid}:0ther000:{namespace}:loop")
    # another host, or this host in another PID namespace: cannot tell, so not dead
    assert not lease.owner_is_dead(f"elsewhere:{dead_pid}:abcdef01:{namespace}:loop")
    assert not lease.owner_is_dead(f"{host}:{dead_pid}:abcdef01:0ther0ns:loop")
    # a live process that is not a sender (PID reused): alive, so only its lease frees it
    assert not lease.owner_is_dead(f"{host}:{os.getppid()}:abcdef01:{namespace}:loop")


# ---------------------------------------------------------------- taking rows back


def test_recover_never_takes_a_live_lease_and_always_takes_an_expired_one(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path, db_url)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(3)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        other = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        first, second, third = other.claim().claimed
        assert other.commit([], [first.row_id]) == {first.row_id}  # in flight
        mine = _queue(db, stored, lease.loop_owner(), NOW + timedelta(seconds=29))
        assert mine.recover() == ledger.Recovered(0, 0)  # its lease is live: nothing taken
        assert mine.claim().claimed == []
        later = _queue(db, stored, lease.loop_owner(), NOW + timedelta(seconds=31))
        assert later.recover() == ledger.Recovered(uncertain=1, pending=2)
        with db.read() as tx:
            rows = {r.id: r for r in tx.ledger.rows(stored.id)}
        assert (rows[first.row_id].state, rows[first.row_id].uncertain) == ("uncertain", 1)
        assert (rows[second.row_id].state, rows[second.row_id].uncertain) == ("pending", 0)
        # the late owner's reply no longer counts: the row is not its own
        late = ledger.Outcome(first.row_id, LedgerState.SENT, "250 late", 0, handed_over=True)
        assert other.commit([late], [third.row_id]) == set()
        assert other.taken_back == 2


def test_a_group_row_counts_a_lost_copy_only_if_its_message_was_started(
    tmp_path: Path, db_url: str
) -> None:
    """A group is marked in flight in one transaction before any of its messages goes
    out; a kill then takes back rows it sent and rows it never reached.  Only the
    started ones count an uncertain hand-over: a row caught by two kills before its
    message ever left must not end ``unconfirmed`` without a copy (it did, before the
    start marks: 5 of 80 lost in the four-sender kill test)."""
    settings = make_settings(tmp_path, db_url)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(3)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        at = NOW
        for round_ in range(2):  # two senders in turn, each killed mid-group
            dead = _queue(db, stored, f"elsewhere:{round_}:aaaaaaaa:nnnn:loop", at)
            rows = [c.row_id for c in dead.claim().claimed]
            assert len(rows) == 3
            dead.reserve(rows)
            assert dead.commit([], rows) == set(rows)
            if round_ == 0:  # its first message reached its final dot, the others never did
                starts = dead.start_marks()
                try:
                    assert starts.start(rows[0], dead.owner, at)
                finally:
                    starts.close()
            # (the second sender is killed before any message of its group went out)
            at += timedelta(seconds=31)  # the lease runs out: the dead sender's rows return
            taker = _queue(db, stored, lease.loop_owner(), at)
            expected = (1, 2) if round_ == 0 else (0, 3)
            assert taker.recover() == ledger.Recovered(*expected)
            with db.read() as tx:
                states = [(r.state, r.uncertain) for r in tx.ledger.rows(stored.id)]
            assert states == [("uncertain", 1), ("pending", 0), ("pending", 0)]
        # the third sender sends all three: the first once more, the others a first time
        claimed = _queue(db, stored, lease.loop_owner(), at).claim()
        assert [c.uncertain for c in claimed.claimed] == [1, 0, 0]
        with db.read() as tx:
            assert all(r.state != LedgerState.UNCONFIRMED for r in tx.ledger.rows(stored.id))


_KILLED_WORKER = """
import sys, time
from datetime import datetime, UTC
from newsletter.store import Database
from newsletter.store.ledger import StartMarks

url, row, owner = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = Database.open(url)
marks = StartMarks(db.engine)
print("marking", flush=True)
assert marks.start(row, owner, datetime.now(UTC))
print("dot", flush=True)  # stands for the message's final dot, written right after the mark
time.sleep(120)
"""


def test_a_start_mark_on_postgres_is_never_counted_for_a_dot_that_never_left(
    tmp_path: Path, postgres_url: str
) -> None:
    """A start mark waited for its COMMIT's reply before the final dot: on PostgreSQL a
    round trip to a server process (milliseconds on a loaded machine), and a sender
    killed in it left the row started (the server commits what it has received) with
    its message never sent.  A red team killing a sender after every 1-2 messages lost
    1-4 of 200 rows that way (``unconfirmed``, 0 copies: two such kills on one row).

    The commit is made slow here (a deferred trigger sleeps at commit) and the worker
    is killed while it would still be waiting: a row found started must have had its
    dot written."""
    settings = make_settings(tmp_path, postgres_url)
    add_subscribers(settings, [("only@example.org", None)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        dead = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        (row,) = [c.row_id for c in dead.claim().claimed]
        dead.reserve([row])
        assert dead.commit([], [row]) == {row}
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION slow_start() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(4); RETURN NULL; END $$"
            )
            conn.exec_driver_sql(
                "CREATE CONSTRAINT TRIGGER slow_start AFTER UPDATE ON send_ledger "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "WHEN (NEW.handed_over_at > '1971-01-01') EXECUTE FUNCTION slow_start()"
            )
        worker = subprocess.Popen(
            [sys.executable, "-c", _KILLED_WORKER, settings.database.url, str(row), dead.owner],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        out = worker.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(line.strip() for line in out))
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while "marking" not in lines and worker.poll() is None:
                assert time.monotonic() < deadline, "the worker never got to its mark"
                time.sleep(0.05)
            time.sleep(3.0)  # the slow commit takes 4 s: a mark that waits for it is killed
        finally:
            worker.kill()
            worker.wait()
            reader.join()
            out.close()
        deadline = time.monotonic() + 30
        while True:  # the server finishes the commit it received, client or not
            with db.read() as tx:
                (found,) = [r for r in tx.ledger.rows(stored.id) if r.id == row]

            if started(found.handed_over_at) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert started(found.handed_over_at)
        assert lines == ["marking", "dot"], "the row counts as started, its message never left"
        later = _queue(db, stored, lease.loop_owner(), NOW + timedelta(seconds=31))
        assert later.recover() == ledger.Recovered(uncertain=1)


_JOURNALED_WORKER = """
import sys, time
from datetime import datetime, timedelta, UTC
from newsletter.store import Database

url, row, claim, owner = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
db = Database.open(url)
marks = db.start_marks(db.start_journal(owner), timedelta(seconds=30))
now = datetime.now(UTC)
assert marks.start(row, owner, now, claim=claim, lease_until=now + timedelta(seconds=30))
print("dot", flush=True)  # stands for the message's final dot, written right after the mark
time.sleep(120)
"""


def test_a_start_on_sqlite_is_journaled_and_counted_by_whoever_takes_the_row_back(
    tmp_path: Path,
) -> None:
    """On a SQLite file a start mark is a line appended to the loop's journal (no write
    transaction per message): a worker killed after its mark leaves its row started for
    the recovery, and the rows of its group it never reached go back uncounted."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(3)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        dead = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        claimed = dead.claim().claimed
        rows = [c.row_id for c in claimed]
        dead.reserve(rows)
        assert dead.commit([], rows) == set(rows)
        process = subprocess.Popen(  # killed right after its mark (it would sleep 120 s)
            [
                sys.executable,
                "-c",
                _JOURNALED_WORKER,
                settings.database.url,
                str(rows[0]),
                str(claimed[0].claim),
                dead.owner,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        try:
            assert process.stdout.readline().strip() == "dot"
        finally:
            process.kill()
            process.wait()
            process.stdout.close()
        with db.read() as tx:  # no update was written: the journal holds the start
            assert all(not started(r.handed_over_at) for r in tx.ledger.rows(stored.id))
        taker = _queue(db, stored, lease.loop_owner(), NOW + timedelta(seconds=31))
        assert taker.recover() == ledger.Recovered(uncertain=1, pending=2)
        with db.read() as tx:
            states = [(r.state, r.uncertain) for r in tx.ledger.rows(stored.id)]
        assert states == [("uncertain", 1), ("pending", 0), ("pending", 0)]


def test_a_journaled_start_counts_only_for_the_claim_it_was_made_in(tmp_path: Path) -> None:
    """A row started and given back unsent (the message never left), then claimed and
    reserved again: its old journal line must not make the new claim count a copy."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [("only@example.org", None)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        loop = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        (first,) = loop.claim().claimed
        loop.reserve([first.row_id])
        assert loop.commit([], [first.row_id]) == {first.row_id}
        starts = loop.start_marks()
        try:
            floor = loop.lease_floor
            assert starts.start(first.row_id, loop.owner, NOW, claim=first.claim, lease_until=floor)
            # the connection dropped before the dot: not sent, back to pending
            back = ledger.Outcome(first.row_id, LedgerState.PENDING, "421", 0, handed_over=True)
            assert loop.commit([back], []) == set()
            loop.second_pass()
            (again,) = loop.claim().claimed
            assert again.claim == first.claim + 1
            loop.reserve([again.row_id])
            assert loop.commit([], [again.row_id]) == {again.row_id}
        finally:
            starts.close()
        taker = _queue(db, stored, lease.loop_owner(), NOW + timedelta(seconds=31))
        assert taker.recover() == ledger.Recovered(uncertain=0, pending=1)


def test_a_journaled_start_near_the_end_of_its_lease_is_fenced_and_released_as_started(
    tmp_path: Path,
) -> None:
    """Close to the end of the loop's lease a start is checked by the fenced update (a
    row taken back is not sent); a journaled start whose reply was never recorded goes
    back ``uncertain`` when the loop releases its rows."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(2)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        loop = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        first, second = loop.claim().claimed
        ids = [first.row_id, second.row_id]
        loop.reserve(ids)
        assert loop.commit([], ids) == set(ids)
        floor = loop.lease_floor
        assert floor == NOW + timedelta(seconds=30)
        starts = loop.start_marks()
        try:
            assert starts.start(first.row_id, loop.owner, NOW, claim=first.claim, lease_until=floor)
            later = NOW + timedelta(seconds=29)  # within the margin: the update decides
            assert starts.start(
                second.row_id, loop.owner, later, claim=second.claim, lease_until=floor
            )
            with db.read() as tx:
                marked = {r.id: started(r.handed_over_at) for r in tx.ledger.rows(stored.id)}
            assert marked == {first.row_id: False, second.row_id: True}
        finally:
            starts.close()
        assert loop.release() == 2
        loop.close_journal(released=True)
        with db.read() as tx:
            states = [(r.state, r.uncertain) for r in tx.ledger.rows(stored.id)]
        assert states == [("uncertain", 1), ("uncertain", 1)]
        assert loop.journal is None
        assert not any((tmp_path / "subscribers").glob("newsletter.db-starts/*"))


def test_a_start_mark_is_refused_once_the_row_is_taken_back(tmp_path: Path, db_url: str) -> None:
    """A worker whose group was taken back meanwhile (its lease expired) must not send:
    the start mark names the owner and fails, so the message is abandoned."""
    settings = make_settings(tmp_path, db_url)
    add_subscribers(settings, [("only@example.org", None)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        slow = _queue(db, stored, "elsewhere:1:aaaaaaaa:nnnn:loop", NOW)
        (row,) = [c.row_id for c in slow.claim().claimed]
        slow.reserve([row])
        assert slow.commit([], [row]) == {row}
        later = NOW + timedelta(seconds=31)
        assert _queue(db, stored, lease.loop_owner(), later).recover() == ledger.Recovered(0, 1)
        starts = slow.start_marks()
        try:
            assert starts.start(row, slow.owner, later) is False
        finally:
            starts.close()


def test_a_row_is_handed_over_only_while_its_subscriber_is_confirmed(tmp_path: Path) -> None:
    from newsletter.subscribers.subscriptions import Subscriptions

    settings = make_settings(tmp_path)
    add_subscribers(settings, [("stays@example.org", None), ("leaves@example.org", None)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        queue = _queue(db, stored, lease.loop_owner(), NOW)
        stays, leaves = queue.claim().claimed
        subs = Subscriptions(db)
        subs.unsubscribe(leaves.subscriber.public_id, method="web", now=NOW)
        assert queue.commit([], [stays.row_id, leaves.row_id]) == {stays.row_id}
        with db.read() as tx:
            row = next(r for r in tx.ledger.rows(stored.id) if r.id == leaves.row_id)
    assert (row.state, row.reply) == ("skipped", "subscriber is unsubscribed")


# ---------------------------------------------------------------- claims stay O(log N)


def test_a_claim_walks_an_index_and_never_sorts_the_ledger(tmp_path: Path) -> None:
    """``state IN (...) ORDER BY id`` sorted every pending row per claim (O(N) each)."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(5)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        statements: list[str] = []

        def keep(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "send_ledger" in statement:
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", keep)
        _queue(db, stored, lease.loop_owner(), NOW).claim()
        sa.event.remove(db.engine, "before_cursor_execute", keep)
        plans = []
        with db.engine.connect() as conn:
            for statement in statements:
                compiled = statement.replace("?", "1")
                plans += [
                    str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled)
                ]
    assert statements and all("TEMP B-TREE" not in p for p in plans), plans
    assert any("ix_send_ledger_claim" in p for p in plans), plans


# ---------------------------------------------------------------- the in-flight budget


@dataclass(frozen=True)
class _Done:
    row: int
    handed_over: bool = True


def test_the_recorder_never_lets_more_than_the_budget_be_in_flight() -> None:
    """Eight senders at once, random reply times: at every commit, the rows handed over
    without a recorded reply never exceed the budget, and every reply is recorded."""
    lock = threading.Lock()
    open_rows: set[int] = set()
    worst = [0]
    recorded: list[int] = []

    def commit(outcomes: Sequence[_Done], marks: Sequence[int]) -> set[int]:
        with lock:
            for o in outcomes:
                open_rows.discard(o.row)
                recorded.append(o.row)
            open_rows.update(marks)
            worst[0] = max(worst[0], len(open_rows))
        time.sleep(0.0005)  # a commit takes time
        return set(marks)

    for budget in (1, 3):
        open_rows.clear()
        recorded.clear()
        worst[0] = 0
        recorder: Recorder[_Done] = Recorder(commit, budget)
        rng = random.Random(budget)

        def sender(rows: range, delays: list[float], recorder: Recorder[_Done] = recorder) -> None:
            for row, delay in zip(rows, delays, strict=True):
                assert recorder.hand_over(row)
                time.sleep(delay)  # the server's reply
                recorder.record(_Done(row))

        threads = [
            threading.Thread(
                target=sender,
                args=(range(k * 100, k * 100 + 25), [rng.uniform(0, 0.002) for _ in range(25)]),
            )
            for k in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        recorder.flush()
        assert worst[0] == budget
        assert sorted(recorded) == sorted(r for k in range(8) for r in range(k * 100, k * 100 + 25))
        assert recorder.in_flight == 0
        assert recorder.transactions <= 8 * 25 + 1  # one per message at most, plus the flush


def test_groups_of_hand_overs_share_a_transaction_and_stay_within_the_budget() -> None:
    """Four senders marking groups of four (budget 16): every group is marked in one
    transaction with the replies of the one before, the rows marked and not yet
    recorded never exceed the budget, and there are about a quarter as many
    transactions as messages."""
    lock = threading.Lock()
    open_rows: set[int] = set()
    worst = [0]
    recorded: list[int] = []

    def commit(outcomes: Sequence[_Done], marks: Sequence[int]) -> set[int]:
        with lock:
            for o in outcomes:
                open_rows.discard(o.row)
                recorded.append(o.row)
            granted = {m for m in marks if m != 205}  # one row was taken back meanwhile
            open_rows.update(granted)
            worst[0] = max(worst[0], len(open_rows))
        time.sleep(0.001)
        return granted

    recorder: Recorder[_Done] = Recorder(commit, 16)
    refused: list[int] = []

    def sender(k: int) -> None:
        rows = list(range(k * 100, k * 100 + 40))
        for at in range(0, len(rows), 4):
            group = rows[at : at + 4]
            granted = recorder.hand_over_group(group)
            refused.extend(sorted(set(group) - granted))
            for row in sorted(granted):
                time.sleep(0.0002)
                recorder.record(_Done(row))

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.flush()
    assert refused == [205]
    assert 4 < worst[0] <= 16
    assert sorted(recorded) == sorted(
        r for k in range(4) for r in range(k * 100, k * 100 + 40) if r != 205
    )
    assert recorder.in_flight == 0
    assert recorder.transactions <= 4 * 10 + 1  # one per group at most, plus the flush


def test_a_closed_recorder_refuses_the_groups_still_waiting() -> None:
    started = threading.Event()
    release = threading.Event()

    def commit(outcomes: Sequence[_Done], marks: Sequence[int]) -> set[int]:
        started.set()
        release.wait(5)
        return set(marks)

    recorder: Recorder[_Done] = Recorder(commit, 2)
    first: list[set[int]] = []
    waiting = threading.Thread(target=lambda: first.append(recorder.hand_over_group([1, 2])))
    waiting.start()
    assert started.wait(5)
    late: list[set[int]] = []
    blocked = threading.Thread(target=lambda: late.append(recorder.hand_over_group([3, 4])))
    blocked.start()
    time.sleep(0.05)
    recorder.close()
    release.set()
    waiting.join(5)
    blocked.join(5)
    assert first == [{1, 2}]  # in the running transaction: marked
    assert late == [set()]  # never marked: not to be sent
    assert recorder.hand_over_group([5]) == set()


def test_a_worker_whose_marks_are_in_another_threads_transaction_waits_for_it_at_close() -> None:
    """The pass stops (``close``) while one worker's group marks run in a transaction
    another worker started: the first must wait for that transaction, not spin with
    the recorder's lock held (the transaction could then never finish: a ledger leg of
    100,000 rows hung there)."""
    gates = [threading.Event(), threading.Event()]
    calls: list[Sequence[int]] = []

    def commit(outcomes: Sequence[_Done], marks: Sequence[int]) -> set[int]:
        calls.append(list(marks))
        if len(calls) <= len(gates):
            assert gates[len(calls) - 1].wait(10)
        return set(marks)

    recorder: Recorder[_Done] = Recorder(commit, 4)
    recorder.record(_Done(0, handed_over=False))
    flusher = threading.Thread(target=recorder.flush, daemon=True)
    flusher.start()  # the first transaction (no marks) runs and waits at its gate
    results: dict[int, set[int]] = {}
    workers = [
        threading.Thread(
            target=lambda r=r: results.update({r: recorder.hand_over_group([r])}), daemon=True
        )
        for r in (1, 2)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 10
    while len(recorder._waiting) < 2:  # both wait behind the first transaction
        assert time.monotonic() < deadline
        time.sleep(0.01)
    gates[0].set()  # one of them now runs the second transaction, with both marks
    while len(calls) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    recorder.close()  # the other one wakes with its mark in that transaction
    time.sleep(0.2)
    gates[1].set()
    for thread in (flusher, *workers):
        thread.join(10)
    assert not any(t.is_alive() for t in (flusher, *workers)), "the recorder hung"
    assert sorted(calls[1]) == [1, 2]
    assert results == {1: {1}, 2: {2}}  # both marked: in the transaction when it closed


# ---------------------------------------------------------------- splicing for SMTP


def test_the_stuffed_splice_equals_dot_stuffing_the_whole_message() -> None:
    text = (
        f"Hello\n.starts with a dot\n..two dots\n.\nend {UNSUBSCRIBE_TOKEN} {PREFERENCES_TOKEN}\n"
    )
    html = (
        f"<p>x</p>\n.dot <a href='{UNSUBSCRIBE_TOKEN}'>u</a> <a href='{PREFERENCES_TOKEN}'>p</a>\n"
    )
    compiled = compile_digest(
        RenderedEmail(subject="S", html=html, text=text),
        Sender("News", "n@example.org", "news.example.org", "u@example.org"),
        NOW,
    )
    long = "https://papers.example.org/unsubscribe?t=" + "." * 90  # QP breaks before a dot
    recipient = Recipient("r@example.org", "<1@example.org>", long, long, long + "p", "unsub x")
    raw = compiled.for_recipient(recipient)
    assert b"\r\n.starts" in raw
    assert compiled.for_recipient(recipient, smtp=True) == transparent(raw)


# ---------------------------------------------------------------- giving up, and resuming


def test_unsent_mail_of_an_edition_older_than_max_age_is_given_up_with_the_last_reply(
    tmp_path: Path,
) -> None:
    with smtp_server({"grey@example.org": ["451 4.7.1 greylisted"] * 50}) as server:
        settings = make_settings(
            tmp_path,
            delivery={"method": "smtp", "backoff_seconds": 0.0, "max_age_days": 3},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
        )
        add_subscribers(settings, [("grey@example.org", None), ("fine@example.org", None)])
        first = pipeline.run(settings, [str(SAMPLE)], DAY, clock=lambda: NOW)
        assert first.delivery is not None and first.delivery.deferred == 1
        day3 = pipeline.resume_delivery(settings, clock=lambda: NOW + timedelta(days=2, hours=23))
        assert [r.deferred for r in day3] == [1]  # still tried within the three days
        day4 = pipeline.resume_delivery(settings, clock=lambda: NOW + timedelta(days=3, hours=1))
        assert day4 == []  # given up, nothing left to resume
    with Database.open(settings.database.url) as db, db.read() as tx:
        [row] = [r for r in tx.ledger.rows() if r.email == "grey@example.org"]
    assert row.state == "failed" and row.temporary == 2
    assert row.reply is not None and row.reply.startswith("not delivered within 3 days")
    assert "451 4.7.1 greylisted" in row.reply


def test_the_next_days_cron_run_sends_what_the_day_before_deferred(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """Cron runs ``newsletter run`` once a day: each run resumes earlier editions too."""
    with smtp_server({"grey@example.org": ["451 4.7.1 greylisted"]}) as server:
        settings = make_settings(
            tmp_path,
            delivery={"method": "smtp", "backoff_seconds": 300.0},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none"},
        )
        add_subscribers(settings, [("grey@example.org", None), ("fine@example.org", None)])
        first = pipeline.run(settings, [str(SAMPLE)], DAY, clock=lambda: NOW)
        assert first.delivery is not None and first.delivery.deferred == 1
        seed = sorted(seeds_dir.glob("*.txt"))[0]
        tomorrow = NOW + timedelta(days=1)
        pipeline.run(settings, [str(seed)], DAY + timedelta(days=1), clock=lambda: tomorrow)
        grey = server.handler.received_by("grey@example.org")
    assert len(grey) == 2  # yesterday's edition, then today's
    with Database.open(settings.database.url) as db, db.read() as tx:
        assert {r.state for r in tx.ledger.rows()} == {"sent"}


# ---------------------------------------------------------------- the shared rate limit


def test_the_daily_limit_is_shared_by_every_sender_and_persists(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path, db_url, delivery={"rate_per_day": 3})
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(5)])
    _recorded(settings)
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        policy = ledger.Policy.from_settings(settings)

        def queue(at: datetime) -> ledger.Queue:  # a sender of its own, as another process
            return ledger.Queue(
                db,
                stored.id,
                lease.loop_owner(),
                policy,
                clock=lambda: at,
                is_dead=lease.owner_is_dead,
                relay="smtp://relay:25",
                edition_topics=frozenset(s.topic for s in stored.edition.sections),
            )

        first = queue(NOW).claim(2)
        second = queue(NOW + timedelta(minutes=1)).claim()
        assert (len(first.claimed), len(second.claimed)) == (2, 1)
        assert second.wait == float("inf")
        tomorrow = queue(NOW + timedelta(days=1)).claim()
        assert len(tomorrow.claimed) == 2


def test_the_rate_per_second_paces_a_run(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, delivery={"rate_per_second": 10.0})
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(25)])
    started = time.monotonic()
    report = pipeline.run(settings, [str(SAMPLE)], DAY)
    took = time.monotonic() - started
    assert report.delivery is not None and report.delivery.sent == 25
    assert took >= 1.4  # 10 at once (one second's burst), then 10 per second


def test_a_sender_with_an_older_clock_reading_gets_no_tokens_twice(tmp_path: Path) -> None:
    """Senders read the clock before they get the shared bucket: one that waited for
    the lock while another took the second's tokens must not move the bucket's clock
    back and be refilled for time already counted (two senders sent 1.3x the limit)."""
    settings = make_settings(tmp_path)
    with Database.open(settings.database.url) as db:

        def take(at: datetime) -> int:
            with db.write() as tx:
                granted, _wait = tx.ledger.take_tokens("relay", 100, at, per_second=10.0, per_day=0)
                return granted

        assert take(NOW) == 10  # one second's burst
        assert take(NOW + timedelta(seconds=1)) == 10  # refilled after a second
        assert take(NOW + timedelta(seconds=0.5)) == 0  # read before the lock: nothing
        assert take(NOW + timedelta(seconds=1.5)) == 5  # half a second after the last


# ---------------------------------------------------------------- one loop per edition


def test_one_process_never_runs_two_loops_for_one_edition(tmp_path: Path) -> None:
    """``serve`` used to start a resume thread beside its start-up tick: both sent the
    same edition, and a kill became three copies.  The second loop now steps aside."""
    settings = make_settings(tmp_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(30)])
    _recorded(settings)
    box = tmp_path / "box"
    entered = threading.Event()
    release = threading.Event()

    class Slow(MaildirMailer):
        def prepare(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            entered.set()
            release.wait(10)
            return super().prepare(*args, **kwargs)  # type: ignore[arg-type]

    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        reports = []
        first = threading.Thread(
            target=lambda: reports.append(Delivery(settings, db, lambda: Slow(box)).deliver(stored))
        )
        first.start()
        assert entered.wait(10)
        second = Delivery(settings, db, lambda: MaildirMailer(box)).deliver(stored)
        release.set()
        first.join()
    assert second.sent_now == 0 and second.note == "being sent by this process already"
    assert reports[0].sent == 30
    assert len(maildir_messages(box)) == 30


def test_a_pass_waits_for_rows_another_sender_holds_then_takes_the_expired_ones(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, delivery={"lease_seconds": 2})
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(4)])
    _recorded(settings)
    box = tmp_path / "box"
    with Database.open(settings.database.url) as db:
        stored = _stored(db)
        now = datetime.now(UTC)
        other = ledger.Queue(
            db,
            stored.id,
            "elsewhere:1:aaaaaaaa:nnnn:loop",  # another host: never provably dead
            ledger.Policy(lease=timedelta(seconds=2)),
            clock=lambda: now,
            is_dead=lease.owner_is_dead,
            relay="test",
            edition_topics=frozenset(s.topic for s in stored.edition.sections),
        )
        held = other.claim(2).claimed
        assert other.commit([], [held[0].row_id]) == {held[0].row_id}
        started = time.monotonic()
        report = Delivery(settings, db, lambda: MaildirMailer(box)).deliver(stored)
        waited = time.monotonic() - started
    assert report.sent == 4 and report.resent_uncertain == 1
    assert 1.0 <= waited <= 8, waited
    assert len(maildir_messages(box)) == 4


# ---------------------------------------------------------------- the commands


def _newsletter(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": "k" * 32}
    env.pop("NEWSLETTER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=config_path.parent,
        timeout=120,
    )


def test_status_shows_what_is_left_to_send_and_send_sends_it(tmp_path: Path) -> None:
    with smtp_server() as server:
        port = server.port
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@papers.example.org"\n'
        "retries = 0\n"
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n',
        encoding="utf-8",
    )
    settings = config.load(config_path)
    add_subscribers(settings, [(f"r{i}@example.org", None) for i in range(3)])
    down = _newsletter(config_path, "run", str(SAMPLE), "--date", DAY.isoformat())
    assert down.returncode == 1 and "cannot connect" in down.stderr
    shown = _newsletter(config_path, "status")
    assert f"sending {DAY.isoformat()}: 0 of 3 done" in shown.stdout, shown.stdout
    with smtp_server() as server:
        text = config_path.read_text(encoding="utf-8").replace(
            f"port = {port}", f"port = {server.port}"
        )
        config_path.write_text(text, encoding="utf-8")
        sent = _newsletter(config_path, "send")
        assert sent.returncode == 0, sent.stderr
        assert f"Edition {DAY.isoformat()}: 3 sent" in sent.stdout
        assert len(server.handler.messages) == 3
        again = _newsletter(config_path, "send")
        assert "Nothing to send" in again.stdout
    assert f"sending {DAY.isoformat()}:" not in _newsletter(config_path, "status").stdout


def test_the_ledger_is_written_with_a_small_page_cache_and_the_big_one_comes_back(
    tmp_path: Path,
) -> None:
    # The novelty index keeps 64 MB of SQLite pages per connection; the connections that
    # write the send ledger use 2 MB, so a send's memory does not grow with the list
    # (docs/benchmarks.md, "Sending"). A pooled connection gets its big cache back.
    from newsletter.store.ledger import SMALL_CACHE_KIB, small_page_cache

    db = Database.open(f"sqlite:///{tmp_path / 'n.db'}")
    try:

        def cache(conn: sa.Connection) -> int:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            return int(raw.execute("PRAGMA cache_size").fetchone()[0])

        with db.engine.connect() as conn:
            big = cache(conn)
            with small_page_cache(conn):
                assert cache(conn) == -SMALL_CACHE_KIB
                assert not conn.in_transaction()  # set without beginning one
            assert cache(conn) == big == -65536
        with db.writer() as writer, writer.write() as tx:
            assert cache(tx.ledger.conn) == -SMALL_CACHE_KIB
        with db.engine.connect() as conn:
            assert cache(conn) == big
    finally:
        db.close()
