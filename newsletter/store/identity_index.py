"""The rarity side of the identity index: term frequencies and rare-term pairs.

:class:`IdentityIndex` works on one connection.  Counts and pairs are written
in the transaction that marks their papers seen (:meth:`Papers.mark_seen
<newsletter.store.papers.Papers.mark_seen>`, ``Papers.bulk_seed``), so the
counts always describe exactly the papers seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsletter.identity import (
    DOCUMENTS_TERM,
)
from newsletter.store.schema import paper_rare_pairs, term_frequencies

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


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
