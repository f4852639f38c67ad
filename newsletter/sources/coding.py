"""Content codings (``Content-Encoding``) undone here, with bounded output.

httpx would decode gzip and deflate itself, but it inflates each network read
in one call with no bound on the output: 64 KB of a gzip bomb become 64 MB
before a size check can look, and ``Content-Encoding: gzip, gzip`` nests the
bomb (1,830 bytes on the wire took a process to 2 GB).  So a fetch reads the
body raw and decodes it with a :class:`BodyDecoder`:

- identity, ``gzip`` (also ``x-gzip``, several members in a row) and
  ``deflate`` (zlib-wrapped or raw, as servers send it) are decoded; those
  are the codings a fetch asks for;
- more than one coding, or any other coding, is refused;
- zlib is never asked for more than the bytes the limit still allows, so the
  limit counts *decompressed* bytes as they are produced and memory stays
  about the size of the limit whatever the ratio.
"""

from __future__ import annotations

import zlib

from newsletter.errors import InputError

ACCEPTED = "gzip, deflate"
"""The ``Accept-Encoding`` a fetch sends: the codings :class:`BodyDecoder` decodes."""

_GZIP = frozenset({"gzip", "x-gzip"})


class CodingError(InputError):
    """The body's content coding is refused or its compressed stream is broken."""

    default_hint = "the server sent a body this newsletter does not decode; tell its operator"


class TooLarge(InputError):
    """The (decompressed) body passed the size limit; ``produced`` bytes were decoded."""

    default_hint = "raise fetch.max_mb if this feed is really that big"

    def __init__(self, produced: int, limit: int) -> None:
        self.produced = produced
        self.limit = limit
        super().__init__(f"more than {limit} bytes")


def _shown(value: str) -> str:
    return repr(value[:80] + ("…" if len(value) > 80 else ""))


class BodyDecoder:
    """Decodes one body's content coding, counting decoded bytes against ``limit``."""

    def __init__(self, content_encoding: list[str], limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise CodingError(
                f"more than one content coding ({_shown(', '.join(codings))}); refused",
                hint="a server sends one coding; several nest a decompression bomb",
            )
        coding = codings[0] if codings else None
        if coding is not None and coding not in _GZIP and coding != "deflate":
            raise CodingError(f"unsupported content coding {_shown(coding)} (asked for {ACCEPTED})")
        self.coding = "gzip" if coding in _GZIP else coding
        self.limit = limit
        self.produced = 0
        self._inflate: zlib._Decompress | None = self._new() if self.coding else None
        self._started = False  # deflate: the first bytes decide zlib-wrapped or raw
        self._ended = self.coding is None  # at the end of a compressed stream (or member)
        self._received = False

    def _new(self, raw: bool = False) -> zlib._Decompress:
        if self.coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def _count(self, size: int) -> None:
        self.produced += size
        if self.produced > self.limit:
            raise TooLarge(self.produced, self.limit)

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes of the next piece of the body; TooLarge past the limit."""
        if self.coding is None:
            self._count(len(data))
            return data
        out: list[bytes] = []
        self._received = self._received or bool(data)
        while data:
            if self._inflate is None or (self._ended and self.coding == "gzip"):
                if not data.strip(b"\x00"):
                    break  # zero padding after the last member, as gzip(1) allows
                self._inflate, self._ended = self._new(), False
            elif self._ended:
                break  # bytes after the end of a deflate stream are ignored
            room = self.limit - self.produced + 1  # one more than allowed shows the limit passed
            try:
                piece = self._inflate.decompress(data, room)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._started:
                    self._inflate, self._started = self._new(raw=True), True
                    continue  # a raw deflate stream, without the zlib header
                raise CodingError(f"the {self.coding} body is corrupt ({exc})") from None
            self._started = True
            self._count(len(piece))
            out.append(piece)
            if self._inflate.eof:
                self._ended = True
                data = self._inflate.unused_data
            else:
                data = self._inflate.unconsumed_tail
        return b"".join(out)

    def finish(self) -> None:
        """The body ended: refuse a compressed stream that was cut off."""
        if self._received and not self._ended:
            raise CodingError(f"the {self.coding} body ends before its compressed stream does")
