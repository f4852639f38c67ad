"""The live schema: the tables the repositories query, as of the latest migration.

These ``Table`` objects describe what the database looks like *now*; they are
never used to create anything.  A change here comes with a new step in
:mod:`newsletter.store.migrations` (which carries its own frozen DDL), and
``tests/test_migrations.py`` checks that the steps applied one after the other
give exactly these tables, columns, types, indexes and constraints.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime: every time is written in UTC, and
    SQLite hands ``DateTime(timezone=True)`` columns back naive (PostgreSQL aware)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

papers = sa.Table(
    "papers",
    metadata,
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

# One row per (MinHash band, paper): the index that finds near-duplicate
# abstracts with a few B-tree probes, however many papers have been seen.
paper_bands = sa.Table(
    "paper_bands",
    metadata,
    sa.Column("band", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

editions = sa.Table(
    "editions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("paper_count", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("date", "number", name="uq_editions_date_number"),
)

# What a run reads of the history instead of every edition's JSON (newsletter/history.py):
# one line per edition (the archive index) and its papers per topic (topic pages, feeds).
edition_summaries = sa.Table(
    "edition_summaries",
    metadata,
    sa.Column(
        "edition_id",
        sa.Integer,
        sa.ForeignKey("editions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("paper_count", sa.Integer, nullable=False),
    sa.Column("sections", sa.Text, nullable=False),  # JSON [[title, papers], ...]
    sa.Index("ix_edition_summaries_date_number", "date", "number"),
)
edition_topics = sa.Table(
    "edition_topics",
    metadata,
    sa.Column(
        "edition_id",
        sa.Integer,
        sa.ForeignKey("editions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("topic", sa.String(100), primary_key=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("papers", sa.Integer, nullable=False),
    sa.Index("ix_edition_topics_topic_date_number", "topic", "date", "number"),
)

# What each fetched source returned last (conditional requests, "unchanged" detection).
source_state = sa.Table(
    "source_state",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("etag", sa.Text, nullable=True),
    sa.Column("last_modified", sa.Text, nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Text digests ingested, by content: a file dropped again under another name is skipped.
ingested_files = sa.Table(
    "ingested_files",
    metadata,
    sa.Column("content_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
)

# "One edition per scheduled date": the process that inserts the row makes it.
run_claims = sa.Table(
    "run_claims",
    metadata,
    sa.Column("edition_date", sa.Date, primary_key=True),
    sa.Column("owner", sa.String(300), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(40), nullable=True),
)

# One report per run (CLI or scheduler), shown by `newsletter status`.
run_reports = sa.Table(
    "run_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("edition_date", sa.Date, nullable=False),
    sa.Column("trigger", sa.String(40), nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("paper_count", sa.Integer, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
)


# One row per address: case preserved in ``email``, unique case-insensitively by
# ``email_key``.  ``public_id`` is what signed links carry (never the address).
# ``topics`` is a comma-separated list of topic ids, NULL for "every topic".
subscribers = sa.Table(
    "subscribers",
    metadata,
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

# The consent record: every sign-up, confirmation, change of topics,
# unsubscription and bounce, with how it happened and what was agreed to.
consents = sa.Table(
    "consents",
    metadata,
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

# The send ledger: one row per (edition, subscriber), written in the transaction
# that records the edition; delivery claims a row, sends, and records the reply.
send_ledger = sa.Table(
    "send_ledger",
    metadata,
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
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("uncertain", sa.Integer, nullable=False, default=0),
    sa.Column("owner", sa.String(300), nullable=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reply", sa.Text, nullable=True),
    # step 4: the ledger as a queue with leases
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("temporary", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.UniqueConstraint("edition_id", "subscriber_id", name="uq_send_ledger_edition_subscriber"),
    # claims walk one state of one edition in id order: one index range, never a sort
    sa.Index("ix_send_ledger_claim", "edition_id", "state", "id"),
)

# The token bucket of each relay (per second and per day), shared by every sender.
send_rate = sa.Table(
    "send_rate",
    metadata,
    sa.Column("relay", sa.String(300), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("day_count", sa.Integer, nullable=False),
)


# Step 4: the identity index and the operator's corrections.

# How many seen papers hold each term (``identity.term_hash``); the row of
# ``identity.DOCUMENTS_TERM`` (0) holds how many papers were counted.  Updated in
# the transaction that marks papers seen.
term_frequencies = sa.Table(
    "term_frequencies",
    metadata,
    sa.Column("term", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("papers", sa.Integer, nullable=False),
)

# One row per (pair of a paper's rarest terms, paper): finds a version both
# retitled and heavily revised, which may share no MinHash band with its paper.
paper_rare_pairs = sa.Table(
    "paper_rare_pairs",
    metadata,
    sa.Column("pair", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# Step 9: one row per (title head, paper) — the normalized title before its
# colon, or the whole title (``candidates.head_index_key``): finds a version that
# dropped its subtitle and most of its abstract.  A head's list is kept to
# ``candidates.MAX_HEAD_POSTINGS`` + 1 rows; a full one is never looked up.
paper_title_heads = sa.Table(
    "paper_title_heads",
    metadata,
    sa.Column("head", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("paper_id", sa.Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# The operator's word on two papers ("same" or "distinct"), each named by a key
# (arxiv:…, title:…, a stored key); an undone decision keeps its row, revoked.
identity_decisions = sa.Table(
    "identity_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("first", sa.String(300), nullable=False, index=True),
    sa.Column("second", sa.String(300), nullable=False, index=True),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("first_title", sa.Text, nullable=False),
    sa.Column("second_title", sa.Text, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

# Entries a recorded run found to repeat a paper seen before: what they said
# and which paper they were taken for.  ``explain`` shows them; a merge the
# operator overrules ("distinct") brings the entry back in the next edition.
paper_sightings = sa.Table(
    "paper_sightings",
    metadata,
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

# What came back (newsletter/returns/): one row per message and recipient it
# names, keyed by the message's Message-ID (or a hash of its bytes), so a message
# delivered twice counts once.  ``kind`` is a ``ReturnKind``.
returns = sa.Table(
    "returns",
    metadata,
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
)

# Step 7 (votes): one row per (subscriber, paper), 👍 (liked) or 👎; ``seeded`` for
# "papers I like" named by the subscriber; ``edition_id`` the edition voted from.
votes = sa.Table(
    "votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("paper_key", sa.String(300), nullable=False),
    sa.Column("liked", sa.Boolean, nullable=False),
    sa.Column("seeded", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=True),
    sa.UniqueConstraint("subscriber_id", "paper_key", name="uq_votes_subscriber_paper"),
)
# A subscriber's ranking switch; no row means on.
ranking_settings = sa.Table(
    "ranking_settings",
    metadata,
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)
# Step 9 (ranking models): the vocabulary the models are over, one row per fitted
# version (only the newest is kept), and each subscriber's model under the version and
# the fingerprint of the votes it was trained from; ``model`` NULL: no usable vote.
ranking_vocabularies = sa.Table(
    "ranking_vocabularies",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("papers", sa.Integer, nullable=False),
    sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
)
ranking_models = sa.Table(
    "ranking_models",
    metadata,
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
)
