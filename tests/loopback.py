"""A real HTTP server on 127.0.0.1 in a thread, serving scripted responses (tests only).

Each route maps a path to a function ``handler(request) -> None`` that writes
the response itself, so a test can be hostile: trickle bytes, send gigabytes,
redirect forever, lie about the encoding.  A handler may also write raw bytes
to ``req.wfile`` without ``send_response`` (trickled status lines, endless
``100 Continue``).

:class:`ScriptedNetwork` is the in-memory alternative below the fetch's own
address checks (:class:`newsletter.sources.network.GuardedNetwork`): it
records every address a connection was made to and answers with scripted
bytes, so a fuzzer can try any URL without anything leaving the process.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore

from newsletter.sources.network import Unreachable

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: dict[str, Handler]
    hits: list[tuple[str, dict[str, str]]]


class _Request(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.hits.append((self.path, dict(self.headers.items())))
        handler = self.server.routes.get(self.path.split("?", 1)[0])
        if handler is None:
            self.send_error(404)
            return
        with suppress(BrokenPipeError, ConnectionResetError):
            handler(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Loopback:
    def __init__(self, server: _Server) -> None:
        self.server = server
        self.port = server.server_address[1]

    def url(self, path: str, host: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host or self.server.server_address[0]}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.server.routes[path] = handler

    @property
    def hits(self) -> list[tuple[str, dict[str, str]]]:
        return self.server.hits


@contextmanager
def serving(
    host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[Loopback]:
    """A server on ``host`` (any 127.x address) and ``port`` (0: a free one), HTTPS with ``tls``."""
    server = _Server((host, port), _Request)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.routes = {}
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Loopback(server)
    finally:
        server.shutdown()
        server.server_close()


def body(
    data: bytes,
    content_type: str = "application/rss+xml",
    etag: str | None = None,
    status: int = 200,
) -> Handler:
    """A plain response; with ``etag``, a matching If-None-Match gets 304."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        if etag and req.headers.get("If-None-Match") == etag:
            req.send_response(304)
            req.send_header("ETag", etag)
            req.end_headers()
            return
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(data)))
        if etag:
            req.send_header("ETag", etag)
        req.end_headers()
        req.wfile.write(data)

    return handler


def redirect(location: str) -> Handler:
    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(302)
        req.send_header("Location", location)
        req.send_header("Content-Length", "0")
        req.end_headers()

    return handler


def trickle(delay: float = 0.5) -> Handler:
    """Headers at once, then one byte every ``delay`` seconds, forever."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.end_headers()
        req.wfile.write(b"<?xml version='1.0'?><rss><channel>")
        for _ in range(10_000):
            req.wfile.write(b" ")
            req.wfile.flush()
            time.sleep(delay)

    return handler


def huge(megabytes: int, declare_length: bool) -> Handler:
    """A feed larger than any limit, with or without an honest Content-Length."""
    chunk = b"<item><title>x</title></item>" * 2000

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        if declare_length:
            req.send_header("Content-Length", str(megabytes * 2**20))
        req.end_headers()
        req.wfile.write(b"<?xml version='1.0'?><rss><channel>")
        sent = 0
        while sent < megabytes * 2**20:
            req.wfile.write(chunk)
            sent += len(chunk)

    return handler


def _forever(req: BaseHTTPRequestHandler, piece: bytes, delay: float, seconds: float = 60) -> None:
    """Write ``piece`` every ``delay`` seconds until the client hangs up (or ``seconds`` pass)."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        req.wfile.write(piece)
        req.wfile.flush()
        time.sleep(delay)


def trickled_headers(delay: float = 0.5) -> Handler:
    """A status line and headers that never end, one byte every ``delay`` seconds."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n":
            req.wfile.write(bytes([byte]))
            time.sleep(delay)
        req.wfile.write(b"X-Slow: ")
        _forever(req, b"a", delay)

    return handler


def continue_flood(delay: float = 0.01) -> Handler:
    """``HTTP/1.1 100 Continue`` interim responses for ever, never the final response."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        _forever(req, b"HTTP/1.1 100 Continue\r\n\r\n", delay)

    return handler


def slow_body(delay: float) -> Handler:
    """Headers at once, then a byte of body every ``delay`` seconds (under a read timeout)."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
        time.sleep(delay)
        _forever(req, b" ", delay)

    return handler


def slow_redirect(location: str, delay: float) -> Handler:
    """A redirect that takes ``delay`` seconds to come."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        redirect(location)(req)

    return handler


def coded(data: bytes, content_encoding: str, content_type: str = "application/rss+xml") -> Handler:
    """``data`` as it is, sent with the given ``Content-Encoding`` (a bomb, a real gzip...)."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Encoding", content_encoding)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    return handler


@contextmanager
def trickling_tls(delay: float = 0.5) -> Iterator[int]:
    """A raw TCP server (its port) answering a TLS ClientHello with the header of a 16 KB
    handshake record, then one byte of it every ``delay`` seconds: a handshake that never ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.settimeout(5)
            with suppress(TimeoutError):
                conn.recv(4096)
            conn.sendall(b"\x16\x03\x03\x40\x00")  # handshake record, TLS 1.2, 16,384 bytes
            while not stop.wait(delay):
                conn.sendall(b"\x02")

    def accept() -> None:
        with suppress(OSError):
            while not stop.is_set():
                conn, _ = listener.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        listener.close()


class ScriptedNetwork(httpcore.NetworkBackend):
    """An in-memory network: ``answer(address, port)`` gives the raw HTTP response bytes."""

    def __init__(self, answer: Callable[[str, int], bytes]) -> None:
        self.answer = answer
        self.connected: list[str] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.connected.append(host)
        return _ScriptedStream(self.answer(host, port))


class _ScriptedStream(httpcore.NetworkStream):
    def __init__(self, response: bytes) -> None:
        self._response = response

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        piece, self._response = self._response[:max_bytes], self._response[max_bytes:]
        return piece

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: Any = None
    ) -> Any:
        return self  # in memory: "TLS" is the same bytes


def numeric_resolver(host: str, port: int) -> list[str]:
    """DNS without the network: IP literals in any form getaddrinfo reads, and localhost."""
    if host.lower() == "localhost":
        return ["127.0.0.1", "::1"]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError) as exc:
        raise Unreachable(f"cannot resolve {host}: {exc}") from None
    return [str(info[4][0]) for info in infos]
