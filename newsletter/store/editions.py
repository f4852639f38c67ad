"""Editions: one row per published edition, numbered within its date, with its JSON.

The table's unique ``(date, number)`` is the last line of defence for "one
edition per date": :meth:`Editions.record` refuses a second one unless
forced, inside the write transaction that holds the database's write lock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa

from newsletter.errors import StoreError
from newsletter.history import History
from newsletter.model import Edition
from newsletter.store.payload import from_payload, payload
from newsletter.store.schema import editions
from newsletter.store.summaries import Summaries


class EditionExists(StoreError):
    """An edition for this date is recorded already."""

    default_hint = "run --force makes another edition for the same date"


@dataclass(frozen=True)
class StoredEdition:
    """An edition as recorded, with the row id its send ledger points at."""

    id: int
    edition: Edition


class Editions:
    """Reads and writes of editions, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def count_on(self, day: date) -> int:
        value = self.conn.execute(
            sa.select(sa.func.count()).select_from(editions).where(editions.c.date == day)
        ).scalar()
        return int(value or 0)

    def latest_on(self, day: date) -> StoredEdition | None:
        row = self.conn.execute(
            sa.select(editions.c.id, editions.c.payload)
            .where(editions.c.date == day)
            .order_by(editions.c.number.desc())
            .limit(1)
        ).first()
        return StoredEdition(row.id, from_payload(row.payload)) if row else None

    def recent(self, max_papers: int, before: tuple[date, int] | None = None) -> list[Edition]:
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
        for row in self.conn.execute(query):
            if total >= max_papers:
                break
            result.append(from_payload(row.payload))
            total += row.paper_count
        return result

    def record(self, edition: Edition, now: datetime, *, force: bool = False) -> StoredEdition:
        """Insert ``edition`` with the next number of its date.

        Raises EditionExists when the date has an edition and ``force`` is off.
        Call it in a write transaction (the number is read and used under its lock).
        """
        existing = self.conn.execute(
            sa.select(sa.func.max(editions.c.number)).where(editions.c.date == edition.date)
        ).scalar()
        if existing and not force:
            raise EditionExists(
                f"an edition for {edition.date.isoformat()} is recorded already",
                hint="nothing was changed; use --force to publish another one for that date",
            )
        edition = replace(edition, number=int(existing or 0) + 1)
        inserted = self.conn.execute(
            editions.insert().values(
                date=edition.date,
                number=edition.number,
                paper_count=edition.paper_count,
                payload=payload(edition),
                created_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None  # an INSERT with an integer primary key returns it
        Summaries(self.conn).write(int(inserted[0]), edition)
        return StoredEdition(int(inserted[0]), edition)

    def history(
        self, edition: Edition, *, feed_items: int, page_size: int, before: bool = True
    ) -> History:
        """What publishing ``edition`` reads of the editions before it (``before``), or of
        every recorded one: totals from the summary tables, and only the editions
        whose papers it shows (see :mod:`newsletter.store.summaries`)."""
        return Summaries(self.conn).history(
            edition, feed_items=feed_items, page_size=page_size, before=before
        )
