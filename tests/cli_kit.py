"""Running the ``newsletter`` command as an operator does: a real process, piped output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def newsletter(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = False,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``newsletter ARGS`` in ``cwd``, output captured (so not a terminal, as under cron)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NEWSLETTER_CONFIG", None)
    full_env.pop("COLUMNS", None)  # what a cron job or a pipe gets: no terminal width at all
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def init_project(parent: Path, name: str = "nl") -> Path:
    """``newsletter init`` into ``parent/name``; returns the project folder."""
    newsletter("init", str(parent / name), cwd=parent, check=True)
    return parent / name


def set_config(project: Path, old: str, new: str) -> None:
    """Edit the project's config.toml: replace the line ``old`` by ``new``."""
    config = project / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]
