"""`newsletter --help` starts near a bare interpreter: the CLI imports no heavy library until
a command needs it (docs/benchmarks.md, "Start-up", has the figures)."""

from __future__ import annotations

import json
import subprocess
import sys

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
