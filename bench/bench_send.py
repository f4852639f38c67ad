"""Benchmark: delivery to 10,000 and 100,000 subscribers beside a bare smtplib sender.

    .venv/bin/python bench/bench_send.py                       # 10k and 100k
    .venv/bin/python bench/bench_send.py --subscribers 2000,20000 --json out.json

One fast SMTP sink (``bench/smtp_sink.py``) on loopback, in its own process,
accepts and discards every message.  Against it, in the same run, with the
same number of connections (``delivery.connections``) and messages of the
same size (the digest a subscriber of the benchmark edition receives):

* ``bare smtplib``: that many threads, each one persistent ``smtplib.SMTP``
  connection calling ``sendmail()`` in a loop: the least a Python sender does;
* ``newsletter run``: the whole command, in a subprocess, for an edition with N
  confirmed subscribers, minus the same run with none: the per-recipient cost
  of delivery (the ledger rows written with the edition, claimed in batches,
  the message spliced per recipient, every reply recorded, ``synchronous=FULL``).

Reported per subscriber count: messages/s, the ratio to bare smtplib, client
CPU per recipient (the command's CPU minus the run with none) and that minus
what smtplib itself costs per message (the bare sender's CPU per message),
and peak RSS.  The 1,000,000 figure is a projection from the 100,000 run's
per-recipient time (claims and updates are index ranges and primary-key
updates, so the cost per recipient does not grow; the 10k → 100k ratio
checks that).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
SENDER = "digest@news.example.org"
SEED = ROOT.parent / "shared" / "seeds" / "003_bf041023cdecb2cb.txt"
DAY = "2026-03-12"


def start_sink() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "smtp_sink.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def stop_sink(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


@dataclass
class Bare:
    connections: int
    messages: int
    seconds: float
    cpu_per_message: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def bare_smtplib(port: int, data: bytes, connections: int, messages: int, repeats: int) -> Bare:
    """``connections`` threads sending ``messages`` in all; the median of ``repeats``."""
    per = messages // connections

    def loop(k: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as conn:
            for i in range(per):
                conn.sendmail(SENDER, [f"reader{k}.{i}@example.org"], data)

    walls, cpus = [], []
    for _ in range(repeats):
        threads = [threading.Thread(target=loop, args=(k,)) for k in range(connections)]
        cpu, wall = time.process_time(), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    sent = per * connections
    return Bare(connections, sent, statistics.median(walls), statistics.median(cpus) / sent)


@dataclass
class Run:
    subscribers: int
    seconds: float
    cpu: float
    peak_mb: float


def _project(folder: Path, port: int, connections: int) -> Path:
    (folder / "digests").mkdir(parents=True)
    shutil.copy(SEED, folder / "digests")
    config = folder / "config.toml"
    config.write_text(
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@news.example.org"\n'
        f"connections = {connections}\n"
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        '[[sources]]\nname = "d"\nkind = "text"\npath = "digests"\n',
        encoding="utf-8",
    )
    return config


def _env() -> dict[str, str]:
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": "bench-" + "k" * 40}
    env.pop("NEWSLETTER_CONFIG", None)
    env.pop("NEWSLETTER_DATABASE_URL", None)
    return env


def _seed(folder: Path, config: Path, count: int) -> None:
    """``count`` confirmed subscribers, written straight into the fresh database."""
    base = [sys.executable, "-m", "newsletter", "--config", str(config)]
    subprocess.run([*base, "migrate"], check=True, capture_output=True, env=_env(), cwd=folder)
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(folder / "subscribers" / "newsletter.db") as db:
        db.executemany(
            "INSERT INTO subscribers (public_id, email, email_key, status, topics, "
            "created_at, updated_at, confirmed_at) VALUES (?, ?, ?, 'confirmed', NULL, ?, ?, ?)",
            (
                (secrets.token_urlsafe(16), f"r{i}@example.org", f"r{i}@example.org", now, now, now)
                for i in range(count)
            ),
        )


def newsletter_run(port: int, connections: int, count: int) -> Run:
    """Time ``newsletter run`` for an edition with ``count`` confirmed subscribers."""
    folder = Path(tempfile.mkdtemp(prefix="bench-send-"))
    try:
        config = _project(folder, port, connections)
        _seed(folder, config, count)
        argv = [sys.executable, "-m", "newsletter", "--config", str(config), "run", "--date", DAY]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        ran = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=folder)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if ran.returncode != 0 or (count and f"Delivery: {count} sent" not in ran.stdout):
            raise SystemExit(
                f"the run did not send to all {count}:\n{ran.stdout[-800:]}{ran.stderr[-800:]}"
            )
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return Run(count, seconds, cpu, after.ru_maxrss / 1024)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def digest_bytes(port: int) -> bytes:
    """The message one subscriber of the benchmark edition gets (to size the bare sends)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-send-one-"))
    try:
        config = _project(folder, port, 1)
        text = config.read_text(encoding="utf-8").replace('method = "smtp"', 'method = "maildir"')
        config.write_text(text, encoding="utf-8")
        _seed(folder, config, 1)
        subprocess.run(
            [sys.executable, "-m", "newsletter", "--config", str(config), "run", "--date", DAY],
            check=True,
            capture_output=True,
            env=_env(),
            cwd=folder,
        )
        [path] = (folder / "subscribers" / "outbox" / "new").iterdir()
        return path.read_bytes().replace(b"\n", b"\r\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="10000,100000", help="comma-separated counts")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections, both sides")
    parser.add_argument("--bare-messages", type=int, default=10000, help="per bare round")
    parser.add_argument("--repeats", type=int, default=3, help="bare rounds (median)")
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    args = parser.parse_args()
    counts = [int(c) for c in args.subscribers.split(",")]
    sink, port = start_sink()
    try:
        data = digest_bytes(port)
        bare = bare_smtplib(port, data, args.connections, args.bare_messages, args.repeats)
        empty = newsletter_run(port, args.connections, 0)
        runs = [newsletter_run(port, args.connections, n) for n in counts]
    finally:
        stop_sink(sink)
    rows = []
    for run in runs:
        per = (run.seconds - empty.seconds) / run.subscribers
        cpu = (run.cpu - empty.cpu) / run.subscribers
        rows.append(
            {
                "subscribers": run.subscribers,
                "seconds": run.seconds,
                "per_recipient_seconds": per,
                "rate": 1 / per,
                "vs_bare": (1 / per) / bare.rate,
                "cpu_per_recipient": cpu,
                "cpu_excluding_smtplib": cpu - bare.cpu_per_message,
                "peak_mb": run.peak_mb,
            }
        )
    result = {
        "connections": args.connections,
        "message_bytes": len(data),
        "bare": asdict(bare) | {"rate": bare.rate},
        "empty_run": asdict(empty),
        "runs": rows,
        "scaling": rows[-1]["per_recipient_seconds"] / rows[0]["per_recipient_seconds"],
        "million_minutes": rows[-1]["per_recipient_seconds"] * 1_000_000 / 60,
    }
    print(f"{args.connections} connections, messages of {len(data):,} bytes, fast sink on loopback")
    print(f"bare smtplib: {bare.rate:,.0f} msg/s, {bare.cpu_per_message * 1000:.3f} ms CPU/message")
    print(f"newsletter run with no subscribers: {empty.seconds:.2f} s")
    for r in rows:
        print(
            f"{r['subscribers']:>8,}: {r['rate']:,.0f} msg/s ({r['vs_bare']:.2f}x bare), "
            f"CPU {r['cpu_per_recipient'] * 1000:.3f} ms/recipient "
            f"({r['cpu_excluding_smtplib'] * 1000:.3f} ms without smtplib), "
            f"peak {r['peak_mb']:.0f} MB"
        )
    print(
        f"per-recipient cost, largest vs smallest: {result['scaling']:.2f}x; "
        f"1,000,000 recipients projected: {result['million_minutes']:.0f} min"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
