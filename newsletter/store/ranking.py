"""The ranking's stored state: its fitted vocabulary and each subscriber's model.

Rows only; what a model is and when it is stale belong to
:mod:`newsletter.delivery.ranked`.  A model goes with its subscriber (the
foreign key cascades; ``purge`` and a reset of the votes delete it too).  Like
the votes, nothing here is ever published.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter.states import SubscriberStatus
from newsletter.store.schema import (
    papers,
    ranking_models,
    ranking_settings,
    ranking_vocabularies,
    subscribers,
    votes,
)


@dataclass(frozen=True)
class StoredVocabulary:
    version: int
    papers: int
    """How many papers it was fitted on."""
    state: bytes


class RankingState:
    """The vocabulary and the per-subscriber models."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def vocabulary(self) -> StoredVocabulary | None:
        """The newest fitted vocabulary, or None."""
        row = self.conn.execute(
            sa.select(ranking_vocabularies).order_by(ranking_vocabularies.c.version.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return StoredVocabulary(int(row.version), int(row.papers), bytes(row.state))

    def save_vocabulary(self, papers: int, state: bytes, now: datetime) -> int:
        """Store a newly fitted vocabulary; its version.  The older ones and every model
        trained on them are deleted (their columns mean nothing to the new one)."""
        inserted = self.conn.execute(
            ranking_vocabularies.insert().values(papers=papers, fitted_at=now, state=state)
        ).inserted_primary_key
        assert inserted is not None
        version = int(inserted[0])
        self.conn.execute(
            ranking_vocabularies.delete().where(ranking_vocabularies.c.version != version)
        )
        self.conn.execute(
            ranking_models.delete().where(ranking_models.c.vocabulary_version != version)
        )
        return version

    def paper_count(self) -> int:
        """How many papers the store holds (the vocabulary refits when it has grown)."""
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar() or 0)

    def fingerprints(self) -> dict[int, str]:
        """Per confirmed subscriber with ranking on and at least one vote: a fingerprint
        of their votes (how many, how many 👍, the newest time and row) that changes with
        any new, replaced or removed vote or seed."""
        off = sa.select(ranking_settings.c.subscriber_id).where(
            ranking_settings.c.enabled.is_(False)
        )
        liked = sa.func.sum(sa.case((votes.c.liked.is_(True), 1), else_=0))
        rows = self.conn.execute(
            sa.select(
                votes.c.subscriber_id,
                sa.func.count(),
                liked,
                sa.func.max(votes.c.id),
                sa.func.max(votes.c.at),
            )
            .join(subscribers, subscribers.c.id == votes.c.subscriber_id)
            .where(
                subscribers.c.status == SubscriberStatus.CONFIRMED.value,
                votes.c.subscriber_id.not_in(off),
            )
            .group_by(votes.c.subscriber_id)
        ).all()
        return {
            int(sid): f"{int(n)}:{int(up or 0)}:{int(last)}:{str(at)[:26]}"
            for sid, n, up, last, at in rows
        }

    def trained(self) -> dict[int, tuple[int, str]]:
        """Per stored model: the vocabulary version and the fingerprint it was trained on."""
        rows = self.conn.execute(
            sa.select(
                ranking_models.c.subscriber_id,
                ranking_models.c.vocabulary_version,
                ranking_models.c.fingerprint,
            )
        ).all()
        return {int(s): (int(v), str(f)) for s, v, f in rows}

    def with_model(self, version: int) -> set[int]:
        """The subscribers with a stored model (not "no usable vote") over ``version``."""
        rows = self.conn.execute(
            sa.select(ranking_models.c.subscriber_id).where(
                ranking_models.c.vocabulary_version == version,
                ranking_models.c.model.is_not(None),
            )
        )
        return {int(s) for (s,) in rows}

    def voted_keys(self) -> set[str]:
        """Every paper someone voted on or seeded (the corpus keeps them all)."""
        return {str(k) for (k,) in self.conn.execute(sa.select(votes.c.paper_key).distinct())}

    def save_models(
        self, version: int, models: Iterable[tuple[int, str, bytes | None]], now: datetime
    ) -> None:
        """Store (replace) models: (subscriber, fingerprint, blob or None for no model)."""
        rows = list(models)
        if not rows:
            return
        self.conn.execute(
            ranking_models.delete().where(ranking_models.c.subscriber_id.in_([r[0] for r in rows]))
        )
        self.conn.execute(
            ranking_models.insert(),
            [
                {
                    "subscriber_id": sid,
                    "vocabulary_version": version,
                    "fingerprint": fingerprint,
                    "trained_at": now,
                    "model": blob,
                }
                for sid, fingerprint, blob in rows
            ],
        )

    def models(self, version: int, subscriber_ids: Iterable[int]) -> Iterator[tuple[int, bytes]]:
        """The stored models of ``subscriber_ids`` over vocabulary ``version`` (those with
        one), in subscriber order."""
        wanted = sorted(set(subscriber_ids))
        for i in range(0, len(wanted), 500):
            rows = self.conn.execute(
                sa.select(ranking_models.c.subscriber_id, ranking_models.c.model)
                .where(
                    ranking_models.c.subscriber_id.in_(wanted[i : i + 500]),
                    ranking_models.c.vocabulary_version == version,
                    ranking_models.c.model.is_not(None),
                )
                .order_by(ranking_models.c.subscriber_id)
            ).all()
            for sid, blob in rows:
                yield int(sid), bytes(blob)

    def forget(self, subscriber_id: int) -> None:
        """Delete a subscriber's model (a reset of their votes, a purge)."""
        self.conn.execute(
            ranking_models.delete().where(ranking_models.c.subscriber_id == subscriber_id)
        )
