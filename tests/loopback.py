"""A real HTTP server on 127.0.0.1 in a thread, serving scripted responses (tests only).

Each route maps a path to a function ``handler(request) -> None`` that writes
the response itself, so a test can be hostile: trickle bytes, send gigabytes,
redirect forever, lie about the encoding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.server.routes[path] = handler

    @property
    def hits(self) -> list[tuple[str, dict[str, str]]]:
        return self.server.hits


@contextmanager
def serving() -> Iterator[Loopback]:
    server = _Server(("127.0.0.1", 0), _Request)
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
