"""Schema migrations: the history of the schema, one frozen step at a time.

Each step carries its own DDL — table definitions in a ``MetaData`` of its
own, written as they were when the step was released — and never uses the
live tables of :mod:`newsletter.store.schema`, so changing the live schema
can never change what an old step creates.  A released step is never edited;
a change to the schema is a new step appended here plus the matching change
in ``schema.py``.  ``tests/test_migrations.py`` creates a database at step 1,
upgrades it step by step, and compares it with the live schema on SQLite and
PostgreSQL.

Why not Alembic: the schema is small, the steps are plain SQLAlchemy Core DDL
that runs the same on SQLite and PostgreSQL, and a step and its row in
``schema_migrations`` commit together (as sqlite-utils does), so a crash
mid-upgrade leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

# The record of applied steps.  It is created before any step runs and never changes.
schema_migrations = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sa.Connection], None]


# ---------------------------------------------------------------- 1 (released in 0.1.0)


def _v1_papers_bands_editions(conn: sa.Connection) -> None:
    m = sa.MetaData()
    editions = sa.Table(
        "editions",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("paper_count", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("date", "number", name="uq_editions_date_number"),
    )
    papers = sa.Table(
        "papers",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("arxiv_id", sa.String(40), nullable=True, index=True),
        sa.Column("title_hash", sa.BigInteger, nullable=False, index=True),
        sa.Column("title_key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest_date", sa.Date, nullable=True),
        sa.Column("signature", sa.LargeBinary, nullable=True),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    paper_bands = sa.Table(
        "paper_bands",
        m,
        sa.Column("band", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    for table in (editions, papers, paper_bands):
        table.create(conn)


# ---------------------------------------------------------------- 2 (released in 0.1.0)


def _v2_sources_and_runs(conn: sa.Connection) -> None:
    m = sa.MetaData()
    source_state = sa.Table(
        "source_state",
        m,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("last_modified", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    ingested_files = sa.Table(
        "ingested_files",
        m,
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    run_claims = sa.Table(
        "run_claims",
        m,
        sa.Column("edition_date", sa.Date, primary_key=True),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
    )
    run_reports = sa.Table(
        "run_reports",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edition_date", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("paper_count", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    for table in (source_state, ingested_files, run_claims, run_reports):
        table.create(conn)


# ---------------------------------------------------------------- 3 (released in 0.1.0)


def _v3_subscribers_and_ledger(conn: sa.Connection) -> None:
    m = sa.MetaData()
    # Referenced by a foreign key below; created by step 1, not here.
    sa.Table("editions", m, sa.Column("id", sa.Integer, primary_key=True))
    subscribers = sa.Table(
        "subscribers",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("topics", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
    )
    consents = sa.Table(
        "consents",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    send_ledger = sa.Table(
        "send_ledger",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=False),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("uncertain", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(300), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text, nullable=True),
        sa.UniqueConstraint(
            "edition_id", "subscriber_id", name="uq_send_ledger_edition_subscriber"
        ),
        sa.Index("ix_send_ledger_edition_state", "edition_id", "state"),
    )
    for table in (subscribers, consents, send_ledger):
        table.create(conn)


# ---------------------------------------------------------------- 4


def _v4_ledger_leases(conn: sa.Connection) -> None:
    """The send ledger becomes a queue with leases; relays get a token bucket."""
    stamp = sa.DateTime(timezone=True).compile(dialect=conn.dialect)
    for name in ("lease_until", "handed_over_at", "next_attempt_at"):
        conn.execute(sa.text(f"ALTER TABLE send_ledger ADD COLUMN {name} {stamp}"))
    conn.execute(sa.text("ALTER TABLE send_ledger ADD COLUMN temporary INTEGER NOT NULL DEFAULT 0"))
    conn.execute(sa.text("DROP INDEX ix_send_ledger_edition_state"))
    conn.execute(
        sa.text("CREATE INDEX ix_send_ledger_claim ON send_ledger (edition_id, state, id)")
    )
    sa.Table(
        "send_rate",
        sa.MetaData(),
        sa.Column("relay", sa.String(300), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("day_count", sa.Integer, nullable=False),
    ).create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "papers, bands and editions", _v1_papers_bands_editions),
    Migration(2, "source state, ingested files, run claims and run reports", _v2_sources_and_runs),
    Migration(3, "subscribers, consent records and the send ledger", _v3_subscribers_and_ledger),
    Migration(4, "send ledger leases, retry times and relay rate limits", _v4_ledger_leases),
)
LATEST = MIGRATIONS[-1].version
