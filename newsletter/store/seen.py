"""What novelty reads of the store, over one connection: the seen papers and
their band index (:mod:`~newsletter.store.papers`), the term frequencies and
rare pairs and title heads (:mod:`~newsletter.store.identity_index`) and the operator's
decisions (:mod:`~newsletter.store.corrections`).

:class:`Seen` implements :class:`newsletter.novelty.SeenIndex`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from newsletter.identity import Decision
from newsletter.store.corrections import Corrections
from newsletter.store.identity_index import IdentityIndex
from newsletter.store.papers import Papers, SeenPaper


class Seen:
    """The seen index, as novelty queries it."""

    def __init__(self, conn: sa.Connection) -> None:
        self._papers = Papers(conn)
        self._index = IdentityIndex(conn)
        self._corrections = Corrections(conn)

    def band_hits(self, bands: Iterable[int]) -> dict[int, list[int]]:
        return self._papers.band_hits(bands)

    def rare_pair_hits(self, pairs: Iterable[int]) -> dict[int, list[int]]:
        return self._index.rare_pair_hits(pairs)

    def head_hits(self, heads: Iterable[int]) -> dict[int, list[int]]:
        return self._index.head_hits(heads)

    def term_counts(self, hashes: Iterable[int]) -> dict[int, int]:
        return self._index.term_counts(hashes)

    def decisions_about(self, names: Sequence[str]) -> list[Decision]:
        return self._corrections.decisions_about(names)

    def candidates(
        self,
        arxiv_ids: Iterable[str],
        title_hashes: Iterable[int],
        ids: Iterable[int] = (),
        keys: Iterable[str] = (),
    ) -> list[SeenPaper]:
        return self._papers.candidates(arxiv_ids, title_hashes, ids, keys)
