"""The database: seen papers, their near-duplicate index, editions (and their send ledger).

SQLAlchemy 2 Core over SQLite (default, one file) or PostgreSQL (by URL).
SQLite runs in WAL mode with a busy timeout of seconds and ``synchronous=FULL``
(a lost commit would mean a paper sent twice); write transactions start with
``BEGIN IMMEDIATE`` so two processes serialize instead of failing half-way.

Only :meth:`Store.record_edition` writes papers: the edition row, the papers it
marks seen and their index rows commit in one transaction, so a run killed at
any point leaves the state as if it never ran or as if it completed.  The
edition's send ledger is written in that transaction too.  Subscribers live in
the same database (:mod:`newsletter.subscribers.subscriptions`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from newsletter import edition as edition_json
from newsletter import faults
from newsletter.errors import StoreError
from newsletter.identity import Signature
from newsletter.model import Edition, Paper
from newsletter.store.migrations import (
    LATEST,
    MIGRATIONS,
    editions,
    ingested_files,
    paper_bands,
    papers,
    schema_migrations,
    source_state,
)

log = logging.getLogger(__name__)

_BEGIN_ATTEMPTS = 6

# Parameters per IN (...) list: below SQLite's 32766 and PostgreSQL's 65535 limits.
_CHUNK = 900


def title_hash(title_key: str) -> int:
    """A signed 63-bit hash of a normalized title: indexed instead of the (long) text."""
    digest = hashlib.blake2b(title_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) >> 1


@dataclass(frozen=True)
class SeenPaper:
    """What identity needs of a paper seen before."""

    id: int
    key: str
    arxiv_id: str | None
    title_key: str
    signature: Signature | None


@dataclass(frozen=True)
class NewPaper:
    """A paper to mark seen, with what its identity index needs."""

    paper: Paper
    title_key: str
    signature: Signature | None


@dataclass(frozen=True)
class Alias:
    """An arXiv id learnt for a paper first seen without one."""

    paper_key: str
    arxiv_id: str


@dataclass(frozen=True)
class SourceState:
    """What a fetched source returned last: validators and a hash of its content."""

    name: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    changed_at: datetime | None = None


@dataclass(frozen=True)
class IngestedFile:
    """A text digest ingested, by the SHA-256 of its bytes."""

    content_hash: str
    name: str
    source: str
    ingested_at: datetime | None = None


@dataclass(frozen=True)
class Ingested:
    """What a run read: recorded with its edition, so an input counts as ingested
    only once its papers are recorded."""

    sources: tuple[SourceState, ...] = ()
    files: tuple[IngestedFile, ...] = ()


class EditionExists(StoreError):
    """An edition for this date is recorded already."""

    default_hint = "run --force makes another edition for the same date"


def _engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
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


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


class Store:
    """Seen papers and editions in one database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"

    # ------------------------------------------------------------ opening

    @classmethod
    def connect(cls, url: str) -> Store:
        """Connect without touching the schema (a SQLite file's folder is created)."""
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(_engine(url))

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store | None:
        """Open the store, migrating it to the latest schema.

        With ``create=False`` (preview) nothing is created or migrated: a
        database that does not exist yet, or has no schema, gives None (an
        empty state); an outdated schema is an error.
        """
        path = sqlite_path(url)
        if path is not None and not path.exists() and not create:
            return None
        store = cls.connect(url)
        try:
            if create:
                store.migrate()
                return store
            version = store.schema_version()
            if version == 0:
                store.close()
                return None
            if version < LATEST:
                store.close()
                raise StoreError(
                    f"database schema is at version {version}, this newsletter needs {LATEST}",
                    hint="run 'newsletter migrate' once to upgrade it",
                )
            return store
        except sa.exc.OperationalError as exc:
            store.close()
            raise StoreError(
                f"cannot open database {make_url(url).render_as_string(hide_password=True)}: "
                f"{exc.orig}",
                hint="check database.url in config.toml or NEWSLETTER_DATABASE_URL",
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite it takes the write lock up front.

        A database that cannot write (disk full, file too large, read-only,
        locked past the busy timeout) is a StoreError with a hint: the
        transaction rolled back, so nothing of it was recorded.
        """
        try:
            with self._begin_write() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"the database could not write: {exc.orig}",
                hint="nothing of this step was recorded; free disk space or fix the "
                "database, then run again",
            ) from None

    @contextmanager
    def _begin_write(self) -> Iterator[sa.Connection]:
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
                if not self.is_sqlite:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(4711)"))
                break
            except sa.exc.OperationalError as exc:
                conn.close()
                locked = self.is_sqlite and "locked" in str(exc.orig)
                if not locked or attempt == _BEGIN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        with conn, transaction:
            yield conn

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_migrations"):
                return 0
            value = conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar()
            return int(value or 0)

    def migrate(self) -> list[int]:
        """Apply the missing migrations, each with its record in one transaction."""
        # IMMEDIATE: a deferred read-then-create would fail at once ("database is locked")
        # when two processes open a fresh database together, instead of waiting.
        with self.write() as conn:
            schema_migrations.create(conn, checkfirst=True)
        applied: list[int] = []
        for step in MIGRATIONS:
            with self.write() as conn:
                done = conn.execute(
                    sa.select(schema_migrations.c.version).where(
                        schema_migrations.c.version == step.version
                    )
                ).first()
                if done:
                    continue
                log.info("applying migration %d: %s", step.version, step.name)
                step.apply(conn)
                conn.execute(
                    schema_migrations.insert().values(
                        version=step.version, name=step.name, applied_at=datetime.now(UTC)
                    )
                )
                applied.append(step.version)
        return applied

    # ------------------------------------------------------------ identity lookups

    def band_hits(self, bands: Iterable[int]) -> dict[int, list[int]]:
        """The ids of the seen papers under each band value (batched indexed lookups)."""
        hits: dict[int, list[int]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(bands))):
                rows = conn.execute(
                    sa.select(paper_bands.c.band, paper_bands.c.paper_id).where(
                        paper_bands.c.band.in_(chunk)
                    )
                )
                for band, paper_id in rows:
                    hits.setdefault(band, []).append(paper_id)
        return hits

    def candidates(
        self,
        arxiv_ids: Iterable[str],
        title_hashes: Iterable[int],
        ids: Iterable[int] = (),
    ) -> list[SeenPaper]:
        """Every seen paper with one of these arXiv ids, title hashes or ids.

        Batched: a whole digest costs a few indexed ``IN`` queries, never a scan.
        """
        conditions = []
        for chunk in _chunks(sorted(set(arxiv_ids))):
            conditions.append(papers.c.arxiv_id.in_(chunk))
        for chunk in _chunks(sorted(set(title_hashes))):
            conditions.append(papers.c.title_hash.in_(chunk))
        for chunk in _chunks(sorted(set(ids))):
            conditions.append(papers.c.id.in_(chunk))
        columns = (
            papers.c.id,
            papers.c.key,
            papers.c.arxiv_id,
            papers.c.title_key,
            papers.c.signature,
        )
        found: dict[int, SeenPaper] = {}
        with self.engine.connect() as conn:
            for condition in conditions:
                for row in conn.execute(sa.select(*columns).where(condition)):
                    found[row.id] = SeenPaper(
                        id=row.id,
                        key=row.key,
                        arxiv_id=row.arxiv_id,
                        title_key=row.title_key,
                        signature=Signature(bytes(row.signature)) if row.signature else None,
                    )
        return [found[i] for i in sorted(found)]

    def paper_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar() or 0)

    # ------------------------------------------------------------ editions

    def editions_on(self, day: date) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.count()).select_from(editions).where(editions.c.date == day)
            ).scalar()
            return int(value or 0)

    def latest_edition_on(self, day: date) -> Edition | None:
        with self.engine.connect() as conn:
            payload = conn.execute(
                sa.select(editions.c.payload)
                .where(editions.c.date == day)
                .order_by(editions.c.number.desc())
                .limit(1)
            ).scalar()
        return edition_json.from_json(payload) if payload else None

    def recent_editions(
        self, max_papers: int, before: tuple[date, int] | None = None
    ) -> list[Edition]:
        """Newest editions first, enough of them to hold ``max_papers`` papers (for feeds)."""
        query = sa.select(editions.c.payload, editions.c.paper_count).order_by(
            editions.c.date.desc(), editions.c.number.desc()
        )
        if before is not None:
            day, number = before
            query = query.where(
                sa.or_(
                    editions.c.date < day,
                    sa.and_(editions.c.date == day, editions.c.number < number),
                )
            )
        result: list[Edition] = []
        total = 0
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                if total >= max_papers:
                    break
                result.append(edition_json.from_json(row.payload))
                total += row.paper_count
        return result

    def record_edition(
        self,
        edition: Edition,
        new: Sequence[NewPaper],
        aliases: Sequence[Alias] = (),
        *,
        force: bool = False,
        ingested: Ingested = Ingested(),
        ledger_domain: str | None = None,
    ) -> Edition:
        """Record the edition and mark its papers seen, all in one transaction.

        Raises EditionExists when the date has an edition and ``force`` is off.
        With ``force`` the edition gets the next number for its date.  With
        ``ledger_domain`` (the Message-ID domain) the same transaction writes
        the edition's send ledger: a row per confirmed subscriber
        (:mod:`newsletter.delivery.ledger`), so no edition exists without its recipients.
        """
        from dataclasses import replace

        from newsletter.delivery import ledger

        now = datetime.now(UTC)
        with self.write() as conn:
            existing = conn.execute(
                sa.select(sa.func.max(editions.c.number)).where(editions.c.date == edition.date)
            ).scalar()
            if existing and not force:
                raise EditionExists(
                    f"an edition for {edition.date.isoformat()} is recorded already",
                    hint="nothing was changed; use --force to publish another one for that date",
                )
            edition = replace(edition, number=int(existing or 0) + 1)
            inserted = conn.execute(
                editions.insert().values(
                    date=edition.date,
                    number=edition.number,
                    paper_count=edition.paper_count,
                    payload=edition_json.to_json(edition),
                    created_at=now,
                )
            ).inserted_primary_key
            assert inserted is not None
            edition_id = int(inserted[0])
            for chunk in _chunks(list(new), 500):
                rows = [_paper_row(item, edition_id, now) for item in chunk]
                conn.execute(papers.insert(), rows)
                keyed = conn.execute(
                    sa.select(papers.c.id, papers.c.key).where(
                        papers.c.key.in_([r["key"] for r in rows])
                    )
                )
                id_by_key = {r.key: r.id for r in keyed}
                band_rows = [
                    {"band": band, "paper_id": id_by_key[item.paper.key]}
                    for item in chunk
                    if item.signature is not None
                    for band in sorted(set(item.signature.bands()))
                ]
                if band_rows:
                    conn.execute(paper_bands.insert(), band_rows)
            for alias in aliases:
                conn.execute(
                    papers.update()
                    .where(papers.c.key == alias.paper_key, papers.c.arxiv_id.is_(None))
                    .values(arxiv_id=alias.arxiv_id)
                )
            _write_ingested(conn, ingested, now)
            if ledger_domain is not None:
                ledger.create_rows(conn, edition, edition_id, ledger_domain, now)
            faults.hit("before-commit")  # inert unless NEWSLETTER_FAULT names it
        return edition

    # ------------------------------------------------------------ sources

    def record_ingested(self, ingested: Ingested) -> None:
        """Record what a run read when it had no edition to record it with."""
        if ingested.sources or ingested.files:
            with self.write() as conn:
                _write_ingested(conn, ingested, datetime.now(UTC))

    def source_states(self) -> dict[str, SourceState]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(source_state)).all()
        return {
            r.name: SourceState(r.name, r.etag, r.last_modified, r.content_hash, r.changed_at)
            for r in rows
        }

    def ingested_files(self, hashes: Iterable[str]) -> dict[str, IngestedFile]:
        """The files among ``hashes`` ingested before, by hash."""
        found: dict[str, IngestedFile] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(hashes))):
                for r in conn.execute(
                    sa.select(ingested_files).where(ingested_files.c.content_hash.in_(chunk))
                ):
                    found[r.content_hash] = IngestedFile(
                        r.content_hash, r.name, r.source, r.ingested_at
                    )
        return found

    def bulk_seed(self, new: Sequence[NewPaper]) -> None:
        """Mark papers seen without an edition (benchmarks and imports)."""
        now = datetime.now(UTC)
        with self.write() as conn:
            start = int(
                conn.execute(sa.select(sa.func.coalesce(sa.func.max(papers.c.id), 0))).scalar() or 0
            )
            rows: list[dict[str, Any]] = []
            band_rows: list[dict[str, int]] = []
            for offset, item in enumerate(new, start=1):
                rows.append({"id": start + offset, **_paper_row(item, None, now)})
                if item.signature is not None:
                    band_rows.extend(
                        {"band": b, "paper_id": start + offset}
                        for b in sorted(set(item.signature.bands()))
                    )
            conn.execute(papers.insert(), rows)
            if band_rows:
                conn.execute(paper_bands.insert(), band_rows)


def _write_ingested(conn: sa.Connection, ingested: Ingested, now: datetime) -> None:
    for state in ingested.sources:
        conn.execute(source_state.delete().where(source_state.c.name == state.name))
        conn.execute(
            source_state.insert().values(
                name=state.name,
                etag=state.etag,
                last_modified=state.last_modified,
                content_hash=state.content_hash,
                changed_at=now,
            )
        )
    for file in ingested.files:
        exists = conn.execute(
            sa.select(ingested_files.c.content_hash).where(
                ingested_files.c.content_hash == file.content_hash
            )
        ).first()
        if not exists:
            conn.execute(
                ingested_files.insert().values(
                    content_hash=file.content_hash,
                    name=file.name,
                    source=file.source,
                    ingested_at=now,
                )
            )


def _paper_row(item: NewPaper, edition_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "key": item.paper.key,
        "arxiv_id": item.paper.arxiv_id,
        "title_hash": title_hash(item.title_key),
        "title_key": item.title_key,
        "title": item.paper.title,
        "abstract": item.paper.abstract,
        "url": item.paper.url,
        "source": item.paper.source,
        "digest_date": item.paper.digest_date,
        "signature": item.signature.values if item.signature else None,
        "edition_id": edition_id,
        "seen_at": now,
    }


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
