"""Benchmark: delivery with every subscriber ranked by their votes, beside the same
delivery without votes.

    .venv/bin/python bench/bench_ranked.py                      # 10,000 subscribers, 50 votes
    .venv/bin/python bench/bench_ranked.py --subscribers 1000 --votes 50 --json out.json

Three projects, each a fresh SQLite store primed the same way (``run --no-send``
of one seed digest, so the store has papers to vote on), then the timed
``newsletter run`` of the next seed digest over SMTP to a sink on loopback that
discards every message (``bench/smtp_sink.py``, its own process):

* ``ranked``: N confirmed subscribers, each with V votes on papers of the store
  (a third 👍, the rest 👎, random per subscriber), so every one of them has a
  model and gets their own order, picks and reasons;
* ``unranked``: the same N subscribers, no votes (today's email);
* ``empty``: no subscribers (what a run costs without delivery).

Each project then runs the next edition too (seed digest 004): the ranked
project after :data:`REVOTE_SHARE` of its subscribers cast one new vote each, so
that run retrains those only and reuses every other stored model (the steady
state of an installation: ``newsletter.delivery.ranked``).

Per recipient = (run − empty run) / N; CPU is the timed run's user + system
time.  The ranked run's training time is read from its log line
(``ranking: N subscribers with a model, M retrained, in … s``).  Peak RSS is the
run's (``ru_maxrss`` of the child).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_send import _env, _seed, start_sink, stop_sink  # noqa: E402

ROOT = BENCH.parent
SEEDS = ROOT.parent / "shared" / "seeds"
PRIME = SEEDS / "002_eb4d9ffe322ceb65.txt"
DIGEST = SEEDS / "003_bf041023cdecb2cb.txt"
NEXT = SEEDS / "004_0474c8198f296c86.txt"
PRIME_DAY, DAY, NEXT_DAY = "2026-03-11", "2026-03-12", "2026-03-13"
REVOTE_SHARE = 0.1
"""Share of the ranked subscribers who vote once more before the next edition."""


@dataclass(frozen=True)
class Run:
    kind: str
    subscribers: int
    votes: int
    seconds: float
    peak_mb: float
    train_seconds: float | None
    cpu_seconds: float = 0.0
    """User + system CPU of the timed run (its process and the threads in it)."""
    retrained: int | None = None
    """How many models the run retrained (the others were read as stored)."""


def _project(folder: Path, port: int, connections: int) -> Path:
    for name, source in (("prime", PRIME), ("digests", DIGEST), ("next", NEXT)):
        (folder / name).mkdir(parents=True)
        shutil.copy(source, folder / name)
    config = folder / "config.toml"
    config.write_text(
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@news.example.org"\n'
        f"connections = {connections}\n"
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n',
        encoding="utf-8",
    )
    return config


def _newsletter(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "newsletter", "--config", str(config), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=config.parent)


def _votes(db: Path, per_subscriber: int, seed: int = 0) -> int:
    """``per_subscriber`` votes for every subscriber on random stored papers."""
    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM papers ORDER BY id")]
        ids = [i for (i,) in conn.execute("SELECT id FROM subscribers ORDER BY id")]
        rows = (
            (sid, key, int(rng.random() < 1 / 3), 0, now)
            for sid in ids
            for key in rng.sample(keys, min(per_subscriber, len(keys)))
        )
        conn.executemany(
            "INSERT INTO votes (subscriber_id, paper_key, liked, seeded, at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return int(conn.execute("SELECT count(*) FROM votes").fetchone()[0])


def _revote(db: Path, share: float, seed: int = 1) -> int:
    """One new 👍 (on a paper they had not voted on) for ``share`` of the subscribers;
    how many subscribers voted."""
    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM papers ORDER BY id")]
        ids = [i for (i,) in conn.execute("SELECT id FROM subscribers ORDER BY id")]
        chosen = rng.sample(ids, int(len(ids) * share))
        for sid in chosen:
            voted = {
                k
                for (k,) in conn.execute(
                    "SELECT paper_key FROM votes WHERE subscriber_id = ?", (sid,)
                )
            }
            key = rng.choice([k for k in keys if k not in voted])
            conn.execute(
                "INSERT INTO votes (subscriber_id, paper_key, liked, seeded, at) "
                "VALUES (?, ?, 1, 0, ?)",
                (sid, key, now),
            )
        return len(chosen)


def _timed(kind: str, config: Path, day: str, digests: Path, subscribers: int, votes: int) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    ran = _newsletter(config, "-v", "run", "--date", day, str(digests))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = after.ru_maxrss / 1024
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if ran.returncode != 0 or (subscribers and f"Delivery: {subscribers} sent" not in ran.stdout):
        raise SystemExit(f"the run did not send to all:\n{ran.stdout[-800:]}{ran.stderr[-800:]}")
    trained = re.search(
        r"ranking: (\d+) subscribers with a model, (\d+) retrained, in ([\d.]+) s", ran.stderr
    )
    if votes and (trained is None or int(trained.group(1)) != subscribers):
        raise SystemExit(f"not every subscriber was ranked:\n{ran.stderr[-1500:]}")
    if "ranked subscribers get the unranked email" in ran.stderr:
        raise SystemExit("the ranked copy could not be cut: nothing was ranked")
    return Run(
        kind,
        subscribers,
        votes,
        seconds,
        peak,
        float(trained.group(3)) if trained else None,
        cpu,
        int(trained.group(2)) if trained else None,
    )


def run(kind: str, port: int, connections: int, subscribers: int, votes: int) -> list[Run]:
    """The project's first timed edition, then its next one."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-ranked-{kind}-"))
    try:
        config = _project(folder, port, connections)
        _seed(folder, config, subscribers)
        primed = _newsletter(config, "run", "--no-send", "--date", PRIME_DAY, str(folder / "prime"))
        if primed.returncode != 0:
            raise SystemExit(f"priming failed:\n{primed.stdout[-800:]}{primed.stderr[-800:]}")
        db = folder / "subscribers" / "newsletter.db"
        stored = _votes(db, votes) if votes else 0
        first = _timed(kind, config, DAY, folder / "digests", subscribers, stored)
        if votes:
            stored += _revote(db, REVOTE_SHARE)
        second = _timed(f"{kind} next", config, NEXT_DAY, folder / "next", subscribers, stored)
        return [first, second]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def splice_cost(recipients: int) -> dict[str, float]:
    """In-process, the seed edition: what a ranked recipient costs beyond the model's
    scores (their order of the shared pieces, reasons, the MIME join, the links
    spliced) beside an unranked one (the links spliced), in ms per recipient."""
    sys.path.insert(0, str(ROOT / "tests"))
    import render_kit

    from newsletter.delivery.message import DigestFrame, Recipient, Sender, compile_digest
    from newsletter.delivery.ranked import VOTE_MARKS, _Copy, encode_layout
    from newsletter.render import render_email
    from newsletter.render.picks import layout

    settings = render_kit.settings()
    edition = render_kit.seed_edition(DIGEST)
    sender = Sender("Bench", "digest@news.example.org", "bench.news.example.org", "u@x.org")
    made = layout(edition, settings, None, settings.ranking.top_picks)
    assert made is not None
    encoded = encode_layout(made)
    copy = _Copy(made, DigestFrame.build(sender, made.subject, datetime.now(UTC)), encoded)
    shared = compile_digest(render_email(edition, settings), sender, datetime.now(UTC))
    rng = random.Random(1)
    orders = []
    for _ in range(50):  # 50 different orders and reasons, cycled
        keys = list(made.keys)
        rng.shuffle(keys)
        orders.append((keys, {k: f"because you liked “Paper {rng.randrange(999)}”" for k in keys}))
    who = Recipient(
        "r@example.org",
        "<m@x>",
        "https://x/u?t=" + "a" * 80,
        "https://x/u?t=" + "a" * 80,
        "https://x/p?t=" + "b" * 80,
        "unsubscribe " + "a" * 80,
        "c" * 90,
    )
    started = time.perf_counter()
    for i in range(recipients):
        keys, reasons = orders[i % len(orders)]
        picks = settings.ranking.top_picks
        message = copy.frame.spliced(
            copy.body("text", keys, reasons, picks),
            copy.body("html", keys, reasons, picks),
            repeated=VOTE_MARKS,
        )
        message.for_recipient(who, smtp=True)
    ranked = (time.perf_counter() - started) / recipients * 1000
    started = time.perf_counter()
    for _ in range(recipients):
        shared.for_recipient(who, smtp=True)
    unranked = (time.perf_counter() - started) / recipients * 1000
    return {"ranked_ms": ranked, "unranked_ms": unranked, "papers": len(made.keys)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--votes", type=int, default=50, help="votes per subscriber")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--json", help="write the figures as JSON to this file")
    parser.add_argument(
        "--splice-only", action="store_true", help="only the in-process splice figures"
    )
    parser.add_argument(
        "--ranked-only",
        action="store_true",
        help="only the ranked project's two editions (no empty or unranked reference)",
    )
    args = parser.parse_args()
    splice = splice_cost(args.subscribers)
    print(
        f"splice per recipient ({splice['papers']:.0f} cards): ranked "
        f"{splice['ranked_ms']:.3f} ms, unranked {splice['unranked_ms']:.3f} ms"
    )
    if args.splice_only:
        return
    sink, port = start_sink()
    if args.ranked_only:
        try:
            for r in run("ranked", port, args.connections, args.subscribers, args.votes):
                print(r)
        finally:
            stop_sink(sink)
        return
    try:
        empty = run("empty", port, args.connections, 0, 0)
        unranked = run("unranked", port, args.connections, args.subscribers, 0)
        ranked = run("ranked", port, args.connections, args.subscribers, args.votes)
    finally:
        stop_sink(sink)
    runs = [*empty, *unranked, *ranked]
    print(
        f"{'run':14} {'subscribers':>11} {'votes':>8} {'s':>8} {'ms/recipient':>13} "
        f"{'peak MB':>8} {'train s':>8} {'retrained':>9} {'CPU s':>8}"
    )
    for r in runs:
        base = empty[1] if r.kind.endswith("next") else empty[0]
        per = (r.seconds - base.seconds) / r.subscribers * 1000 if r.subscribers else 0.0
        train = f"{r.train_seconds:.1f}" if r.train_seconds is not None else "-"
        again = str(r.retrained) if r.retrained is not None else "-"
        print(
            f"{r.kind:14} {r.subscribers:11} {r.votes:8} {r.seconds:8.1f} {per:13.2f} "
            f"{r.peak_mb:8.0f} {train:>8} {again:>9} {r.cpu_seconds:8.1f}"
        )
    for i, label in enumerate(("first edition (all trained)", "next edition")):
        print(
            f"ranked / unranked, {label}: {ranked[i].seconds / unranked[i].seconds:.2f}× wall, "
            f"{ranked[i].cpu_seconds / unranked[i].cpu_seconds:.2f}× CPU"
        )
    # "ranking adds X% to a run" (issue 15): the whole `newsletter run` of one edition to
    # the same N subscribers, with votes (each with a model; in the next edition 10% voted
    # since, so those retrain) against without (the shared email) — start-up, ingest,
    # publish and delivery over SMTP in both, the fits, model reads, reasons and ranked
    # copies in the first only; measured in this one bench run, side by side
    for i, label in enumerate(("first edition", "next edition")):
        cpu = (ranked[i].cpu_seconds - unranked[i].cpu_seconds) / unranked[i].cpu_seconds
        wall = (ranked[i].seconds - unranked[i].seconds) / unranked[i].seconds
        print(
            f"ranking adds to a run, {label}: {cpu:+.0%} CPU ({ranked[i].cpu_seconds:.1f} s "
            f"ranked, {unranked[i].cpu_seconds:.1f} s unranked), {wall:+.0%} wall "
            f"({ranked[i].seconds:.1f} s, {unranked[i].seconds:.1f} s)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in runs], indent=2), "utf-8")


if __name__ == "__main__":
    main()
