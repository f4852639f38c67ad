"""Fetching a feed or JSON document over HTTP, defensively.

Every feed is someone else's server, so a fetch is bounded on all sides:

- only ``http`` and ``https`` URLs; feedparser never sees a URL (it would
  open local paths and has no timeout), only the bytes fetched here;
- a wall-clock deadline for the whole exchange: DNS, connect, TLS, headers,
  any number of ``1xx`` interim responses, every redirect and the body all
  end by ``timeout`` seconds after the fetch began, however the server
  trickles its bytes (enforced on every read, :mod:`newsletter.sources.network`);
- a size limit on the *decoded* body, checked against ``Content-Length`` and
  while decompressing; one content coding at most, decoded with bounded
  output (:mod:`newsletter.sources.coding`), so a gzip bomb costs no memory;
- redirects followed by hand, at most ``max_redirects``, a loop refused at once;
- no loopback, private, link-local or otherwise non-global address unless the
  source allows it, and then only for the host it names (a redirect to
  another host must be public).  Every hop's host is resolved once, checked,
  and the connection goes to the address checked (no DNS rebinding);
- conditional requests: the ETag and Last-Modified of the previous successful
  fetch are sent back, and ``304 Not Modified`` means "nothing new".

The client is passed in (one ``httpx.Client`` per run, made by
:func:`make_client`, whose transport does the address checks and the
deadline) so tests use real loopback servers through the same code.
"""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from newsletter.errors import InputError
from newsletter.sources.coding import ACCEPTED, BodyDecoder, CodingError, TooLarge
from newsletter.sources.network import (
    Exchange,
    GuardedNetwork,
    GuardedTransport,
    Resolver,
    Unreachable,
    exchange,
)

log = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(InputError):
    """A fetch was refused or failed; the message names the URL and why."""

    default_hint = "the run goes on without this source; check its url, or try again later"


@dataclass(frozen=True)
class FetchPolicy:
    """The bounds of one fetch."""

    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False


