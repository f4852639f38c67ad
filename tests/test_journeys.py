"""The operator's second hour: what the README's commands do after the quick start.

Each test walks a path the red team walked (issue 11) and pins what a user
reads: a digest given on the command line is always read and checked, counts
read as English, a recorded-but-unpublished edition is told once and truly, a
dead feed beside an empty drop folder is a failed day, bind and write errors
hint at their real cause, ``subscribers list`` shows the current state, and
``status`` does not call a database that cannot exist "idle".
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_kit import error_lines, init_project, newsletter, set_config
from corpus_kit import OWN_CORPUS
from loopback import body, serving

from newsletter.store import Database
from newsletter.subscribers.subscriptions import Subscriptions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def day(today: date) -> str:
    """Today (UTC, the default config's timezone) as runs print it, fixed for the test."""
    return today.isoformat()


@pytest.fixture
def project(tmp_path: Path, day: str) -> Path:
    """A project after the quick start: ``init``, then ``run`` (today's edition exists)."""
    folder = init_project(tmp_path)
    newsletter("run", cwd=folder, check=True)
    return folder


def site_editions(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "site" / "editions").iterdir())


def one_paper_digest(folder: Path) -> Path:
    """A text digest holding exactly one paper nobody has seen (the sample's header)."""
    sample = (ROOT / "digests" / "sample-digest.txt").read_text(encoding="utf-8")
    header = sample[: sample.index("Ledger: Teaching")]
    text = header + (
        "Tidal Gauges from Commodity Phones\n\n"
        "We turn the barometers of ordinary phones left on harbour walls into tide gauges. "
        "A year of readings from forty phones tracks the official gauge within two "
        "centimetres, at a hundredth of its cost."
    )
    path = folder / "one-paper.txt"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- 1. given digests are read


def test_after_the_quick_start_a_given_file_is_still_read_and_checked(
    project: Path, day: str
) -> None:
    shutil.copy(ROOT / "README.md", project / "README.md")
    for command in ("preview", "run"):
        result = newsletter(command, "README.md", cwd=project)
        assert result.returncode == 1, (command, result.stdout)
        [line] = error_lines(result.stderr)
        assert "README.md" in line and "not a text digest" in line
    missing = newsletter("run", "/nonexistent.txt", cwd=project)
    assert missing.returncode == 1
    [line] = error_lines(missing.stderr)
    assert "/nonexistent.txt" in line
    said = " ".join(missing.stdout.split())
    assert f"an edition for {day} exists already" in said and "recorded nothing" in said
    assert "--force" in said
    assert site_editions(project) == [day]  # nothing new was made of either


def test_a_second_run_with_new_papers_says_they_are_not_recorded(project: Path, day: str) -> None:
    more = str(OWN_CORPUS.file(0))
    previewed = newsletter("preview", more, cwd=project)
    ran = newsletter("run", more, cwd=project)
    for result in (previewed, ran):
        assert result.returncode == 1, result.stdout
        [line] = error_lines(result.stderr)
        assert "exists already (23 papers)" in line
        assert f"the {OWN_CORPUS.fresh[0]} new papers in the digests given" in line
        assert "--force" in line
        assert "Nothing recorded (see the error below)." in result.stdout
    assert site_editions(project) == [day]
    forced = newsletter("run", more, "--force", cwd=project, check=True)
    assert f"Recorded edition {day} #2 with {OWN_CORPUS.fresh[0]} new papers." in forced.stdout


# ---------------------------------------------------------------- 2. counts read as English


