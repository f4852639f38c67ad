"""``newsletter serve`` as an operator and an attacker meet it: a real process on loopback.

It says where it listens (the real port of ``--port 0``), logs each request
without the link tokens, refuses a huge body before reading it, closes
connections that never send their headers, and trusts proxy headers only
when told to.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import figures
import httpx
import pytest
from serve_kit import serving, write_config

pytestmark = pytest.mark.slow

MB = 2**20


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def test_serve_prints_the_port_it_really_listens_on_and_logs_requests_without_tokens(
    tmp_path: Path,
) -> None:
    write_config(tmp_path)
    with serving(tmp_path) as served:
        host, port = _address(served.url)
        assert host == "127.0.0.1" and port != 0
        assert "public address https://papers.example.org/" in served.logs()
        health = httpx.get(served.url + "healthz", timeout=10)
        assert health.status_code in (200, 503) and "next_run" in health.json()
        secret = "s3cret-token-value"
        page = httpx.get(served.url + f"unsubscribe?t={secret}", timeout=10)
        assert page.status_code == 400
        deadline = time.monotonic() + 10
        while "/unsubscribe" not in served.logs() and time.monotonic() < deadline:
            time.sleep(0.05)
    logs = served.logs()
    assert '"GET /healthz" ' in logs
    assert '"GET /unsubscribe?t=…" 400' in logs
    assert secret not in logs


def _post_streaming(url: str, total: int, declare: bool) -> tuple[str, float]:
    """POST ``total`` bytes to ``url`` over a raw socket; the status line and seconds taken."""
    host, port = _address(url)
    path = urlsplit(url).path
    sock = socket.create_connection((host, port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + (
        "Content-Type: application/x-www-form-urlencoded\r\n"
    )
    head += f"Content-Length: {total}\r\n" if declare else "Transfer-Encoding: chunked\r\n"
    reply = bytearray()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                reply.extend(chunk)
        except OSError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.monotonic()
    sock.sendall((head + "\r\n").encode())
    piece = b"List-Unsubscribe=One-Click&" + b"x" * (MB - 27)
    sent = 0
    try:
        while sent < total and not reply:
            data = piece if declare else b"%x\r\n%s\r\n" % (len(piece), piece)
            sock.sendall(data)
            sent += len(piece)
    except OSError:
        pass  # the server closed the connection: what we want
    reader.join(30)
    elapsed = time.monotonic() - started
    sock.close()
    return reply.split(b"\r\n", 1)[0].decode(), elapsed


def test_a_200_mb_post_is_refused_before_it_is_read(tmp_path: Path) -> None:
    write_config(tmp_path)
    with serving(tmp_path) as served:
        time.sleep(1)  # the start-up catch-up run is over
        before = served.peak_rss_mb()
        url = served.url + "unsubscribe?t=x"
        declared, declared_s = _post_streaming(url, 200 * MB, declare=True)
        chunked, chunked_s = _post_streaming(url, 200 * MB, declare=False)
        after = served.peak_rss_mb()
        ok = httpx.get(served.url + "subscribe", timeout=10)
    assert declared.startswith("HTTP/1.1 413"), declared
    assert chunked.startswith("HTTP/1.1 413"), chunked
    assert ok.status_code == 200  # the server is fine afterwards
    assert after < 300, f"peak RSS {after:.0f} MB"
    assert after - before < 20, f"peak RSS grew from {before:.0f} to {after:.0f} MB"
    figures.count("web", "200 MB posts refused", 2)
    print(
        f"200 MB POST: declared → {declared} in {declared_s:.2f}s, chunked → {chunked} "
        f"in {chunked_s:.2f}s; peak RSS {before:.0f} → {after:.0f} MB"
    )


def test_a_thousand_half_open_connections_are_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, "[serve]\nheader_timeout_seconds = 2\nmax_connections = 1500\n")
    with serving(tmp_path) as served:
        host, port = _address(served.url)
        sockets = []
        for i in range(1000):
            s = socket.create_connection((host, port), timeout=10)
            if i % 2:  # half of them start a request and never finish its headers
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sockets.append(s)
        opened = time.monotonic()
        during = httpx.get(served.url + "healthz", timeout=10)  # others are still served
        closed_after = []
        for s in sockets:
            s.settimeout(max(0.1, opened + 20 - time.monotonic()))
            try:
                data = s.recv(1024)
                assert data == b"", data  # closed without an answer
            except TimeoutError:
                pytest.fail("a half-open connection was still held after 20 s")
            except ConnectionResetError:
                pass
            closed_after.append(time.monotonic() - opened)
            s.close()
        after = httpx.get(served.url + "healthz", timeout=10)
    assert during.status_code in (200, 503) and "next_run" in during.json()
    assert after.status_code in (200, 503)
    assert max(closed_after) < 15, max(closed_after)
    figures.count("web", "half-open connections closed", len(closed_after))
    print(f"1000 half-open connections: all closed within {max(closed_after):.1f} s")


def _forwarded_client(url: str) -> int:
    """Posts with one X-Forwarded-For each: how many were refused as one client (429)."""
    refused = 0
    with httpx.Client(base_url=url, timeout=10) as http:
        for i in range(25):
            response = http.post(
                "links",
                data={"email": "a@example.org", "form_token": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            refused += response.status_code == 429
    return refused


def test_proxy_headers_are_trusted_only_when_configured(tmp_path: Path) -> None:
    plain, proxied = tmp_path / "plain", tmp_path / "proxied"
    write_config(plain)
    write_config(proxied, '[serve]\nforwarded_allow_ips = "127.0.0.1"\n')
    with serving(plain) as served:
        assert _forwarded_client(served.url) == 5  # one client (the peer): 20 an hour
        assert "203.0.113." not in served.logs()
    with serving(proxied) as served:
        assert _forwarded_client(served.url) == 0  # 25 clients behind the proxy
        deadline = time.monotonic() + 10
        while "203.0.113.25 " not in served.logs() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "203.0.113.25 " in served.logs()  # the access log names the real client


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Sparse Attention for Long Documents</title>
<link>https://arxiv.org/abs/2603.00001</link>
<description>We propose a sparse attention scheme for language models that reads long
documents.</description></item>
<item><title>Diffusion Models for Tiny Images</title>
<link>https://arxiv.org/abs/2603.00002</link>
<description>We introduce a diffusion model that generates small images
quickly.</description></item>
</channel></rss>"""


