"""The per-recipient return path (VERP): ``bounces+<token>@example.org``.

Every digest's envelope sender (SMTP ``MAIL FROM``, and so the ``Return-Path``
the receiving server records) names its edition and subscriber, signed:
``<edition>.<subscriber>.<mac>``, the two database ids in base 36 and the
first 16 hex digits of an HMAC-SHA256 of them under a key derived from the
link signing key (``subscribers.secret_env`` / ``secret_file``) for this one
purpose.  A bounce comes back *to* that address, so it is attributed without
parsing the report, and a forged bounce cannot name anybody: without the key
no token checks.

Only lower-case letters, digits and dots, so a mail server that folds the
local part's case keeps it intact; at most 8 + 1 + 8 + 1 + 16 characters
after the delimiter, well inside the 64 an address local part may have.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from newsletter.config import Settings
from newsletter.subscribers.tokens import PreparedHmac, load_secret

_PURPOSE = b"newsletter/return-path/v1"
_MAC_CHARS = 16
_TOKEN = re.compile(r"([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([0-9a-f]{16})")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


@dataclass(frozen=True)
class Attribution:
    """Whom a return-path token names."""

    edition_id: int
    subscriber_id: int


@dataclass(frozen=True)
class ReturnPath:
    """Makes and reads the per-recipient envelope sender.

    ``address`` is the plain return path (``bounces@example.org``); empty means
    no VERP, and every envelope sender is ``fallback`` (``delivery.from_address``).
    """

    address: str
    delimiter: str
    key: bytes
    fallback: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ReturnPath:
        bounces = settings.bounces
        key = b""
        if bounces.return_path:
            key = hmac.new(load_secret(settings), _PURPOSE, hashlib.sha256).digest()
        return cls(bounces.return_path, bounces.delimiter, key, settings.delivery.from_address)

    @property
    def verp(self) -> bool:
        return bool(self.address)

    def _mac(self, body: str) -> str:
        return hmac.new(self.key, body.encode("ascii"), hashlib.sha256).hexdigest()[:_MAC_CHARS]

    def token(self, edition_id: int, subscriber_id: int) -> str:
        body = f"{_base36(edition_id)}.{_base36(subscriber_id)}"
        return f"{body}.{self._mac(body)}"

    def for_recipient(self, edition_id: int, subscriber_id: int) -> str:
        """The envelope sender of one digest (the plain sender without VERP)."""
        if not self.address:
            return self.fallback
        local, domain = self.address.rsplit("@", 1)
        return f"{local}{self.delimiter}{self.token(edition_id, subscriber_id)}@{domain}"

    def read(self, address: str) -> Attribution | None:
        """Whom ``address`` (a return path a bounce was sent to) names; None when it is
        not one of ours or its token does not check."""
        if not self.address:
            return None
        local, _, domain = address.strip().strip("<>").rpartition("@")
        mine_local, mine_domain = self.address.rsplit("@", 1)
        if domain.lower() != mine_domain.lower():
            return None
        prefix = f"{mine_local}{self.delimiter}".lower()
        if not local.lower().startswith(prefix):
            return None
        return self.read_token(local[len(prefix) :].lower())

    def read_token(self, token: str) -> Attribution | None:
        found = _TOKEN.fullmatch(token)
        if not found or not self.key:
            return None
        body = f"{found.group(1)}.{found.group(2)}"
        if not hmac.compare_digest(self._mac(body), found.group(3)):
            return None
        return Attribution(int(found.group(1), 36), int(found.group(2), 36))


_MAILTO_PURPOSE = b"newsletter/mailto-unsubscribe/v1"
_MAILTO_MAC_CHARS = 20
_MAILTO_TOKEN = re.compile(r"([0-9a-z]{1,12})\.([0-9a-f]{20})")
_LOCAL_PART_MAX = 64


@dataclass(frozen=True)
class MailtoAddress:
    """The ``mailto:`` unsubscribe address with the subscriber in it:
    ``unsubscribe+<subscriber>.<mac>@example.org``.

    The subject's token (``unsubscribe <token>``) is the link token, URL-safe
    base64: its letter case is part of it.  A mail client may drop a
    ``mailto:``'s ``?subject=`` and a mail server may fold an address's local part
    to lower case (RFC 5321 lets it: the local part is the receiving server's to
    interpret), so the address carries a token of its own that survives both:
    the subscriber's database id in base 36 and 20 hex digits (80 bits) of an
    HMAC-SHA256, under a key derived from the link signing key for this one
    purpose, of that id *and the subscriber's random ``public_id``* (so an id a
    purged subscriber left and the database gave again names nobody) —
    lower-case letters and digits only, read in any case.  Folding the case
    loses nothing, so no case-insensitive matching of a case-sensitive token
    is needed: a forger still has 2^80 MACs to guess, one mail each (the VERP
    token has 64 bits).  As ESPs put theirs (``unsubscribe-<hex>@``): it names
    one subscriber and never expires, like the one-click link.

    Only with a recipient delimiter the server knows: ``bounces.return_path``
    set (VERP needs the same ``recipient_delimiter``, see docs/delivery.md);
    without it, or when the local part would pass the 64 characters an address
    may have, the plain address is advertised and the subject's token alone names
    the subscriber.
    """

    address: str
    delimiter: str
    key: bytes
    _prepared: PreparedHmac | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> MailtoAddress:
        key = hmac.new(load_secret(settings), _MAILTO_PURPOSE, hashlib.sha256).digest()
        address = settings.delivery.unsubscribe_mailto
        delimiter = settings.bounces.delimiter if settings.bounces.return_path else ""
        return cls(address, delimiter, key)

    def _mac(self, body: str) -> str:
        prepared = self._prepared
        if prepared is None:  # the key's padded states once: one per recipient signs
            prepared = PreparedHmac(self.key, "sha256")
            object.__setattr__(self, "_prepared", prepared)
        return prepared.digest(body.encode("ascii")).hex()[:_MAILTO_MAC_CHARS]

    def token(self, subscriber_id: int, public_id: str) -> str:
        body = _base36(subscriber_id)
        return f"{body}.{self._mac(f'{body}.{public_id}')}"

    def for_recipient(self, subscriber_id: int, public_id: str) -> str:
        """The address one digest's ``List-Unsubscribe`` mailto: names."""
        if not self.delimiter:
            return self.address
        local, domain = self.address.rsplit("@", 1)
        tokened = f"{local}{self.delimiter}{self.token(subscriber_id, public_id)}"
        return f"{tokened}@{domain}" if len(tokened) <= _LOCAL_PART_MAX else self.address

    @staticmethod
    def subscriber_of(token: str) -> int | None:
        """The subscriber id ``token`` claims (any letter case), None when it is no
        address token; :meth:`check` it against that subscriber before acting."""
        found = _MAILTO_TOKEN.fullmatch(token.lower())
        return int(found.group(1), 36) if found else None

    def check(self, token: str, subscriber_id: int, public_id: str) -> bool:
        """Whether ``token`` (any letter case) is the one made for this subscriber."""
        expected = self.token(subscriber_id, public_id)
        return hmac.compare_digest(expected.encode("ascii"), token.lower().encode("ascii"))
