"""Operator decisions on paper identity, and the sightings they may overrule.

:class:`Corrections` works on one connection.  A decision names two papers
(``arxiv:…``, ``title:…`` or a stored key) and says ``same`` or ``distinct``;
undoing it keeps the row with ``revoked_at`` set, so the history stays.  A
*sighting* is an entry a recorded run took for a paper seen before; when the
operator later says the two are distinct, the next run brings the entry back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from newsletter.identity import Decision
from newsletter.store.papers import title_hash
from newsletter.store.schema import (
    editions,
    identity_decisions,
    paper_sightings,
    papers,
)

CHUNK = 900


@dataclass(frozen=True)
class Sighting:
    """An entry taken for a paper seen before (``same_as``), as a run recorded it."""

    name: str  # the entry's own key (arxiv:… or title:…)
    title_key: str
    same_as: str
    reason: str
    title: str
    abstract: str
    url: str | None
    source: str
    digest_date: date | None
    arxiv_id: str | None
    edition_date: date | None = None
    id: int = 0


@dataclass(frozen=True)
class StoredPaper:
    """A seen paper as ``explain`` and ``papers`` show it."""

    id: int
    key: str
    title: str
    title_key: str
    arxiv_id: str | None
    abstract: str
    edition_date: date | None
    seen_at: datetime


class Corrections:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------ decisions

    def decide(
        self, first: tuple[str, str], second: tuple[str, str], verdict: str, now: datetime
    ) -> Decision:
        """Record ``verdict`` on two (name, title) papers; an earlier live decision
        on the same two is revoked (the newest word counts, the history stays)."""
        for old in self.decisions_about([first[0], second[0]]):
            if old.about([first[0]], [second[0]]):
                self.revoke(old.id, now)
        inserted = self.conn.execute(
            identity_decisions.insert().values(
                first=first[0],
                second=second[0],
                verdict=verdict,
                first_title=first[1],
                second_title=second[1],
                decided_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None
        return Decision(
            int(inserted[0]), first[0], second[0], verdict, first[1], second[1], now.isoformat()
        )

    def revoke(self, decision_id: int, now: datetime) -> Decision | None:
        """Undo a live decision; None when there is none with that number."""
        found = self.decision(decision_id)
        if found is None or found.revoked_at is not None:
            return None
        self.conn.execute(
            identity_decisions.update()
            .where(identity_decisions.c.id == decision_id)
            .values(revoked_at=now)
        )
        return self.decision(decision_id)

    def decision(self, decision_id: int) -> Decision | None:
        row = self.conn.execute(
            sa.select(identity_decisions).where(identity_decisions.c.id == decision_id)
        ).first()
        return _decision(row) if row else None

    def decisions(self, *, include_revoked: bool = False) -> list[Decision]:
        query = sa.select(identity_decisions).order_by(identity_decisions.c.id)
        if not include_revoked:
            query = query.where(identity_decisions.c.revoked_at.is_(None))
        return [_decision(r) for r in self.conn.execute(query)]

    def decisions_about(self, names: Iterable[str]) -> list[Decision]:
        """Live decisions naming any of ``names`` (batched indexed lookups)."""
        found: dict[int, Decision] = {}
        for chunk in _chunks(sorted(set(names))):
            for column in (identity_decisions.c.first, identity_decisions.c.second):
                for row in self.conn.execute(
                    sa.select(identity_decisions).where(
                        column.in_(chunk), identity_decisions.c.revoked_at.is_(None)
                    )
                ):
                    found[row.id] = _decision(row)
        return [found[i] for i in sorted(found)]

    # ------------------------------------------------------------ sightings

    def record_sightings(
        self, sightings: Sequence[Sighting], edition_id: int | None, now: datetime
    ) -> None:
        rows = [
            {
                "name": s.name,
                "title_hash": title_hash(s.title_key),
                "same_as": s.same_as,
                "reason": s.reason,
                "title": s.title,
                "abstract": s.abstract,
                "url": s.url,
                "source": s.source,
                "digest_date": s.digest_date,
                "arxiv_id": s.arxiv_id,
                "edition_id": edition_id,
                "seen_at": now,
            }
            for s in sightings
        ]
        for chunk in _chunks(rows, 500):
            self.conn.execute(paper_sightings.insert(), list(chunk))

    def sightings(
        self,
        *,
        names: Iterable[str] = (),
        same_as: Iterable[str] = (),
        title_hashes: Iterable[int] = (),
    ) -> list[Sighting]:
        """Sightings of entries named ``names`` (or with these title hashes), or
        taken for papers ``same_as``; oldest first."""
        found: dict[int, Sighting] = {}
        for column, values in (
            (paper_sightings.c.name, names),
            (paper_sightings.c.same_as, same_as),
            (paper_sightings.c.title_hash, title_hashes),
        ):
            for chunk in _chunks(sorted(set(values))):
                query = (
                    sa.select(paper_sightings, editions.c.date.label("edition_date"))
                    .select_from(paper_sightings.outerjoin(editions))
                    .where(column.in_(chunk))
                )
                for row in self.conn.execute(query):
                    found[row.id] = _sighting(row)
        return [found[i] for i in sorted(found)]

    def search_sightings(self, needle: str, limit: int = 20) -> list[Sighting]:
        query = (
            sa.select(paper_sightings, editions.c.date.label("edition_date"))
            .select_from(paper_sightings.outerjoin(editions))
            .where(sa.func.lower(paper_sightings.c.title).contains(needle.lower(), autoescape=True))
            .order_by(paper_sightings.c.id.desc())
            .limit(limit)
        )
        return [_sighting(r) for r in self.conn.execute(query)]

    # ------------------------------------------------------------ papers, for naming

    def papers(
        self,
        *,
        keys: Iterable[str] = (),
        title_hashes: Iterable[int] = (),
        arxiv_ids: Iterable[str] = (),
    ) -> list[StoredPaper]:
        found: dict[int, StoredPaper] = {}
        for column, values in (
            (papers.c.key, keys),
            (papers.c.title_hash, title_hashes),
            (papers.c.arxiv_id, arxiv_ids),
        ):
            for chunk in _chunks(sorted(set(values))):
                for row in self.conn.execute(_paper_query().where(column.in_(chunk))):
                    found[row.id] = _stored(row)
        return [found[i] for i in sorted(found)]

    def search_papers(self, needle: str, limit: int = 20) -> list[StoredPaper]:
        """Seen papers whose title contains ``needle`` (case-insensitive; a scan,
        for the operator's ``explain``), newest first."""
        query = (
            _paper_query()
            .where(sa.func.lower(papers.c.title).contains(needle.lower(), autoescape=True))
            .order_by(papers.c.id.desc())
            .limit(limit)
        )
        return [_stored(r) for r in self.conn.execute(query)]


def _paper_query() -> sa.Select[Any]:
    return sa.select(
        papers.c.id,
        papers.c.key,
        papers.c.title,
        papers.c.title_key,
        papers.c.arxiv_id,
        papers.c.abstract,
        papers.c.seen_at,
        editions.c.date.label("edition_date"),
    ).select_from(papers.outerjoin(editions))


def _stored(row: Any) -> StoredPaper:
    return StoredPaper(
        id=row.id,
        key=row.key,
        title=row.title,
        title_key=row.title_key,
        arxiv_id=row.arxiv_id,
        abstract=row.abstract,
        edition_date=row.edition_date,
        seen_at=row.seen_at,
    )


def _decision(row: Any) -> Decision:
    return Decision(
        id=row.id,
        first=row.first,
        second=row.second,
        verdict=row.verdict,
        first_title=row.first_title,
        second_title=row.second_title,
        decided_at=_iso(row.decided_at),
        revoked_at=_iso(row.revoked_at) if row.revoked_at else None,
    )


def _sighting(row: Any) -> Sighting:
    from newsletter.identity import title_key

    return Sighting(
        id=row.id,
        name=row.name,
        title_key=title_key(row.title),
        same_as=row.same_as,
        reason=row.reason,
        title=row.title,
        abstract=row.abstract,
        url=row.url,
        source=row.source,
        digest_date=row.digest_date,
        arxiv_id=row.arxiv_id,
        edition_date=row.edition_date,
    )


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
