"""The network a fetch goes through: one DNS answer, checked, connected to, on a deadline.

httpx's timeouts are per operation: a server that sends one byte of its
headers every half second, or ``HTTP/1.1 100 Continue`` for ever, never lets a
single read time out.  And httpx resolves the host name itself, after any
check we made, so a DNS answer that changes in between (DNS rebinding) would
send the request to an address nobody checked.  Both are fixed here, below
httpx, in the one place every byte passes: the httpcore *network backend*.

- :class:`Exchange` is one hop of a fetch: a wall-clock deadline (shared by
  every hop of the fetch) and whether non-public addresses are allowed for it.
  :func:`fetch <newsletter.sources.fetch.fetch>` opens one with
  :func:`exchange` around each request.
- :class:`GuardedNetwork` resolves the host **once** (in a thread, so slow DNS
  is bounded by the deadline too), refuses loopback, private, link-local and
  other non-global answers unless the exchange allows them, and connects to
  the address it checked.  The URL keeps its host name, so the ``Host``
  header, TLS SNI and certificate verification are those of the name.
  It makes no connection outside an exchange.
- Every read, write and TLS handshake on the connection is bounded by what is
  left of the deadline (CPython's ssl module applies a socket timeout to a
  whole handshake, not to each of its reads), so connect, headers, any number
  of 1xx responses, redirects and the body together end at the deadline.

:class:`GuardedTransport` is the httpx transport over it (HTTP/1.1, no
keep-alive: every request opens its own checked connection).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from newsletter.errors import InputError

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> IP addresses``: the system's DNS by default, a table in tests."""

Clock = Callable[[], float]


class Unreachable(InputError):
    """The host may not or cannot be connected to; the message says which and why.

    :func:`~newsletter.sources.fetch.fetch` turns it into a FetchError naming the URL.
    """

    default_hint = "check the source's url; set allow_private = true if a private host is meant"


@dataclass
class Exchange:
    """One request of a fetch: the fetch's deadline and its address rule for this hop."""

    deadline: float
    allow_private: bool = False
    clock: Clock = time.monotonic
    connected: list[str] = field(default_factory=list)  # the addresses connected to

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def bound(self, timeout: float | None, expired: type[Exception]) -> float:
        """``timeout`` cut to what is left of the deadline; ``expired`` raised if nothing is."""
        left = self.remaining()
        if left <= 0:
            raise expired("the deadline of the whole fetch has passed")
        return left if timeout is None else min(timeout, left)


_current: ContextVar[Exchange | None] = ContextVar("newsletter_fetch_exchange", default=None)


@contextmanager
def exchange(current: Exchange) -> Iterator[Exchange]:
    """Connections made inside this block obey ``current`` (and keep obeying it after)."""
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host``, in its order, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unreachable(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """True for a global unicast address (an IPv4-mapped IPv6 address counts as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class GuardedNetwork(httpcore.NetworkBackend):
    """An httpcore network backend that resolves once, checks, and connects to what it checked.

    ``inner`` makes the actual connection to an IP address (the real sockets of
    httpcore by default; tests may pass an in-memory network).
    """

    def __init__(
        self, resolver: Resolver | None = None, inner: httpcore.NetworkBackend | None = None
    ) -> None:
        self._resolve = resolver or system_resolver
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        current = _current.get()
        if current is None:
            raise RuntimeError("GuardedNetwork connects only inside fetch() (no exchange open)")
        addresses = self._addresses(host, port, current)
        if not current.allow_private:
            for address in addresses:
                if not is_public(address):
                    raise Unreachable(
                        f"{host} is a loopback, private or link-local address ({address}); refused",
                        hint="set allow_private = true on the source if this host is meant",
                    )
        failure: Exception | None = None
        for address in addresses:  # each was checked above; none is resolved again
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=current.bound(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            current.connected.append(address)
            return DeadlineStream(stream, current)
        raise failure or Unreachable(f"cannot resolve {host}: no address")

    def _addresses(self, host: str, port: int, current: Exchange) -> list[str]:
        """The DNS answer for ``host``, within the deadline (an IP literal is its own answer)."""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            pass
        else:
            return [host]
        answer: list[Sequence[str] | BaseException] = []

        def resolve() -> None:
            try:
                answer.append(self._resolve(host, port))
            except BaseException as exc:  # handed to the fetching thread below
                answer.append(exc)

        worker = threading.Thread(target=resolve, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(current.bound(None, httpcore.ConnectTimeout))
        if not answer:  # the thread ends on its own when the resolver gives up
            raise httpcore.ConnectTimeout(f"resolving {host} outlasted the deadline")
        result = answer[0]
        if isinstance(result, BaseException):
            raise result
        addresses = [str(a) for a in result]
        if not addresses:
            raise Unreachable(f"cannot resolve {host}: no address")
        return addresses

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise Unreachable(f"unix socket {path}: not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, current: Exchange) -> None:
        self._inner = inner
        self._exchange = current

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._exchange.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._exchange.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._exchange.bound(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, bounded), self._exchange
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


# httpcore's errors as httpx's, most specific first (what httpx's own transport does).
_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except httpcore.ProxyError as exc:
        raise httpx.ProxyError(str(exc)) from exc
    except Exception as exc:
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """certifi's roots, loaded once per process (a few tens of milliseconds each time)."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.BaseTransport):
    """httpx over :class:`GuardedNetwork`: HTTP/1.1, a new checked connection per request."""

    def __init__(
        self,
        network: GuardedNetwork | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        context = verify or _default_tls()
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_keepalive_connections=0,  # a pooled connection would skip the next hop's check
            http1=True,
            http2=False,
            network_backend=network or GuardedNetwork(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
