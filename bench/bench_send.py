"""Benchmark: sending, our SMTP mailer beside a bare smtplib loop, to the same server.

    .venv/bin/python bench/bench_send.py              # 1,000 messages
    .venv/bin/python bench/bench_send.py --messages 200

One aiosmtpd server on loopback, in its own process (so it does not share the
client's GIL), accepts and discards every message.  Against it, in the same
run and with the same message bytes (the seed edition's email, HTML and text,
as one MIME message of ~140 KB):

* ``bare smtplib``: one persistent ``smtplib.SMTP`` connection and
  ``sendmail()`` per message: the least any Python client can do;
* ``SmtpMailer.send``: our mailer, one persistent connection, MAIL/RCPT/DATA
  per message with its reply checks and failure classification;
* ``deliver`` (when the subscriber store is available): the whole delivery of
  an edition to N confirmed subscribers: the per-recipient message spliced
  from the compiled edition, each ledger row claimed and its reply recorded
  (SQLite, ``synchronous=FULL``), through ``SmtpMailer``.

Each figure is the median of ``--repeats`` rounds of ``--messages`` messages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENDER = "digest@news.example.org"

_SERVER = """
import socket, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

with socket.socket() as probe:  # Controller cannot start on port 0: pick a free one
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
controller = Controller(Sink(), hostname="127.0.0.1", port=port, data_size_limit=0)
controller.start()
print(port, flush=True)
sys.stdin.read()
controller.stop()
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    """An aiosmtpd sink in a separate process; returns it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, port


def message_bytes() -> bytes:
    """The seed edition's email as one MIME message (what a subscriber receives, roughly)."""
    from bench_render import edition

    from newsletter import config
    from newsletter.render import render_email

    settings = config.load(None)
    ed, _ = edition(settings)
    email = render_email(ed, settings)
    msg = EmailMessage()
    msg["From"] = f"Daily Papers <{SENDER}>"
    msg["To"] = "reader@example.org"
    msg["Subject"] = "Daily Papers Digest: 102 new papers"
    msg["Message-ID"] = "<bench@news.example.org>"
    msg.set_content(email.text, cte="quoted-printable")
    msg.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return msg.as_bytes(policy=SMTP_POLICY)  # CRLF line ends, as on the wire


def median_rate(fn: Callable[[int], None], count: int, repeats: int) -> float:
    """Median seconds per message over ``repeats`` rounds of ``count`` messages."""
    fn(min(count, 20))  # warm-up: connection, caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(count)
        times.append((time.perf_counter() - started) / count)
    return statistics.median(times)


def bare_smtplib(port: int, data: bytes) -> Callable[[int], None]:
    def loop(count: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as conn:
            for i in range(count):
                conn.sendmail(SENDER, [f"reader{i}@example.org"], data)

    return loop


def our_mailer(port: int, data: bytes) -> Callable[[int], None]:
    from newsletter.config import SmtpSettings
    from newsletter.delivery.mailer import SmtpMailer

    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        username="",
        password_env="",
        timeout_seconds=30,
    )

    def loop(count: int) -> None:
        mailer = SmtpMailer(settings)
        try:
            for i in range(count):
                mailer.send(SENDER, f"reader{i}@example.org", data, f"<b{i}@news.example.org>")
        finally:
            mailer.close()

    return loop


def whole_delivery(port: int, count: int) -> float | None:
    """Seconds per recipient of ``newsletter run`` sending to ``count`` confirmed subscribers.

    The run with ``count`` subscribers minus the same run with none: what
    delivery adds, per recipient, to the run that also ingests and renders.
    None when this version has no subscriber store.
    """
    try:
        from newsletter.delivery.sending import deliver  # noqa: F401
    except ImportError:
        return None
    seconds = {}
    for n in (0, count):
        folder = Path(tempfile.mkdtemp(prefix="bench-send-"))
        try:
            took = _deliver_once(folder, port, n)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if took is None:
            return None
        seconds[n] = took
    return (seconds[count] - seconds[0]) / count


def _deliver_once(folder: Path, port: int, count: int) -> float | None:
    """Import ``count`` confirmed subscribers, then time ``newsletter run`` sending to them."""
    seed = ROOT.parent / "shared" / "seeds" / "003_bf041023cdecb2cb.txt"
    (folder / "digests").mkdir()
    shutil.copy(seed, folder / "digests")
    (folder / "config.toml").write_text(
        '[newsletter]\nbase_url = "https://news.example.org/"\n'
        '[delivery]\nmethod = "smtp"\nfrom_address = "digest@news.example.org"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        '[[sources]]\nname = "d"\nkind = "text"\npath = "digests"\n',
        encoding="utf-8",
    )
    csv = folder / "subscribers.csv"
    csv.write_text(
        "email,topics,status\n"
        + "".join(f"reader{i}@example.org,,confirmed\n" for i in range(count)),
        encoding="utf-8",
    )
    base = [sys.executable, "-m", "newsletter", "--config", str(folder / "config.toml")]
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": "bench-" + "k" * 40}
    if count == 0:
        csv.write_text("email,topics,status\n", encoding="utf-8")
    imported = subprocess.run(
        [*base, "subscribers", "import", str(csv), "--confirmed"],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
    )
    if imported.returncode != 0:
        print(f"deliver: subscriber import failed: {imported.stderr.strip()}", file=sys.stderr)
        return None
    started = time.perf_counter()
    ran = subprocess.run(
        [*base, "run", "--date", "2026-03-12"], capture_output=True, text=True, env=env, cwd=folder
    )
    seconds = time.perf_counter() - started
    if ran.returncode != 0:
        print(f"deliver: run failed: {ran.stderr.strip()}", file=sys.stderr)
        return None
    if count and f"Delivery: {count} sent" not in ran.stdout:
        print(f"deliver: not everyone was sent to:\n{ran.stdout[-500:]}", file=sys.stderr)
        return None
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages per round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per figure (median)")
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    data = message_bytes()
    server, port = start_server()
    try:
        bare = median_rate(bare_smtplib(port, data), args.messages, args.repeats)
        ours = median_rate(our_mailer(port, data), args.messages, args.repeats)
        whole = whole_delivery(port, args.messages)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    print(f"Sending {args.messages} messages of {len(data):,} bytes to aiosmtpd on loopback")
    print(f"| {'what':40} | {'ms/message':>10} | {'messages/s':>10} | {'x bare':>7} |")
    print(f"| {'-' * 40} | {'-' * 10}:| {'-' * 10}:| {'-' * 7}:|")
    rows = [("bare smtplib loop", bare), ("SmtpMailer.send", ours)]
    if whole is not None:
        rows.append(("newsletter run: deliver to subscribers", whole))
    for name, seconds in rows:
        print(
            f"| {name:40} | {seconds * 1000:10.3f} | {1 / seconds:10,.0f} | {seconds / bare:7.2f} |"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "messages": args.messages,
                    "repeats": args.repeats,
                    "message_bytes": len(data),
                    "bare_seconds": bare,
                    "mailer_seconds": ours,
                    "deliver_seconds": whole,
                },
                indent=2,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
