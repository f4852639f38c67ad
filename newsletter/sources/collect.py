"""Read every configured source into digests, reports and what to record as ingested.

One source failing never stops the others: its error becomes a
:class:`DigestReport`, and so does any exception a parser did not mean to
raise (a bug met by hostile input must cost one source, never the edition).
A source that gave nothing new without failing (a feed answering
``304 Not Modified`` or the same bytes as last time, a drop folder holding
only files ingested before) is reported as ``unchanged``, so
the run can say loudly that it has nothing new instead of publishing an
empty or repeated edition.

What was read (feed validators and content hashes, text files by content
hash) is only *returned*; the caller records it in the same transaction as
the edition, so an input counts as ingested only once its papers are.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from newsletter.config import Settings, SourceSettings
from newsletter.errors import InputError
from newsletter.model import Digest, DigestReport
from newsletter.sources.feed import ParsedFeed
from newsletter.sources.fetch import FetchPolicy, Validators, fetch, make_client
from newsletter.sources.parsing import MIN_PARSE_SECONDS, ParserProcess
from newsletter.sources.text import expand_inputs, parse_digest, read_bytes
from newsletter.store import Database
from newsletter.store.sources import Ingested, IngestedFile, SourceState

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Collected:
    """Everything the sources gave: digests to plan with, reports of the inputs
    that gave nothing (errors and unchanged sources), what to record, warnings."""

    digests: tuple[Digest, ...]
    reports: tuple[DigestReport, ...]
    ingested: Ingested = field(default_factory=Ingested)
    warnings: tuple[str, ...] = ()
    kinds: tuple[tuple[str, str, str], ...] = ()  # (digest name, source name, kind)


def collect_sources(
    settings: Settings,
    store: Database | None,
    edition_date: date,
    *,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> Collected:
    """Read the ``[[sources]]`` of the config, each as its kind requires."""
    digests: list[Digest] = []
    reports: list[DigestReport] = []
    files: list[IngestedFile] = []
    states: list[SourceState] = []
    warnings: list[str] = []
    kinds: list[tuple[str, str, str]] = []
    seen_paths: set[Path] = set()
    own_client = None
    if client is None and any(s.kind != "text" for s in settings.sources):
        own_client = client = make_client(settings.fetch.user_agent, settings.fetch.timeout_seconds)
    previous = _source_states(store)
    parsers = ParserProcess()
    try:
        for source in settings.sources:
            if source.kind == "text":
                got = read_text(
                    [source.path],
                    settings.base_dir,
                    edition_date,
                    source=source,
                    store=store,
                    seen_paths=seen_paths,
                    progress=progress,
                )
                digests += got.digests
                reports += got.reports
                files += got.ingested.files
                kinds += got.kinds
                continue
            assert client is not None
            if progress:
                progress(source.name)
            try:
                result = _read_fetched_source(
                    source, settings, client, previous.get(source.name), parsers
                )
            except InputError as exc:
                log.info("source %s: %s", source.name, exc)
                reports.append(
                    DigestReport(
                        name=source.name, error=str(exc), source=source.name, kind=source.kind
                    )
                )
                continue
            except Exception as exc:  # see the module docstring
                reports.append(_crashed(source.name, source.name, source.kind, exc))
                continue
            if isinstance(result, DigestReport):
                reports.append(result)
                continue
            parsed, state = result
            digests.append(parsed.digest)
            kinds.append((parsed.digest.name, source.name, source.kind))
            warnings += parsed.warnings
            states.append(state)
    finally:
        parsers.close()
        if own_client is not None:
            own_client.close()
    return Collected(
        digests=tuple(digests),
        reports=tuple(reports),
        ingested=Ingested(sources=tuple(states), files=tuple(files)),
        warnings=tuple(warnings),
        kinds=tuple(kinds),
    )


def read_text(
    specs: Sequence[str | Path],
    base_dir: Path,
    edition_date: date,
    *,
    source: SourceSettings | None = None,
    store: Database | None = None,
    seen_paths: set[Path] | None = None,
    progress: Progress | None = None,
) -> Collected:
    """The one read path for text digests, named on the command line or in ``[[sources]]``.

    ``specs`` are files, folders or globs relative to ``base_dir``.  Digests
    given on the command line (no ``source``) are always read and nothing is
    recorded of them.  The files of a configured text ``source`` are read
    unless their content was ingested before (as ``store`` knows) or earlier
    in this run, whatever their name; what is read is returned, to be
    recorded with the edition; a source that gave no new file is reported
    ``unchanged``.
    """
    name = source.name if source else ""
    remember = source is not None
    found, missing = expand_inputs(list(specs), base_dir)
    if remember:  # an empty drop folder has nothing new today: that is no error
        missing = [m for m in missing if m not in _empty_folders(specs, base_dir)]
    reports = [
        DigestReport(name=name, error=f"source {name}: {m}", source=name)
        if remember
        else DigestReport(name=m.split(":", 1)[0], error=m)
        for m in missing
    ]
    seen_paths = set() if seen_paths is None else seen_paths
    paths = [p for p in found if p.resolve() not in seen_paths]
    seen_paths.update(p.resolve() for p in paths)
    blobs: list[tuple[Path, bytes, str]] = []
    for path in paths:
        try:
            data = read_bytes(path)
        except InputError as exc:
            log.info("%s", exc)
            reports.append(DigestReport(path.name, error=str(exc), source=name, kind="text"))
            continue
        blobs.append((path, data, hashlib.sha256(data).hexdigest()))
    known = _ingested_files(store, [h for _, _, h in blobs]) if remember else {}
    digests: list[Digest] = []
    files: list[IngestedFile] = []
    skipped: list[str] = []
    hashes_this_run: set[str] = set()
    for path, data, content_hash in blobs:
        if remember and (content_hash in known or content_hash in hashes_this_run):
            before = known.get(content_hash)
            skipped.append(path.name)
            log.info(
                "%s: same content as %s, ingested before; skipped",
                path.name,
                before.name if before else "another file of this run",
            )
            continue
        hashes_this_run.add(content_hash)
        if progress:
            progress(path.name)
        try:
            digest = parse_digest(data, name=path.name, edition_date=edition_date)
        except InputError as exc:
            log.info("%s", exc)
            reports.append(DigestReport(path.name, error=str(exc), source=name, kind="text"))
            continue
        except Exception as exc:  # see the module docstring
            reports.append(_crashed(path.name, name, "text", exc))
            continue
        digests.append(digest)
        if remember:
            files.append(IngestedFile(content_hash, path.name, name))
    if remember and not digests and not missing:
        if skipped:  # it answered, with what it gave before
            note = f"no new file: {len(skipped)} already ingested"
            reports.append(DigestReport(name, source=name, kind="text", note=note, unchanged=True))
        else:  # nothing came, nothing failed: not "unchanged" (see pipeline.assess)
            reports.append(
                DigestReport(name, source=name, kind="text", note="no file in it", empty=True)
            )
    return Collected(
        digests=tuple(digests),
        reports=tuple(reports),
        ingested=Ingested(files=tuple(files)),
        kinds=tuple((d.name, name, "text") for d in digests),
    )


def _empty_folders(specs: Sequence[str | Path], base_dir: Path) -> set[str]:
    """The problems :func:`expand_inputs` reports for ``specs`` that are existing folders."""
    folders = set()
    for spec in specs:
        path = Path(spec).expanduser()
        if (path if path.is_absolute() else base_dir / path).is_dir():
            folders.add(f"{spec}: no files match")
    return folders


def _read_fetched_source(
    source: SourceSettings,
    settings: Settings,
    client: httpx.Client,
    previous: SourceState | None,
    parsers: ParserProcess,
) -> DigestReport | tuple[ParsedFeed, SourceState]:
    """Fetch and parse a feed or HF source; an unchanged one gives a report instead.

    ``fetch.timeout_seconds`` bounds the two together: the parse (in the
    parser process, started here while the first source is fetched) gets
    what the fetch left of it, and at least ``MIN_PARSE_SECONDS``.
    """
    started = time.monotonic()
    with contextlib.suppress(OSError):  # if it cannot start, parse() says so for this source
        parsers.start()
    policy = FetchPolicy(
        timeout=settings.fetch.timeout_seconds,
        max_bytes=settings.fetch.max_bytes,
        max_redirects=settings.fetch.max_redirects,
        allow_private=source.allow_private,
    )
    validators = (
        Validators(previous.etag, previous.last_modified, previous.content_hash)
        if previous
        else None
    )
    fetched = fetch(client, source.url, policy, validators)
    since = (
        f" since {previous.changed_at:%Y-%m-%d %H:%M} UTC"
        if previous and previous.changed_at
        else ""
    )
    if fetched.not_modified:
        return _unchanged(source, f"unchanged{since} (304 Not Modified)")
    if previous and previous.content_hash == fetched.content_hash:
        return _unchanged(source, f"unchanged{since} (same content as last time)")
    timeout = settings.fetch.timeout_seconds
    parsed = parsers.parse(
        "hf" if source.kind == "hf" else "feed",
        fetched.content,
        name=source.name,
        content_type=fetched.content_type,
        seconds=max(timeout - (time.monotonic() - started), MIN_PARSE_SECONDS),
        limit=f"fetch.timeout_seconds ({timeout:g} s for the fetch and the parse)",
    )
    log.info("source %s: %d entries from %s", source.name, len(parsed.digest.entries), fetched.url)
    return parsed, SourceState(
        source.name, fetched.etag, fetched.last_modified, fetched.content_hash
    )


def _crashed(name: str, source: str, kind: str, exc: Exception) -> DigestReport:
    """The report of an input whose reading raised what no reader means to raise."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    error = (
        f"{name}: could not be read (unexpected {reason}); "
        "the other sources went on (hint: a bug in newsletter: please report it with this input)"
    )
    log.info("%s", error)
    log.debug("%s: traceback", name, exc_info=exc)
    return DigestReport(name=name, error=error, source=source, kind=kind)


def _unchanged(source: SourceSettings, note: str) -> DigestReport:
    log.info("source %s: %s", source.name, note)
    return DigestReport(
        source.name, source=source.name, kind=source.kind, note=note, unchanged=True
    )


def _source_states(db: Database | None) -> dict[str, SourceState]:
    if db is None:
        return {}
    with db.read() as tx:
        return tx.sources.states()


def _ingested_files(db: Database | None, hashes: list[str]) -> dict[str, IngestedFile]:
    if db is None:
        return {}
    with db.read() as tx:
        return tx.sources.ingested_files(hashes)
