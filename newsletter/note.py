"""The editor's note: a Markdown file that opens the *next* edition, once.

``newsletter.editor_note`` names a file the operator writes when they have
something to say.  Its text goes into the next edition that is recorded and
into no later one: the edition carries the note (``Edition.note``, kept in
``edition.json``), and the note's content hash is recorded as ingested in the
same transaction as that edition, exactly like a text digest.  So leaving the
file in place does not repeat the note every day, writing a new text into it
makes a new note for the next edition, and a run that records nothing (an
empty day, a failed one) leaves the note for the one after.

A preview shows the note the next run would carry, read-only.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from newsletter.store import Database
from newsletter.store.sources import IngestedFile

log = logging.getLogger(__name__)

SOURCE = "editor_note"
"""The ``source`` of a note's ingested-file record."""


def read(path: Path | None) -> str | None:
    """The note's Markdown text; ``None`` when unset, missing or blank."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        log.info("editor's note %s does not exist; the edition has none", path)
        return None
    return text or None


def content_hash(text: str) -> str:
    """The note's key in the ingested records (prefixed: never equal to a digest's hash)."""
    return hashlib.sha256(b"editor-note\0" + text.encode("utf-8")).hexdigest()


def pending(path: Path | None, store: Database | None) -> str | None:
    """The note the next edition carries: the file's text unless an edition carried it."""
    text = read(path)
    if text is None:
        return None
    if store is not None and _ingested(store, content_hash(text)):
        log.info("editor's note %s was in an earlier edition; not repeated", path)
        return None
    return text


def record(text: str, path: Path | None) -> IngestedFile:
    """The ingested-file record saying an edition carried ``text``."""
    return IngestedFile(content_hash(text), path.name if path else "editor_note", SOURCE)


def _ingested(db: Database, key: str) -> bool:
    with db.read() as tx:
        return bool(tx.sources.ingested_files([key]))
