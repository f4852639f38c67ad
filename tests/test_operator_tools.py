"""The operator's tools: a test send, a run that primes the state, the deployment guide and
shell completion — each as the README and docs/deployment.md say."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_kit import BIN, init_project, newsletter
from corpus_kit import OWN_CORPUS
from delivery_kit import bodies, maildir_messages

from newsletter import cli

ROOT = Path(__file__).resolve().parents[1]
DAY1, DAY2 = "2026-11-09", "2026-11-10"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = init_project(tmp_path)
    (folder / "digests" / "sample-digest.txt").unlink()
    newsletter("subscribers", "add", "reader@example.org", "--confirmed", cwd=folder, check=True)
    return folder


def outbox(project: Path) -> list[dict[str, str]]:
    folder = project / "subscribers" / "outbox"
    if not (folder / "new").is_dir():
        return []
    return [
        {"to": str(m["To"]), "subject": str(m["Subject"]), "id": str(m["Message-ID"])}
        for m in maildir_messages(folder)
    ]


def ledger(project: Path) -> list[dict[str, object]]:
    from newsletter import config
    from newsletter.store import Database

    settings = config.load(project / "config.toml")
    with Database.open_read_only(settings.database.url) as db, db.read() as tx:
        return [{"email": r.email, "state": str(r.state)} for r in tx.ledger.rows()]


def test_send_test_mails_one_address_and_records_nothing(project: Path) -> None:
    shutil.copy(OWN_CORPUS.file(0), project / "digests")
    newsletter("run", "--date", DAY1, cwd=project, check=True)
    assert [m["to"] for m in outbox(project)] == ["reader@example.org"]
    before = ledger(project)

    sent = newsletter("send-test", "me@example.org", "--topics", "llm", cwd=project, check=True)
    assert f"Sent a test of the edition {DAY1} to me@example.org" in sent.stdout
    test = [m for m in outbox(project) if m["to"] == "me@example.org"]
    assert len(test) == 1 and test[0]["subject"].startswith("[test] ")
    [message] = [
        m for m in maildir_messages(project / "subscribers" / "outbox") if m["To"] == test[0]["to"]
    ]
    text, _ = bodies(message)
    assert "== Language Models" in text and "== Computer Vision" not in text  # as an llm reader
    assert "unsubscribe/" in str(message["List-Unsubscribe"])  # the generic page, no token
    assert "?t=" not in str(message["List-Unsubscribe"])

    again = newsletter("send-test", "me@example.org", cwd=project, check=True)
    assert again.returncode == 0
    assert len([m for m in outbox(project) if m["to"] == "me@example.org"]) == 2  # any number
    assert ledger(project) == before  # nothing recorded: no row, no state changed
    listed = json.loads(newsletter("subscribers", "list", "--json", cwd=project).stdout)
    assert [s["email"] for s in listed] == ["reader@example.org"]
    rerun = newsletter("run", "--date", DAY1, cwd=project, check=True)
    assert "exists already" in rerun.stdout
    assert [m["to"] for m in outbox(project)].count("reader@example.org") == 1


def test_send_test_before_any_edition_says_what_to_do(project: Path) -> None:
    result = newsletter("send-test", "me@example.org", cwd=project)
    assert result.returncode == 1
    assert "error: no edition recorded yet" in result.stderr
    assert "run --no-send" in result.stderr
    bad = newsletter("send-test", "not an address", cwd=project)
    assert bad.returncode == 1 and bad.stderr.count("error:") == 1


def test_run_no_send_primes_the_state_and_the_next_run_mails_only_what_is_new(
    project: Path,
) -> None:
    shutil.copy(OWN_CORPUS.file(0), project / "digests")
    primed = newsletter("run", "--no-send", "--date", DAY1, cwd=project, check=True)
    assert "Recorded edition" in primed.stdout and "--no-send" in primed.stdout
    assert outbox(project) == [] and ledger(project) == []
    assert (project / "site" / "editions" / DAY1 / "edition.json").is_file()  # published
    newsletter("run", "--date", DAY1, cwd=project, check=True)  # the same date again
    assert outbox(project) == []  # still nobody: the primed edition is never sent

    shutil.copy(OWN_CORPUS.file(1), project / "digests")
    newsletter("run", "--date", DAY2, cwd=project, check=True)
    [message] = outbox(project)
    assert f"{OWN_CORPUS.new[1]} new papers" in message["subject"]  # only what came after


def test_every_command_in_the_deployment_guide_exists() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    fenced = re.findall(r"```[a-z]*\n(.*?)```", guide, re.S)
    code = "\n".join(
        [*fenced, *re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", guide, flags=re.S))]
    )
    invoked = re.findall(
        r"(?:^|[\s/])newsletter((?: --?[a-z-]+)*) ([a-z][a-z-]+)(?: ([a-z][a-z-]+))?", code, re.M
    )
    assert len(invoked) > 8
    for _options, command, sub in invoked:
        found = cli.main.get_command(None, command)  # type: ignore[arg-type]
        assert found is not None, f"docs/deployment.md: newsletter {command} does not exist"
        if sub and hasattr(found, "commands"):
            assert sub in found.commands, f"newsletter {command} {sub}"  # type: ignore[attr-defined]
    unit = guide[guide.index("[Service]") :]
    assert re.search(r"ExecStart=\S+/newsletter --log-json serve", unit)
    assert re.search(r"RestartPreventExitStatus=2 3", unit)  # the README's 2 and 3
    assert re.search(r"^0 7 \* \* \*  cd /srv/newsletter", guide, re.M)  # a crontab line
    assert "proxy_pass http://127.0.0.1:8000;" in guide  # serve's default address
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/deployment.md" in readme


def test_shell_completion_works_as_documented(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "_NEWSLETTER_COMPLETE=bash_source newsletter" in guide
    env = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_CONFIG"}
    script = subprocess.run(
        [str(BIN / "newsletter")],
        env={**env, "_NEWSLETTER_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert script.returncode == 0 and "complete -o nosort -F _newsletter_completion" in (
        script.stdout
    )
    words = subprocess.run(
        [str(BIN / "newsletter")],
        env={
            **env,
            "_NEWSLETTER_COMPLETE": "bash_complete",
            "COMP_WORDS": "newsletter se",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert {"plain,send-test", "plain,serve"} <= set(words.stdout.split())
