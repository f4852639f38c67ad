"""`newsletter ... | head -1`: the reader closes the pipe after one line, and the command
ends quietly with status 141 (128 + SIGPIPE, as ``yes | head -1`` does): no traceback,
no "unexpected BrokenPipeError" line, whichever layer writes the output (a rich table, a
CSV written row by row, click's JSON echo, click's or the stored help).

Real processes on real pipes.  Nothing races a clock: a listing is made far larger than
a pipe holds, so once the reader has closed, the writer is sure to write again; the help
is written into a pipe whose read end was closed before the command started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from cli_kit import BIN, init_project, newsletter

READERS = 4000
PIPE_BYTES = 64 * 1024  # Linux's default pipe capacity
TIMEOUT = 300  # s: a loaded two-core box


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with READERS subscribers, imported as an operator would."""
    folder = init_project(tmp_path_factory.mktemp("pipe"))
    rows = "email\n" + "".join(f"reader{n:05d}@example.org\n" for n in range(READERS))
    (folder / "readers.csv").write_text(rows, encoding="utf-8")
    newsletter("subscribers", "import", "readers.csv", "--confirmed", cwd=folder, check=True)
    return folder


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("NEWSLETTER_CONFIG", None)
    if "COLUMNS" not in extra:
        env.pop("COLUMNS", None)
    return env


def _first_line_then_close(args: Sequence[str], cwd: Path) -> tuple[str, int, str]:
    """Run ``newsletter ARGS`` into a pipe, read its first line, close the pipe (as
    ``head -1`` does); its first line, exit status and standard error."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().decode("utf-8")
    proc.stdout.close()
    proc.stdout = None  # communicate() reads standard error alone, with a timeout
    _, err = proc.communicate(timeout=TIMEOUT)
    return first, proc.returncode, err.decode("utf-8")


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (("subscribers", "list"), f"{READERS} subscribers\n"),  # a rich table: one write
        (("subscribers", "export"), "email,status,topics,"),  # csv, row by row
        (("subscribers", "list", "--json"), "[\n"),  # click.echo of one JSON text
    ],
)
def test_a_listing_piped_into_head_ends_quietly_with_141(
    project: Path, args: tuple[str, ...], first: str
) -> None:
    whole = newsletter(*args, cwd=project, check=True).stdout  # unpiped: all of it, status 0
    assert len(whole.encode()) > 4 * PIPE_BYTES  # so a closed reader is surely written to
    assert whole.count("reader0") == READERS
    line, status, err = _first_line_then_close(args, project)
    assert line.startswith(first)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert err == ""  # not even an error line: a closed pipe is not a failure
    assert status == 141


@pytest.mark.parametrize(
    ("command", "columns"),
    [
        (("newsletter", "--help"), ""),  # the stored help (cli/help.txt), no click
        (("newsletter", "--help"), "60"),  # narrow: click prints it
        (("newsletter", "--version"), ""),
        (("newsletter", "subscribers", "--help"), ""),
        (("python", "-m", "newsletter", "config", "show"), ""),  # a rich table
    ],
)
def test_help_into_a_closed_pipe_ends_quietly_with_141(
    project: Path, command: tuple[str, ...], columns: str
) -> None:
    """The reader is gone before the command writes a byte (``newsletter --help | true``
    on a busy box): the first write fails, and the command still says nothing."""
    program = sys.executable if command[0] == "python" else str(BIN / command[0])
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [program, *command[1:]],
            cwd=project,
            env=_env(**({"COLUMNS": columns} if columns else {})),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.stderr == ""
    assert done.returncode == 141


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["config", "show"]])
def test_a_command_started_with_standard_output_closed_still_runs(
    args: list[str], project: Path
) -> None:
    """``newsletter ... >&-``: no standard output at all (Python's ``sys.stdout`` is
    None); the command runs, exit 0, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=project,
        env=_env(),
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=lambda: os.close(1),  # the child has no threads yet
    )
    assert (done.returncode, done.stderr) == (0, "")
