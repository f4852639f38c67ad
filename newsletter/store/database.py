"""The database: engine, connections, transactions and migrations — nothing else.

SQLAlchemy 2 Core over SQLite (default, one file) or PostgreSQL (by URL).
SQLite runs in WAL mode with a busy timeout of seconds and ``synchronous=FULL``
(a lost commit would mean a paper sent twice); write transactions start with
``BEGIN IMMEDIATE`` so two processes serialize instead of failing half-way,
and on PostgreSQL they take one advisory lock, which serializes writers the
same way.

:meth:`Database.read` and :meth:`Database.write` yield a :class:`Transaction`:
the repositories (papers, the seen index, identity index and corrections,
editions, sources, runs, claims, subscribers, ledger) over one connection.
What commits together is the caller's choice — the pipeline records an
edition, the papers it marks seen and its send ledger in one ``write()``,
so a run killed at any point leaves the state as if it never ran or as if it
completed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from newsletter.errors import DatabaseDamaged, StoreError
from newsletter.store.corrections import Corrections
from newsletter.store.editions import Editions
from newsletter.store.identity_index import IdentityIndex
from newsletter.store.ledger import Ledger, StartJournal, StartMarks, small_page_cache
from newsletter.store.locks import hold
from newsletter.store.migrations import LATEST, MIGRATIONS, schema_migrations
from newsletter.store.papers import Papers
from newsletter.store.ranking import RankingState
from newsletter.store.returns import Returns
from newsletter.store.runs import Claims, Runs
from newsletter.store.schema import metadata
from newsletter.store.seen import Seen
from newsletter.store.sources import Sources
from newsletter.store.subscribers import Subscribers
from newsletter.store.urls import display_url, sqlite_path
from newsletter.store.votes import Votes

log = logging.getLogger(__name__)

_BEGIN_ATTEMPTS = 6
BUSY_SECONDS = 30.0
"""SQLite's busy timeout: how long a write waits for another writer's lock."""
_ADVISORY_LOCK = 4711  # PostgreSQL: the one lock every write transaction takes


def _engine(url: str, busy_seconds: float = BUSY_SECONDS) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            # One connection shared by every thread: otherwise each would see its own
            # empty in-memory database.
            engine = sa.create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            engine = sa.create_engine(url, connect_args={"timeout": busy_seconds})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Identity lookups are random probes into a large index: map the file
            # (no copy per page read) and keep a bigger page cache than the 2 MB default.
            cursor.execute("PRAGMA mmap_size=2147418112")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class Transaction:
    """The repositories over one connection: what a :meth:`Database.read` or
    :meth:`Database.write` block works with.  Everything done through one
    ``Transaction`` of a ``write()`` commits together or not at all."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    @cached_property
    def papers(self) -> Papers:
        return Papers(self._conn)

    @cached_property
    def seen(self) -> Seen:
        """What novelty reads: papers, bands, rare pairs, term counts, decisions."""
        return Seen(self._conn)

    @cached_property
    def identity(self) -> IdentityIndex:
        return IdentityIndex(self._conn)

    @cached_property
    def corrections(self) -> Corrections:
        return Corrections(self._conn)

    @cached_property
    def editions(self) -> Editions:
        return Editions(self._conn)

    @cached_property
    def sources(self) -> Sources:
        return Sources(self._conn)

    @cached_property
    def runs(self) -> Runs:
        return Runs(self._conn)

    @cached_property
    def claims(self) -> Claims:
        return Claims(self._conn)

    @cached_property
    def subscribers(self) -> Subscribers:
        return Subscribers(self._conn)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self._conn)

    @cached_property
    def returns(self) -> Returns:
        return Returns(self._conn)

    @cached_property
    def votes(self) -> Votes:
        return Votes(self._conn)

    @cached_property
    def ranking(self) -> RankingState:
        """The ranking's stored vocabulary and per-subscriber models."""
        return RankingState(self._conn)


