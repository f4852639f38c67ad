"""``python -m newsletter`` and the ``newsletter`` console script (:func:`entry`).

``newsletter --help`` (or ``-h``) alone prints ``cli/help.txt`` without
importing click or the CLI: importing click costs 4× a bare interpreter, and
the help is what a new user runs first (``docs/benchmarks.md``, "Start-up").
The file is click's own output, kept equal to it by ``tests/test_cli_startup.py``
(``UPDATE_GOLDEN=1`` rewrites it).  Click wraps the help to the terminal width
up to 80 columns, so a narrower terminal, or any other arguments, take the
ordinary path through :func:`newsletter.cli.main`.

A closed standard output (``newsletter subscribers list | head -1``: ``head``
exits after its line) ends any command quietly with status 141, 128 + SIGPIPE,
what a shell shows for ``yes | head -1``: no traceback, no "unexpected
BrokenPipeError" line, whichever layer (click, rich, a command's own write, the
final flush) met the closed pipe (:func:`entry`).
"""

import io
import os
import stat
import sys

HELP_FILE = os.path.join(os.path.dirname(__file__), "cli", "help.txt")


def _columns() -> int:
    """The terminal width as click sees it (``shutil.get_terminal_size``, without shutil)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _stored_help(argv: list[str]) -> str | None:
    """The stored help when ``argv`` asks for the top-level help alone, else None."""
    if argv[1:] not in (["--help"], ["-h"]) or os.path.basename(argv[0]) != "newsletter":
        return None
    if _columns() < 80:
        return None
    try:
        with open(HELP_FILE, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


PIPE_CLOSED = 141
"""The exit status when standard output was a pipe its reader closed: 128 + SIGPIPE."""


class _WholeWrites(io.BufferedWriter):
    """A buffered writer whose ``write`` writes all it is given or raises.

    CPython's own can take one large write that the reader's closing cut short,
    return the part written and drop the rest, and its text layer ignores that
    count: ``subscribers list | head -1`` (a rich table is one write) wrote
    65,536 of 207,611 bytes, lost the rest and exited 0.  Writing the rest meets
    the closed pipe, so the BrokenPipeError reaches :func:`entry`."""

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        done = super().write(view)
        while done < len(view):
            wrote = super().write(view[done:])
            if not wrote:  # a blocking pipe never takes nothing; never loop on it
                raise OSError("standard output took nothing")
            done += wrote
        return done


def _whole_writes() -> None:
    """Standard output through :class:`_WholeWrites` when it is a pipe or a socket,
    the streams where a write can be cut short; a terminal or a file keeps Python's."""
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper):  # replaced already (a test harness, None)
        return
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):  # closed, or not a real file
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    stream.flush()
    sys.stdout = io.TextIOWrapper(
        _WholeWrites(io.FileIO(fd, "w", closefd=False)),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )


def _pipe_closed() -> None:
    """Exit 141 without a word, as the Python documentation's note on SIGPIPE (signal
    module) recommends: standard output now goes to /dev/null, so the flush at exit
    of what is still buffered cannot fail again (and print "Exception ignored")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(PIPE_CLOSED)


def _no_stdout() -> None:
    """Started with standard output closed (``newsletter run >&-``): Python leaves
    ``sys.stdout`` None and every print would raise.  The command still runs; what
    it would print goes to /dev/null (its log lines still reach standard error)."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (lives as long as the process)


def entry() -> None:
    """The console script: the stored help, or the CLI; a closed pipe on standard
    output ends either quietly with :data:`PIPE_CLOSED`."""
    _no_stdout()
    _whole_writes()
    try:
        try:
            text = _stored_help(sys.argv)
            if text is not None:
                sys.stdout.write(text)
                return
            from newsletter.cli import main

            main()
        finally:  # flushed here, so a refused write is caught below, not at exit
            if sys.stdout is not None:  # None: started with standard output closed
                sys.stdout.flush()
    except BrokenPipeError:
        _pipe_closed()


if __name__ == "__main__":
    entry()
