"""Subscribers' votes (👍/👎 and "papers I like" seeds) and their ranking switch.

One row per (subscriber, paper): a second vote on the same paper replaces
the first (a 👎 after a 👍), the same vote again changes nothing.  Votes and
settings go with their subscriber (``purge``).  The rules — who may vote,
which token proves it — live in :mod:`newsletter.votes`; this module only
reads and writes rows.  Nothing here is ever published: the feeds and the
archive are built from editions, never from this table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from newsletter.states import LedgerState, SubscriberStatus, VoteChange
from newsletter.store.schema import (
    editions,
    papers,
    ranking_models,
    ranking_settings,
    send_ledger,
    subscribers,
    votes,
)


@dataclass(frozen=True)
class StoredVote:
    """One vote as stored: the paper, 👍 or 👎, when, from which edition (None: a seed)."""

    paper_key: str
    liked: bool
    at: datetime
    edition_id: int | None
    seeded: bool


@dataclass(frozen=True)
class PaperRow:
    """What ranking and seeding read of a stored paper."""

    key: str
    title: str
    abstract: str
    arxiv_id: str | None


class Votes:
    """Votes, ranking switches, and the papers they are about."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def record(
        self,
        subscriber_id: int,
        paper_key: str,
        liked: bool,
        now: datetime,
        *,
        edition_id: int | None = None,
        seeded: bool = False,
    ) -> VoteChange:
        """Store a vote: a new row, a replaced one (the other thumb), or nothing (the same)."""
        row = self.conn.execute(
            sa.select(votes.c.id, votes.c.liked).where(
                votes.c.subscriber_id == subscriber_id, votes.c.paper_key == paper_key
            )
        ).first()
        if row is None:
            self.conn.execute(
                votes.insert().values(
                    subscriber_id=subscriber_id,
                    paper_key=paper_key,
                    liked=liked,
                    at=now,
                    edition_id=edition_id,
                    seeded=seeded,
                )
            )
            return VoteChange.RECORDED
        if bool(row.liked) == liked:
            return VoteChange.UNCHANGED
        self.conn.execute(
            votes.update()
            .where(votes.c.id == row.id)
            .values(liked=liked, at=now, edition_id=edition_id, seeded=seeded)
        )
        return VoteChange.REPLACED

    def of(self, subscriber_id: int) -> list[StoredVote]:
        """One subscriber's votes, oldest first."""
        rows = self.conn.execute(
            sa.select(votes)
            .where(votes.c.subscriber_id == subscriber_id)
            .order_by(votes.c.at, votes.c.id)
        ).all()
        return [_vote(r) for r in rows]

    def everyone(self) -> dict[int, list[StoredVote]]:
        """Every subscriber's votes, oldest first (what an export writes)."""
        rows = self.conn.execute(
            sa.select(votes).order_by(votes.c.subscriber_id, votes.c.at, votes.c.id)
        ).all()
        found: dict[int, list[StoredVote]] = defaultdict(list)
        for r in rows:
            found[int(r.subscriber_id)].append(_vote(r))
        return dict(found)

    def ranking_off(self) -> frozenset[int]:
        """The subscribers who switched ranking off (what an export writes)."""
        rows = self.conn.execute(
            sa.select(ranking_settings.c.subscriber_id).where(ranking_settings.c.enabled.is_(False))
        ).all()
        return frozenset(int(r.subscriber_id) for r in rows)

    def rankable(self, only: Iterable[int] | None = None) -> dict[int, list[StoredVote]]:
        """The votes of every confirmed subscriber who has not switched ranking off
        (of those in ``only`` when given: a batch to retrain)."""
        off = sa.select(ranking_settings.c.subscriber_id).where(
            ranking_settings.c.enabled.is_(False)
        )
        rows = self.conn.execute(
            sa.select(votes)
            .join(subscribers, subscribers.c.id == votes.c.subscriber_id)
            .where(
                subscribers.c.status == SubscriberStatus.CONFIRMED.value,
                votes.c.subscriber_id.not_in(off),
                sa.true() if only is None else votes.c.subscriber_id.in_(sorted(set(only))),
            )
            .order_by(votes.c.subscriber_id, votes.c.at, votes.c.id)
        ).all()
        found: dict[int, list[StoredVote]] = defaultdict(list)
        for r in rows:
            found[int(r.subscriber_id)].append(_vote(r))
        return dict(found)

    def shown(self, subscriber_ids: Iterable[int]) -> dict[int, list[str]]:
        """The keys of the papers of every edition sent to each subscriber."""
        wanted = sorted(set(subscriber_ids))
        found: dict[int, list[str]] = defaultdict(list)
        for i in range(0, len(wanted), 500):
            rows = self.conn.execute(
                sa.select(send_ledger.c.subscriber_id, papers.c.key)
                .join(papers, papers.c.edition_id == send_ledger.c.edition_id)
                .where(
                    send_ledger.c.subscriber_id.in_(wanted[i : i + 500]),
                    send_ledger.c.state == LedgerState.SENT.value,
                )
                .order_by(send_ledger.c.subscriber_id, papers.c.id)
            ).all()
            for subscriber_id, key in rows:
                found[int(subscriber_id)].append(str(key))
        return dict(found)

    def reset(self, subscriber_id: int) -> int:
        """Forget a subscriber's votes and seeds; how many there were."""
        result = self.conn.execute(votes.delete().where(votes.c.subscriber_id == subscriber_id))
        self.conn.execute(
            ranking_models.delete().where(ranking_models.c.subscriber_id == subscriber_id)
        )
        return int(result.rowcount or 0)

    def ranking_enabled(self, subscriber_id: int) -> bool:
        value = self.conn.execute(
            sa.select(ranking_settings.c.enabled).where(
                ranking_settings.c.subscriber_id == subscriber_id
            )
        ).scalar()
        return True if value is None else bool(value)

    def set_ranking(self, subscriber_id: int, enabled: bool, now: datetime) -> bool:
        """Switch ranking on or off; whether that changed anything."""
        if self.ranking_enabled(subscriber_id) == enabled:
            return False
        updated = self.conn.execute(
            ranking_settings.update()
            .where(ranking_settings.c.subscriber_id == subscriber_id)
            .values(enabled=enabled, changed_at=now)
        )
        if not updated.rowcount:
            self.conn.execute(
                ranking_settings.insert().values(
                    subscriber_id=subscriber_id, enabled=enabled, changed_at=now
                )
            )
        return True

    def purge(self, subscriber_id: int) -> None:
        """Delete a subscriber's votes and ranking switch (with their record)."""
        self.conn.execute(votes.delete().where(votes.c.subscriber_id == subscriber_id))
        self.conn.execute(
            ranking_models.delete().where(ranking_models.c.subscriber_id == subscriber_id)
        )
        self.conn.execute(
            ranking_settings.delete().where(ranking_settings.c.subscriber_id == subscriber_id)
        )

    # ------------------------------------------------------------ the papers

    def edition_id(self, day: date, number: int) -> int | None:
        """The stored edition of ``day`` numbered ``number``, or None."""
        value = self.conn.execute(
            sa.select(editions.c.id).where(editions.c.date == day, editions.c.number == number)
        ).scalar()
        return None if value is None else int(value)

    def in_edition(self, paper_key: str, edition_id: int) -> bool:
        """Whether ``paper_key`` is one of the papers edition ``edition_id`` published."""
        return (
            self.conn.execute(
                sa.select(papers.c.id).where(
                    papers.c.key == paper_key, papers.c.edition_id == edition_id
                )
            ).first()
            is not None
        )

    def edition_papers(self, edition_id: int) -> list[str]:
        """The keys of the papers edition ``edition_id`` published."""
        return [
            str(key)
            for (key,) in self.conn.execute(
                sa.select(papers.c.key).where(papers.c.edition_id == edition_id)
            )
        ]

    def paper(self, paper_key: str) -> PaperRow | None:
        row = self.conn.execute(
            sa.select(papers.c.key, papers.c.title, papers.c.abstract, papers.c.arxiv_id).where(
                papers.c.key == paper_key
            )
        ).first()
        return None if row is None else PaperRow(row.key, row.title, row.abstract, row.arxiv_id)

    def find(self, *, arxiv_id: str | None = None, title_key: str | None = None) -> PaperRow | None:
        """A stored paper by arXiv id (without version) or by normalized title."""
        if arxiv_id:
            where = papers.c.arxiv_id == arxiv_id
        elif title_key:
            where = papers.c.title_key == title_key
        else:
            return None
        row = self.conn.execute(
            sa.select(papers.c.key, papers.c.title, papers.c.abstract, papers.c.arxiv_id)
            .where(where)
            .order_by(papers.c.id)
            .limit(1)
        ).first()
        return None if row is None else PaperRow(row.key, row.title, row.abstract, row.arxiv_id)

    def corpus(self, limit: int) -> list[PaperRow]:
        """The newest ``limit`` stored papers (what the vocabulary is fitted on)."""
        rows = self.conn.execute(
            sa.select(papers.c.key, papers.c.title, papers.c.abstract, papers.c.arxiv_id)
            .order_by(papers.c.id.desc())
            .limit(limit)
        ).all()
        return [PaperRow(r.key, r.title, r.abstract, r.arxiv_id) for r in reversed(rows)]

    def papers(self, keys: Iterable[str]) -> list[PaperRow]:
        """The stored papers among ``keys``."""
        wanted = sorted(set(keys))
        out: list[PaperRow] = []
        for i in range(0, len(wanted), 500):
            rows = self.conn.execute(
                sa.select(papers.c.key, papers.c.title, papers.c.abstract, papers.c.arxiv_id).where(
                    papers.c.key.in_(wanted[i : i + 500])
                )
            ).all()
            out += [PaperRow(r.key, r.title, r.abstract, r.arxiv_id) for r in rows]
        return out

    def topics(self, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The topics (primary first) each of ``keys`` has in the edition that first
        published it: the ranking's features, the same the evaluation gives the model.
        A paper never published in an edition is left out (it has none)."""
        from newsletter import edition as edition_json

        wanted = sorted(set(keys))
        by_edition: dict[int, set[str]] = defaultdict(set)
        for i in range(0, len(wanted), 500):
            rows = self.conn.execute(
                sa.select(papers.c.key, papers.c.edition_id).where(
                    papers.c.key.in_(wanted[i : i + 500]), papers.c.edition_id.is_not(None)
                )
            ).all()
            for key, edition_id in rows:
                by_edition[int(edition_id)].add(str(key))
        found: dict[str, tuple[str, ...]] = {}
        for edition_id, theirs in by_edition.items():
            payload = self.conn.execute(
                sa.select(editions.c.payload).where(editions.c.id == edition_id)
            ).scalar()
            if payload is None:
                continue
            for paper in edition_json.from_json(payload).papers:
                if paper.key in theirs:
                    found[paper.key] = paper.topics
        return found


def _vote(r: sa.Row[object]) -> StoredVote:
    m = r._mapping
    return StoredVote(
        paper_key=str(m["paper_key"]),
        liked=bool(m["liked"]),
        at=m["at"] if m["at"].tzinfo else m["at"].replace(tzinfo=UTC),
        edition_id=None if m["edition_id"] is None else int(m["edition_id"]),
        seeded=bool(m["seeded"]),
    )
