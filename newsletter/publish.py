"""Write an edition's files: into a preview folder, or into the site folder on a run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from newsletter.config import Settings
from newsletter.edition import to_json
from newsletter.model import Edition


def _write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_preview(
    edition: Edition, history: Sequence[Edition], settings: Settings, out_dir: Path
) -> list[Path]:
    target = out_dir / "edition.json"
    _write_atomic(target, to_json(edition))
    return [target]


def publish_run(edition: Edition, history: Sequence[Edition], settings: Settings) -> list[Path]:
    suffix = "" if edition.number == 1 else f"-{edition.number}"
    target = settings.site_dir / "editions" / f"{edition.date.isoformat()}{suffix}" / "edition.json"
    _write_atomic(target, to_json(edition))
    return [target]
