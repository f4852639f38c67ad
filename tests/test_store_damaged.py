"""A database file that lost its content or is corrupt is refused in one line naming
the file, with the hint to restore it from a backup: never re-initialised, never an
"unexpected DatabaseError"."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_kit import error_lines, init_project, newsletter

COMMANDS = [
    ("run",),
    ("status",),
    ("migrate",),
    ("subscribers", "list"),
    ("subscribers", "add", "new@example.org", "--confirmed"),
    ("serve", "--port", "0"),
    ("schedule",),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with an edition and a subscriber, its database closed cleanly."""
    project = init_project(tmp_path_factory.mktemp("damaged"))
    newsletter("subscribers", "add", "reader@example.org", "--confirmed", cwd=project, check=True)
    newsletter("run", cwd=project, check=True)
    return project


def _copy(published: Path, tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    project = tmp_path / "p"
    shutil.copytree(published, project)
    return project, project / "subscribers" / "newsletter.db"


def _refused(project: Path, db: Path, args: tuple[str, ...], words: str) -> None:
    result = newsletter(*args, cwd=project, timeout=120)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    [line] = error_lines(result.stderr)
    assert str(db) in line and words in line, (args, line)
    assert "restore it from a backup" in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_zero_length_database_is_refused_not_started_afresh(
    published: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    project, db = _copy(published, tmp_path)
    db.write_bytes(b"")
    _refused(project, db, args, "is empty (0 bytes)")
    assert db.stat().st_size == 0  # nothing written over it: the operator restores it


@pytest.mark.parametrize("args", COMMANDS[:4], ids=lambda a: " ".join(a))
def test_a_database_with_its_header_overwritten_is_named_damaged(
    published: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    project, db = _copy(published, tmp_path)
    with db.open("r+b") as handle:
        handle.write(b"this is no longer an SQLite header" * 3)
    _refused(project, db, args, "file is not a database")


@pytest.mark.parametrize("args", COMMANDS[:4], ids=lambda a: " ".join(a))
def test_a_database_with_scribbled_pages_is_named_damaged(
    published: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    project, db = _copy(published, tmp_path)
    data = bytearray(db.read_bytes())
    data[4096:] = b"\x5a" * (len(data) - 4096)  # the schema page survives, the rest does not
    db.write_bytes(bytes(data))
    _refused(project, db, args, "database disk image is malformed")


def test_deleting_the_empty_file_starts_afresh_as_the_hint_says(
    published: Path, tmp_path: Path
) -> None:
    project, db = _copy(published, tmp_path)
    db.write_bytes(b"")
    db.unlink()
    assert newsletter("migrate", cwd=project).returncode == 0
