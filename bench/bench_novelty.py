"""Benchmark: novelty of a 10,000-paper digest against 10,000 and 1,000,000 seen papers.

    python bench/bench_novelty.py            # or: make bench-novelty
    python bench/bench_novelty.py --verify   # the bulk-built store is the store API's

Synthetic papers: titles and abstracts drawn from a Zipf-distributed vocabulary
(as real text is), so common word pairs exist and the near-duplicate index
meets realistic band collisions.  The digest holds 20% disguised repeats of
seen papers (recased titles, a revised abstract) and 80% new papers.

Each store is built once into ``bench/.cache/`` (SQLite, as the default
install), by bulk-loading the rows ``Papers.bulk_seed`` would write (two worker
processes, journal off, indexes after): about 35 minutes for 1M papers on the
shared 2-core machine, against 80–90 through the store API.  ``--verify``
builds 10,000 papers both ways and compares every table row for row.

Each measurement runs in a fresh subprocess so its peak RSS is its
own; the figure is the median of three.  The reference measured in the same
run is a plain batched exact-key lookup (``WHERE key IN (...)``) of the same
10,000 papers against the same store: the least any identity check can cost.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.dialects import sqlite as sqlite_dialect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.identity import (  # noqa: E402
    DOCUMENTS_TERM,
    MAX_HEAD_POSTINGS,
    RARE_INDEXED,
    SIGNATURE_VERSION,
    TERMS_VERSION,
    Signature,
    abstract_words,
    head_index_key,
    paper_key,
    rare_pairs,
    signature_of_words,
    term_hash,
    terms_of_words,
    title_key,
)
from newsletter.model import Paper, RawEntry  # noqa: E402
from newsletter.novelty import split  # noqa: E402
from newsletter.store import Database, schema  # noqa: E402
from newsletter.store.papers import NewPaper, title_hash  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
VOCAB = 30_000
DIGEST = 10_000
REPEAT_SHARE = 0.2
# Papers per build step: the rare pairs of a step are chosen by the term counts of
# the papers before it plus the step itself, so both builds must use the same steps.
BUILD_CHUNK = 20_000
URL = "https://example.org/"
SQLITE = sqlite_dialect.dialect()


@functools.cache
def _vocabulary(seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(3, 11, size=VOCAB)
    return ["".join(rng.choice(letters, size=n)) + str(i % 7) for i, n in enumerate(lengths)]


def _papers(start: int, count: int, seed: int) -> list[RawEntry]:
    """Deterministic synthetic papers ``start .. start+count``."""
    vocab = _vocabulary()
    rng = np.random.default_rng(seed * 1_000_003 + start)
    ranks = np.arange(1, VOCAB + 1)
    weights = 1.0 / ranks
    weights /= weights.sum()
    # What ``rng.choice(VOCAB, size, p=weights)`` does, with the cumulative weights
    # computed once instead of per call: the same words, many times faster.
    cdf = weights.cumsum()
    cdf /= cdf[-1]

    def draw(size: int) -> np.ndarray:
        return cdf.searchsorted(rng.random(size), side="right")

    entries = []
    for i in range(start, start + count):
        words = draw(int(rng.integers(110, 180)))
        title_words = draw(int(rng.integers(6, 12)))
        title = " ".join(vocab[w] for w in title_words).capitalize() + f" {i}"
        abstract = " ".join(vocab[w] for w in words) + "."
        entries.append(RawEntry(title=title, abstract=abstract, source="bench"))
    return entries


def build_store(size: int) -> Path:
    """The cached store of ``size`` seen papers, built (the fast way) if absent."""
    path = CACHE / f"seen-{size}-v{SIGNATURE_VERSION}.{TERMS_VERSION}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    started = time.perf_counter()
    _build(tmp, size, datetime.now(UTC), fast=True)
    print(f"  built {size:,}-paper store in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    tmp.rename(path)
    return path


def _build(
    path: Path, size: int, now: datetime, *, fast: bool, chunk: int = BUILD_CHUNK, jobs: int = 2
) -> None:
    """Build a store of ``size`` seen papers at ``path``: through the store API
    (``Papers.bulk_seed``, the slow way) or by bulk-loading the same rows."""
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    store = Database.open(f"sqlite:///{path}")  # the schema, by the migrations
    if fast:
        store.close()
        _bulk_load(path, size, now, chunk, jobs)
    else:
        started = time.perf_counter()
        for start in range(0, size, chunk):
            rows = _seen_rows(store, _papers(start, min(chunk, size - start), seed=1))
            with store.write() as tx:
                tx.papers.bulk_seed(rows, now)
            print(
                f"  building {size:,}-paper store (store API): {start + len(rows):,} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        store.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _probes(entries: list[RawEntry]) -> list[tuple[RawEntry, str, Signature | None, list[int]]]:
    """Per entry: its title key, MinHash signature and sorted term hashes."""
    probes = []
    for e in entries:
        tkey = title_key(e.title)
        words = abstract_words(e.abstract)
        hashes = sorted({term_hash(t) for t in terms_of_words(tkey, words)})
        probes.append((e, tkey, signature_of_words(words), hashes))
    return probes


def _seen_rows(store: Database, entries: list[RawEntry]) -> list[NewPaper]:
    """The rows a run would record for ``entries`` (all new): signature, terms, and
    the rare pairs chosen by the term frequencies of the store plus this chunk —
    what ``novelty.split`` computes, without matching papers known to be new."""
    probes = _probes(entries)
    chunk_counts = Counter(h for *_, hashes in probes for h in hashes)
    with store.read() as tx:
        stored = tx.identity.term_counts(list(chunk_counts))
    counts = {h: stored.get(h, 0) + n for h, n in chunk_counts.items()}
    return [
        NewPaper(
            Paper(
                key=paper_key(tkey, None),
                title=e.title,
                abstract=e.abstract,
                url=URL,
                source=e.source,
                topics=("other",),
            ),
            tkey,
            sig,
            tuple(hashes),
            rare_pairs(hashes, counts, RARE_INDEXED),
        )
        for e, tkey, sig, hashes in probes
    ]


def _bulk_load(path: Path, size: int, now: datetime, chunk: int, jobs: int) -> None:
    """Write exactly the rows ``Papers.bulk_seed`` would, chunk for chunk, but with
    plain ``executemany`` into a store with journal and syncs off, the title-hash
    and arXiv-id indexes created after, and the three posting tables (WITHOUT
    ROWID B-trees) filled once at the end in key order instead of at random.

    ``jobs`` processes compute the papers and their signatures (what depends on
    the paper alone); this one counts the terms and chooses the rare pairs,
    which depend on the chunks before: each chunk's pairs are chosen by the
    counts of the papers before it plus the chunk itself, as the store API
    build reads them from the store.  ``--verify`` compares the result with a
    store built the slow way, table by table.
    """
    seen_type = schema.papers.c.seen_at.type.dialect_impl(SQLITE)
    seen_at = seen_type.bind_processor(SQLITE)(now)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "locking_mode=EXCLUSIVE",
        "cache_size=-1000000",
        "temp_store=MEMORY",
        "foreign_keys=OFF",
    ):
        conn.execute(f"PRAGMA {pragma}")
    deferred = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in deferred:
        conn.execute(f'DROP INDEX "{name}"')
    term_counts: Counter[int] = Counter()
    head_counts: Counter[int] = Counter()
    bands: list[np.ndarray] = []
    pairs: list[np.ndarray] = []
    heads: list[tuple[int, int]] = []
    started = time.perf_counter()
    done = 0
    _vocabulary()  # once, before the workers fork
    steps = [(start, min(chunk, size - start), seen_at) for start in range(0, size, chunk)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for rows, signed, hashes, head_keys in pool.imap(_chunk_rows, steps):
            chunk_counts = Counter(h for paper_hashes in hashes for h in paper_hashes)
            counts = {h: term_counts.get(h, 0) + n for h, n in chunk_counts.items()}
            term_counts.update(chunk_counts)
            chunk_pairs = [
                (pair, row[0])
                for row, paper_hashes in zip(rows, hashes, strict=True)
                for pair in sorted(set(rare_pairs(paper_hashes, counts, RARE_INDEXED)))
            ]
            for row, head in zip(rows, head_keys, strict=True):
                if head_counts[head] <= MAX_HEAD_POSTINGS:  # a full list takes no more rows
                    head_counts[head] += 1
                    heads.append((head, row[0]))
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO papers VALUES ({', '.join('?' * 13)})", rows)
            conn.execute("COMMIT")
            bands.append(signed)
            pairs.append(np.array(chunk_pairs, dtype=np.int64).reshape(-1, 2))
            done += len(rows)
            print(
                f"  building {size:,}-paper store (bulk): {done:,} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
    term_counts[DOCUMENTS_TERM] += done
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO term_frequencies VALUES (?, ?)", sorted(term_counts.items()))
    for table, parts in (("paper_bands", bands), ("paper_rare_pairs", pairs)):
        _insert_sorted(conn, table, np.concatenate(parts))
    _insert_sorted(conn, "paper_title_heads", np.array(heads, dtype=np.int64).reshape(-1, 2))
    for _, sql in deferred:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    print(
        f"  posting tables and indexes done ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )


def _chunk_rows(
    step: tuple[int, int, str],
) -> tuple[list[tuple[Any, ...]], np.ndarray, list[list[int]], list[int]]:
    """One build step's papers rows, band rows, term hashes and title heads (a worker)."""
    start, count, seen_at = step
    rows = []
    band_rows: list[tuple[int, int]] = []
    hashes = []
    head_keys = []
    for paper_id, (e, tkey, sig, paper_hashes) in enumerate(
        _probes(_papers(start, count, seed=1)), start=start + 1
    ):
        rows.append(
            (
                paper_id,
                paper_key(tkey, None),
                None,
                title_hash(tkey),
                tkey,
                e.title,
                e.abstract,
                URL,
                e.source,
                None,
                sig.values if sig else None,
                None,
                seen_at,
            )
        )
        if sig is not None:
            band_rows.extend((b, paper_id) for b in sorted(set(sig.bands())))
        hashes.append(paper_hashes)
        head_keys.append(head_index_key(e.title, tkey))
    return rows, np.array(band_rows, dtype=np.int64).reshape(-1, 2), hashes, head_keys


