"""The schema's history: released steps are frozen, and applied one after the other they
give exactly the live schema (columns, types, indexes, constraints) — on SQLite and on
PostgreSQL.  A database written by the release before the store was split up still opens,
reads and runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from newsletter import config, pipeline
from newsletter.edition import build_edition, to_json
from newsletter.errors import StoreError
from newsletter.identity import DOCUMENTS_TERM
from newsletter.listings import new_papers
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.states import LedgerState, RunStatus, SubscriberStatus
from newsletter.store import Database, StoredEdition, schema
from newsletter.store import migrations as history
from newsletter.store.migrations import LATEST, MIGRATIONS
from newsletter.store.papers import title_hash
from newsletter.store.schema import metadata
from newsletter.topics import Taxonomy, Topic

ROOT = Path(__file__).resolve().parents[1]
OLD_DUMP = ROOT / "tests" / "golden" / "databases" / "v3-0.1.0.sql"
"""``iterdump()`` of a SQLite database written by 0.1.0 (commit 76bfc1b): three
subscribers (one unsubscribed after the run), one edition of the sample digest, its
send ledger and run report."""

NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)


def _shape(url: str) -> dict[str, Any]:
    """What a database's schema is, as the database itself reports it."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        shape: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            columns = [
                (
                    c["name"],
                    c["type"].compile(dialect=engine.dialect),
                    c["nullable"],
                    str(c.get("default")),
                )
                for c in inspector.get_columns(table)
            ]
            shape[table] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (str(u["name"]), tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table)
                ),
                "foreign_keys": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        str(f.get("options", {}).get("ondelete")),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),
            }
        return shape
    finally:
        engine.dispose()


def test_steps_applied_one_by_one_give_the_live_schema(new_db_url: Callable[[], str]) -> None:
    stepwise = new_db_url()
    with Database.connect(stepwise) as db:
        for step in MIGRATIONS:
            assert db.migrate(to=step.version) == [step.version]
            assert db.schema_version() == step.version
        assert db.migrate() == []

    fresh = new_db_url()
    with Database.open(fresh) as db:
        assert db.schema_version() == LATEST

    live = new_db_url()  # the Table objects the repositories query, created directly
    engine = sa.create_engine(live)
    with engine.begin() as conn:
        history.schema_migrations.create(conn)
        metadata.create_all(conn)
    engine.dispose()

    upgraded = _shape(stepwise)
    assert set(upgraded) == {"schema_migrations", *metadata.tables}
    assert upgraded == _shape(fresh)
    assert upgraded == _shape(live), "schema.py and the migrations disagree: add a step"


def test_data_written_at_step_one_survives_the_upgrades(new_db_url: Callable[[], str]) -> None:
    url = new_db_url()
    entries = [RawEntry("Kept Across Upgrades", "An abstract about routing experts.", "t.txt")]
    taxonomy = Taxonomy((Topic("other", "Other", fallback=True),))
    verdicts = split(entries, None)
    papers = new_papers(verdicts, taxonomy)
    [(verdict, paper)] = zip(verdicts, papers, strict=True)
    edition = build_edition(papers, taxonomy, NOW.date())
    with Database.connect(url) as db:
        db.migrate(to=1)
        with db.engine.begin() as conn:  # an edition row as step 1 knew it (no summary)
            inserted = conn.execute(
                schema.editions.insert().values(
                    date=edition.date,
                    number=1,
                    paper_count=edition.paper_count,
                    payload=to_json(edition),
                    created_at=NOW,
                )
            ).inserted_primary_key
            assert inserted is not None
            stored = StoredEdition(int(inserted[0]), edition)
        with db.engine.begin() as conn:  # a paper row as step 1 knew it (no identity index)
            conn.execute(
                schema.papers.insert().values(
                    key=paper.key,
                    title_hash=title_hash(verdict.title_key),
                    title_key=verdict.title_key,
                    title=paper.title,
                    abstract=paper.abstract,
                    url=paper.url,
                    source=paper.source,
                    signature=verdict.signature.values if verdict.signature else None,
                    edition_id=stored.id,
                    seen_at=NOW,
                )
            )
    with Database.open(url) as db, db.read() as tx:
        assert db.schema_version() == LATEST
        assert tx.editions.latest_on(NOW.date()) == stored
        assert split(entries, tx.seen)[0].new is False
        # step 4 counted the paper it found in its term frequencies
        assert tx.identity.term_counts([DOCUMENTS_TERM]) == {DOCUMENTS_TERM: 1}
        # step 8 summarised the edition: a run after it counts it without reading it
        later = replace(edition, date=date(2027, 1, 5))
        seen = tx.editions.history(later, feed_items=0, page_size=0)
        assert (seen.count, dict(seen.topic_counts)) == (1, {"other": 1})
        assert [(line.date, line.sections) for line in seen.latest] == [
            (NOW.date(), (("Other", 1),))
        ]
        assert seen.months == ((NOW.year, NOW.month, 1),)


