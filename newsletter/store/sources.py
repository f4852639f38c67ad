"""What the sources returned: each fetched source's validators and content hash,
and every text digest ingested (by the SHA-256 of its bytes).

Written with the edition that used them (or alone when a run found nothing
new), so an input counts as ingested only once its papers are recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter.store.papers import chunks
from newsletter.store.schema import ingested_files, source_state


@dataclass(frozen=True)
class SourceState:
    """What a fetched source returned last: validators and a hash of its content."""

    name: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    changed_at: datetime | None = None


@dataclass(frozen=True)
class IngestedFile:
    """A text digest ingested, by the SHA-256 of its bytes."""

    content_hash: str
    name: str
    source: str
    ingested_at: datetime | None = None


@dataclass(frozen=True)
class Ingested:
    """What a run read: recorded with its edition, so an input counts as ingested
    only once its papers are recorded."""

    sources: tuple[SourceState, ...] = ()
    files: tuple[IngestedFile, ...] = ()


class Sources:
    """Reads and writes of source states and ingested files, on one connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def states(self) -> dict[str, SourceState]:
        rows = self.conn.execute(sa.select(source_state)).all()
        return {
            r.name: SourceState(r.name, r.etag, r.last_modified, r.content_hash, r.changed_at)
            for r in rows
        }

    def ingested_files(self, hashes: Iterable[str]) -> dict[str, IngestedFile]:
        """The files among ``hashes`` ingested before, by hash."""
        found: dict[str, IngestedFile] = {}
        for chunk in chunks(sorted(set(hashes))):
            for r in self.conn.execute(
                sa.select(ingested_files).where(ingested_files.c.content_hash.in_(chunk))
            ):
                found[r.content_hash] = IngestedFile(
                    r.content_hash, r.name, r.source, r.ingested_at
                )
        return found

    def record(self, ingested: Ingested, now: datetime) -> None:
        """Remember what a run read: each source's state replaced, new files added."""
        for state in ingested.sources:
            self.conn.execute(source_state.delete().where(source_state.c.name == state.name))
            self.conn.execute(
                source_state.insert().values(
                    name=state.name,
                    etag=state.etag,
                    last_modified=state.last_modified,
                    content_hash=state.content_hash,
                    changed_at=now,
                )
            )
        for file in ingested.files:
            exists = self.conn.execute(
                sa.select(ingested_files.c.content_hash).where(
                    ingested_files.c.content_hash == file.content_hash
                )
            ).first()
            if not exists:
                self.conn.execute(
                    ingested_files.insert().values(
                        content_hash=file.content_hash,
                        name=file.name,
                        source=file.source,
                        ingested_at=now,
                    )
                )
