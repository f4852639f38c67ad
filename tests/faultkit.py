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

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    assert "error: unexpected" not in result.stderr, result.stderr
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


# ---------------------------------------------------------------- a faulty SMTP server

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass
class FaultySmtp:
    """An aiosmtpd handler that misbehaves on request, and counts what it accepted.

    ``rcpt[address]`` and ``data[address]`` are lists of what to do on
    successive attempts for that recipient, at RCPT and at the end of DATA:
    an SMTP reply (``"451 4.3.0 try later"``, ``"550 5.1.1 no such user"``),
    ``"drop"`` (close the connection without a reply) or, at DATA only,
    ``"timeout"`` (keep the message but answer only after the client gave up)
    and ``"drop-mid-data"`` (close the connection after a few lines of the
    message: it is not received).
    ``drop_every`` closes the connection after every Nth accepted message,
    before its reply (``drop_before_reply``, the reply is lost) or after it.

    A message counts as received as soon as its data arrived, whatever the
    reply: a server that took the message and then lost the connection may
    well deliver it, which is the worst case for duplicates.
    """

    rcpt: dict[str, list[str]] = field(default_factory=dict)
    data: dict[str, list[str]] = field(default_factory=dict)
    drop_every: int = 0
    drop_before_reply: bool = True
    reply_delay: float = 2.5
    received: list[tuple[str, str]] = field(default_factory=list)  # (recipient, Message-ID)
    reply_losses: int = 0  # messages kept whose reply the client never got
    mid_data_drops: int = 0  # connections closed in the middle of a message (not received)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self, script: dict[str, list[str]], address: str) -> str:
        with self.lock:
            steps = script.get(address.lower())
            return steps.pop(0) if steps else "ok"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        step = self._next(self.rcpt, address)
        if step == "drop":
            server.transport.close()
            return "421 4.4.2 closing"
        if step[:1] in ("4", "5"):
            return step
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def drop_mid_data(self, envelope: Any) -> bool:
        """Called at DATA, before the message: consumes a ``drop-mid-data`` step."""
        [address] = envelope.rcpt_tos
        with self.lock:
            steps = self.data.get(address.lower())
            if steps and steps[0] == "drop-mid-data":
                steps.pop(0)
                self.mid_data_drops += 1
                return True
        return False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _MESSAGE_ID.search(bytes(envelope.content))
        message_id = found[1].decode() if found else "?"
        [address] = envelope.rcpt_tos
        step = self._next(self.data, address)
        if step[:1] in ("4", "5"):
            return step  # refused: not received
        with self.lock:
            self.received.append((address.lower(), message_id))
            count = len(self.received)
        if step == "timeout":
            with self.lock:
                self.reply_losses += 1
            await asyncio.sleep(self.reply_delay)
            return "250 2.0.0 late"
        if step == "drop" or (
            self.drop_every and count % self.drop_every == 0 and self.drop_before_reply
        ):
            with self.lock:
                self.reply_losses += 1
            server.transport.close()
            return "421 4.4.2 closing"
        if self.drop_every and count % self.drop_every == 0:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 queued"

    def copies(self) -> Counter[str]:
        """How many copies each recipient received (of any Message-ID)."""
        with self.lock:
            return Counter(address for address, _ in self.received)

    def message_ids(self) -> dict[str, set[str]]:
        with self.lock:
            ids: dict[str, set[str]] = {}
            for address, message_id in self.received:
                ids.setdefault(address, set()).add(message_id)
            return ids


@contextmanager
def smtp(handler: FaultySmtp) -> Iterator[int]:
    """Serve ``handler`` on a free loopback port; yields the port."""
    from smtp_loopback import DroppingController

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = DroppingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def use_smtp(project: Project, port: int, timeout: int = 1, delivery: str = "") -> None:
    """Point the project's delivery at the SMTP server on ``port``; ``delivery`` adds
    lines to the ``[delivery]`` section (``"lease_seconds = 3\n"``)."""
    text = project.config.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[delivery\].*?(?=^\[|\Z)", "", text)
    text = re.sub(r"(?ms)^\[smtp\].*?(?=^\[|\Z)", "", text)
    text += (
        '\n[delivery]\nmethod = "smtp"\nfrom_address = "digest@news.example.org"\n'
        "retries = 3\nbackoff_seconds = 0.0\n"
        + delivery
        + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f"timeout_seconds = {timeout}\n"
    )
    project.config.write_text(text, encoding="utf-8")


def ledger_states(project: Project, day: str) -> Counter[str]:
    """The states of the send-ledger rows of the editions of ``day``."""
    with sqlite3.connect(project.db) as conn:
        rows = conn.execute(
            "SELECT l.state FROM send_ledger l JOIN editions e ON e.id = l.edition_id "
            "WHERE e.date = ?",
            (day,),
        ).fetchall()
    return Counter(state for (state,) in rows)


def ledger_addresses(project: Project, day: str, state: str) -> list[str]:
    """The addresses of the send-ledger rows of ``day``'s editions in ``state``."""
    with sqlite3.connect(project.db) as conn:
        rows = conn.execute(
            "SELECT s.email FROM send_ledger l JOIN editions e ON e.id = l.edition_id "
            "JOIN subscribers s ON s.id = l.subscriber_id WHERE e.date = ? AND l.state = ?",
            (day, state),
        ).fetchall()
    return [email for (email,) in rows]


def compare_sends(
    server: FaultySmtp,
    expected: set[str],
    refused: set[str],
    kills_while_sending: int,
) -> tuple[int, int, int]:
    """(lost, explained duplicates, unexplained duplicates) of what ``server`` received.

    Every address of ``expected`` not in ``refused`` (given a permanent 5xx on
    purpose) must have received the edition.  Each extra copy must carry the
    same Message-ID and be covered by the documented budget: one per kill
    while sending (the message in flight) and one per reply the server lost.
    """
    copies = server.copies()
    ids = server.message_ids()
    lost = len({a for a in expected - refused if copies[a] == 0})
    extra = sum(n - 1 for n in copies.values() if n > 1)
    distinct = sum(len(v) - 1 for v in ids.values())  # a second Message-ID: a real duplicate
    budget = kills_while_sending + server.reply_losses
    explained = min(extra, budget) if distinct == 0 else 0
    unexplained = extra - explained
    figures.count("faults", "messages received", sum(copies.values()))
    figures.count("faults", "lost", lost)
    figures.count("faults", "duplicates (in flight, explained)", explained)
    figures.count("faults", "duplicates", unexplained)
    return lost, explained, unexplained
