"""Benchmark: delivery to 10,000, 100,000 and (simulated) 1,000,000 subscribers.

    .venv/bin/python bench/bench_send.py                      # the whole benchmark
    .venv/bin/python bench/bench_send.py --subscribers 2000,20000 --legs 2000,20000 \\
        --json out.json                                       # a quick look

One command, one run; every figure beside its reference measured in it.

**The SMTP leg.**  One fast SMTP sink (``bench/smtp_sink.py``) on loopback, in
its own process, accepts and discards every message.  Against it, with the
same number of connections (``delivery.connections``) and messages of the same
bytes (the digest a subscriber of the benchmark edition receives):

* ``bare smtplib``: that many threads, each one persistent ``smtplib.SMTP``
  connection calling ``sendmail()`` in a loop: the least a Python sender does.
  Rounds run before and after the deliveries; the median is the reference;
* ``newsletter run``: the whole command, in a subprocess, for an edition with N
  confirmed subscribers, minus the same run with none: the per-recipient cost
  of delivery (the ledger rows written with the edition, claimed in batches,
  each message spliced, every reply recorded with ``synchronous=FULL``).

**The ledger leg** (the 1,000,000 simulation).  A million messages to a sink
take most of an hour, so the million is simulated where it can differ: a
subprocess records an edition for N confirmed subscribers (the ledger written
with the edition) and delivers it with as many workers to a mailer that takes
each message and discards it without a socket (``_Discard``), stopping after
``--leg-send`` messages.  That is everything the client does per recipient
except smtplib and the socket: claims, leases, hand-over marks, replies
recorded, links signed, the message spliced — against a ledger of N rows.
Past 100,000 rows the leg delivers a sample of ``BIG_LEG_SEND`` (25,000): every
claim and update costs what the ledger's size makes it cost wherever the cursor
is.  If the per-recipient cost of that leg at 1,000,000 rows equals its cost at
100,000, nothing in our code grows with the list, and the 1,000,000 projection
is the 100,000 run's time per recipient scaled by that ratio (and never by
less than 1).

**CPU without smtplib**, two ways: (a) the command's CPU per recipient minus
the bare sender's CPU per message (what smtplib and the socket cost); (b) the
ledger leg's CPU per recipient, which has no smtplib in it at all.

**Preparation alone**: per recipient, three signed tokens (two links and the
votes), the Recipient checked, and the compiled digest spliced (dot-stuffed
for SMTP), timed in the ledger leg's process over 20,000 recipients after the
one render of the topic set.
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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
SENDER = "digest@news.example.org"
SEED = ROOT.parent / "shared" / "seeds" / "003_bf041023cdecb2cb.txt"
DAY = "2026-03-12"
PREPARE_RECIPIENTS = 20_000
BIG_LEG_SEND = 25_000
"""Messages a ledger leg past 100,000 rows delivers: a sample (every claim and update
costs what the ledger's size makes it cost wherever the cursor is), so the whole
benchmark fits in well under an hour on a shared 2-core machine."""


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
    rounds: list[float]
    """messages/s of each round, in order (before the deliveries, then after)."""

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def bare_round(port: int, data: bytes, connections: int, messages: int) -> tuple[float, float]:
    """``connections`` threads sending ``messages`` in all: (wall s, CPU s)."""
    per = messages // connections

    def loop(k: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as conn:
            for i in range(per):
                conn.sendmail(SENDER, [f"reader{k}.{i}@example.org"], data)

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(connections)]
    cpu, wall = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_summary(rounds: list[tuple[float, float]], connections: int, messages: int) -> Bare:
    sent = (messages // connections) * connections
    return Bare(
        connections,
        sent,
        statistics.median(w for w, _ in rounds),
        statistics.median(c for _, c in rounds) / sent,
        [sent / w for w, _ in rounds],
    )


@dataclass
class Run:
    subscribers: int
    seconds: float
    cpu: float
    peak_mb: float
    anon_peak_mb: float = 0.0
    """The largest anonymous (heap) resident memory sampled: RSS without file pages."""


class AnonPeak:
    """Samples a process's anonymous resident memory (``RssAnon``) every 0.1 s.

    Peak RSS counts the SQLite file's pages mapped into memory (``mmap_size``),
    which grow with the database up to their cap and are shared, reclaimable
    page cache; the heap is what would grow if rows were held in memory."""

    def __init__(self, pid: int | str = "self") -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            try:
                for line in self.path.read_text(encoding="ascii").splitlines():
                    if line.startswith("RssAnon:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except OSError:
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


IN_FLIGHT: int | None = None
"""``delivery.in_flight`` of the benchmark's projects (None: the default)."""


def _project(folder: Path, port: int, connections: int) -> Path:
    (folder / "digests").mkdir(parents=True)
    shutil.copy(SEED, folder / "digests")
    config = folder / "config.toml"
    config.write_text(
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@news.example.org"\n'
        f"connections = {connections}\n"
        + (f"in_flight = {IN_FLIGHT}\n" if IN_FLIGHT else "")
        + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
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
        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=folder
        )
        anon = AnonPeak(child.pid)
        out, err = child.communicate()
        seconds = time.perf_counter() - started
        anon_mb = anon.stop()
        ran = subprocess.CompletedProcess(argv, child.returncode, out, err)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if ran.returncode != 0 or (count and f"Delivery: {count} sent" not in ran.stdout):
            raise SystemExit(
                f"the run did not send to all {count}:\n{ran.stdout[-800:]}{ran.stderr[-800:]}"
            )
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(f"  newsletter run, {count:,} subscribers: {seconds:.1f} s", file=sys.stderr)
        return Run(count, seconds, cpu, after.ru_maxrss / 1024, anon_mb)
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


# ---------------------------------------------------------------- the ledger leg


def ledger_leg(subscribers: int, send: int, connections: int) -> dict[str, Any]:
    """In this process: record an edition for ``subscribers`` confirmed subscribers, time
    the per-recipient preparation alone, then deliver ``send`` of them to a discarding
    mailer with ``connections`` workers.  Figures as a dict."""
    os.environ.update(_env())
    from newsletter import config as config_
    from newsletter import pipeline
    from newsletter.delivery import sending
    from newsletter.delivery.ledger import Claimed
    from newsletter.delivery.mailer import Mailer, MailerStopped, Prepared
    from newsletter.edition import topics_of
    from newsletter.states import SubscriberStatus
    from newsletter.store import Database
    from newsletter.store.subscribers import Subscriber

    class _Down(Mailer):
        def send(self, sender: str, recipient: str, message: bytes, message_id: str) -> str:
            raise MailerStopped("not yet: the edition is recorded first")

    lock = threading.Lock()
    taken = [0]

    class _Taken(Prepared):
        def hand_over(self) -> str:
            return "250 2.0.0 Ok: discarded"

    class _Discard(Mailer):
        """Takes each message (dot-stuffed, as for SMTP) and drops it: no socket."""

        relay = "discard"
        smtp = True
        gather = True  # given the pieces, as the SMTP mailer is (it writes them with sendmsg)

        def prepare(
            self,
            sender: str,
            recipient: str,
            message: bytes,
            message_id: str,
            *,
            transparent: bool = False,
        ) -> Prepared:
            with lock:
                if taken[0] >= send:
                    raise MailerStopped(f"benchmark: {send} messages taken")
                taken[0] += 1
            return _Taken()

    folder = Path(tempfile.mkdtemp(prefix="bench-send-leg-"))
    try:
        config_path = _project(folder, 9, connections)
        anon = AnonPeak()
        started = time.perf_counter()
        _seed(folder, config_path, subscribers)
        seeded = time.perf_counter() - started
        os.chdir(folder)
        settings = config_.load(config_path)
        started = time.perf_counter()
        pipeline.run(settings, [str(folder / "digests")], date.fromisoformat(DAY), mailer=_Down())
        recorded = time.perf_counter() - started
        db = Database.open(settings.database.url)
        try:
            [stored] = sending.unfinished_editions(db)
            delivery = sending.Delivery(settings, db, _Discard)
            topics = topics_of(stored.edition)
            now = datetime.now(UTC)
            claims = [
                Claimed(
                    row_id=i,
                    subscriber=Subscriber(
                        id=i,
                        public_id=secrets.token_urlsafe(16),
                        email=f"reader{i}@example.org",
                        status=SubscriberStatus.CONFIRMED,
                        topics=None,
                        created_at=now,
                    ),
                    message_id=f"<{DAY}.{i}.{secrets.token_hex(8)}@news.example.org>",
                    topics=topics,
                )
                for i in range(PREPARE_RECIPIENTS)
            ]
            delivery.message_pieces(stored.edition, claims[0], True)  # the one render
            prepare = []
            for _ in range(3):  # CPU time (the machine may be shared); the best of 3
                started = time.process_time()
                for claimed in claims:  # what an SMTP mailer (gather) is given
                    delivery.message_pieces(stored.edition, claimed, True)
                prepare.append((time.process_time() - started) / len(claims))
            del claims
            before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            report = sending.deliver(settings, db, stored, _Discard)
            seconds = time.perf_counter() - started
            anon_mb = anon.stop()
            after = resource.getrusage(resource.RUSAGE_SELF)
            user = after.ru_utime - before.ru_utime
            system = after.ru_stime - before.ru_stime
        finally:
            db.close()
    finally:
        os.chdir(ROOT)
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "subscribers": subscribers,
        "sent": report.sent_now,
        "seed_seconds": seeded,
        "record_seconds": recorded,
        "deliver_seconds": seconds,
        "per_recipient_seconds": seconds / max(1, report.sent_now),
        "cpu_per_recipient": (user + system) / max(1, report.sent_now),
        "user_per_recipient": user / max(1, report.sent_now),
        "system_per_recipient": system / max(1, report.sent_now),
        "prepare_seconds": min(prepare),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "anon_peak_mb": anon_mb,
        "in_flight": settings.delivery.in_flight,
    }


