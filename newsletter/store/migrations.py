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

import json
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


def _v4_identity(conn: sa.Connection) -> None:
    """Term frequencies, rare pairs, decisions and sightings; the first two are
    filled from the papers seen so far."""
    m = sa.MetaData()
    sa.Table("editions", m, sa.Column("id", sa.Integer, primary_key=True))  # referenced only
    papers = sa.Table(  # read only: the columns the backfill needs
        "papers",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title_key", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
    )
    term_frequencies = sa.Table(
        "term_frequencies",
        m,
        sa.Column("term", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("papers", sa.Integer, nullable=False),
    )
    paper_rare_pairs = sa.Table(
        "paper_rare_pairs",
        m,
        sa.Column("pair", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    identity_decisions = sa.Table(
        "identity_decisions",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("first", sa.String(300), nullable=False, index=True),
        sa.Column("second", sa.String(300), nullable=False, index=True),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("first_title", sa.Text, nullable=False),
        sa.Column("second_title", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    paper_sightings = sa.Table(
        "paper_sightings",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, index=True),
        sa.Column("title_hash", sa.BigInteger, nullable=False, index=True),
        sa.Column("same_as", sa.String(300), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest_date", sa.Date, nullable=True),
        sa.Column("arxiv_id", sa.String(40), nullable=True),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in (term_frequencies, paper_rare_pairs, identity_decisions, paper_sightings):
        table.create(conn)
    _v4_backfill(conn, papers, term_frequencies, paper_rare_pairs)


def _v4_backfill(
    conn: sa.Connection, papers: sa.Table, term_frequencies: sa.Table, paper_rare_pairs: sa.Table
) -> None:
    """Count the terms of every paper already seen, then index its rare pairs
    (ranked by the final counts).  The tables are new and empty: plain inserts."""
    from collections import Counter

    from newsletter.identity import DOCUMENTS_TERM, RARE_INDEXED, rare_pairs, term_hash, terms

    batch = 5000
    per_paper: list[tuple[int, list[int]]] = []
    counts: Counter[int] = Counter()
    top = int(conn.execute(sa.select(sa.func.max(papers.c.id))).scalar() or 0)
    for start in range(1, top + 1, batch):
        rows = conn.execute(
            sa.select(papers.c.id, papers.c.title_key, papers.c.abstract)
            .where(papers.c.id >= start, papers.c.id < start + batch)
            .order_by(papers.c.id)
        ).all()
        for paper_id, tkey, abstract in rows:
            hashes = sorted({term_hash(t) for t in terms(tkey, abstract)})
            per_paper.append((int(paper_id), hashes))
            counts.update(hashes)
    if not per_paper:
        return
    counts[DOCUMENTS_TERM] = len(per_paper)
    count_rows = [{"term": t, "papers": n} for t, n in sorted(counts.items())]
    pair_rows = [
        {"pair": pair, "paper_id": paper_id}
        for paper_id, hashes in per_paper
        for pair in rare_pairs(hashes, counts, RARE_INDEXED)
    ]
    for table, rows_ in ((term_frequencies, count_rows), (paper_rare_pairs, pair_rows)):
        for i in range(0, len(rows_), batch):
            conn.execute(table.insert(), rows_[i : i + batch])


def _v5_ledger_leases(conn: sa.Connection) -> None:
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


def _v6_bounce(conn: sa.Connection) -> None:
    """What comes back: bounces, complaints and mailto unsubscribes, once per message."""
    meta = sa.MetaData()
    sa.Table("subscribers", meta, sa.Column("id", sa.Integer, primary_key=True))  # referenced
    sa.Table(
        "returns",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.String(300), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("edition_id", sa.Integer, nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("message_key", "seq", name="uq_returns_message"),
        sa.Index("ix_returns_kind_at", "kind", "at"),
    ).create(conn)


def _v7_votes(conn: sa.Connection) -> None:
    """Subscribers' votes (👍/👎, seeds) and their ranking switch."""
    m = sa.MetaData()
    sa.Table("subscribers", m, sa.Column("id", sa.Integer, primary_key=True))  # referenced only
    sa.Table("editions", m, sa.Column("id", sa.Integer, primary_key=True))  # referenced only
    owner = sa.ForeignKey("subscribers.id", ondelete="CASCADE")
    sa.Table(
        "votes",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.Integer, owner, nullable=False),
        sa.Column("paper_key", sa.String(300), nullable=False),
        sa.Column("liked", sa.Boolean, nullable=False),
        sa.Column("seeded", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=True),
        sa.UniqueConstraint("subscriber_id", "paper_key", name="uq_votes_subscriber_paper"),
    ).create(conn)
    sa.Table(
        "ranking_settings",
        m,
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    ).create(conn)


def _v8_history(conn: sa.Connection) -> None:
    """Edition summaries and papers per topic, filled from the editions recorded so far,
    so a run reads the totals of its history, not every edition's JSON."""
    m = sa.MetaData()
    editions = sa.Table(
        "editions",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("date", sa.Date),
        sa.Column("number", sa.Integer),
        sa.Column("paper_count", sa.Integer),
        sa.Column("payload", sa.Text),
    )

    def owner() -> sa.ForeignKey:
        return sa.ForeignKey("editions.id", ondelete="CASCADE")

    summaries = sa.Table(
        "edition_summaries",
        m,
        sa.Column("edition_id", sa.Integer, owner(), primary_key=True, autoincrement=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("paper_count", sa.Integer, nullable=False),
        sa.Column("sections", sa.Text, nullable=False),
        sa.Index("ix_edition_summaries_date_number", "date", "number"),
    )
    topics = sa.Table(
        "edition_topics",
        m,
        sa.Column("edition_id", sa.Integer, owner(), primary_key=True, autoincrement=False),
        sa.Column("topic", sa.String(100), primary_key=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("papers", sa.Integer, nullable=False),
        sa.Index("ix_edition_topics_topic_date_number", "topic", "date", "number"),
    )
    summaries.create(conn)
    topics.create(conn)
    rows = conn.execute(
        sa.select(
            editions.c.id,
            editions.c.date,
            editions.c.number,
            editions.c.paper_count,
            editions.c.payload,
        )
    )
    for row in rows.fetchall():
        data = json.loads(row.payload)
        sections = [[s["title"], len(s["papers"])] for s in data.get("sections", ()) if s["papers"]]
        counts: dict[str, int] = {}
        seen: set[str] = set()
        for s in data.get("sections", ()):
            for p in s["papers"]:
                if p["id"] in seen:
                    continue
                seen.add(p["id"])
                primary = p["topic"]
                for t in dict.fromkeys([primary, *(p.get("topics") or ())]):
                    counts[t] = counts.get(t, 0) + 1
        head = {"edition_id": row.id, "date": row.date, "number": row.number}
        conn.execute(
            summaries.insert().values(
                **head,
                paper_count=row.paper_count,
                sections=json.dumps(sections, ensure_ascii=False),
            )
        )
        if counts:
            conn.execute(
                topics.insert(),
                [{**head, "topic": t, "papers": n} for t, n in sorted(counts.items())],
            )


# ---------------------------------------------------------------- 9


def _v9_title_heads(conn: sa.Connection) -> None:
    """The title-head index (``candidates.head_index_key``), filled from the papers
    seen so far, in id order, each head's list stopping as a run's would."""
    from newsletter.identity import MAX_HEAD_POSTINGS, head_index_key

    m = sa.MetaData()
    papers = sa.Table(  # read only: the columns the backfill needs
        "papers",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title_key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
    )
    heads = sa.Table(
        "paper_title_heads",
        m,
        sa.Column("head", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    heads.create(conn)
    batch = 5000
    postings: dict[int, int] = {}
    top = int(conn.execute(sa.select(sa.func.max(papers.c.id))).scalar() or 0)
    for start in range(1, top + 1, batch):
        rows = []
        for paper_id, tkey, title in conn.execute(
            sa.select(papers.c.id, papers.c.title_key, papers.c.title)
            .where(papers.c.id >= start, papers.c.id < start + batch)
            .order_by(papers.c.id)
        ):
            head = head_index_key(title or tkey, tkey)
            if postings.get(head, 0) <= MAX_HEAD_POSTINGS:
                postings[head] = postings.get(head, 0) + 1
                rows.append({"head": head, "paper_id": int(paper_id)})
        if rows:
            conn.execute(heads.insert(), rows)


# ---------------------------------------------------------------- 10


def _v10_ranking_models(conn: sa.Connection) -> None:
    """The ranking's fitted vocabulary (versioned) and each subscriber's stored model,
    so a run retrains only the subscribers whose votes changed."""
    m = sa.MetaData()
    sa.Table("subscribers", m, sa.Column("id", sa.Integer, primary_key=True))  # referenced only
    sa.Table(
        "ranking_vocabularies",
        m,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("papers", sa.Integer, nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
    ).create(conn)
    sa.Table(
        "ranking_models",
        m,
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("vocabulary_version", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.LargeBinary, nullable=True),
    ).create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "papers, bands and editions", _v1_papers_bands_editions),
    Migration(2, "source state, ingested files, run claims and run reports", _v2_sources_and_runs),
    Migration(3, "subscribers, consent records and the send ledger", _v3_subscribers_and_ledger),
    Migration(4, "term frequencies, rare-term pairs, identity decisions, sightings", _v4_identity),
    Migration(5, "send ledger leases, retry times and relay rate limits", _v5_ledger_leases),
    Migration(6, "bounces, complaints and mailto unsubscribes", _v6_bounce),
    Migration(7, "subscribers' votes and ranking switches", _v7_votes),
    Migration(8, "edition summaries and papers per topic", _v8_history),
    Migration(9, "title heads: a version that dropped its subtitle", _v9_title_heads),
    Migration(10, "ranking vocabulary and stored per-subscriber models", _v10_ranking_models),
)
LATEST = MIGRATIONS[-1].version
