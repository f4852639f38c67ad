"""The editor's note opens the next edition, once — not every edition while the file exists."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from corpus_kit import OWN_CORPUS

from newsletter import config, pipeline


def project(tmp_path: Path) -> config.Settings:
    (tmp_path / "digests").mkdir()
    text = (
        '[newsletter]\nbase_url = "https://news.example.org/"\neditor_note = "note.md"\n'
        '[[sources]]\nname = "drop"\nkind = "text"\npath = "digests"\n'
    )
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return config.parse(
        text, where="config.toml", base_dir=tmp_path, config_path=tmp_path / "config.toml"
    )


def drop(tmp_path: Path, index: int) -> None:
    shutil.copy(OWN_CORPUS.file(index), tmp_path / "digests")


def page(tmp_path: Path, day: str) -> dict[str, object]:
    folder = tmp_path / "site" / "editions" / day
    return {
        "note": json.loads((folder / "edition.json").read_text(encoding="utf-8"))["note"],
        "email": (folder / "email.html").read_text(encoding="utf-8"),
        "text": (folder / "email.txt").read_text(encoding="utf-8"),
    }


def test_the_note_goes_into_the_next_edition_only_until_it_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("We moved to a **new server**.\n", encoding="utf-8")
    settings = project(tmp_path)
    drop(tmp_path, 0)
    preview = pipeline.preview(settings, (), date(2026, 11, 9), tmp_path / "preview")
    assert preview.edition.note == "We moved to a **new server**."  # what the run will carry
    assert pipeline.run(settings, (), date(2026, 11, 9)).status == "published"
    first = page(tmp_path, "2026-11-09")
    assert first["note"] == "We moved to a **new server**."
    assert "<strong>new server</strong>" in str(first["email"])
    assert "We moved to a **new server**." in str(first["text"])

    # the file is left in place: the next edition does not repeat it
    drop(tmp_path, 1)
    assert pipeline.run(settings, (), date(2026, 11, 10)).status == "published"
    second = page(tmp_path, "2026-11-10")
    assert second["note"] is None and "new server" not in str(second["email"])

    # a day that records nothing keeps a new note for the day after
    (tmp_path / "note.md").write_text("Thank you for 100 subscribers!\n", encoding="utf-8")
    assert pipeline.run(settings, (), date(2026, 11, 11)).status == "stale"
    drop(tmp_path, 2)
    assert pipeline.run(settings, (), date(2026, 11, 12)).status == "published"
    third = page(tmp_path, "2026-11-12")
    assert third["note"] == "Thank you for 100 subscribers!"
    assert "new server" not in str(third["email"])

    # publishing an edition again (a second run that day) keeps its own note
    again = pipeline.run(settings, (), date(2026, 11, 12))
    assert again.status == "exists" and again.edition.note == "Thank you for 100 subscribers!"
    # and the edition page shows it too
    index = (tmp_path / "site" / "editions" / "2026-11-12" / "index.html").read_text("utf-8")
    assert "Thank you for 100 subscribers!" in index


def test_a_note_removed_while_serve_runs_means_no_note(tmp_path: Path) -> None:
    """A missing note is a config error at start (tests/test_config.py); one removed
    while `serve` runs leaves the next edition without a note, and the run goes on."""
    (tmp_path / "note.md").write_text("Welcome!\n", encoding="utf-8")
    settings = project(tmp_path)
    (tmp_path / "note.md").unlink()
    drop(tmp_path, 0)
    report = pipeline.run(settings, (), date(2026, 11, 9))
    assert report.status == "published" and report.edition.note is None
