"""Where an edition's files go: a preview folder, or the site folder on a run.

A thin seam between the pipeline and :mod:`newsletter.render`, so the pipeline
does not know the site layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from newsletter.config import Settings
from newsletter.errors import OutputError, output_hint
from newsletter.history import History
from newsletter.model import Edition
from newsletter.render import publish_site, write_preview


def publish_preview(
    edition: Edition, history: Sequence[Edition], settings: Settings, out_dir: Path
) -> list[Path]:
    """email.html, email.txt, feed.xml, atom.xml and edition.json into ``out_dir``."""
    return write_preview(edition, history, settings, out_dir)


def publish_run(
    edition: Edition, history: Sequence[Edition] | History, settings: Settings
) -> list[Path]:
    """The edition's page, email and edition.json, the feeds and the index, into the site.

    A write that fails (a full disk, a read-only folder) is an error with a
    hint, not a crash: the edition is recorded by then, and running again
    publishes its files again (every file is written atomically, so what
    the failed attempt left is either the old file or the new one).
    """
    try:
        return publish_site(edition, history, settings, settings.output.site_dir)
    except OutputError as exc:
        fix = output_hint(exc.errno) or "fix the folder"
        raise OutputError(
            exc.path,
            exc.reason,
            hint=f"the edition for {edition.date.isoformat()} is recorded; {fix}, "
            "then run again to publish its files",
            errno=exc.errno,
        ) from exc
