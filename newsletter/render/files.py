"""Atomic file writes: a reader (or a crash) never sees half a feed or page.

Each file is written to a temporary file in the same folder, flushed and
fsynced, then moved over the target with :func:`os.replace` (atomic on POSIX
and Windows); the folder is fsynced too where the platform allows it, so the
rename itself survives a power cut.  A write the system refuses (a full disk,
a read-only folder) is an :class:`~newsletter.errors.OutputError` naming the
file; the old file, if any, is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from newsletter import faults
from newsletter.errors import OutputError


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders; return ``path``."""
    try:
        _write_atomic(path, data)
    except OSError as exc:
        raise OutputError.of(path, exc) from exc
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        faults.hit("mid-feed-write")  # inert unless NEWSLETTER_FAULT names it
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_files(root: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each ``relative path → bytes`` under ``root`` atomically, in sorted order."""
    return [write_atomic(root / rel, files[rel]) for rel in sorted(files)]


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse to fsync a directory
        pass
    finally:
        os.close(fd)