def test_one_new_paper_is_one_new_paper_everywhere(tmp_path: Path, day: str) -> None:
    folder = init_project(tmp_path)
    # scheduled at midnight, so the scheduled date is today at any hour the test runs
    # (at 07:00 it would be yesterday's before 07:00, an edition this project never had)
    set_config(folder, 'cron = "0 7 * * *"', 'cron = "0 0 * * *"')
    (folder / "digests" / "sample-digest.txt").unlink()
    one = one_paper_digest(folder / "digests")
    preview = newsletter("preview", cwd=folder, check=True)
    assert "1 new paper; nothing was recorded." in preview.stdout
    run = newsletter("run", cwd=folder, check=True)
    assert f"Recorded edition {day} with 1 new paper." in run.stdout
    status = newsletter("status", cwd=folder, check=True)
    assert "published — 1 new paper" in status.stdout
    scheduled = json.loads(newsletter("status", "--json", cwd=folder).stdout)["scheduled"]
    assert scheduled["reason"] == "1 new paper"  # as /healthz says it
    again = newsletter("run", str(one), cwd=folder, check=True)
    assert "exists already (1 paper);" in " ".join(again.stdout.split())
    everything = preview.stdout + run.stdout + again.stdout + status.stdout + str(scheduled)
    assert not re.search(r"\b1 (new )?(papers|subscribers|files|rows|entries)\b", everything)


COUNTED_NOUNS = re.compile(
    r"^ (new |more )?(papers|subscribers|entries|files|rows|editions|recipients|sources|"
    r"digests|replacements|decisions)\b"
)