@dataclass(frozen=True)
class Validators:
    """What the previous successful fetch returned, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Fetched:
    """The outcome of a fetch: new content, or ``not_modified`` (304) with none."""

    url: str
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def make_client(
    user_agent: str,
    timeout: float,
    *,
    resolver: Resolver | None = None,
    network: GuardedNetwork | None = None,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """The client a run fetches with: honest User-Agent, no automatic redirects.

    Its transport resolves each host once, checks the address and connects to
    it, within the fetch's deadline.  ``resolver`` replaces the system's DNS
    and ``network`` the whole network (tests); ``verify`` is the TLS context
    (certifi's roots by default).  ``trust_env=False``: proxy variables would
    route around the address checks.
    """
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPTED},
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        transport=GuardedTransport(network or GuardedNetwork(resolver), verify=verify),
    )


_PASSWORD = re.compile(r"(://[^/?#@\s:]*):[^/?#@\s]*@")


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL hidden."""
    return _PASSWORD.sub(r"\1:***@", text)


def fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    previous: Validators | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """GET ``url`` within ``policy``; raise FetchError with a clear reason otherwise.

    Error messages name the URL with any password in it hidden: they end up in
    the run report, ``newsletter status`` and the logs.
    """
    try:
        return _fetch(client, url, policy, previous, clock)
    except FetchError as exc:
        raise FetchError(redact(exc.message), hint=exc.hint) from None


def _fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    previous: Validators | None,
    clock: Callable[[], float],
) -> Fetched:
    deadline = clock() + policy.timeout
    origin_host = _check_url(url, url)
    seen: set[str] = set()
    current = url
    for _hop in range(policy.max_redirects + 1):
        if current in seen:
            raise FetchError(f"{url}: redirect loop (back to {current})")
        seen.add(current)
        host = _check_url(current, url)
        via = f" (redirected to {current})" if current != url else ""
        hop = Exchange(deadline, policy.allow_private and host == origin_host, clock)
        headers = _conditional_headers(previous) if current == url else {}
        remaining = hop.remaining()
        if remaining <= 0:
            raise FetchError(f"{url}: timed out after {policy.timeout:g} s{via}")
        try:
            with (
                exchange(hop),
                client.stream(
                    "GET", current, headers=headers, timeout=httpx.Timeout(remaining)
                ) as response,
            ):
                if response.status_code == 304:
                    return Fetched(
                        url=current,
                        content=b"",
                        content_type="",
                        etag=previous.etag if previous else None,
                        last_modified=previous.last_modified if previous else None,
                        not_modified=True,
                    )
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location", "")
                    if not location:
                        raise FetchError(f"{url}: redirect without a Location header")
                    try:
                        current = urljoin(current, location)
                    except ValueError:
                        raise FetchError(
                            f"{url}: redirect to an invalid URL {location[:200]!r}"
                        ) from None
                    log.debug("%s: redirected to %s", redact(url), redact(current))
                    continue
                if response.status_code >= 400:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code} {response.reason_phrase}",
                        hint="check the source's url in config.toml",
                    )
                content = _read_body(response, url, policy)
                return Fetched(
                    url=current,
                    content=content,
                    content_type=response.headers.get("content-type", ""),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
        except Unreachable as exc:
            raise FetchError(f"{url}{via}: {exc.message}", hint=exc.hint) from None
        except httpx.TimeoutException:
            raise FetchError(f"{url}: timed out after {policy.timeout:g} s{via}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}{via}: {type(exc).__name__}: {exc}") from None
    raise FetchError(f"{url}: more than {policy.max_redirects} redirects")


def _check_url(current: str, url: str) -> str:
    """The host of ``current`` (as httpx will connect to it), or FetchError if it is not
    a well-formed http(s) URL.

    ``urlsplit`` raises ValueError on a malformed IPv6 literal (``http://[::1``)
    and ``.port`` on a port out of range: those come from config.toml or a
    server's Location header and must refuse this source, not end the run.
    """
    try:
        parts = urlsplit(current)
        parts.port  # noqa: B018 - raises on a port out of range
        host = httpx.URL(current).host  # the host the transport will be asked for
    except (ValueError, httpx.InvalidURL) as exc:
        via = f" (redirected to {current})" if current != url else ""
        raise FetchError(f"{url}{via}: not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(
            f"{url}: only http and https are fetched, not {parts.scheme or 'a relative URL'!r}"
            + (f" (redirected to {current})" if current != url else "")
        )
    if not parts.hostname or not host:
        raise FetchError(f"{url}: no host in {current}")
    return host.lower()


def _conditional_headers(previous: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if previous and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


def _read_body(response: httpx.Response, url: str, policy: FetchPolicy) -> bytes:
    """The decoded body, refused past ``policy.max_bytes`` decoded bytes.

    Read raw and decoded here (never by httpx, whose inflating is unbounded);
    every read is bounded by the fetch's deadline (the network stream sees to
    that), so a slow body ends with the deadline, not a multiple of it.
    """
    limit_mb = f"{policy.max_bytes / 2**20:g} MB"
    hint = "raise fetch.max_mb if this feed is really that big"
    declared = response.headers.get("content-length", "")
    if (
        declared.isascii()
        and declared.isdigit()
        and len(declared) < 20
        and int(declared) > policy.max_bytes
    ):
        raise FetchError(
            f"{url}: document is {int(declared) / 2**20:.1f} MB, more than the {limit_mb} limit",
            hint=hint,
        )
    try:
        decoder = BodyDecoder(response.headers.get_list("content-encoding", True), policy.max_bytes)
    except CodingError as exc:
        raise FetchError(f"{url}: {exc.message}", hint=exc.hint) from None
    try:
        chunks: list[bytes] = []
        received = 0
        for raw in response.iter_raw():
            received += len(raw)
            if received > policy.max_bytes:  # on the wire too, whatever the coding
                raise TooLarge(received, policy.max_bytes)
            chunks.append(decoder.feed(raw))
        decoder.finish()
    except TooLarge:
        coded = f" ({decoder.coding}-decoded)" if decoder.coding else ""
        raise FetchError(
            f"{url}: document is larger than the {limit_mb} limit{coded}; stopped reading",
            hint=hint,
        ) from None
    except CodingError as exc:
        raise FetchError(f"{url}: {exc.message}", hint=exc.hint) from None
    return b"".join(chunks)
