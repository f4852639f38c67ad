"""``newsletter serve`` as an operator and an attacker meet it: a real process on loopback.

It says where it listens (the real port of ``--port 0``), logs each request
without the link tokens, refuses a huge body before reading it, closes
connections that never send their headers, lets no one client take the
connection budget (1,000 idle sockets from 127.0.0.1 do not stop 127.0.0.2),
puts the security headers on the 400s and 503s the server makes itself, and
trusts proxy headers only when told to.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import figures
import httpx
import pytest
from serve_kit import serving, write_config

from newsletter.web.connections import ConnectionBudget, client_key, proxy_networks

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
    write_config(
        tmp_path,
        "[serve]\nheader_timeout_seconds = 2\nmax_connections = 1500\n"
        "max_connections_per_client = 2000\n",  # here: the timeout, not the cap
    )
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


SECURITY = (
    "x-content-type-options",
    "content-security-policy",
    "x-frame-options",
    "referrer-policy",
)


def _raw(host: str, port: int, request: bytes) -> tuple[str, dict[str, str]]:
    """Send ``request`` as is; the status line and headers of the answer."""
    sock = socket.create_connection((host, port), timeout=20)
    data = b""
    try:
        sock.sendall(request)
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
    except OSError:
        pass  # a reset after the answer (the server closed with our bytes unread)
    finally:
        sock.close()
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


MALFORMED = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "a 200 KB header": b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 200_000 + b"\r\n\r\n",
    "no Host": b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "Content-Length: abc": b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
}


def test_the_400s_and_503s_the_http_server_makes_itself_carry_the_security_headers(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, "[serve]\nmax_connections = 4\n")
    with serving(tmp_path) as served:
        host, port = _address(served.url)
        answers = {name: _raw(host, port, request) for name, request in MALFORMED.items()}
        idle = [socket.create_connection((host, port), timeout=10) for _ in range(4)]
        busy = _raw(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for s in idle:
            s.close()
        time.sleep(0.5)  # the server has seen them close
        after = httpx.get(served.url + "healthz", timeout=10)
    for name, (status, headers) in answers.items():
        assert status.startswith("HTTP/1.1 400"), (name, status)
        assert all(h in headers for h in SECURITY), (name, headers)
        assert headers["x-content-type-options"] == "nosniff"
    status, headers = busy
    assert status.startswith("HTTP/1.1 503"), status
    assert all(h in headers for h in SECURITY), headers
    assert headers["retry-after"] == "5" and headers["connection"] == "close"
    assert "next_run" in after.json()  # with the idle ones gone, the app answers again
    assert "past serve.max_connections = 4" in served.logs()


def _from(address: str) -> httpx.Client:
    """A client on its own loopback address, a new connection per request (like a probe:
    a browser retries a kept-alive request whose idle connection was closed; httpx does not)."""
    return httpx.Client(
        transport=httpx.HTTPTransport(local_address=address),
        headers={"Connection": "close"},
        timeout=15,
    )


def test_a_thousand_idle_connections_from_one_client_do_not_stop_another(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, "[serve]\nmax_connections = 1000\n")  # the cap per client: 32
    with serving(tmp_path) as served, _from("127.0.0.2") as other, _from("127.0.0.1") as same:
        host, port = _address(served.url)
        sockets = []
        for i in range(1000):
            try:
                s = socket.create_connection((host, port), timeout=10)
                if i % 2:  # half of them start a request and never finish its headers
                    s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            except OSError:
                continue  # closed at once: past the cap
            sockets.append(s)
        time.sleep(0.5)
        feed = other.get(served.url + "feed.xml")
        own = same.get(served.url + "healthz")  # its own idle sockets make way
        held = 0
        for s in sockets:
            s.setblocking(False)
            try:
                held += s.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                held += 1
            except OSError:
                pass
            s.close()
    assert feed.status_code == 404 and "x-content-type-options" in feed.headers  # the app's
    assert "next_run" in own.json()
    assert held <= 32, held
    assert "past serve.max_connections_per_client = 32" in served.logs()
    figures.count("web", "idle connections held by one client (of 1000)", held)
    print(f"1000 idle connections from 127.0.0.1: {held} held; 127.0.0.2 got {feed.status_code}")


def test_a_client_that_keeps_reopening_idle_connections_does_not_make_the_site_unavailable(
    tmp_path: Path,
) -> None:
    """The attacker connects as fast as it can (the red team's reopened what the server
    closed), up to 4,000 connections, each closed with a reset (no TIME_WAIT: the ports
    of a shared machine are not used up).  Another client is always answered.  From the
    attacker's own address a probe is best effort (it displaces an idle socket, but a
    socket that has not sent its request yet looks like the attacker's own), so it is
    counted, not asserted."""
    write_config(tmp_path)
    with serving(tmp_path) as served, _from("127.0.0.2") as other, _from("127.0.0.1") as same:
        host, port = _address(served.url)
        stop = threading.Event()
        opened = 0

        def flood() -> None:
            nonlocal opened
            sockets = []
            while not stop.is_set() and opened < 4000:
                try:
                    s = socket.create_connection((host, port), timeout=5)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sockets.append(s)
                    opened += 1
                except OSError:
                    pass
                if len(sockets) >= 200:  # keep the newest 200 open, reopen the rest
                    sockets.pop(0).close()
                time.sleep(0.001)
            stop.wait()
            for s in sockets:
                s.close()

        attacker = threading.Thread(target=flood, daemon=True)
        attacker.start()
        answers, own = [], 0
        try:
            time.sleep(1)
            for _ in range(8):
                answers.append(other.get(served.url + "healthz"))
                with contextlib.suppress(httpx.HTTPError):
                    own += "next_run" in same.get(served.url + "healthz").json()
                time.sleep(0.5)
        finally:
            stop.set()
            attacker.join(30)
    assert opened > 1000
    assert all("next_run" in a.json() for a in answers), [a.status_code for a in answers]
    figures.count("web", "probes answered while one client reopened connections", len(answers))
    print(
        f"one client opened {opened} connections: 127.0.0.2 answered {len(answers)}/8, "
        f"127.0.0.1 itself {own}/8"
    )


def test_the_cap_per_client_displaces_the_oldest_idle_connection_never_a_busy_one() -> None:
    busy: set[str] = set()
    budget: ConnectionBudget[str] = ConnectionBudget(2, 10, idle=lambda c: c not in busy)
    assert budget.admit("198.51.100.7", "a") == ("198.51.100.7", None)
    assert budget.admit("198.51.100.7", "b") == ("198.51.100.7", None)
    assert budget.admit("198.51.100.7", "c") == ("198.51.100.7", "a")  # the oldest idle one
    busy |= {"b", "c"}
    assert budget.admit("198.51.100.7", "d") is None  # all in a request: the new one is refused
    assert budget.admit("198.51.100.8", "e") == ("198.51.100.8", None)  # another client
    assert (budget.open, budget.held_by("198.51.100.7")) == (3, 2)
    budget.release("198.51.100.7", "b")
    budget.release("198.51.100.7", "b")  # twice: harmless
    assert (budget.open, budget.held_by("198.51.100.7")) == (2, 1)


def test_one_ipv6_machine_is_one_client_and_listed_proxies_are_exempt() -> None:
    budget: ConnectionBudget[int] = ConnectionBudget(
        1, 3, idle=lambda c: False, exempt=proxy_networks("10.0.0.0/8, *, not-an-address")
    )
    assert budget.admit("2001:db8:1:2::5", 1) == ("2001:db8:1:2::/64", None)
    assert budget.admit("2001:db8:1:2:ffff::9", 2) is None  # the same /64
    assert budget.admit("2001:db8:1:3::5", 3) == ("2001:db8:1:3::/64", None)
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert budget.admit("10.1.2.3", 4) == ("", None)  # a listed proxy: no cap of its own
    assert budget.admit("10.1.2.3", 5) == ("", None)
    assert budget.admit("192.0.2.1", 6) == ("192.0.2.1", None)  # '*' exempts nobody
    assert budget.admit("192.0.2.1", 7) is None
    assert budget.open == 5 and budget.full  # past the total of 3: requests get 503
    budget.release("", 4)
    budget.release("", 5)
    assert not budget.full


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


def test_the_access_log_never_holds_a_working_link_token(tmp_path: Path) -> None:
    """Whoever reads serve's log must not be able to open a subscriber's pages: the
    token of a vote link (in the path) is masked like a preferences link's (``t=``)."""
    write_config(tmp_path)
    secrets = ("SECRETvote.202612041.g1h.SECRETsig0", "SECRETprefs")
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        http.get(f"v/{secrets[0]}/abcdefgh/up")
        http.get(f"v/{secrets[0]}/abcdefgh")
        http.get("preferences", params={"t": secrets[1]})
        deadline = time.monotonic() + 10
        while served.logs().count('"GET /') < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        logs = served.logs()
    assert '"GET /v/…/abcdefgh/up"' in logs and '"GET /v/…/abcdefgh"' in logs
    assert '"GET /preferences?t=…"' in logs
    assert not any(secret in logs for secret in secrets)