def test_no_message_puts_a_number_before_a_plural_noun_by_hand() -> None:
    """``f"{n} papers"`` reads "1 papers" one day: counts go through wording.counted."""
    package = ROOT / "newsletter"
    files = [*package.glob("cli/*.py"), *package.glob("web/*.py")]
    files += [package / "status.py", package / "pipeline.py"]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for value, after in itertools.pairwise(node.values):
                if (
                    isinstance(value, ast.FormattedValue)
                    and isinstance(after, ast.Constant)
                    and COUNTED_NOUNS.match(str(after.value))
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "use newsletter.wording.counted: " + ", ".join(offenders)


# ---------------------------------------------------------------- 3. recorded, not published


def test_a_run_whose_template_breaks_tells_one_true_story(tmp_path: Path, day: str) -> None:
    folder = init_project(tmp_path)
    (folder / "mytemplates").mkdir()
    (folder / "mytemplates" / "email.mjml.j2").write_text(
        '{% extends "stock/email.mjml.j2" %}\n{% block note %}\n{% if %}\n{% endblock %}\n',
        encoding="utf-8",
    )
    set_config(folder, 'templates_dir = ""', 'templates_dir = "mytemplates"')
    result = newsletter("run", cwd=folder)
    assert result.returncode == 1
    assert "Nothing recorded" not in result.stdout  # it is recorded: the status line says so
    assert f"Recorded edition {day} with 23 new papers; its files are not published" in (
        result.stdout
    )
    [failed] = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "is recorded" in failed and "email.mjml.j2" in failed


# ---------------------------------------------------------------- 4. a dead feed, an empty folder


def test_a_dead_feed_beside_an_empty_drop_folder_is_a_failed_day(tmp_path: Path) -> None:
    folder = init_project(tmp_path)
    (folder / "digests" / "sample-digest.txt").unlink()  # the drop folder is empty
    with serving() as server:
        server.route("/feed.xml", body(b"down", content_type="text/plain", status=500))
        with (folder / "config.toml").open("a", encoding="utf-8") as config:
            config.write(
                f'\n[[sources]]\nname = "arxiv"\nkind = "feed"\n'
                f'url = "{server.url("/feed.xml")}"\nallow_private = true\n'
            )
        result = newsletter("run", cwd=folder)
    assert result.returncode == 1
    [status] = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert "no source could be read" in status and "no file in drop-folder" in status
    assert "stale" not in result.stderr and "returned what" not in result.stderr
    [error] = error_lines(result.stderr)
    assert "feed.xml" in error and "HTTP 500" in error
    day = json.loads(newsletter("status", "--json", cwd=folder).stdout)["last_run"]
    assert day["status"] == "failed"


# ---------------------------------------------------------------- 5. bind errors by their cause


def test_serve_on_an_address_this_machine_lacks_says_so_not_port_in_use(project: Path) -> None:
    result = newsletter("serve", "--host", "203.0.113.5", "--port", "8000", cwd=project)
    assert result.returncode == 3
    [line] = error_lines(result.stderr)
    assert "203.0.113.5:8000" in line
    [hint] = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
    assert "not one of this machine's" in hint and "another process" not in hint


LISTEN_81 = (
    "from newsletter.web.serve import ListenError, listen\n"
    "try:\n    listen('127.0.0.1', 81)\n"
    "except ListenError as exc:\n    print(exc.message); print(exc.hint)\n"
)


def test_a_low_port_without_privileges_says_so_not_port_in_use() -> None:
    if Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip() != "1024":
        pytest.skip("this machine lets anyone listen below 1024")
    command = [sys.executable, "-c", LISTEN_81]
    if os.geteuid() == 0:  # as root every port is allowed: ask as nobody
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is needed to drop root")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    message, hint = result.stdout.splitlines()
    assert "127.0.0.1:81" in message and "Permission denied" in message
    assert "below 1024 need privileges" in hint and "another process" not in hint


# ---------------------------------------------------------------- 8. write errors by their cause


def test_write_errors_hint_at_their_cause(project: Path) -> None:
    (project / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    cases = [
        (("preview", "--out", "afile/sub"), "Not a directory", "is a file, not a folder"),
        (("subscribers", "export", "no/such/dir/x.csv"), "No such file", "does not exist"),
        (("subscribers", "export", "/dev/full"), "No space left", "the disk is full"),
    ]
    newsletter("subscribers", "add", "a@example.org", "--confirmed", cwd=project, check=True)
    for args, reason, cause in cases:
        result = newsletter(*args, cwd=project)
        assert result.returncode == 1, args
        [line] = error_lines(result.stderr)
        assert reason in line, (args, line)
        [hint] = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
        assert cause in hint and "free some space" not in hint.replace("full: free", ""), hint


# ---------------------------------------------------------------- 9. the current state only


def test_a_subscriber_who_came_back_lists_as_confirmed_without_the_old_unsubscribe(
    project: Path,
) -> None:
    newsletter("subscribers", "add", "ada@example.org", "--confirmed", cwd=project, check=True)
    newsletter("subscribers", "remove", "ada@example.org", cwd=project, check=True)
    url = f"sqlite:///{project / 'subscribers' / 'newsletter.db'}"
    with Database.open(url) as db:  # the form and the confirmation button, as the web does
        subs = Subscriptions(db)
        back = subs.request("ada@example.org", None, method="web", now=datetime.now(UTC))
        subs.confirm(back.subscriber.public_id, method="web", now=datetime.now(UTC))
    [ada] = json.loads(newsletter("subscribers", "list", "--json", cwd=project).stdout)
    assert ada["status"] == "confirmed" and ada["confirmed_at"]
    assert ada["unsubscribed_at"] is None
    exported = newsletter("subscribers", "export", cwd=project, check=True).stdout
    [row] = csv.DictReader(io.StringIO(exported))
    assert row["unsubscribed_at"]  # the history stays in the export


# ---------------------------------------------------------------- 10. a database that cannot be


def test_status_of_a_database_whose_folder_does_not_exist_is_a_config_error(
    tmp_path: Path,
) -> None:
    folder = init_project(tmp_path)
    nowhere = {"NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'dir' / 'x.db'}"}
    result = newsletter("status", cwd=folder, env=nowhere)
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert "NEWSLETTER_DATABASE_URL" in line and str(tmp_path / "no" / "dir") in line
    assert "idle" not in result.stdout
    first = newsletter("run", cwd=folder, env=nowhere, check=True)
    assert f"created the folder {tmp_path / 'no' / 'dir'} for the database" in first.stderr
    second = newsletter("run", cwd=folder, env=nowhere, check=True)
    assert "created the folder" not in second.stderr  # said once
    assert newsletter("status", cwd=folder, env=nowhere).returncode == 0
