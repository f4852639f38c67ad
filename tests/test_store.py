"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.edition import build_edition
from newsletter.errors import StoreError
from newsletter.listings import new_papers
from newsletter.model import Edition, RawEntry
from newsletter.novelty import split
from newsletter.store import Database, EditionExists, StoredEdition
from newsletter.store.migrations import LATEST
from newsletter.store.papers import NewPaper
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other"),))
NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)
WORDS = (
    "router expert token sparse dense layer memory device gradient batch cache kernel "
    "graph signal pixel phoneme reward policy planner protein molecule satellite query"
).split()


def _abstract(title: str) -> str:
    """A made-up abstract that shares (almost) no word pairs with another title's."""
    rng = random.Random(title)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(40)) + "."


def _new(db: Database, *titles: str) -> list[NewPaper]:
    entries = [RawEntry(t, _abstract(t), "t.txt") for t in titles]
    with db.read() as tx:
        verdicts = split(entries, tx.seen)
    news = [v for v in verdicts if v.new]
    papers = new_papers(verdicts, TAXONOMY)
    return [NewPaper(p, v.title_key, v.signature) for v, p in zip(news, papers, strict=True)]


def _record(
    db: Database, edition: Edition, new: list[NewPaper], force: bool = False
) -> StoredEdition:
    """Edition and seen marks in one write transaction (as the pipeline records them)."""
    with db.write() as tx:
        stored = tx.editions.record(edition, NOW, force=force)
        tx.papers.mark_seen(new, stored.id, NOW)
    return stored


def _count(db: Database) -> int:
    with db.read() as tx:
        return tx.papers.count()


def _editions_on(db: Database, day: date) -> int:
    with db.read() as tx:
        return tx.editions.count_on(day)


def test_migrations_are_recorded_and_idempotent(db_url: str) -> None:
    with Database.open(db_url) as db:
        assert db.schema_version() == LATEST
        assert db.migrate() == []


def test_edition_and_seen_marks_commit_together(db_url: str) -> None:
    with Database.open(db_url) as db:
        new = _new(db, "Balanced Routing for Experts", "Another Paper")
        stored = _record(
            db, build_edition([n.paper for n in new], TAXONOMY, date(2026, 3, 11)), new
        )
        assert stored.edition.number == 1
        assert _count(db) == 2
        assert _editions_on(db, date(2026, 3, 11)) == 1
        with db.read() as tx:
            latest = tx.editions.latest_on(date(2026, 3, 11))
        assert latest == stored  # the id recorded is the id read back
        # the same papers again are seen
        assert _new(db, "Balanced Routing for Experts") == []


def test_second_edition_for_a_date_is_refused_and_writes_nothing(db_url: str) -> None:
    with Database.open(db_url) as db:
        first = _new(db, "First Paper")
        _record(db, build_edition([n.paper for n in first], TAXONOMY, date(2026, 3, 11)), first)
        second = _new(db, "Second Paper")
        with pytest.raises(EditionExists):
            _record(
                db, build_edition([n.paper for n in second], TAXONOMY, date(2026, 3, 11)), second
            )
        assert _count(db) == 1  # the failed transaction marked nothing seen
        forced = _record(
            db, build_edition([n.paper for n in second], TAXONOMY, date(2026, 3, 11)), second, True
        )
        assert forced.edition.number == 2
        assert _count(db) == 2
        with db.read() as tx:
            latest = tx.editions.latest_on(date(2026, 3, 11))
        assert latest is not None and latest.edition.number == 2


def test_a_failing_insert_rolls_back_the_whole_edition(db_url: str) -> None:
    with Database.open(db_url) as db:
        papers = _new(db, "Duplicate Key Paper")
        edition = build_edition([papers[0].paper], TAXONOMY, date(2026, 3, 12))
        with pytest.raises(sa.exc.IntegrityError):
            _record(db, edition, [papers[0], papers[0]])
        assert _editions_on(db, date(2026, 3, 12)) == 0
        assert _count(db) == 0


def test_recent_editions_come_back_newest_first(db_url: str) -> None:
    with Database.open(db_url) as db:
        for day, title in ((11, "One"), (12, "Two"), (13, "Three")):
            new = _new(db, f"Paper {title}")
            _record(db, build_edition([n.paper for n in new], TAXONOMY, date(2026, 3, day)), new)
        with db.read() as tx:
            recent = tx.editions.recent(max_papers=2)
            before = tx.editions.recent(max_papers=10, before=(date(2026, 3, 13), 1))
        assert [e.date.day for e in recent] == [13, 12]
        assert [e.date.day for e in before] == [12, 11]


def test_read_only_open_of_an_absent_database_reads_empty_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent" / "newsletter.db"
    with Database.open_read_only(f"sqlite:///{path}") as db, db.read() as tx:
        assert db.empty
        assert tx.editions.count_on(date(2026, 3, 11)) == 0
        assert tx.runs.recent() == []
        assert tx.sources.states() == {}
    assert not path.exists()
    assert not path.parent.exists()


def test_read_only_open_of_an_existing_database_reads_it(db_url: str) -> None:
    with Database.open(db_url) as db:
        new = _new(db, "Kept Paper")
        _record(db, build_edition([n.paper for n in new], TAXONOMY, date(2026, 3, 11)), new)
    with Database.open_read_only(db_url) as db, db.read() as tx:
        assert not db.empty
        assert tx.papers.count() == 1


def test_read_only_open_refuses_an_outdated_schema_with_a_hint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Database.connect(url) as db:
        assert db.migrate(to=1) == [1]
    with pytest.raises(StoreError) as raised:
        Database.open_read_only(url)
    assert "version 1" in str(raised.value)
    assert "newsletter migrate" in (raised.value.hint or "")
    with Database.open(url) as db:  # a read-write open upgrades it
        assert db.schema_version() == LATEST
