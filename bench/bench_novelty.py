"""Benchmark: novelty of a 10,000-paper digest against 10,000 and 1,000,000 seen papers.

    python bench/bench_novelty.py            # or: make bench-novelty

Synthetic papers: titles and abstracts drawn from a Zipf-distributed vocabulary
(as real text is), so common word pairs exist and the near-duplicate index
meets realistic band collisions.  The digest holds 20% disguised repeats of
seen papers (recased titles, a revised abstract) and 80% new papers.

Each store is built once into ``bench/.cache/`` (SQLite, as the default
install).  Each measurement runs in a fresh subprocess so its peak RSS is its
own; the figure is the median of three.  The reference measured in the same
run is a plain batched exact-key lookup (``WHERE key IN (...)``) of the same
10,000 papers against the same store: the least any identity check can cost.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.identity import (  # noqa: E402
    RARE_INDEXED,
    SIGNATURE_VERSION,
    TERMS_VERSION,
    abstract_words,
    paper_key,
    rare_pairs,
    signature_of_words,
    term_hash,
    terms_of_words,
    title_key,
)
from newsletter.model import Paper, RawEntry  # noqa: E402
from newsletter.novelty import split  # noqa: E402
from newsletter.store import Database  # noqa: E402
from newsletter.store.papers import NewPaper  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
VOCAB = 30_000
DIGEST = 10_000
REPEAT_SHARE = 0.2


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
    path = CACHE / f"seen-{size}-v{SIGNATURE_VERSION}.{TERMS_VERSION}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for leftover in CACHE.glob(tmp.name + "*"):
        leftover.unlink()
    store = Database.open(f"sqlite:///{tmp}")
    chunk = 20_000
    started = time.perf_counter()
    for start in range(0, size, chunk):
        rows = _seen_rows(store, _papers(start, min(chunk, size - start), seed=1))
        with store.write() as tx:
            tx.papers.bulk_seed(rows, datetime.now(UTC))
        print(
            f"  building {size:,}-paper store: {start + len(rows):,} "
            f"({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(path)
    return path


def _seen_rows(store: Database, entries: list[RawEntry]) -> list[NewPaper]:
    """The rows a run would record for ``entries`` (all new): signature, terms, and
    the rare pairs chosen by the term frequencies of the store plus this chunk —
    what ``novelty.split`` computes, without matching papers known to be new."""
    probes = []
    for e in entries:
        tkey = title_key(e.title)
        words = abstract_words(e.abstract)
        hashes = sorted({term_hash(t) for t in terms_of_words(tkey, words)})
        probes.append((e, tkey, signature_of_words(words), hashes))
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
                url="https://example.org/",
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
        help="stores of 10,000 and 100,000 papers (minutes to build, not 15), for CI-sized runs",
    )
    args = parser.parse_args()
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