def run_leg(subscribers: int, send: int, connections: int) -> dict[str, Any]:
    """:func:`ledger_leg` in a fresh process (its own peak memory)."""
    with tempfile.TemporaryDirectory(prefix="bench-send-json-") as folder:
        out = Path(folder) / "leg.json"
        argv = [sys.executable, __file__, "--leg", str(subscribers), "--leg-send", str(send)]
        argv += ["--connections", str(connections), "--json", str(out)]
        argv += ["--in-flight", str(IN_FLIGHT or 0)]
        subprocess.run(argv, check=True, env=_env(), cwd=ROOT)
        leg: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    print(
        f"  ledger leg, {subscribers:,} rows: recorded in {leg['record_seconds']:.1f} s, "
        f"{leg['sent']:,} delivered in {leg['deliver_seconds']:.1f} s",
        file=sys.stderr,
    )
    return leg


# ---------------------------------------------------------------- the whole benchmark


def measure(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(c) for c in args.subscribers.split(",")]
    legs = [int(c) for c in args.legs.split(",")] if args.legs else []
    c = args.connections
    sink, port = start_sink()
    try:
        data = digest_bytes(port)
        rounds = [bare_round(port, data, c, args.bare_messages) for _ in range(args.repeats)]
        empty = newsletter_run(port, c, 0)
        runs = [newsletter_run(port, c, n) for n in counts]
        rounds += [bare_round(port, data, c, args.bare_messages) for _ in range(args.repeats)]
    finally:
        stop_sink(sink)
    bare = bare_summary(rounds, c, args.bare_messages)
    leg_rows = [run_leg(n, min(n, args.leg_send), c) for n in legs]
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
                "anon_peak_mb": run.anon_peak_mb,
            }
        )
    for leg in leg_rows:
        leg["cost_per_recipient"] = (
            leg["record_seconds"] / leg["subscribers"] + leg["per_recipient_seconds"]
        )
    result: dict[str, Any] = {
        "connections": c,
        "in_flight": IN_FLIGHT or 1,
        "load": os.getloadavg(),
        "message_bytes": len(data),
        "bare": asdict(bare) | {"rate": bare.rate},
        "empty_run": asdict(empty),
        "runs": rows,
        "legs": leg_rows,
        "scaling": rows[-1]["per_recipient_seconds"] / rows[0]["per_recipient_seconds"],
    }
    base = rows[-1]["per_recipient_seconds"]
    factor = 1.0
    if len(leg_rows) >= 2:
        big, ref = leg_rows[-1], _leg_at(leg_rows, rows[-1]["subscribers"])
        factor = big["cost_per_recipient"] / ref["cost_per_recipient"]
        result["leg_scaling"] = factor
        result["leg_scaling_from"] = ref["subscribers"]
        result["leg_scaling_to"] = big["subscribers"]
    result["million_minutes"] = base * max(1.0, factor) * 1_000_000 / 60
    return result


