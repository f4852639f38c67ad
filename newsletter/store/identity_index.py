"""The rarity side of the identity index: term frequencies and rare-term pairs.

:class:`IdentityIndex` works on one connection.  Counts and pairs are written
in the transaction that marks their papers seen (``Store.record_edition``,
``Store.bulk_seed``), so the counts always describe exactly the papers seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsletter.identity import (
    DOCUMENTS_TERM,
    RARE_INDEXED,
    rare_pairs,
    term_hash,
    terms,
)
from newsletter.store.migrations import paper_rare_pairs, papers, term_frequencies

CHUNK = 900


class IdentityIndex:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def term_counts(self, hashes: Iterable[int]) -> dict[int, int]:
        """How many seen papers hold each of these terms (absent: none)."""
        found: dict[int, int] = {}
        for chunk in _chunks(sorted(set(hashes))):
            for term, count in self.conn.execute(
                sa.select(term_frequencies.c.term, term_frequencies.c.papers).where(
                    term_frequencies.c.term.in_(chunk)
                )
            ):
                found[int(term)] = int(count)
        return found

    def rare_pair_hits(self, pairs: Iterable[int]) -> dict[int, list[int]]:
        """The ids of the seen papers indexed under each pair."""
        hits: dict[int, list[int]] = {}
        for chunk in _chunks(sorted(set(pairs))):
            for pair, paper_id in self.conn.execute(
                sa.select(paper_rare_pairs.c.pair, paper_rare_pairs.c.paper_id).where(
                    paper_rare_pairs.c.pair.in_(chunk)
                )
            ):
                hits.setdefault(int(pair), []).append(int(paper_id))
        return hits

    def add(self, rows: Sequence[tuple[int, Sequence[int], Sequence[int]]]) -> None:
        """Count the terms of newly seen papers and index their rare pairs.

        ``rows`` are (paper id, term hashes, rare pairs).
        """
        counts = Counter(h for _, hashes, _ in rows for h in set(hashes))
        if rows:
            counts[DOCUMENTS_TERM] += len(rows)
        self._increment(counts)
        pair_rows = [
            {"pair": pair, "paper_id": paper_id}
            for paper_id, _, pairs in rows
            for pair in sorted(set(pairs))
        ]
        for chunk in _chunks(pair_rows, 5000):
            self.conn.execute(paper_rare_pairs.insert(), list(chunk))

    def _increment(self, counts: Counter[int]) -> None:
        items = sorted(counts.items())
        dialect = self.conn.dialect.name
        for chunk in _chunks(items, 5000):
            values = [{"term": term, "papers": n} for term, n in chunk]
            statement: Any
            if dialect == "postgresql":
                statement = postgresql.insert(term_frequencies)
            elif dialect == "sqlite":
                statement = sqlite.insert(term_frequencies)
            else:  # pragma: no cover - only SQLite and PostgreSQL are supported
                raise NotImplementedError(dialect)
            statement = statement.on_conflict_do_update(
                index_elements=[term_frequencies.c.term],
                set_={"papers": term_frequencies.c.papers + statement.excluded.papers},
            )
            self.conn.execute(statement, values)


def backfill(conn: sa.Connection, batch: int = 5000) -> None:
    """Count the terms of every paper already seen, then index its rare pairs
    (ranked by the final counts).  Used once, by the migration that adds them."""
    index = IdentityIndex(conn)
    per_paper: list[tuple[int, list[int]]] = []
    counts: Counter[int] = Counter()
    for start in _id_ranges(conn, batch):
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
    index._increment(counts)
    pair_rows = [
        {"pair": pair, "paper_id": paper_id}
        for paper_id, hashes in per_paper
        for pair in rare_pairs(hashes, counts, RARE_INDEXED)
    ]
    for chunk in _chunks(pair_rows, 5000):
        conn.execute(paper_rare_pairs.insert(), list(chunk))


def _id_ranges(conn: sa.Connection, batch: int) -> Iterator[int]:
    top = conn.execute(sa.select(sa.func.max(papers.c.id))).scalar()
    yield from range(1, int(top or 0) + 1, batch)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
