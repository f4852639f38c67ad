"""The fault-injection harness: a project folder, runs of the real command, and the checks.

Every fault test follows one shape: prepare a project that has published
day 1, run ``newsletter run`` for day 2 and break it (SIGKILL at a named
point or at a random moment, a full disk, a locked database), run it again
until it finishes, and then compare the state with a reference run of the
same inputs that nothing broke:

* **lost**: a paper of the reference edition missing from the database, the
  edition, its ``edition.json`` or the feed; or an input file recorded as
  ingested while none of its papers was (it would never be read again);
* **duplicate**: a paper recorded twice, in two editions, or twice in a feed;
  a second edition for the date;
* the SQLite file passes ``PRAGMA integrity_check``.

The command runs in a subprocess (``python -m newsletter``) so a kill is a
real ``SIGKILL`` of a real process, with nothing flushed or cleaned up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import figures

DAY1 = "2026-03-11"
DAY2 = "2026-03-12"


@dataclass
class Project:
    """A newsletter folder: config.toml, digests/, subscribers/newsletter.db, site/."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def db(self) -> Path:
        return self.root / "subscribers" / "newsletter.db"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def digests(self) -> Path:
        return self.root / "digests"

    def copy(self, to: Path) -> Project:
        shutil.copytree(self.root, to, symlinks=True)
        text = self.config.read_text(encoding="utf-8").replace(str(self.root), str(to))
        (to / "config.toml").write_text(text, encoding="utf-8")
        return Project(to)


def make_project(root: Path, extra_config: str = "") -> Project:
    """A project reading the ``digests/`` drop folder, publishing into ``site/``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "digests").mkdir(exist_ok=True)
    (root / "config.toml").write_text(
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        '[output]\nsite_dir = "site"\n'
        '[[sources]]\nname = "drop"\nkind = "text"\npath = "digests"\n' + extra_config,
        encoding="utf-8",
    )
    return Project(root)


def command(project: Project, day: str) -> list[str]:
    """The argv of ``newsletter run --date DAY`` for this project."""
    return [
        *(sys.executable, "-m", "newsletter", "--config", str(project.config)),
        *("run", "--date", day),
    ]


def run(
    project: Project,
    day: str,
    fault: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``newsletter run --date DAY``; with ``fault`` the process kills itself there."""
    environment = {**os.environ, **(env or {})}
    environment.pop("NEWSLETTER_FAULT", None)
    if fault:
        environment["NEWSLETTER_FAULT"] = fault
    result = subprocess.run(
        command(project, day),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=project.root,
    )
    figures.count("faults", "runs")
    if result.returncode == -signal.SIGKILL:
        figures.count("faults", "kills")
    assert "unexpected" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def run_killed_at_random(
    project: Project, day: str, delay: float, env: dict[str, str] | None = None
) -> bool:
    """Start a run and SIGKILL it after ``delay`` seconds; False if it finished first."""
    environment = {**os.environ, **(env or {})}
    environment.pop("NEWSLETTER_FAULT", None)
    process = subprocess.Popen(
        command(project, day),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
        cwd=project.root,
    )
    figures.count("faults", "runs")
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()
        figures.count("faults", "kills")
        figures.count("faults", "random kills")
        return True
    process.wait()
    return False


def converge(project: Project, day: str, env: dict[str, str] | None = None) -> None:
    """Run until the run finishes, then once more: the second must record nothing."""
    first = run(project, day, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    again = run(project, day, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "exists already" in again.stdout + again.stderr, again.stdout


@dataclass
class State:
    """What a project holds after its runs, as plain sets and counts."""

    editions: dict[str, list[list[str]]] = field(default_factory=dict)  # date -> [paper keys]
    papers: Counter[str] = field(default_factory=Counter)
    ingested: set[str] = field(default_factory=set)
    site_editions: dict[str, list[str]] = field(default_factory=dict)
    feed_guids: Counter[str] = field(default_factory=Counter)
    temp_files: int = 0


def read_state(project: Project) -> State:
    state = State()
    with sqlite3.connect(project.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for day, payload in conn.execute("SELECT date, payload FROM editions ORDER BY id"):
            data = json.loads(payload)
            keys = [p["id"] for s in data["sections"] for p in s["papers"]]
            state.editions.setdefault(str(day)[:10], []).append(keys)
        state.papers.update(k for (k,) in conn.execute("SELECT key FROM papers"))
        state.ingested = {n for (n,) in conn.execute("SELECT name FROM ingested_files")}
    for path in sorted(project.site.glob("editions/*/edition.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        state.site_editions[path.parent.name] = [
            p["id"] for s in data["sections"] for p in s["papers"]
        ]
    feed = project.site / "feed.xml"
    if feed.exists():
        root = ET.parse(feed).getroot()
        state.feed_guids.update(g.text or "" for g in root.iter("guid"))
    state.temp_files = sum(1 for _ in project.site.rglob(".*.tmp"))
    return state


def compare(state: State, reference: State) -> tuple[int, int]:
    """(lost, duplicates) of ``state`` against the unbroken ``reference``; both counted."""
    lost = 0
    duplicates = 0
    for day, editions in reference.editions.items():
        mine = state.editions.get(day, [])
        duplicates += max(0, len(mine) - len(editions))
        want = {k for e in editions for k in e}
        have = {k for e in mine for k in e}
        lost += len(want - have)
        lost += len(want - set(state.site_editions.get(day, [])))
    duplicates += sum(n - 1 for n in state.papers.values() if n > 1)
    every = Counter(k for eds in state.editions.values() for e in eds for k in e)
    duplicates += sum(n - 1 for n in every.values() if n > 1)
    duplicates += sum(n - 1 for n in state.feed_guids.values() if n > 1)
    lost += len(set(reference.papers) - set(state.papers))
    lost += len(set(reference.feed_guids) - set(state.feed_guids))
    lost += len(reference.ingested - state.ingested)
    figures.count("faults", "lost", lost)
    figures.count("faults", "duplicates", duplicates)
    figures.count("faults", "checks")
    if state.temp_files:
        figures.count("faults", "stray temp files (harmless)", state.temp_files)
    return lost, duplicates