def _leg_at(legs: list[dict[str, Any]], subscribers: int) -> dict[str, Any]:
    """The leg of that size (else the one before the largest)."""
    for leg in legs:
        if leg["subscribers"] == subscribers:
            return leg
    return legs[-2]


def report(result: dict[str, Any]) -> None:
    bare = result["bare"]
    print(
        f"{result['connections']} connections, messages of {result['message_bytes']:,} bytes, "
        "fast sink on loopback"
    )
    print(
        f"bare smtplib: {bare['rate']:,.0f} msg/s (rounds: "
        + ", ".join(f"{r:,.0f}" for r in bare["rounds"])
        + f"), {bare['cpu_per_message'] * 1000:.3f} ms CPU/message"
    )
    print(f"newsletter run with no subscribers: {result['empty_run']['seconds']:.2f} s")
    for r in result["runs"]:
        print(
            f"{r['subscribers']:>9,}: {r['rate']:,.0f} msg/s ({r['vs_bare']:.2f}x bare), "
            f"CPU {r['cpu_per_recipient'] * 1000:.3f} ms/recipient "
            f"({r['cpu_excluding_smtplib'] * 1000:.3f} ms without smtplib), "
            f"peak {r['peak_mb']:.0f} MB"
        )
    for leg in result["legs"]:
        print(
            f"ledger leg {leg['subscribers']:>9,} rows: recorded {leg['record_seconds']:.1f} s, "
            f"{leg['sent']:,} delivered at {1 / leg['per_recipient_seconds']:,.0f} msg/s, "
            f"CPU {leg['cpu_per_recipient'] * 1000:.3f} ms/recipient, "
            f"preparation {leg['prepare_seconds'] * 1000:.4f} ms, peak {leg['peak_mb']:.0f} MB"
        )
    line = f"per-recipient cost, largest vs smallest run: {result['scaling']:.2f}x"
    if "leg_scaling" in result:
        line += (
            f"; ledger leg {result['leg_scaling_to']:,} vs {result['leg_scaling_from']:,}: "
            f"{result['leg_scaling']:.2f}x"
        )
    print(f"{line}; 1,000,000 recipients projected: {result['million_minutes']:.0f} min")


