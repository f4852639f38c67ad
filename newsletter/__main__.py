"""``python -m newsletter`` and the ``newsletter`` console script (:func:`entry`).

``newsletter --help`` (or ``-h``) alone prints ``cli/help.txt`` without
importing click or the CLI: importing click costs 4× a bare interpreter, and
the help is what a new user runs first (``docs/benchmarks.md``, "Start-up").
The file is click's own output, kept equal to it by ``tests/test_cli_startup.py``
(``UPDATE_GOLDEN=1`` rewrites it).  Click wraps the help to the terminal width
up to 80 columns, so a narrower terminal, or any other arguments, take the
ordinary path through :func:`newsletter.cli.main`.
"""

import os
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


def entry() -> None:
    """The console script: the stored help, or the CLI."""
    text = _stored_help(sys.argv)
    if text is not None:
        sys.stdout.write(text)
        return
    from newsletter.cli import main

    main()


if __name__ == "__main__":
    entry()