def test_a_released_step_never_uses_the_live_tables() -> None:
    """Each step carries its own DDL: no step function refers to a live ``Table``."""
    live_names = set(metadata.tables)
    for step in MIGRATIONS:
        code = step.apply.__code__
        assert step.apply.__module__ == history.__name__
        assert not live_names & set(code.co_names), (
            f"migration {step.version} uses the live tables {live_names & set(code.co_names)}"
        )
    assert [s.version for s in MIGRATIONS] == list(range(1, LATEST + 1))


@pytest.fixture
def old_database(tmp_path: Path) -> str:
    """A copy of the 0.1.0 database, as a SQLite file."""
    path = tmp_path / "subscribers" / "newsletter.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(OLD_DUMP.read_text(encoding="utf-8"))
    conn.close()
    return f"sqlite:///{path}"


def test_a_database_of_the_previous_release_upgrades_and_reads(old_database: str) -> None:
    with pytest.raises(StoreError, match="version 3"):  # read-only: never upgraded behind
        Database.open_read_only(old_database)  # the operator's back
    with Database.open(old_database) as db, db.read() as tx:
        assert db.schema_version() == LATEST  # its steps 1-3 kept, the later ones applied
        assert tx.identity.term_counts([DOCUMENTS_TERM]) == {DOCUMENTS_TERM: 23}
        stored = tx.editions.latest_on(date(2026, 11, 20))
        assert stored is not None and stored.edition.paper_count == 23
        assert tx.papers.count() == 23
        [report] = tx.runs.recent()
        assert report.status == RunStatus.PUBLISHED and report.paper_count == 23
        rows = tx.ledger.rows(stored.id)
        assert [(r.email, r.state) for r in rows] == [
            ("reader@example.org", LedgerState.SENT),
            ("llm@example.org", LedgerState.SENT),
        ]
        statuses = {s.email: s.status for s in tx.subscribers.all()}
        assert statuses == {
            "llm@example.org": SubscriberStatus.UNSUBSCRIBED,
            "pending@example.org": SubscriberStatus.PENDING,
            "reader@example.org": SubscriberStatus.CONFIRMED,
        }
        assert [c.action for c in tx.subscribers.consents(rows[1].subscriber_id)] == [
            "subscribed",
            "confirmed",
            "unsubscribed",
        ]


def test_a_database_of_the_previous_release_runs_on(old_database: str, tmp_path: Path) -> None:
    """The next day's run on the old database: the old edition's papers are seen, the
    new edition goes to whoever is confirmed now."""
    settings = config.parse(
        '[newsletter]\nbase_url = "https://papers.example.org/"\n'
        f'[database]\nurl = "{old_database}"\n'
        '[delivery]\nfrom_address = "digest@papers.example.org"\n',
        where="config.toml",
        base_dir=tmp_path,
    )
    sample = ROOT / "digests" / "sample-digest.txt"
    again = pipeline.run(settings, [str(sample)], date(2026, 11, 21))
    assert again.status == RunStatus.EMPTY  # every paper of the sample was seen in 0.1.0
    same_day = pipeline.run(settings, [str(sample)], date(2026, 11, 20))
    assert same_day.status == RunStatus.EXISTS
    assert same_day.delivery is not None and same_day.delivery.sent_now == 0
