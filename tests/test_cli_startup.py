"""`newsletter --help` starts near a bare interpreter: the CLI imports no heavy library until
a command needs it (docs/benchmarks.md, "Start-up", has the figures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsletter import __version__
from newsletter.__main__ import HELP_FILE

HEAVY = (
    "rich",
    "sqlalchemy",
    "httpx",
    "numpy",
    "jinja2",
    "mjml",
    "sklearn",
    "feedparser",
    "feedgen",
    "email_validator",
    "markdown",
    "starlette",
    "apscheduler",
    "newsletter.config",
    "newsletter.pipeline",
    "newsletter.store",
)

PROBE = """
import json, sys
from newsletter.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = json.loads(sys.stdin.read())
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def _loaded(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_help_imports_no_heavy_library() -> None:
    assert _loaded("--help") == []


def test_help_of_a_command_imports_no_heavy_library() -> None:
    assert _loaded("subscribers", "import", "--help") == []
    assert _loaded("run", "--help") == []


CLICK_HELP = "import sys; from newsletter.cli import main; sys.argv[0] = 'newsletter'; main()"
ENTRY = (
    "import sys; sys.argv[0] = 'newsletter'; from newsletter.__main__ import entry; entry();"
    "print('click' in sys.modules, 'newsletter.cli' in sys.modules, file=sys.stderr)"
)


def _run(code: str, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_stored_help_is_what_click_prints() -> None:
    """``newsletter/cli/help.txt`` is click's help of the CLI (UPDATE_GOLDEN=1 rewrites it)."""
    done = _run(CLICK_HELP, "--help")
    assert done.returncode == 0, done.stderr
    if os.environ.get("UPDATE_GOLDEN") == "1":
        Path(HELP_FILE).write_text(done.stdout, encoding="utf-8")
    assert Path(HELP_FILE).read_text(encoding="utf-8") == done.stdout, (
        "the CLI's help changed: UPDATE_GOLDEN=1 pytest tests/test_cli_startup.py rewrites "
        "newsletter/cli/help.txt"
    )


def test_console_script_help_prints_it_without_importing_click() -> None:
    for flag in ("--help", "-h"):
        done = _run(ENTRY, flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout == Path(HELP_FILE).read_text(encoding="utf-8")
        assert done.stderr.split() == ["False", "False"]


def test_console_script_goes_through_click_for_anything_else_or_a_narrow_terminal() -> None:
    narrow = _run(ENTRY, "--help", columns=60)
    assert narrow.stdout == _run(CLICK_HELP, "--help", columns=60).stdout
    assert narrow.stdout != Path(HELP_FILE).read_text(encoding="utf-8")  # wrapped at 60
    done = _run(
        "import sys; sys.argv[0] = 'newsletter'; from newsletter.__main__ import entry; entry()",
        "--version",
    )
    assert done.returncode == 0 and done.stdout.strip().endswith(__version__), done
