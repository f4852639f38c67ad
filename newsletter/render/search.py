"""Static search of the archive with Pagefind, when it is installed (``pip install ".[search]"``).

Pagefind (the ``pagefind`` package with its ``pagefind_bin`` binary) reads the
written pages and writes ``pagefind/`` beside them: a sharded index and the
search UI, all static files.  Only paper pages are indexed (they carry
``data-pagefind-body``); their topics and month are filters.  Without the
package the archive publishes without a search box and ``search/index.html``
says search is not installed.  The indexer runs after every page is written,
bounded by :data:`TIMEOUT_SECONDS`; a failure or a timeout is one warning and
the archive is still published (the previous index, if any, stays).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

TIMEOUT_SECONDS = 120.0
INDEX_DIR = "pagefind"
PAGES = "papers/**/index.html"
"""What is indexed: the paper pages only (every paper is on one; the rest are lists)."""


def available() -> bool:
    """Whether the Pagefind binary package is installed in this environment."""
    return importlib.util.find_spec("pagefind") is not None and (
        importlib.util.find_spec("pagefind_bin") is not None
    )


def build_index(site_dir: Path, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """Index ``site_dir`` with Pagefind; None when done, else a one-line warning."""
    if not available():
        return None
    command = [
        sys.executable, "-m", "pagefind", "--site", str(site_dir), "--glob", PAGES, "--silent"
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"{site_dir}: search index not updated: Pagefind took more than {timeout:.0f}s"
    except OSError as exc:
        return f"{site_dir}: search index not updated: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        return f"{site_dir}: search index not updated: Pagefind failed: {reason}"
    return None