def _insert_sorted(conn: sqlite3.Connection, table: str, rows: np.ndarray) -> None:
    """Insert (key, paper id) rows in key order: each B-tree page is written once."""
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    for start in range(0, len(rows), 1_000_000):
        conn.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", rows[start : start + 1_000_000].tolist()
        )


def verify(size: int = 10_000) -> bool:
    """Build a ``size``-paper store both ways and compare every table, row for row.

    Steps of 2,500 papers, so that the rare pairs of later steps are chosen by
    counts carried over from earlier ones, as in the large stores."""
    CACHE.mkdir(parents=True, exist_ok=True)
    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    built = {}
    for fast in (False, True):
        path = CACHE / f"verify-{size}-{'bulk' if fast else 'api'}.db"
        started = time.perf_counter()
        _build(path, size, now, fast=fast, chunk=2_500)
        built[fast] = path
        print(f"  {path.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    slow, fast_db = (sqlite3.connect(built[k]) for k in (False, True))
    same = True
    schema_of = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    if slow.execute(schema_of).fetchall() != fast_db.execute(schema_of).fetchall():
        print("  schema differs", file=sys.stderr)
        same = False
    tables = [t for (t,) in slow.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in sorted(tables):
        digests = []
        for conn in (slow, fast_db):
            digest = hashlib.sha256()
            n = 0
            # when each migration ran is the one thing the two builds may not share
            columns = "version, name" if table == "schema_migrations" else "*"
            for row in conn.execute(f'SELECT {columns} FROM "{table}" ORDER BY 1, 2'):
                digest.update(repr(row).encode())
                n += 1
            digests.append((n, digest.hexdigest()))
        ok = digests[0] == digests[1]
        same = same and ok
        print(
            f"  {table}: {digests[0][0]:,} rows {'identical' if ok else 'DIFFER'}"
            f"{'' if ok else f' (bulk: {digests[1][0]:,})'}",
            file=sys.stderr,
        )
    return same


def digest_entries() -> list[RawEntry]:
    """10,000 entries: 20% disguised repeats of papers every store holds, 80% new."""
    repeats = int(DIGEST * REPEAT_SHARE)
    seen = _papers(0, repeats, seed=1)
    disguised = []
    for e in seen:
        sentences = e.abstract.split(" ")
        revised = " ".join(sentences[: len(sentences) - 8]) + " we also release the code."
        disguised.append(RawEntry(e.title.upper(), revised, "digest"))
    return disguised + _papers(0, DIGEST - repeats, seed=2)


def measure(db: Path, mode: str) -> dict[str, float]:
    entries = digest_entries()
    store = Database.open(f"sqlite:///{db}")  # migrates a cache built by an older version
    started, cpu_started = time.perf_counter(), time.process_time()
    with store.read() as tx:
        if mode == "novelty":
            verdicts = split(entries, tx.seen)
            new = sum(v.new for v in verdicts)
        else:  # reference: exact keys only, one batched indexed lookup
            keys = [paper_key(title_key(e.title), None) for e in entries]
            new = len(keys) - len(tx.papers.known_keys(keys))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu": cpu, "new": new, "peak_mb": peak_mb}


def _measure_once(db: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(db), "--mode", mode],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    best = dict(sorted(results, key=lambda r: r["seconds"])[len(results) // 2])
    best["seconds"] = statistics.median(r["seconds"] for r in results)
    best["cpu"] = statistics.median(r["cpu"] for r in results)
    return best


def run_rounds(dbs: list[Path], rounds: int = 3) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Median novelty and reference figures per store, the stores measured in turn
    within each round: a machine whose load changes during the run then weighs on
    every size alike, instead of on whichever size was measured last."""
    novelty: list[list[dict[str, float]]] = [[] for _ in dbs]
    reference: list[list[dict[str, float]]] = [[] for _ in dbs]
    for _ in range(rounds):
        for i, db in enumerate(dbs):
            novelty[i].append(_measure_once(db, "novelty"))
            reference[i].append(_measure_once(db, "reference"))
    return [(_median(n), _median(r)) for n, r in zip(novelty, reference, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure")
    parser.add_argument("--mode", default="novelty")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--markdown", help="write the results table to this file")
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="stores of 10,000 and 100,000 papers (minutes to build, not 35), for CI-sized runs",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="build a 10,000-paper store through the store API and by bulk load, and "
        "compare every table row for row (exit status 1 if any differs)",
    )
    args = parser.parse_args()
    if args.verify:
        same = verify()
        print("stores identical" if same else "stores DIFFER")
        sys.exit(0 if same else 1)
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.mode)))
        return
    sizes = [int(s) for s in ("10000,100000" if args.quick else args.sizes).split(",")]
    dbs = [build_store(size) for size in sizes]
    measured = run_rounds(dbs)
    rows = [
        (size, novelty, reference, db.stat().st_size / 2**20)
        for size, db, (novelty, reference) in zip(sizes, dbs, measured, strict=True)
    ]
    per_paper = {size: n["seconds"] / DIGEST for size, n, _, _ in rows}
    per_paper_cpu = {size: n["cpu"] / DIGEST for size, n, _, _ in rows}
    lines = [
        "| seen papers | novelty papers/s | µs/paper (wall) | µs/paper (CPU) | peak RSS MB "
        "| exact-key lookup papers/s (reference) | novelty / reference | new found | store MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, n, ref, mb in rows:
        lines.append(
            f"| {size:,} | {DIGEST / n['seconds']:,.0f} | {per_paper[size] * 1e6:,.0f} | "
            f"{per_paper_cpu[size] * 1e6:,.0f} | {n['peak_mb']:.0f} | "
            f"{DIGEST / ref['seconds']:,.0f} | "
            f"{n['seconds'] / ref['seconds']:.1f}× | {int(n['new']):,} | {mb:,.0f} |"
        )
    if len(sizes) >= 2:
        ratio = per_paper[sizes[-1]] / per_paper[sizes[0]]
        cpu_ratio = per_paper_cpu[sizes[-1]] / per_paper_cpu[sizes[0]]
        verdict = "meets the goal" if max(ratio, cpu_ratio) <= 1.5 else "SHORT of the goal"
        lines.append("")
        lines.append(
            f"Per-paper cost at {sizes[-1]:,} seen / at {sizes[0]:,} seen: **{ratio:.2f}** "
            f"wall clock, **{cpu_ratio:.2f}** CPU time (goal ≤ 1.5: {verdict})."
        )
    text = "\n".join(lines)
    print(text)
    if args.json:
        figures = {
            "digest": DIGEST,
            "repeats": int(DIGEST * REPEAT_SHARE),
            "rows": [
                {
                    "seen": size,
                    "novelty_seconds": n["seconds"],
                    "novelty_cpu_seconds": n["cpu"],
                    "novelty_new": int(n["new"]),
                    "novelty_peak_mb": n["peak_mb"],
                    "reference_seconds": ref["seconds"],
                    "reference_peak_mb": ref["peak_mb"],
                    "store_mb": mb,
                }
                for size, n, ref, mb in rows
            ],
        }
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