def test_sigterm_mid_edition_finishes_the_edition_and_records_its_report(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from loopback import serving as http_serving

    from newsletter.store import Database

    asked = threading.Event()

    def slow_feed(req: BaseHTTPRequestHandler) -> None:
        asked.set()
        time.sleep(4)  # the edition is being made while serve gets SIGTERM
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("Content-Length", str(len(FEED)))
        req.end_headers()
        req.wfile.write(FEED)

    with http_serving() as feed_server:
        feed_server.route("/feed.xml", slow_feed)
        write_config(
            tmp_path,
            '[schedule]\ncron = "* * * * *"\n[fetch]\ntimeout_seconds = 30\n'
            f'[[sources]]\nname = "slow"\nkind = "feed"\nurl = "{feed_server.url("/feed.xml")}"\n'
            "allow_private = true\n",
        )
        with serving(tmp_path) as served:
            assert asked.wait(60), served.logs()
            stopped = time.monotonic()
            code = served.stop()
            took = time.monotonic() - stopped
    assert code == 0, served.logs()
    assert took > 2, "serve exited without waiting for the edition"
    day = datetime.now(UTC).date().isoformat()
    assert f"stopping: finishing the edition for {day} before exit" in served.logs()
    assert f"stopped: the edition for {day} is finished" in served.logs()  # not 10 s of silence
    url = f"sqlite:///{tmp_path / 'subscribers' / 'newsletter.db'}"
    with Database.open_read_only(url) as db, db.read() as tx:
        today = datetime.now(UTC).date()
        assert tx.editions.count_on(today) == 1, served.logs()
        [claim] = tx.claims.all()
        assert claim.status == "published"
        [report] = tx.runs.recent()
        assert report.status == "published" and report.paper_count == 2
    print(f"SIGTERM mid-edition: serve finished it and exited {took:.1f} s later")
