"""Signed links: confirm, preferences, unsubscribe, and the forms' anti-forgery field.

A token is ``itsdangerous`` URL-safe, timestamped and signed with the secret
key; what it carries is a subscriber's random ``public_id``, never the
address.  Each purpose signs with its own salt, so a token made for one
purpose (a confirmation link) is refused for another (unsubscribe), and a
tampered, expired or wrong-purpose token is refused with a reason.

The key: the environment variable named by ``subscribers.secret_env``; when it
is unset, the file ``subscribers.secret_file``, generated on first use with
mode 0600 (created exclusively, so two processes starting at once agree on
one key).  The key is never logged or printed.

Time is passed in (``clock``), so expiry is tested without waiting.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import re
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

from newsletter.config import Settings
from newsletter.errors import NewsletterError

Clock = Callable[[], datetime]

CONFIRM = "confirm"
PREFERENCES = "preferences"
UNSUBSCRIBE = "unsubscribe"
FORM = "form"
VOTE = "vote"
PURPOSES = (CONFIRM, PREFERENCES, UNSUBSCRIBE, FORM, VOTE)
FORM_SECONDS = 24 * 3600
"""How long a page's form may be submitted after it was shown."""
VOTE_SECONDS = 180 * 24 * 3600
"""How long the 👍/👎 links of an edition work (half a year)."""