class Writer:
    """A kept connection of :meth:`Database.writer`: ``write()`` is a transaction on it,
    with the guarantees of :meth:`Database.write`."""

    def __init__(self, db: Database, conn: sa.Connection) -> None:
        self._db = db
        self._conn = conn

    @contextmanager
    def write(self, *, serialized: bool = True) -> Iterator[Transaction]:
        conn = self._conn
        try:
            for attempt in range(_BEGIN_ATTEMPTS):
                try:
                    transaction = conn.begin()
                    if not self._db.is_sqlite and serialized:
                        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
                    break
                except sa.exc.OperationalError as exc:
                    if conn.in_transaction():
                        conn.rollback()
                    locked = self._db.is_sqlite and "locked" in str(exc.orig)
                    if not locked or attempt == _BEGIN_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * 2**attempt)
            with transaction:
                yield Transaction(conn)
        except sa.exc.DatabaseError as exc:
            damaged = _damaged(self._db.engine, exc)
            if damaged is not None:
                raise damaged from None
            if not isinstance(exc, sa.exc.OperationalError):
                raise
            raise StoreError(
                f"the database could not write: {exc.orig}",
                hint="nothing of this step was recorded; free disk space or fix the "
                "database, then run again",
            ) from None


class Database:
    """One database: its engine, its transactions, its schema version."""

    def __init__(self, engine: sa.Engine, *, empty: bool = False) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.empty = empty
        """True for the stand-in of a database that does not exist yet (:meth:`open_read_only`)."""

    # ------------------------------------------------------------ opening

    @classmethod
    def connect(cls, url: str, *, busy_seconds: float = BUSY_SECONDS) -> Database:
        """Connect without touching the schema (a SQLite file's folder is created);
        ``busy_seconds``: how long SQLite waits for another writer's lock.

        An existing SQLite file of zero bytes is refused (:class:`DatabaseDamaged`):
        SQLite would take it for a new database, and the run would find every paper
        new again and no subscriber."""
        path = sqlite_path(url)
        if path is not None:
            _refuse_empty(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(_engine(url, busy_seconds))

    @staticmethod
    def missing_folder(url: str) -> Path | None:
        """The folder a SQLite database at ``url`` would be in, if it does not exist
        (``open`` creates it; a reader that finds none is looking in the wrong place)."""
        path = sqlite_path(url)
        if path is None or path.parent.is_dir():
            return None
        return path.parent

    @classmethod
    def upgrade(cls, url: str) -> list[int]:
        """Create or upgrade the schema of the database at ``url``; the versions applied."""
        with cls.connect(url) as db:
            return db.migrate()

    @classmethod
    def open(cls, url: str, *, busy_seconds: float = BUSY_SECONDS) -> Database:
        """Open the database, creating it or migrating it to the latest schema.

        ``busy_seconds`` bounds each wait for another process's write lock (SQLite);
        a write transaction tries :data:`_BEGIN_ATTEMPTS` times before it is a
        StoreError (the bounce intake on a Postfix pipe passes a few seconds, to
        answer "try again later" in well under a minute)."""
        db = cls.connect(url, busy_seconds=busy_seconds)
        try:
            db.migrate()
        except sa.exc.DatabaseError as exc:
            db.close()
            raise _damaged(db.engine, exc) or _cannot_open(url, exc) from None
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def open_read_only(cls, url: str) -> Database:
        """The database as it is, for reading (preview, status, health); nothing is
        created or migrated.

        A database that does not exist yet, or has no schema, reads as empty:
        what comes back is an empty in-memory database at the latest schema
        (``empty`` is True), so every read answers "nothing yet".  An outdated
        schema is an error with a hint.
        """
        path = sqlite_path(url)
        if path is not None and not path.exists():
            return cls._empty()
        if path is not None:
            _refuse_empty(path)
        db = cls(_engine(url))
        try:
            version = db.schema_version()
        except sa.exc.DatabaseError as exc:
            db.close()
            raise _damaged(db.engine, exc) or _cannot_open(url, exc) from None
        if version == 0:
            db.close()
            return cls._empty()
        if version < LATEST:
            db.close()
            raise StoreError(
                f"database schema is at version {version}, this newsletter needs {LATEST}",
                hint="run 'newsletter migrate' once to upgrade it",
            )
        return db

    @classmethod
    def _empty(cls) -> Database:
        """An in-memory database with the live tables (``schema.py``, which the
        migrations test holds equal to the migrated schema), made in one go."""
        db = cls(_engine("sqlite://"), empty=True)
        with db.engine.begin() as conn:
            metadata.create_all(conn)
        return db

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ transactions

    def start_marks(
        self, journal: StartJournal | None = None, lease: timedelta | None = None
    ) -> StartMarks:
        """A sender worker's own connection for marking its group's messages started
        (:class:`~newsletter.store.ledger.StartMarks`: autocommit, off the group's
        transaction, so a mark is in the database before the message's final dot),
        through the loop's ``journal`` while its lease is live (SQLite)."""
        return StartMarks(self.engine, journal, lease)

    def start_journal(self, owner: str) -> StartJournal | None:
        """A delivery loop's journal of start marks (a SQLite file only: see
        :class:`~newsletter.store.ledger.StartJournal`)."""
        if self.engine.dialect.name != "sqlite" or isinstance(self.engine.pool, StaticPool):
            return None
        path = StartJournal.path_for(self.engine.url.database, owner)
        return StartJournal(path) if path is not None else None

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A connection for reading (one consistent snapshot on SQLite); keep it short."""
        try:
            with self.engine.connect() as conn:
                yield Transaction(conn)
        except sa.exc.DatabaseError as exc:
            damaged = _damaged(self.engine, exc)
            if damaged is None:
                raise
            raise damaged from None

    @contextmanager
    def write(self, *, serialized: bool = True) -> Iterator[Transaction]:
        """A write transaction; on SQLite it takes the write lock up front.

        On PostgreSQL every write transaction takes one advisory lock, so they
        run one at a time as on SQLite; ``serialized=False`` skips it for work
        that locks its own rows (the send ledger's claims, ``FOR UPDATE SKIP
        LOCKED``, and its updates by primary key), so senders on several
        machines do not queue behind each other.

        A database that cannot write (disk full, file too large, read-only,
        locked past the busy timeout) is a StoreError with a hint: the
        transaction rolled back, so nothing of it was recorded.
        """
        with self._writing(serialized) as conn:
            yield Transaction(conn)

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        """The cross-process lock ``name`` (:mod:`newsletter.store.locks`: a PostgreSQL
        session advisory lock, a ``flock`` beside a SQLite file), taken without
        waiting: yields True while this block holds it, False when someone else does."""
        with hold(self.engine, name) as held:
            yield held

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """One connection kept for many short write transactions (a delivery loop
        records a reply per message: checking a connection out of the pool for each
        costs more than the transaction itself).  Use it from one thread at a time."""
        conn = self.engine.connect().execution_options(immediate=True)
        try:
            with small_page_cache(conn):  # many rows updated, none read again
                yield Writer(self, conn)
        finally:
            conn.close()

    @contextmanager
    def _writing(self, serialized: bool = True) -> Iterator[sa.Connection]:
        try:
            with self._begin_write(serialized) as conn:
                yield conn
        except sa.exc.DatabaseError as exc:
            damaged = _damaged(self.engine, exc)
            if damaged is not None:
                raise damaged from None
            if not isinstance(exc, sa.exc.OperationalError):
                raise
            raise StoreError(
                f"the database could not write: {exc.orig}",
                hint="nothing of this step was recorded; free disk space or fix the "
                "database, then run again",
            ) from None

    @contextmanager
    def _begin_write(self, serialized: bool = True) -> Iterator[sa.Connection]:
        """Connection and transaction for :meth:`write`.

        SQLite answers BEGIN IMMEDIATE with SQLITE_BUSY at once, bypassing the
        busy timeout, in a few cases (another connection switching a new file
        to WAL, recovering the WAL); the BEGIN, which has done nothing yet, is
        retried a few times before giving up.
        """
        for attempt in range(_BEGIN_ATTEMPTS):
            conn = self.engine.connect().execution_options(immediate=True)
            try:
                transaction = conn.begin()
                if not self.is_sqlite and serialized:
                    conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
                break
            except sa.exc.OperationalError as exc:
                conn.close()
                locked = self.is_sqlite and "locked" in str(exc.orig)
                if not locked or attempt == _BEGIN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        with conn, transaction:
            yield conn

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        """The highest migration applied (0: no schema yet)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_migrations"):
                return 0
            value = conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar()
            return int(value or 0)

    def migrate(self, *, to: int = LATEST) -> list[int]:
        """Apply the missing migrations up to ``to``, each with its record in one
        transaction; returns the versions applied."""
        # A schema already there needs no write lock (a read goes past another writer):
        # opening must not queue behind a long write only to find nothing to do.
        try:
            if self.schema_version() >= to:
                return []
        except sa.exc.DatabaseError:
            pass  # damaged or unreadable: the write below says so with its hint
        # IMMEDIATE: a deferred read-then-create would fail at once ("database is locked")
        # when two processes open a fresh database together, instead of waiting.
        self._retried(self._create_record)
        applied: list[int] = []
        for step in MIGRATIONS:
            if step.version > to:
                break
            if self._retried(lambda step=step: self._migrate_step(step)):
                applied.append(step.version)
        return applied

    def _retried(self, write: Any) -> Any:
        """``write()``, tried again when SQLite refused it as "locked" at once (two
        processes opening one fresh file: past the busy timeout); each try is one
        transaction, nothing of a refused one written."""
        for attempt in range(_MIGRATE_ATTEMPTS):
            try:
                return write()
            except StoreError as exc:
                if "locked" not in str(exc) or attempt == _MIGRATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return None

    def _create_record(self) -> None:
        with self._writing() as conn:
            schema_migrations.create(conn, checkfirst=True)

    def _migrate_step(self, step: Any) -> bool:
        """Apply ``step`` with its record in one transaction, unless it is recorded."""
        with self._writing() as conn:
            done = conn.execute(
                sa.select(schema_migrations.c.version).where(
                    schema_migrations.c.version == step.version
                )
            ).first()
            if done:
                return False
            log.info("applying migration %d: %s", step.version, step.name)
            step.apply(conn)
            conn.execute(
                schema_migrations.insert().values(
                    version=step.version, name=step.name, applied_at=datetime.now(UTC)
                )
            )
            return True


_MIGRATE_ATTEMPTS = 8
"""Tries of one migration step that SQLite refused as "locked" at once."""

_DAMAGED = ("file is not a database", "database disk image is malformed")
"""What SQLite says of a file that is not (or no longer) a database it can read."""


def _damaged(engine: sa.Engine, exc: sa.exc.DatabaseError) -> DatabaseDamaged | None:
    """The error for a corrupt database file, or None when ``exc`` is something else."""
    text = str(exc.orig)
    if engine.dialect.name != "sqlite" or not any(words in text for words in _DAMAGED):
        return None
    where = engine.url.database or display_url(engine.url.render_as_string())
    return DatabaseDamaged(f"{where}: the database is damaged ({text})")


def _refuse_empty(path: Path) -> None:
    """A zero-length SQLite file is refused, never re-initialised.  SQLite makes a new
    file and sets WAL mode (writing its header) within microseconds; a file still
    empty after a pause is no database being created but one that lost its content."""
    for pause in (0.0, 0.5):
        time.sleep(pause)
        try:
            if path.stat().st_size > 0:
                return
        except FileNotFoundError:
            return
    raise DatabaseDamaged(
        f"{path}: the database file is empty (0 bytes); refusing to start a new one over it",
        hint="restore it from a backup (or delete it to start afresh: every paper is new "
        "again and there are no subscribers)",
    )


def _cannot_open(url: str, exc: sa.exc.DatabaseError) -> StoreError:
    return StoreError(
        f"cannot open database {display_url(url)}: {exc.orig}",
        hint="check database.url in config.toml or NEWSLETTER_DATABASE_URL",
    )
