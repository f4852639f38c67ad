"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import random
from datetime import date

import pytest
import sqlalchemy as sa

from newsletter.edition import build_edition
from newsletter.listings import new_papers
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.store.database import EditionExists, NewPaper, Store
from newsletter.store.migrations import LATEST
from newsletter.topics import Taxonomy, Topic

TAXONOMY = Taxonomy((Topic("other", "Other"),))
WORDS = (
    "router expert token sparse dense layer memory device gradient batch cache kernel "
    "graph signal pixel phoneme reward policy planner protein molecule satellite query"
).split()


def _abstract(title: str) -> str:
    """A made-up abstract that shares (almost) no word pairs with another title's."""
    rng = random.Random(title)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(40)) + "."


def _new(store: Store | None, *titles: str) -> list[NewPaper]:
    entries = [RawEntry(t, _abstract(t), "t.txt") for t in titles]
    verdicts = split(entries, store)
    news = [v for v in verdicts if v.new]
    papers = new_papers(verdicts, TAXONOMY)
    return [NewPaper(p, v.title_key, v.signature) for v, p in zip(news, papers, strict=True)]


def test_migrations_are_recorded_and_idempotent(db_url: str) -> None:
    store = Store.open(db_url)
    assert store is not None
    assert store.schema_version() == LATEST
    assert store.migrate() == []
    store.close()


def test_edition_and_seen_marks_commit_together(db_url: str) -> None:
    store = Store.open(db_url)
    assert store is not None
    new = _new(store, "Balanced Routing for Experts", "Another Paper")
    edition = build_edition([n.paper for n in new], TAXONOMY, date(2026, 3, 11))
    recorded = store.record_edition(edition, new)
    assert recorded.number == 1
    assert store.paper_count() == 2
    assert store.editions_on(date(2026, 3, 11)) == 1
    # the same papers again are seen
    assert _new(store, "Balanced Routing for Experts") == []
    store.close()


def test_second_edition_for_a_date_is_refused_and_writes_nothing(db_url: str) -> None:
    store = Store.open(db_url)
    assert store is not None
    first = _new(store, "First Paper")
    store.record_edition(
        build_edition([n.paper for n in first], TAXONOMY, date(2026, 3, 11)), first
    )
    second = _new(store, "Second Paper")
    with pytest.raises(EditionExists):
        store.record_edition(
            build_edition([n.paper for n in second], TAXONOMY, date(2026, 3, 11)), second
        )
    assert store.paper_count() == 1  # the failed transaction marked nothing seen
    forced = store.record_edition(
        build_edition([n.paper for n in second], TAXONOMY, date(2026, 3, 11)), second, force=True
    )
    assert forced.number == 2
    assert store.paper_count() == 2
    latest = store.latest_edition_on(date(2026, 3, 11))
    assert latest is not None and latest.number == 2
    store.close()


def test_a_failing_insert_rolls_back_the_whole_edition(db_url: str) -> None:
    store = Store.open(db_url)
    assert store is not None
    papers = _new(store, "Duplicate Key Paper")
    with pytest.raises(sa.exc.IntegrityError):
        store.record_edition(
            build_edition([papers[0].paper], TAXONOMY, date(2026, 3, 12)), [papers[0], papers[0]]
        )
    assert store.editions_on(date(2026, 3, 12)) == 0
    assert store.paper_count() == 0
    store.close()


def test_recent_editions_come_back_newest_first(db_url: str) -> None:
    store = Store.open(db_url)
    assert store is not None
    for day, title in ((11, "One"), (12, "Two"), (13, "Three")):
        new = _new(store, f"Paper {title}")
        store.record_edition(
            build_edition([n.paper for n in new], TAXONOMY, date(2026, 3, day)), new
        )
    recent = store.recent_editions(max_papers=2)
    assert [e.date.day for e in recent] == [13, 12]
    before = store.recent_editions(max_papers=10, before=(date(2026, 3, 13), 1))
    assert [e.date.day for e in before] == [12, 11]
    store.close()


def test_preview_open_does_not_create_a_database(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "absent" / "newsletter.db"
    assert Store.open(f"sqlite:///{path}", create=False) is None
    assert not path.exists()
