"""The one way the command line speaks: results on standard output, problems on standard error.

Every command prints through one :class:`Output`, so the same rules hold for
all of them:

- **Terminal or not.**  On a terminal, rich tables and colours, fitted to the
  window.  Anywhere else (cron, systemd, ``| tee``, a test) nothing is wrapped,
  padded or truncated: a line is as long as what it says, a table as wide as
  its widest cell, so ``config show`` keys and error lines arrive whole.
- **Each problem once.**  A problem is one ``error: ...`` line (and its
  ``hint: ...``) on standard error; tables may point at it but do not repeat it,
  and the library logs what it reports at INFO, below the default level.
- **``--log-json``** turns every line on standard error into one JSON object
  (the same shape as the log lines: time, level, logger, message, plus
  ``hint`` when there is one), so a log collector sees errors, warnings and
  hints, not only log records.  Standard output (the command's result) is
  unchanged.
- **Input quoted safely.**  Problems quote what the operator's input held (a CSV
  cell, a file name, a message header), so every problem line is made safe in one
  place (:func:`safe_line`): control characters (a terminal escape, a bidi
  override) are shown escaped (``\\x1b``), any run of more than
  :data:`QUOTE_LIMIT` characters without a space is cut to its first
  :data:`QUOTE_KEEP` and ``…``, and a line to :data:`LINE_LIMIT` characters.
  Result lines and table cells get the same escaping (their length is theirs).
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported where output is drawn, so `--help` never loads it
    from rich.console import Console
    from rich.table import Table

UNWRAPPED = 1_000_000
"""Console width off a terminal: wide enough that rich never wraps or truncates."""

log = logging.getLogger("newsletter.cli")

QUOTE_LIMIT = 200
"""Longest run of characters without a space a problem line shows whole (a long path
still fits; a 100,000-character CSV cell does not)."""
QUOTE_KEEP = 80
"""How much of a longer run is shown, before ``…``."""
LINE_LIMIT = 2000
"""Longest problem line, whatever it quotes."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LONG_RUN = re.compile(rf"\S{{{QUOTE_LIMIT + 1},}}")


def safe_line(text: str) -> str:
    """``text`` as one line safe to print: no control character, no unbounded quote.

    Whitespace (newlines included) becomes single spaces; C0/C1 control characters
    and bidi controls are written as ``\\xNN`` / ``\\uNNNN``, so a file name
    holding a terminal escape cannot recolour, move or retitle the operator's
    terminal; a run longer than :data:`QUOTE_LIMIT` is cut to :data:`QUOTE_KEEP`
    characters and ``…``, and the line to :data:`LINE_LIMIT`.
    """
    text = _CONTROL.sub(_escaped, " ".join(text.split()))
    text = _LONG_RUN.sub(lambda m: m.group()[:QUOTE_KEEP] + "…", text)
    return text if len(text) <= LINE_LIMIT else text[:LINE_LIMIT] + "…"


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def without_controls(text: str) -> str:
    """``text`` with its control characters escaped, newlines and tabs kept (results
    such as ``bounces fetch``'s ``new/<file name>: ...`` lines quote input too)."""
    return _CONTROL.sub(_escaped, text)


def console(stream: IO[str]) -> Console:
    """A rich console on ``stream``: fitted to a terminal, unwrapped anywhere else."""
    console_class = _console_class()
    if stream.isatty():
        return console_class(file=stream, highlight=False)
    return console_class(
        file=stream, highlight=False, soft_wrap=True, width=UNWRAPPED, color_system=None
    )


@functools.cache
def _console_class() -> type[Console]:
    """rich's Console, but a closed pipe is left to the entry point: rich's own
    ``on_broken_pipe`` exits 1, where every other command's closed pipe exits 141
    (:func:`newsletter.__main__.entry`)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return PipeConsole


def new_table(*columns: str, **options: Any) -> Table:
    """A rich :class:`~rich.table.Table` (rich imported on first use) whose string cells
    are plain text: a setting's help saying "[bounces]", a paper title or an address
    holding brackets would otherwise be read as rich markup and lose them."""
    from rich.table import Table
    from rich.text import Text

    class PlainTable(Table):
        def add_row(self, *cells: Any, **row: Any) -> None:
            super().add_row(
                *(Text(without_controls(c)) if isinstance(c, str) else c for c in cells), **row
            )

    return PlainTable(*columns, **options)


class Output:
    """Standard output for results, standard error for problems (plain or JSON lines)."""

    def __init__(self, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self.as_json = False

    @property
    def out(self) -> Console:
        return console(self._stdout or sys.stdout)

    @property
    def err(self) -> Console:
        return console(self._stderr or sys.stderr)

    @property
    def terminal(self) -> bool:
        """Whether standard error is a terminal (progress lines only make sense there)."""
        return (self._stderr or sys.stderr).isatty() and not self.as_json

    # ------------------------------------------------------------ results

    def line(self, text: str, *, markup: bool = False) -> None:
        """One line of the command's result (control characters escaped)."""
        self.out.print(without_controls(text), markup=markup)

    def table(self, table: Table) -> None:
        self.out.print(table)

    def data(self, value: Any) -> None:
        """JSON on standard output (``--json`` options)."""
        self.out.print_json(json.dumps(value, default=str))

    # ------------------------------------------------------------ problems

    def error(self, message: str, hint: str | None = None) -> None:
        """A problem: ``error: message`` and ``hint: ...``, or one JSON object.

        A message carrying its hint inline (``str()`` of an error kept in a
        report: ``... (hint: ...)``) is split, so the hint gets its own line.
        """
        self._problem("error", *_split_hint(message, hint))

    def warning(self, message: str, hint: str | None = None) -> None:
        self._problem("warning", *_split_hint(message, hint))

    def status(self, status: str, reason: str) -> None:
        """Why a run published nothing (``stale: ...``, ``failed: ...``)."""
        self._problem("error", f"{status}: {reason}", None, label=None)

    def note(self, message: str) -> None:
        """A remark on standard error that is not a problem (``wrote 3 subscribers to x``)."""
        self._problem("info", message, None, label=None)

    def progress(self, message: str) -> None:
        """A transient progress line, on a terminal only."""
        if self.terminal:
            self.err.print(f"[dim]{message}[/dim]")

    @contextmanager
    def progress_bar(self, description: str) -> Iterator[Callable[[int, int], None]]:
        """A rich progress bar on a terminal (nothing elsewhere); yields ``update(done, total)``."""
        if not self.terminal:
            yield lambda done, total: None
            return
        from rich.progress import Progress

        with Progress(console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update

    def _problem(
        self, level: str, message: str, hint: str | None, label: str | None = "default"
    ) -> None:
        message = safe_line(message)  # one line, whatever the message held
        hint = safe_line(hint) if hint else hint
        if self.as_json:
            record: dict[str, Any] = {
                "time": datetime.now(UTC).isoformat(),
                "level": level,
                "logger": log.name,
                "message": message,
            }
            if hint:
                record["hint"] = hint
            stream = self._stderr or sys.stderr
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            stream.flush()
            return
        prefix = f"{level}: " if label == "default" else ""
        self.err.print(prefix + message, markup=False)
        if hint:
            self.err.print(f"hint: {hint}", markup=False)


_INLINE_HINT = " (hint: "


def _split_hint(message: str, hint: str | None) -> tuple[str, str | None]:
    if hint is None and message.endswith(")") and _INLINE_HINT in message:
        head, _, tail = message.rpartition(_INLINE_HINT)
        return head, tail[:-1]
    return message, hint


output = Output()
"""The process's output (the CLI's commands print through it, and only them)."""
