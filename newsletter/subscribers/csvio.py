"""Subscriber lists as CSV files: import (validated row by row, written in batches) and export.

Import reads a header row naming the columns (``email`` required; ``topics``
and ``status`` optional) or, without a header, one address per row with an
optional topics column.  Topics in a cell are separated by ``;``, ``,`` or
spaces; empty means every topic.  Every bad row is reported with its line
number and reason and the good rows are still imported; an address already on
the list (in any letter case, in the database or earlier in the file) is
never added twice, and an existing subscriber is never changed — so an import
can never re-subscribe someone who unsubscribed.

A ``status`` column (as ``export`` writes it) is honoured; without one,
imported addresses are ``pending``, or ``confirmed`` when the operator says
they consented (``--confirmed``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from newsletter.errors import InputError
from newsletter.states import SubscriberStatus
from newsletter.subscribers.subscriptions import (
    STATUSES,
    Addition,
    Subscriptions,
    address_key,
    normalize_address,
    parse_topics,
)
from newsletter.topics import Taxonomy

EXPORT_COLUMNS = (
    "email",
    "status",
    "topics",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "votes",
    "ranking",
    "votes_detail",
)
"""``votes``: the subscriber's 👍 (``+key``) and 👎 (``-key``) paper keys, spaces in a
key written ``%20``, oldest first; ``ranking``: ``on`` or ``off`` (their switch);
``votes_detail``: the same votes as a JSON list, each with its time, the edition it
came from (its number in the store, null for a seed) and whether it was a seed —
their data, exported with their record; an import ignores these three."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """Rows read, subscribers added, addresses already known, and every bad row."""

    rows: int
    added: int
    existing: int
    problems: tuple[RowProblem, ...]


def _lines(path: Path) -> list[bytes]:
    """The file's physical lines (split at ``\n``, ``\r\n`` or ``\r``), a UTF-8 BOM dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.splitlines()


def _record(raw: bytes) -> list[str]:
    """One physical line as CSV cells, strictly: an :class:`InputError` names what is wrong.

    A subscriber row never needs a field spanning lines, so each line is parsed on its
    own: a stray quote costs that line alone, not every line up to the next quote.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 (byte {exc.start + 1} of the line is 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8 CSV"
        ) from None
    if '"' not in text:  # the common case, and what the csv module would make of it
        return text.split(",")
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise InputError(
                "unbalanced quote: a quoted field is not closed on this line "
                "(a field cannot span lines)"
            ) from None
        raise InputError(f"misplaced quote ({exc})") from None


BATCH_ROWS = 1000
"""Rows written per transaction: one transaction and a few statements per
batch instead of one committed transaction and five statements per row (an
import went from ~150 rows/s to the figures in docs/benchmarks.md)."""


def import_csv(
    subs: Subscriptions,
    path: Path,
    taxonomy: Taxonomy,
    *,
    confirmed: bool,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the rows of ``path``: every row validated once, then written in batches.

    ``progress(done, total)`` is called after each batch is committed (the CLI
    draws a progress bar with it).  A batch is one transaction: a kill loses at
    most the batch being written, and a second import of the same file adds
    only what the first did not.
    """
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    columns: dict[str, int] = {"email": 0, "topics": 1}
    default = SubscriberStatus.CONFIRMED if confirmed else SubscriberStatus.PENDING
    additions: list[Addition] = []
    rows = 0
    first = True
    for line, raw in enumerate(_lines(path), start=1):
        if not raw.strip():
            continue
        try:
            record = _record(raw)
        except InputError as exc:
            if first:  # without the header's columns no row can be read
                raise InputError(
                    f"{path}:{line}: the header row: {exc.message}",
                    hint="the first row names the columns: email[,topics][,status]",
                ) from None
            rows += 1
            problems.append(RowProblem(line, exc.message))
            continue
        if not any(cell.strip() for cell in record):
            continue
        if first:
            first = False
            header = [c.strip().lower() for c in record]
            if "email" in header:
                columns = {name: i for i, name in enumerate(header) if name}
                continue
            if "@" not in record[0]:
                raise InputError(
                    f"{path}:{line}: no 'email' column in the header {record!r}",
                    hint="the first row names the columns: email[,topics][,status]",
                )
        rows += 1

        try:
            address = normalize_address(_cell(record, columns, "email"))
            topics = parse_topics(_cell(record, columns, "topics").replace(" ", ","), taxonomy)
            status = _cell(record, columns, "status").lower() or None
            if status is not None and status not in STATUSES:
                raise InputError(f"unknown status {status!r} (expected: {', '.join(STATUSES)})")
        except InputError as exc:
            problems.append(RowProblem(line, exc.message))
            continue
        key = address_key(address)
        if key in seen:
            problems.append(RowProblem(line, f"{address} is a duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        detail = {"file": path.name, "line": line, "operator_asserted_consent": confirmed}
        chosen = SubscriberStatus(status) if status else default
        additions.append(Addition(address, chosen, topics, detail))

    added = 0
    for start in range(0, len(additions), BATCH_ROWS):
        batch = additions[start : start + BATCH_ROWS]
        added += sum(subs.add_many(batch, method="import", now=now))
        if progress is not None:
            progress(start + len(batch), len(additions))
    return ImportReport(rows, added, len(additions) - added, tuple(problems))


def _cell(record: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return record[index].strip() if index is not None and index < len(record) else ""


def export_csv(subs: Subscriptions, out: TextIO, status: SubscriberStatus | None = None) -> int:
    """Write every subscriber (or those with ``status``) as CSV; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    with subs.db.read() as tx:
        votes = tx.votes.everyone()
        off = tx.votes.ranking_off()
    for s in subs.all(status):
        theirs = votes.get(s.id, [])
        voted = " ".join(
            ("+" if v.liked else "-") + v.paper_key.replace(" ", "%20") for v in theirs
        )
        detail = [
            {
                "paper": v.paper_key,
                "vote": "up" if v.liked else "down",
                "at": v.at.isoformat(),
                "edition": v.edition_id,
                "seeded": v.seeded,
            }
            for v in theirs
        ]
        writer.writerow(
            [
                s.email,
                s.status,
                ";".join(sorted(s.topics)) if s.topics is not None else "",
                s.created_at.isoformat(),
                s.confirmed_at.isoformat() if s.confirmed_at else "",
                s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
                voted,
                "off" if s.id in off else "on",
                json.dumps(detail, ensure_ascii=False) if detail else "",
            ]
        )
        count += 1
    return count
