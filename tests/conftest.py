"""Shared fixtures: the digests to test on, and real databases (SQLite file, PostgreSQL server).

Digests: ``corpus`` runs a test on the project's own digests (``tests/digests``,
always there) and on the real seed digests in ``../shared/seeds`` when that
folder sits beside the checkout.  Without it the seed variants are skipped with
the reason, unless ``NEWSLETTER_REQUIRE_SEEDS=1`` (CI sets it), which makes a
missing seed folder an error.  Each :class:`Corpus` carries the facts about its
files that the tests check (entry and new-paper counts, ...).

PostgreSQL: ``NEWSLETTER_TEST_POSTGRES_URL`` names a server to use (a fresh
database is created per test); otherwise a throw-away cluster is started with
the machine's ``initdb``/``pg_ctl`` (as the ``postgres`` user when run as root)
on a Unix socket in a temporary folder.  Without PostgreSQL binaries the
PostgreSQL variants are skipped, unless ``NEWSLETTER_REQUIRE_POSTGRES=1``
(CI sets it), which makes that an error.

Hypothesis is deterministic here (profile ``deterministic``, the default): a
seed derived from each test, no example database, no deadline, so a run on a
loaded machine tries the same examples as one on an idle machine and CI
never flakes.  ``--hypothesis-profile=explore`` (or
``NEWSLETTER_HYPOTHESIS_PROFILE=explore``) explores with random seeds
instead; a crash it finds goes into ``tests/corpus/`` or a pinned example.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from corpus_kit import OWN_CORPUS, SEED_CORPUS, Corpus, require_seeds
from hypothesis import settings

pytest_plugins = ["browser_kit"]  # the headless Chromium fixture, for every browser test

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("NEWSLETTER_HYPOTHESIS_PROFILE", "deterministic"))


#: How long before a UTC midnight a test waits for the new day instead of starting.
#: Many tests run ``newsletter run`` without ``--date`` (today's edition in the
#: default UTC timezone) more than once and compare; one that straddles midnight
#: would see two days.  The longest such test takes well under this on a loaded
#: 2-core machine.
MIDNIGHT_MARGIN = timedelta(minutes=5)


def _wait_clear_of_midnight(margin: timedelta = MIDNIGHT_MARGIN) -> None:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    if midnight - now < margin:
        time.sleep((midnight - now).total_seconds() + 1)


@pytest.fixture(autouse=True)
def clear_of_midnight() -> None:
    """Start no test in the last minutes of a UTC day: wait for the next one.

    Whatever a test runs to "today" then stays on one day (CI once crossed
    midnight between a test module's import and its runs).  The wait happens at
    most once per suite run, and only when the suite is running at that hour.
    """
    _wait_clear_of_midnight()


@pytest.fixture
def today(clear_of_midnight: None) -> date:
    """Today's date in UTC (the default config's timezone), fixed for the test."""
    return datetime.now(UTC).date()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The real seed digests only (prefer ``corpus``, which also runs on the own digests)."""
    return require_seeds()


@pytest.fixture(scope="session", params=[OWN_CORPUS, SEED_CORPUS], ids=lambda c: c.name)
def corpus(request: pytest.FixtureRequest) -> Corpus:
    """Each digest test runs on the project's own digests and on the real seeds."""
    chosen: Corpus = request.param
    if chosen is SEED_CORPUS:
        require_seeds()
    return chosen


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server (admin database), started for the session if needed."""
    url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("NEWSLETTER_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "PostgreSQL is required (NEWSLETTER_REQUIRE_POSTGRES=1) but initdb was not found"
            )
        pytest.skip("PostgreSQL binaries not found (install postgresql to run these tests)")
    base = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = "postgres"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            entry = pwd.getpwnam("nobody")
            user = "nobody"
        os.chown(base, entry.pw_uid, entry.pw_gid)
        os.chown(sock, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A maker of fresh, empty databases, for a test that compares several: SQLite
    files, or databases on one real PostgreSQL server."""
    made: list[str] = []
    admin = None
    if request.param == "postgres":
        server = str(request.getfixturevalue("postgres_server"))
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if admin is None:
            return f"sqlite:///{tmp_path / name}.db"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin.url.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a real SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'newsletter.db'}"
    return str(request.getfixturevalue("postgres_url"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the hardening figures (fuzz examples, kills, duplicates, losses) after the run."""
    import figures

    figures.report(terminalreporter)
