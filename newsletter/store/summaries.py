"""Edition summaries: what a run reads of its history instead of every edition's JSON.

Each recorded edition has a line in ``edition_summaries`` (date, number, paper
count, its sections' sizes: the archive index) and one row per topic in
``edition_topics`` (papers carrying the topic: the topic pages' numbering,
the index's topic counts, and which editions hold a topic's newest papers).
:meth:`Summaries.history` reads the totals with a few aggregate queries and
parses the JSON of only the editions the new one shows papers of, so a run's
cost does not grow with the length of the archive (``docs/benchmarks.md``,
"Runs over a long history").  Both tables are written with the edition, in
its transaction (:meth:`newsletter.store.editions.Editions.record`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.history import LATEST_EDITIONS, EditionLine, History, line_of, topic_counts_of
from newsletter.model import Edition
from newsletter.store.payload import from_payload
from newsletter.store.schema import edition_summaries, edition_topics, editions

S = edition_summaries.c
T = edition_topics.c


def _before(table: sa.Table, before: tuple[date, int] | None) -> sa.ColumnElement[bool]:
    if before is None:
        return sa.true()
    day, number = before
    c = table.c
    return sa.or_(c.date < day, sa.and_(c.date == day, c.number < number))


class Summaries:
    """Reads and writes of the edition summary tables, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def write(self, edition_id: int, edition: Edition) -> None:
        """The summary and per-topic rows of a newly recorded edition."""
        line = line_of(edition)
        head = {"edition_id": edition_id, "date": edition.date, "number": edition.number}
        self.conn.execute(
            edition_summaries.insert().values(
                **head,
                paper_count=line.paper_count,
                sections=json.dumps([list(s) for s in line.sections], ensure_ascii=False),
            )
        )
        counts = topic_counts_of(edition)
        if counts:
            self.conn.execute(
                edition_topics.insert(),
                [{**head, "topic": t, "papers": n} for t, n in sorted(counts.items())],
            )

    def history(
        self, edition: Edition, *, feed_items: int, page_size: int, before: bool = True
    ) -> History:
        """What publishing ``edition`` needs of the editions before it (``before``) or of
        every recorded edition but itself (a preview of an unrecorded one)."""
        cut = (edition.date, edition.number) if before else None
        count = int(
            self.conn.execute(
                sa.select(sa.func.count())
                .select_from(edition_summaries)
                .where(_before(edition_summaries, cut))
            ).scalar()
            or 0
        )
        latest = [
            EditionLine(
                date=r.date,
                number=r.number,
                paper_count=r.paper_count,
                sections=tuple((str(t), int(n)) for t, n in json.loads(r.sections)),
            )
            for r in self.conn.execute(
                sa.select(S.date, S.number, S.paper_count, S.sections)
                .where(_before(edition_summaries, cut))
                .order_by(S.date.desc(), S.number.desc())
                .limit(LATEST_EDITIONS)
            )
        ]
        topic_counts = {
            str(r.topic): int(r.papers)
            for r in self.conn.execute(
                sa.select(T.topic, sa.func.sum(T.papers).label("papers"))
                .where(_before(edition_topics, cut))
                .group_by(T.topic)
            )
        }
        year = sa.extract("year", S.date)
        month = sa.extract("month", S.date)
        months = tuple(
            (int(r.y), int(r.m), int(r.papers))
            for r in self.conn.execute(
                sa.select(
                    year.label("y"), month.label("m"), sa.func.sum(S.paper_count).label("papers")
                )
                .where(_before(edition_summaries, cut))
                .group_by(year, month)
                .order_by(year.desc(), month.desc())
            )
        )
        ids = self._needed(edition, cut, feed_items, page_size, set(topic_counts))
        loaded: list[tuple[date, int, Edition]] = []
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for r in self.conn.execute(
                sa.select(editions.c.date, editions.c.number, editions.c.payload).where(
                    editions.c.id.in_(part)
                )
            ):
                loaded.append((r.date, r.number, from_payload(r.payload)))
        loaded.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return History(
            editions=tuple(e for _, _, e in loaded),
            count=count,
            latest=tuple(latest),
            topic_counts=topic_counts,
            months=months,
        )

    def _needed(
        self,
        edition: Edition,
        cut: tuple[date, int] | None,
        feed_items: int,
        page_size: int,
        topics: set[str],
    ) -> list[int]:
        """Ids of the editions whose papers publishing ``edition`` shows (module docstring)."""
        order = (S.date.desc(), S.number.desc())
        wanted: set[int] = set()

        def newest(query: sa.Select[Any], papers: int) -> None:
            # Each row holds at least one paper: ``papers`` rows are always enough.
            total = 0
            for row in self.conn.execute(query.limit(max(papers, 0))):
                if total >= papers:
                    break
                wanted.add(int(row[0]))
                total += int(row[1])

        before = _before(edition_summaries, cut)
        # The feed of every paper, and the two editions before this one (its neighbours).
        newest(
            sa.select(S.edition_id, S.paper_count)
            .where(before, S.paper_count > 0)
            .order_by(*order),
            feed_items,
        )
        wanted.update(
            int(i)
            for i in self.conn.execute(
                sa.select(S.edition_id).where(before).order_by(*order).limit(2)
            ).scalars()
        )
        # Each topic: its first page, the numbered pages its new papers fall on, its feed.
        added = topic_counts_of(edition)
        for topic in sorted(topics | set(added)):
            newest(
                sa.select(T.edition_id, T.papers)
                .where(T.topic == topic, _before(edition_topics, cut))
                .order_by(T.date.desc(), T.number.desc()),
                max(page_size + added.get(topic, 0), feed_items),
            )
        # The week and the month it is in.
        start = min(
            edition.date - timedelta(days=edition.date.weekday()), edition.date.replace(day=1)
        )
        wanted.update(
            int(i)
            for i in self.conn.execute(
                sa.select(S.edition_id).where(before, S.date >= start, S.date <= edition.date)
            ).scalars()
        )
        return sorted(wanted)
