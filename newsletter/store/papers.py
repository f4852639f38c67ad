"""The seen-paper index: papers marked seen, their MinHash bands, arXiv ids learnt later
(and, through :class:`~newsletter.store.identity_index.IdentityIndex`, their term
counts, rare pairs and title heads).

:class:`Papers` implements :class:`newsletter.novelty.SeenIndex`: every lookup
is a few batched, indexed ``IN`` queries, never a scan, whatever the number of
papers seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.identity import Signature, head_index_key
from newsletter.model import Paper
from newsletter.store.identity_index import IdentityIndex
from newsletter.store.schema import paper_bands, papers

# Parameters per IN (...) list: below SQLite's 32766 and PostgreSQL's 65535 limits.
CHUNK = 900


def title_hash(title_key: str) -> int:
    """A signed 63-bit hash of a normalized title: indexed instead of the (long) text."""
    digest = hashlib.blake2b(title_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) >> 1


@dataclass(frozen=True)
class SeenPaper:
    """What identity needs of a paper seen before."""

    id: int
    key: str
    arxiv_id: str | None
    title_key: str
    signature: Signature | None
    abstract: str = ""
    title: str = ""


@dataclass(frozen=True)
class NewPaper:
    """A paper to mark seen, with what its identity index needs: its MinHash
    signature, its terms (counted in the term frequencies) and its rare pairs."""

    paper: Paper
    title_key: str
    signature: Signature | None
    terms: tuple[int, ...] = ()
    rare_pairs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Alias:
    """An arXiv id learnt for a paper first seen without one."""

    paper_key: str
    arxiv_id: str


class Papers:
    """Reads and writes of the seen papers, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def band_hits(self, bands: Iterable[int]) -> dict[int, list[int]]:
        """The ids of the seen papers under each band value (batched indexed lookups)."""
        hits: dict[int, list[int]] = {}
        for chunk in chunks(sorted(set(bands))):
            rows = self.conn.execute(
                sa.select(paper_bands.c.band, paper_bands.c.paper_id).where(
                    paper_bands.c.band.in_(chunk)
                )
            )
            for band, paper_id in rows:
                hits.setdefault(band, []).append(paper_id)
        return hits

    def candidates(
        self,
        arxiv_ids: Iterable[str],
        title_hashes: Iterable[int],
        ids: Iterable[int] = (),
        keys: Iterable[str] = (),
    ) -> list[SeenPaper]:
        """Every seen paper with one of these arXiv ids, title hashes, ids or keys.

        Batched: a whole digest costs a few indexed ``IN`` queries, never a scan.
        """
        conditions = []
        for chunk in chunks(sorted(set(arxiv_ids))):
            conditions.append(papers.c.arxiv_id.in_(chunk))
        for chunk in chunks(sorted(set(title_hashes))):
            conditions.append(papers.c.title_hash.in_(chunk))
        for chunk in chunks(sorted(set(ids))):
            conditions.append(papers.c.id.in_(chunk))
        for chunk in chunks(sorted(set(keys))):
            conditions.append(papers.c.key.in_(chunk))
        columns = (
            papers.c.id,
            papers.c.key,
            papers.c.arxiv_id,
            papers.c.title_key,
            papers.c.signature,
            papers.c.abstract,
            papers.c.title,
        )
        found: dict[int, SeenPaper] = {}
        for condition in conditions:
            for row in self.conn.execute(sa.select(*columns).where(condition)):
                found[row.id] = SeenPaper(
                    id=row.id,
                    key=row.key,
                    arxiv_id=row.arxiv_id,
                    title_key=row.title_key,
                    signature=Signature(bytes(row.signature)) if row.signature else None,
                    abstract=row.abstract,
                    title=row.title,
                )
        return [found[i] for i in sorted(found)]

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that are seen (an exact-key lookup, batched)."""
        found: set[str] = set()
        for chunk in chunks(sorted(set(keys))):
            found.update(
                r[0]
                for r in self.conn.execute(sa.select(papers.c.key).where(papers.c.key.in_(chunk)))
            )
        return found

    def count(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar() or 0)

    def mark_seen(self, new: Sequence[NewPaper], edition_id: int | None, now: datetime) -> None:
        """Mark ``new`` seen (by edition ``edition_id``), with their band rows."""
        for chunk in chunks(list(new), 500):
            rows = [_paper_row(item, edition_id, now) for item in chunk]
            self.conn.execute(papers.insert(), rows)
            keyed = self.conn.execute(
                sa.select(papers.c.id, papers.c.key).where(
                    papers.c.key.in_([r["key"] for r in rows])
                )
            )
            id_by_key = {r.key: r.id for r in keyed}
            band_rows = [
                {"band": band, "paper_id": id_by_key[item.paper.key]}
                for item in chunk
                if item.signature is not None
                for band in sorted(set(item.signature.bands()))
            ]
            if band_rows:
                self.conn.execute(paper_bands.insert(), band_rows)
            index = IdentityIndex(self.conn)
            index.add([(id_by_key[i.paper.key], i.terms, i.rare_pairs) for i in chunk])
            index.add_heads(
                [
                    (id_by_key[i.paper.key], head_index_key(i.paper.title, i.title_key))
                    for i in chunk
                ]
            )

    def learn_aliases(self, aliases: Iterable[Alias]) -> None:
        """Give papers first seen without an arXiv id the one learnt since."""
        for alias in aliases:
            self.conn.execute(
                papers.update()
                .where(papers.c.key == alias.paper_key, papers.c.arxiv_id.is_(None))
                .values(arxiv_id=alias.arxiv_id)
            )

    def bulk_seed(self, new: Sequence[NewPaper], now: datetime) -> None:
        """Mark many papers seen without an edition (benchmarks and imports): ids are
        assigned here, so no read-back per chunk."""
        start = int(
            self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(papers.c.id), 0))).scalar()
            or 0
        )
        rows: list[dict[str, Any]] = []
        band_rows: list[dict[str, int]] = []
        for offset, item in enumerate(new, start=1):
            rows.append({"id": start + offset, **_paper_row(item, None, now)})
            if item.signature is not None:
                band_rows.extend(
                    {"band": b, "paper_id": start + offset}
                    for b in sorted(set(item.signature.bands()))
                )
        if rows:
            self.conn.execute(papers.insert(), rows)
        if band_rows:
            self.conn.execute(paper_bands.insert(), band_rows)
        index = IdentityIndex(self.conn)
        index.add([(start + n, i.terms, i.rare_pairs) for n, i in enumerate(new, start=1)])
        index.add_heads(
            [
                (start + n, head_index_key(i.paper.title, i.title_key))
                for n, i in enumerate(new, start=1)
            ]
        )


def _paper_row(item: NewPaper, edition_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "key": item.paper.key,
        "arxiv_id": item.paper.arxiv_id,
        "title_hash": title_hash(item.title_key),
        "title_key": item.title_key,
        "title": item.paper.title,
        "abstract": item.paper.abstract,
        "url": item.paper.url,
        "source": item.paper.source,
        "digest_date": item.paper.digest_date,
        "signature": item.signature.values if item.signature else None,
        "edition_id": edition_id,
        "seen_at": now,
    }


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (one ``IN`` list or one batch insert each)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
