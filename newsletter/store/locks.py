"""Named locks held across processes for longer than one transaction.

A write transaction serializes writers for its own length.  Some work must not
run twice at once over a span of many transactions: an intake round lists a
mailbox, then reads, applies and moves its messages one transaction each; a
second round over the same mailbox at the same time would fetch messages the
first has moved, and copy one the first is copying.  :func:`hold` takes a lock
named by a string (say ``intake imap://bounces@mail.example.org:993/INBOX``)
and never waits for it: the caller is told it is held elsewhere and decides.

- **PostgreSQL**: a session advisory lock, ``pg_try_advisory_lock(class, key)``,
  ``key`` 32 bits of the name's SHA-256.  The two-key form has its own key space,
  so it never meets the one-key ``pg_advisory_xact_lock`` every write transaction
  takes.  It is held on a connection of its own, in autocommit (no transaction
  left open for the span), and a process that dies loses its session and, with
  it, the lock.
- **SQLite**: ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a file beside the database,
  ``<database file>.lock-<16 hex digits of the name's SHA-256>`` (it says which
  name and process hold it).  The kernel drops the lock when the process dies;
  the file stays, as lock files must (removing one races with the next taker).
- **An in-memory SQLite database**: a lock of this process (no other process can
  see that database).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

_LOCK_CLASS = 4712
"""PostgreSQL: the first key of every named lock (the second is the name's hash)."""

_IN_PROCESS: dict[str, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


def _digest(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()


def pg_key(name: str) -> int:
    """The second key of ``name``'s advisory lock: a signed 32-bit integer."""
    return int.from_bytes(_digest(name)[:4], "big", signed=True)


def lock_file(database: Path, name: str) -> Path:
    """The file beside the SQLite ``database`` whose ``flock`` is ``name``'s lock."""
    return database.with_name(f"{database.name}.lock-{_digest(name).hex()[:16]}")


@contextmanager
def hold(engine: sa.Engine, name: str) -> Iterator[bool]:
    """Hold the lock ``name`` for the ``with`` block, if nobody else holds it.

    Yields True when this block holds it, False when another process (or another
    block of this one) does; it is released when the block ends, however it ends.
    """
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as held:
            yield held
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _in_process(name) as held:
            yield held
        return
    with _flocked(lock_file(Path(database), name), name) as held:
        yield held


@contextmanager
def _advisory(engine: sa.Engine, name: str) -> Iterator[bool]:
    key = pg_key(name)
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = bool(
            conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:cls, :key)"), {"cls": _LOCK_CLASS, "key": key}
            ).scalar()
        )
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(sa.exc.DBAPIError):  # a lost session let it go
                    conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:cls, :key)"),
                        {"cls": _LOCK_CLASS, "key": key},
                    )
    finally:
        conn.close()


@contextmanager
def _flocked(path: Path, name: str) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            with contextlib.suppress(OSError):  # what the file is, for whoever looks
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{name}\npid {os.getpid()}\n".encode(), 0)
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _in_process(name: str) -> Iterator[bool]:
    with _IN_PROCESS_GUARD:
        lock = _IN_PROCESS.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
