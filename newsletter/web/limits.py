"""Limits of the web side: request bodies, request rates.

**Bodies.** Every form the app has is small (an address and a dozen topic
ids), so a request body is bounded *before* it is read:
:class:`BodyLimit` answers 413 at once when ``Content-Length`` declares more
than the limit (nothing of the body is read), and otherwise reads the body
itself, at most one byte past the limit and within a deadline, before the app
sees it: a chunked body that streams past the limit is cut off with 413, a
body that trickles is cut off with 408.  Either way the connection is closed,
so a client cannot keep pushing bytes into a discarded request.  Memory per
request is the limit, whatever the client sends.

**Rates.** :class:`RateLimiter` keeps sliding-window counters in memory (per
process), with the clock passed in; :meth:`RateLimiter.retry_after` says when
a refused key may try again (the ``Retry-After`` of a 429).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 16_384
"""The largest request body accepted (the forms need well under 2 KB)."""
BODY_SECONDS = 10.0
"""How long a client may take to send a request body."""

Refuse = Callable[[int, str], Response]
"""Makes the page for a refused request: ``refuse(status, message)``."""


def plain_refusal(status: int, message: str) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain")


class BodyLimit:
    """ASGI middleware: bound every request body before the app reads it (see module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = MAX_BODY_BYTES,
        seconds: float = BODY_SECONDS,
        refuse: Refuse = plain_refusal,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body (HTTP/1.1 §6.3)
            return
        if length is not None:
            if not length.strip().isdigit():
                await self._refuse(scope, receive, send, 400, "The request's length is not valid.")
                return
            if int(length) > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
        body = bytearray()
        try:
            with anyio.fail_after(self.seconds):
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    more = bool(message.get("more_body", False))
                    if len(body) > self.max_bytes:
                        await self._refuse(scope, receive, send, 413, self._too_large())
                        return
        except TimeoutError:
            await self._refuse(
                scope, receive, send, 408, "The request took too long to arrive. Please try again."
            )
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _too_large(self) -> str:
        return f"That request is too large (the limit is {self.max_bytes // 1024} KB)."

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        response = self.refuse(status, message)
        response.headers["connection"] = "close"  # stop reading what the client still sends
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that gives the buffered body once, then passes through (disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


@dataclass
class RateLimiter:
    """Sliding-window counters in memory (per process), with the clock passed in."""

    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, limit: int, window: float) -> bool:
        """Count one hit of ``key`` unless it had ``limit`` hits in the last ``window`` s."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:  # bounded memory under a flood of distinct keys
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True

    def retry_after(self, key: str, window: float) -> int:
        """Whole seconds until ``key`` has a free slot again (at least 1)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 1
            return max(1, math.ceil(hits[0] + window - now))