# Goals (issue 14), one place.
GOAL_VS_BARE = 0.8  # messages/s at least this share of bare smtplib's
GOAL_SCALING = 1.2  # per-recipient cost at the largest run / at the smallest
GOAL_CPU_MS = 0.5  # client CPU per recipient, smtplib excluded
GOAL_MILLION_MIN = 60.0  # 1,000,000 recipients to a fast relay
GOAL_PREPARE_MS = 0.05  # links + headers + splice, per recipient
GOAL_FLAT_MEMORY = 1.1  # peak RSS at the largest size / at the smallest


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def markdown(s: dict[str, Any]) -> list[str]:
    """The "Sending" section of docs/benchmarks.md from :func:`measure`'s figures."""
    bare, rows, legs = s["bare"], s["runs"], s["legs"]
    c = s["connections"]
    out = ["## Sending", "", "```", ".venv/bin/python bench/bench_send.py", "```", ""]
    out += [
        f"Messages of {s['message_bytes'] / 1000:.0f} KB (the digest a subscriber of the "
        "seed edition gets, HTML and text) to one fast SMTP sink on loopback "
        "(`bench/smtp_sink.py`, its own process, accepts and discards; aiosmtpd parses every "
        f"line in Python and would be the bottleneck), {c} connections on both sides, in one "
        "run. The reference is a bare `smtplib` sender: "
        f"{c} threads, each one connection calling `sendmail()` in a loop; "
        f"{len(bare['rounds'])} rounds of {bare['messages']:,} messages, half before and half "
        "after the deliveries (" + ", ".join(f"{r:,.0f}" for r in bare["rounds"]) + " msg/s; "
        "the median is the reference). A `newsletter run` row is the whole command with that "
        "many confirmed subscribers minus the same run with none "
        f"({s['empty_run']['seconds']:.1f} s), per recipient: the ledger rows written with the "
        "edition, claimed 100 at a time, each message spliced and handed over, every reply "
        f"recorded with `synchronous=FULL` and `delivery.in_flight = {s.get('in_flight', 1)}` "
        + (
            f"(each connection marks groups of {s['in_flight'] // c} in one transaction; a "
            f"kill costs at most {s['in_flight']} extra copies)"
            if s.get("in_flight", 1) >= 2 * c
            else "(a kill costs at most that many extra copies)"
        )
        + ". CPU is the command's user + system time; *without smtplib* "
        "subtracts the bare sender's CPU per message (smtplib and the socket).",
        "",
        "| what | messages / s | × bare smtplib | ms / recipient | client CPU ms / recipient "
        "| without smtplib | peak RSS MB | heap peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| bare `smtplib`, {c} connections (reference) | {bare['rate']:,.0f} | 1.00 | "
        f"{1000 / bare['rate']:.2f} | {bare['cpu_per_message'] * 1000:.3f} | | | |",
    ]
    for r in rows:
        out.append(
            f"| `newsletter run` to {r['subscribers']:,} subscribers | {r['rate']:,.0f} | "
            f"{r['vs_bare']:.2f} | {r['per_recipient_seconds'] * 1000:.2f} | "
            f"{r['cpu_per_recipient'] * 1000:.3f} | {r['cpu_excluding_smtplib'] * 1000:.3f} | "
            f"{r['peak_mb']:.0f} | {r.get('anon_peak_mb', 0):.0f} |"
        )
    out += [
        "",
        "**The 1,000,000 simulation (ledger leg).** A process records the edition for N "
        "confirmed subscribers (the ledger written in the edition's transaction, streamed "
        "1,000 rows per INSERT) and delivers it with the same "
        f"{c} workers to a mailer that takes each message and drops it, no socket, stopping "
        f"after {legs[0]['sent'] if legs else 0:,}–{legs[-1]['sent'] if legs else 0:,} "
        "messages: everything our client does per recipient except smtplib — claims, "
        "leases, hand-over marks, grouped reply transactions (fsynced), three signed tokens, "
        "the splice — against a ledger of N rows. *Preparation* is the splice alone (three "
        "signed tokens, the recipient checked, the compiled digest's pieces filled in, "
        "dot-stuffed: the list of buffers the SMTP mailer writes with one gathering "
        "`sendmsg`, never joined per recipient), CPU time over 20,000 recipients, best of 3.",
        "",
        "| ledger rows | recorded (s) | delivered, msg/s (no socket) | CPU ms / recipient "
        "(user + system) | preparation ms / recipient | peak RSS MB | heap peak MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for leg in legs:
        out.append(
            f"| {leg['subscribers']:,} | {leg['record_seconds']:.1f} | "
            f"{1 / leg['per_recipient_seconds']:,.0f} | {leg['cpu_per_recipient'] * 1000:.3f} "
            f"({leg['user_per_recipient'] * 1000:.3f} + "
            f"{leg['system_per_recipient'] * 1000:.3f}) | {leg['prepare_seconds'] * 1000:.4f} | "
            f"{leg['peak_mb']:.0f} | {leg.get('anon_peak_mb', 0):.0f} |"
        )
    first, last = rows[0], rows[-1]
    worst_ratio = min(r["vs_bare"] for r in rows)
    worst_cpu = max(r["cpu_excluding_smtplib"] for r in rows)
    leg_cpu = max((leg["cpu_per_recipient"] for leg in legs), default=0.0)
    prepare = max((leg["prepare_seconds"] for leg in legs), default=0.0)
    peaks = [r["peak_mb"] for r in rows]
    leg_peaks = [leg["peak_mb"] for leg in legs]
    heaps = [r.get("anon_peak_mb", 0) or r["peak_mb"] for r in rows]
    leg_heaps = [leg.get("anon_peak_mb", 0) or leg["peak_mb"] for leg in legs]
    flat = max(heaps) / min(heaps)
    leg_flat = max(leg_heaps) / min(leg_heaps) if leg_heaps else 1.0
    out += [
        "",
        f"- **Messages/s at least {GOAL_VS_BARE}× bare smtplib: "
        f"{_verdict(worst_ratio >= GOAL_VS_BARE)}** (worst {worst_ratio:.2f}×).",
        f"- **Per-recipient cost at {last['subscribers']:,} within {GOAL_SCALING}× of "
        f"{first['subscribers']:,}: {_verdict(s['scaling'] <= GOAL_SCALING)}** "
        f"({s['scaling']:.2f}×). Claims walk an index from a cursor and every update is by "
        "primary key"
        + (
            f"; the ledger leg at {s['leg_scaling_to']:,} rows costs {s['leg_scaling']:.2f}× "
            f"its cost at {s['leg_scaling_from']:,} per recipient"
            if "leg_scaling" in s and s["leg_scaling_to"] != s["leg_scaling_from"]
            else ""
        )
        + ".",
        f"- **Client CPU per recipient without smtplib at most {GOAL_CPU_MS} ms: "
        f"{_verdict(max(worst_cpu, leg_cpu) <= GOAL_CPU_MS / 1000)}** — "
        f"{worst_cpu * 1000:.3f} ms by subtraction (worst run), {leg_cpu * 1000:.3f} ms "
        "measured without smtplib in the ledger leg (worst size).",
        f"- **Per-recipient preparation at most {GOAL_PREPARE_MS} ms: "
        f"{_verdict(prepare <= GOAL_PREPARE_MS / 1000)}** ({prepare * 1000:.4f} ms).",
        f"- **Peak memory flat (heap): {_verdict(max(flat, leg_flat) <= GOAL_FLAT_MEMORY)}** "
        f"(heap {min(heaps):.0f}–{max(heaps):.0f} MB over the runs, "
        f"{min(leg_heaps, default=0):.0f}–{max(leg_heaps, default=0):.0f} MB over the legs; "
        f"peak RSS {min(peaks):.0f}–{max(peaks):.0f} MB over the runs, "
        f"{min(leg_peaks, default=0):.0f}–{max(leg_peaks, default=0):.0f} MB over the ledger "
        "legs up to "
        f"{legs[-1]['subscribers'] if legs else 0:,} rows). Peak RSS counts the pages "
        "of the SQLite file mapped into memory (`mmap_size`), growing with the database "
        "file up to its cap: shared, reclaimable page cache, not heap. The connections "
        "that write the ledger use SQLite's 2 MB page cache (the novelty index's 64 MB "
        "held every ledger page written or updated); the ledger rows themselves are "
        "streamed (read by id cursor, written 1,000 per INSERT) and claimed 100 at a time."
        + (
            f" Sampled during the 1,000,000-row leg: at most {s['leg_anon_peak_mb']:.0f} MB "
            f"of anonymous memory (heap) and {s['leg_file_peak_mb']:.0f} MB of file pages."
            if "leg_anon_peak_mb" in s
            else ""
        ),
        f"- **1,000,000 recipients within {GOAL_MILLION_MIN:.0f} min: "
        f"{_verdict(s['million_minutes'] <= GOAL_MILLION_MIN)}** "
        f"({s['million_minutes']:.0f} min projected: the {last['subscribers']:,} run's time "
        "per recipient × the ledger leg's 1M / 100k ratio, never less than 1; the bare "
        f"smtplib sender itself would take {1_000_000 / bare['rate'] / 60:.0f} min on this "
        "machine in this run).",
        "",
        "Notes on this run:",
        "",
        "- **The machine.** Six engineers share its 2 cores; the load average was "
        + ", ".join(f"{x:.0f}" for x in s.get("load", ()))
        + " (1, 5, 15 min) as the run ended, and the bare reference moved between "
        f"{min(bare['rounds']):,.0f} and {max(bare['rounds']):,.0f} msg/s from round to "
        "round. Only same-run ratios mean anything here.",
        "- **The bare reference is smtplib's own cost.** `sendmail()` runs two regular "
        "expressions over every message (line ends, dot-stuffing): about 2 ms of CPU for a "
        "156 KB digest. Our mailer sends the digest already dot-stuffed (stuffed once per "
        "topic set at compile time), so it beats the bare sender on this sink.",
        "- **CPU by subtraction** fails on a loaded box (the bare sender's CPU per message "
        "is larger than the whole client's per recipient); the ledger leg measures it "
        "without smtplib directly.",
        "",
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="10000,100000", help="comma-separated counts")
    parser.add_argument(
        "--legs", default="10000,100000,1000000", help="ledger-leg sizes ('' for none)"
    )
    parser.add_argument("--leg-send", type=int, default=100_000, help="messages per ledger leg")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections, both sides")
    parser.add_argument(
        "--in-flight", type=int, default=0, help="delivery.in_flight (0: the default)"
    )
    parser.add_argument("--bare-messages", type=int, default=10000, help="per bare round")
    parser.add_argument("--repeats", type=int, default=2, help="bare rounds before and after")
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    parser.add_argument("--markdown", help="print docs/benchmarks.md's section from this JSON")
    parser.add_argument("--leg", type=int, help=argparse.SUPPRESS)  # one ledger leg, in-process
    args = parser.parse_args()
    global IN_FLIGHT
    IN_FLIGHT = args.in_flight or None
    if args.markdown:
        print("\n".join(markdown(json.loads(Path(args.markdown).read_text(encoding="utf-8")))))
        return
    if args.leg is not None:
        send = args.leg_send if args.leg <= 100_000 else min(args.leg_send, BIG_LEG_SEND)
        result = ledger_leg(args.leg, send, args.connections)
        print(json.dumps(result), file=sys.stderr)  # in the log too, as each leg ends
    else:
        result = measure(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.leg is None:
        report(result)


if __name__ == "__main__":
    main()