class TokenError(NewsletterError):
    """A link or form token that is tampered with, expired or meant for something else."""

    default_hint = "use the newest link you received, or sign up again"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Serializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer without the zlib attempt.

    It tries to compress every payload and keeps the result only if shorter; a
    public id never is, so the tokens are the same bytes, and a delivery signing
    two links per recipient no longer sets up a deflate stream for each.
    ``loads`` is unchanged (it reads compressed tokens too).
    """

    def dump_payload(self, obj: object) -> bytes:
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


_PLAIN = re.compile(r"[A-Za-z0-9_.:/-]*")


def _b64(data: bytes) -> bytes:
    """URL-safe base64 without padding (itsdangerous' ``base64_encode``)."""
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


class PreparedHmac:
    """HMAC (RFC 2104) with the padded key's two hash states computed once.

    ``hmac.digest`` looks the digest up in OpenSSL 3 on every call, which costs
    twice the hashing of a short token; copying two prepared states does not.
    SHA-1 by default (itsdangerous' tokens); the vote tokens use it with SHA-256.
    A test checks it against ``hmac.digest``."""

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes, hash_name: str = "sha1") -> None:
        block = hashlib.new(hash_name).block_size
        if len(key) > block:  # pragma: no cover - derived keys are 20 or 32 bytes
            key = hashlib.new(hash_name, key).digest()
        key = key.ljust(block, b"\0")
        self.inner = hashlib.new(hash_name, bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.new(hash_name, bytes(b ^ 0x5C for b in key))

    def digest(self, value: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(value)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def load_secret(settings: Settings) -> bytes:
    """The signing key: from the environment variable, else the (generated) key file."""
    return environment_secret(settings) or _key_file(settings.subscribers.secret_file)


def environment_secret(settings: Settings) -> bytes | None:
    """The key from ``subscribers.secret_env``, None when unset; refused when too short."""
    env_name = settings.subscribers.secret_env
    value = os.environ.get(env_name)
    if not value:
        return None
    if len(value) < 16:
        raise NewsletterError(
            f"the secret key in ${env_name} is too short (under 16 characters)",
            hint="use a long random value, e.g. from: python3 -c "
            "'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return value.encode("utf-8")


def _read_key(path: Path) -> bytes:
    """The key in ``path``; an empty file is waited on briefly (another thread or
    process made it and is writing the key: reading it then gave an empty key,
    which signed links nobody else could check)."""
    for _ in range(200):
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.01)
    raise NewsletterError(
        f"the secret key file {path} is empty",
        hint="delete it: a new key is made on next use (links sent before stop working)",
    )


def _key_file(path: Path) -> bytes:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


@dataclass(frozen=True)
class Tokens:
    """Makes and checks the tokens of every purpose with one key."""

    secret: bytes
    confirm_seconds: int
    clock: Clock = _utcnow
    _serializers: dict[str, URLSafeTimedSerializer] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """One serializer per purpose, made on first use (building one costs far more than
    signing: a delivery signs two links per recipient)."""
    _keys: dict[str, PreparedHmac] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """The HMAC of each purpose, its key derived once (see :meth:`_key`)."""
    _stamps: dict[int, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The encoded timestamp of the current second (a delivery signs several tokens per
    recipient, thousands per second: one encoding each second)."""

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = _utcnow) -> Tokens:
        return cls(load_secret(settings), settings.subscribers.confirm_seconds, clock)

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        made = self._serializers.get(purpose)
        if made is not None:
            return made
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        clock = self.clock

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        made = _Serializer(self.secret, salt=f"newsletter/{purpose}/v1", signer=Signer)
        self._serializers[purpose] = made
        return made

    def make(self, purpose: str, public_id: str) -> str:
        """A token for ``public_id``: the very bytes itsdangerous' serializer makes, signed
        with one HMAC call.  A delivery signs two links per recipient, and the
        serializer's layers (a signer object per token, the key derived again, the
        zlib attempt) cost 20 times the HMAC; :meth:`check` reads them with itsdangerous
        (a test checks the two agree)."""
        return self.make_each((purpose,), public_id)[0]

    def make_each(self, purposes: tuple[str, ...], public_id: str) -> list[str]:
        """:meth:`make` for each of ``purposes``, in order: the payload encoded and the
        clock read once for all of them (a recipient's unsubscribe and preferences
        links sign the same id in the same second)."""
        if _PLAIN.fullmatch(public_id):  # what json.dumps makes of a random public id
            payload = f'"{public_id}"'
        else:
            payload = json.dumps(public_id, ensure_ascii=False, separators=(",", ":"))
        now = self.seconds()
        stamp = self._stamps.get(now)
        if stamp is None:
            stamp = _b64(struct.pack(">Q", now).lstrip(b"\0"))
            self._stamps.clear()
            self._stamps[now] = stamp
        value = _b64(payload.encode("utf-8")) + b"." + stamp
        keys = self._keys
        out = []
        for purpose in purposes:
            key = keys.get(purpose) or self._key(purpose)
            out.append((value + b"." + _b64(key.digest(value))).decode("ascii"))
        return out

    def seconds(self) -> int:
        """The clock's time in whole seconds since 1970 (the time of the system clock
        read directly when the clock is the default one: making a ``datetime`` costs
        more than a signature, and a delivery reads the time twice per recipient)."""
        if self.clock is _utcnow:
            return int(time.time())
        return int(self.clock().timestamp())

    def _key(self, purpose: str) -> PreparedHmac:
        """The HMAC of ``purpose``, its key derived once."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        # itsdangerous' default "django-concat" key derivation, SHA-1
        salt = f"newsletter/{purpose}/v1".encode()
        key = self._keys[purpose] = PreparedHmac(
            hashlib.sha1(salt + b"signer" + self.secret).digest()
        )
        return key

    def check(self, purpose: str, token: str, max_age: int | None = None) -> str:
        """The ``public_id`` in ``token``, or TokenError (why: expired or invalid)."""
        if max_age is None:
            max_age = {
                CONFIRM: self.confirm_seconds,
                FORM: FORM_SECONDS,
                VOTE: VOTE_SECONDS,
            }.get(purpose)
        if not token or len(token) > 400:
            raise TokenError("this link is incomplete or not valid", "invalid")
        try:
            value = self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise TokenError("this link has expired", "expired") from None
        except BadSignature:
            raise TokenError(
                "this link is not valid here (altered, or made for another page)", "invalid"
            ) from None
        if not isinstance(value, str) or not value:
            raise TokenError("this link is not valid here", "invalid")
        return value

    def form_token(self, page: str, public_id: str) -> str:
        """An anti-forgery token for a form on ``page`` about ``public_id``."""
        return self.make(FORM, f"{page}:{public_id}")

    def check_form(self, page: str, public_id: str, token: str) -> None:
        if self.check(FORM, token) != f"{page}:{public_id}":
            raise TokenError("this form was not issued for this page", "invalid")
