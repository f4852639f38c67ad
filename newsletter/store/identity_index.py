"""The rarity side of the identity index: term frequencies, rare-term pairs and title heads.

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
    MAX_HEAD_POSTINGS,
)
from newsletter.store.schema import paper_rare_pairs, paper_title_heads, term_frequencies

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

    def head_hits(self, heads: Iterable[int]) -> dict[int, list[int]]:
        """The ids of the seen papers under each title head, for the heads not
        over-common: a head whose list is full (``MAX_HEAD_POSTINGS`` + 1 rows) is
        left out, so a lookup returns at most ``MAX_HEAD_POSTINGS`` papers per head."""
        hits: dict[int, list[int]] = {}
        for chunk in _chunks(sorted(set(heads))):
            for head, paper_id in self.conn.execute(
                sa.select(paper_title_heads.c.head, paper_title_heads.c.paper_id).where(
                    paper_title_heads.c.head.in_(chunk)
                )
            ):
                hits.setdefault(int(head), []).append(int(paper_id))
        return {h: ids for h, ids in hits.items() if len(ids) <= MAX_HEAD_POSTINGS}

    def add_heads(self, rows: Sequence[tuple[int, int]]) -> None:
        """Index newly seen papers under their title heads (``rows``: paper id, head),
        each head's list stopping at ``MAX_HEAD_POSTINGS`` + 1 rows: one more than a
        lookup takes, which marks the head over-common for good."""
        room: dict[int, int] = {}
        heads = sorted({head for _, head in rows})
        for chunk in _chunks(heads):
            for head, n in self.conn.execute(
                sa.select(paper_title_heads.c.head, sa.func.count())
                .where(paper_title_heads.c.head.in_(chunk))
                .group_by(paper_title_heads.c.head)
            ):
                room[int(head)] = MAX_HEAD_POSTINGS + 1 - int(n)
        chosen = []
        for paper_id, head in sorted(set(rows)):
            left = room.get(head, MAX_HEAD_POSTINGS + 1)
            if left > 0:
                chosen.append({"head": head, "paper_id": paper_id})
                room[head] = left - 1
        for chunk in _chunks(chosen, 5000):
            self.conn.execute(paper_title_heads.insert(), list(chunk))

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
