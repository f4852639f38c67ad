"""Signed link tokens: per-purpose, expiring, tamper-evident, and no address inside."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_kit import make_settings

from newsletter.subscribers.tokens import (
    CONFIRM,
    PREFERENCES,
    UNSUBSCRIBE,
    TokenError,
    Tokens,
    load_secret,
)

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def tokens(clock: Clock | None = None) -> Tokens:
    return Tokens(b"s" * 32, confirm_seconds=48 * 3600, clock=clock or Clock())


def test_a_token_gives_back_its_public_id_and_holds_no_address() -> None:
    t = tokens().make(CONFIRM, "abc123")
    assert tokens().check(CONFIRM, t) == "abc123"
    payload = t.split(".")[0]
    assert "@" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_a_token_for_one_purpose_is_refused_for_another() -> None:
    t = tokens().make(CONFIRM, "abc123")
    for purpose in (UNSUBSCRIBE, PREFERENCES):
        with pytest.raises(TokenError, match="another page") as info:
            tokens().check(purpose, t)
        assert info.value.reason == "invalid"


@pytest.mark.parametrize("change", ["flip", "truncate", "empty", "garbage", "huge"])
def test_a_tampered_token_is_refused(change: str) -> None:
    t = tokens().make(UNSUBSCRIBE, "abc123")
    bad = {
        "flip": t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:],
        "truncate": t[:-5],
        "empty": "",
        "garbage": "not.a.token",
        "huge": "x" * 5000,
    }[change]
    with pytest.raises(TokenError):
        tokens().check(UNSUBSCRIBE, bad)


def test_a_confirmation_link_expires_after_confirm_hours() -> None:
    clock = Clock()
    t = tokens(clock).make(CONFIRM, "abc123")
    clock.now = T0 + timedelta(hours=47)
    assert tokens(clock).check(CONFIRM, t) == "abc123"
    clock.now = T0 + timedelta(hours=49)
    with pytest.raises(TokenError, match="expired") as info:
        tokens(clock).check(CONFIRM, t)
    assert info.value.reason == "expired"


def test_unsubscribe_links_in_old_emails_keep_working() -> None:
    clock = Clock()
    t = tokens(clock).make(UNSUBSCRIBE, "abc123")
    clock.now = T0 + timedelta(days=3 * 365)
    assert tokens(clock).check(UNSUBSCRIBE, t) == "abc123"


def test_a_token_signed_with_another_key_is_refused() -> None:
    t = Tokens(b"o" * 32, 3600).make(UNSUBSCRIBE, "abc123")
    with pytest.raises(TokenError):
        tokens().check(UNSUBSCRIBE, t)


def test_form_tokens_are_bound_to_their_page_and_subscriber() -> None:
    ft = tokens().form_token(PREFERENCES, "abc123")
    tokens().check_form(PREFERENCES, "abc123", ft)
    with pytest.raises(TokenError):
        tokens().check_form(PREFERENCES, "other", ft)
    with pytest.raises(TokenError):
        tokens().check_form(CONFIRM, "abc123", ft)


def test_without_the_env_var_a_0600_key_file_is_generated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    settings = make_settings(tmp_path)
    key = load_secret(settings)
    path = tmp_path / "subscribers" / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(key) >= 32 and load_secret(settings) == key


def test_the_env_var_named_in_config_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, subscribers={"secret_env": "MY_NEWSLETTER_KEY"})
    monkeypatch.setenv("MY_NEWSLETTER_KEY", "a-long-enough-secret-value")
    assert load_secret(settings) == b"a-long-enough-secret-value"
    assert not (tmp_path / "subscribers" / "secret.key").exists()


@pytest.mark.parametrize("public_id", ["ZmFrZS1wdWJsaWMtaWQ", "a", 'é☃ "quoted"', "page:x/y"])
def test_tokens_are_the_bytes_itsdangerous_makes_so_links_in_sent_mail_keep_working(
    public_id: str,
) -> None:
    # Links are signed with one HMAC call (a delivery signs two per recipient); the
    # links already in subscribers' mailboxes were made by itsdangerous, and are
    # checked by it: both must be the same tokens.
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(T0.timestamp())

    t = tokens()
    for purpose in (CONFIRM, PREFERENCES, UNSUBSCRIBE):
        reference = URLSafeTimedSerializer(
            b"s" * 32, salt=f"newsletter/{purpose}/v1", signer=Signer
        ).dumps(public_id)
        assert t.make(purpose, public_id) == reference
        assert t.check(purpose, reference) == public_id


def test_tokens_signed_in_a_row_across_seconds_and_ids_are_the_bytes_itsdangerous_makes() -> None:
    # make() reuses the encoded timestamp within a second and the last public id's
    # encoding (a recipient's two links); neither may leak into the next token.
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    clock = Clock()
    t = tokens(clock)
    for step, public_id in enumerate(["aaa", "aaa", "bbb", "aaa", "bbb", "bbb"]):
        clock.now = T0 + timedelta(seconds=step // 2)

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock.now.timestamp())

        for purpose in (UNSUBSCRIBE, PREFERENCES):
            reference = URLSafeTimedSerializer(
                b"s" * 32, salt=f"newsletter/{purpose}/v1", signer=Signer
            ).dumps(public_id)
            assert t.make(purpose, public_id) == reference


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
def test_the_prepared_hmac_is_the_hmac_of_the_standard_library(hash_name: str) -> None:
    import hmac

    from newsletter.subscribers.tokens import PreparedHmac

    for key in (b"k", b"k" * 20, b"k" * 64, bytes(range(40))):
        prepared = PreparedHmac(key, hash_name)
        for value in (b"", b"a.b.c", bytes(range(256)) * 3):
            assert prepared.digest(value) == hmac.digest(key, value, hash_name)


def test_signing_several_purposes_at_once_makes_each_token_make_would() -> None:
    # A delivery signs a recipient's unsubscribe and preferences links in one call.
    clock = Clock()
    t = tokens(clock)
    for step, public_id in enumerate(["aaa", "bbb", 'é☃ "quoted"', "bbb"]):
        clock.now = T0 + timedelta(seconds=step)
        both = t.make_each((UNSUBSCRIBE, PREFERENCES), public_id)
        assert both == [t.make(UNSUBSCRIBE, public_id), t.make(PREFERENCES, public_id)]
        assert [t.check(UNSUBSCRIBE, both[0]), t.check(PREFERENCES, both[1])] == [public_id] * 2
    with pytest.raises(ValueError, match="unknown token purpose"):
        t.make_each((UNSUBSCRIBE, "nonsense"), "aaa")


def test_the_default_clock_signs_with_the_time_of_the_system_clock() -> None:
    # Tokens made with the default clock read time.time() directly (a delivery reads the
    # time twice per recipient); they are still checked against the same time.
    import time

    t = Tokens(b"s" * 32, confirm_seconds=3600)
    before = int(time.time())
    assert before <= t.seconds() <= int(time.time())
    assert t.check(CONFIRM, t.make(CONFIRM, "abc123")) == "abc123"


def test_mailto_address_token_is_case_blind_signed_and_bounded(tmp_path: Path) -> None:
    """The mailto: unsubscribe address's token: read in any letter case, refused when
    its MAC, its id or the subscriber's public id differ, never advertised without a
    delimiter or past the 64 characters of a local part."""
    from newsletter.subscribers.returnpath import MailtoAddress

    key = b"k" * 32
    mailto = MailtoAddress("unsubscribe@papers.example.org", "+", key)
    address = mailto.for_recipient(12345, "Pub-Id_a1")
    local, _, domain = address.partition("@")
    token = local.removeprefix("unsubscribe+")
    assert domain == "papers.example.org" and token == token.lower()
    for spelled in (token, token.upper()):
        assert MailtoAddress.subscriber_of(spelled) == 12345
        assert mailto.check(spelled, 12345, "Pub-Id_a1")
    body, mac = token.split(".")
    altered = f"{body}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}"
    assert not mailto.check(altered, 12345, "Pub-Id_a1")
    assert not mailto.check(token, 12346, "Pub-Id_a1")  # another id, same MAC
    assert not mailto.check(token, 12345, "Pub-Id_a2")  # the id given again to another
    assert not MailtoAddress(mailto.address, "+", b"o" * 32).check(token, 12345, "Pub-Id_a1")
    assert MailtoAddress.subscriber_of("InJlYWRlci1wdWJsaWMtaWQi.aT8x0Q.Vq3kUJ5o") is None
    assert MailtoAddress(mailto.address, "", key).for_recipient(1, "p") == mailto.address
    long_local = "u" * 45 + "@papers.example.org"
    assert MailtoAddress(long_local, "+", key).for_recipient(1, "p") == long_local
