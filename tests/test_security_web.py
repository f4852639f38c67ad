"""Security review of the subscriber pages and delivery, as tests over real HTTP and SMTP.

``test_web_subscribe.py`` covers the pages' own promises (tampered, expired
and misdirected tokens, forged preference posts, header injection in the
form, one-click).  Here the attacker's view: replaying a link after the
reader changed their mind, forging every kind of POST from another site,
telling subscribers from strangers by the answers, throwing random tokens at
every endpoint, and reading secrets out of logs and error messages.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import figures
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smtp_loopback import smtp_server
from web_kit import T0, Site, confirm_link

from newsletter import cli
from newsletter.subscribers.tokens import CONFIRM, PREFERENCES, UNSUBSCRIBE

pytestmark = pytest.mark.security


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    yield s
    s.close()


def _confirm_form(site: Site, link: str) -> dict[str, str]:
    page = site.client.get(link)
    token = re.search(r'name="t" value="([^"]+)"', page.text)
    assert token, page.text
    return {"t": token.group(1), "form_token": site.form_token(page.text)}


# ---------------------------------------------------------------- replay


def test_replaying_a_confirmation_link_after_unsubscribing_does_not_resubscribe(
    site: Site,
) -> None:
    """Consent withdrawn stays withdrawn: an old confirm link (still within its hours) is dead."""
    site.subscribe("reader@example.org")
    form = _confirm_form(site, confirm_link(site.mails()[0]))
    assert site.client.post("/confirm", data=form).status_code == 200
    assert site.status("reader@example.org") == "confirmed"
    subscriber = site.subs.by_email("reader@example.org")
    assert subscriber is not None
    url = f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, subscriber.public_id)}"
    one_click = site.client.post(url, content=b"List-Unsubscribe=One-Click")
    assert one_click.status_code == 200
    replay = site.client.post("/confirm", data=form)
    assert replay.status_code < 500
    assert site.status("reader@example.org") == "unsubscribed"
    figures.count("security", "replays refused")


def test_replaying_a_confirmation_is_idempotent(site: Site) -> None:
    site.subscribe("reader@example.org")
    form = _confirm_form(site, confirm_link(site.mails()[0]))
    for _ in range(3):
        assert site.client.post("/confirm", data=form).status_code == 200
    subscriber = site.subs.by_email("reader@example.org")
    assert subscriber is not None
    confirmations = [c for c in site.subs.consents(subscriber.id) if c.action == "confirmed"]
    assert len(confirmations) == 1  # one consent record, not three
    figures.count("security", "replays refused", 2)


# ---------------------------------------------------------------- CSRF

CROSS_SITE = [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=["origin", "sec-fetch-site"])
def test_every_form_post_from_another_site_is_refused_and_changes_nothing(
    site: Site, headers: dict[str, str]
) -> None:
    site.subscribe("pending@example.org")
    pending = site.subs.by_email("pending@example.org")
    change = site.subs.add(
        "reader@example.org", frozenset({"llm"}), confirmed=True, method="cli", now=T0
    )
    public_id = change.subscriber.public_id
    assert pending is not None
    mails_before = len(site.mails())
    page = site.client.get("/subscribe")
    posts = {
        "/subscribe": {
            "email": "new@example.org",
            "topics": ["llm"],
            "form_token": site.form_token(page.text),
        },
        "/confirm": {
            "t": site.tokens.make(CONFIRM, pending.public_id),
            "form_token": site.tokens.form_token(CONFIRM, pending.public_id),
        },
        "/preferences": {
            "t": site.tokens.make(PREFERENCES, public_id),
            "form_token": site.tokens.form_token(PREFERENCES, public_id),
            "topics": ["audio"],
        },
        f"/unsubscribe?t={site.tokens.make(UNSUBSCRIBE, public_id)}": {
            "form_token": site.tokens.form_token(UNSUBSCRIBE, public_id),
        },
    }
    for path, data in posts.items():
        response = site.client.post(path, data=data, headers=headers)
        assert response.status_code == 403, (path, response.text)
        figures.count("security", "csrf posts refused")
    assert site.status("new@example.org") == "absent"
    assert site.status("pending@example.org") == "pending"
    found = site.subs.by_email("reader@example.org")
    assert found is not None and found.status == "confirmed" and found.topics == {"llm"}
    assert len(site.mails()) == mails_before


# ---------------------------------------------------------------- enumeration


def test_sign_up_answers_the_same_for_every_kind_of_address(site: Site) -> None:
    """Unknown, pending, confirmed, unsubscribed, bounced: one status, one page."""
    site.subscribe("pending@example.org")
    site.subs.add("confirmed@example.org", None, confirmed=True, method="cli", now=T0)
    gone = site.subs.add("gone@example.org", None, confirmed=True, method="cli", now=T0)
    site.subs.unsubscribe(gone.subscriber.public_id, method="test", now=T0)
    bounced = site.subs.add("bounced@example.org", None, confirmed=True, method="cli", now=T0)
    site.subs.mark_bounced(bounced.subscriber.id, "550 no such user", T0)
    answers = {}
    for who in ("unknown", "pending", "confirmed", "gone", "bounced"):
        response = site.subscribe(f"{who}@example.org")
        answers[who] = (response.status_code, response.text.replace(f"{who}@", "X@"))
        figures.count("security", "enumeration probes")
    assert len(set(answers.values())) == 1, {k: v[0] for k, v in answers.items()}


# ---------------------------------------------------------------- random tokens at every endpoint


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.one_of(
        st.text(max_size=120),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=120),
    ),
    endpoint=st.sampled_from(["/confirm", "/unsubscribe", "/preferences"]),
    method=st.sampled_from(["GET", "POST", "ONE-CLICK"]),
)
def test_random_tokens_are_refused_at_every_endpoint_without_a_server_error(
    site: Site, token: str, endpoint: str, method: str
) -> None:
    figures.count("fuzz", "examples")
    figures.count("fuzz", "hypothesis examples")
    if site.status("reader@example.org") == "absent":
        site.subs.add("reader@example.org", None, confirmed=True, method="cli", now=T0)
    if method == "GET":
        response = site.client.get(endpoint, params={"t": token})
    elif method == "POST":
        response = site.client.post(endpoint, data={"t": token, "form_token": token})
    else:
        response = site.client.post(
            endpoint, params={"t": token}, content=b"List-Unsubscribe=One-Click"
        )
    assert response.status_code < 500, response.text
    if method != "GET":
        assert response.status_code >= 400
    assert site.status("reader@example.org") == "confirmed"
    figures.count("security", "forged tokens refused")


# ---------------------------------------------------------------- secrets


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_password_is_never_printed_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Authentication fails: the run says so, naming the user, never the password."""
    secret = "smtp-Pa55-w0rd-xyz"
    with smtp_server(auth=("digest", "the-right-one")) as server:
        (tmp_path / "config.toml").write_text(
            '[newsletter]\nbase_url = "https://papers.example.org/"\n'
            '[delivery]\nmethod = "smtp"\nfrom_address = "digest@papers.example.org"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            'username = "digest"\npassword_env = "TEST_SMTP_PASSWORD"\n',
            encoding="utf-8",
        )
        base = [sys.executable, "-m", "newsletter", "--config", str(tmp_path / "config.toml")]
        env = {"TEST_SMTP_PASSWORD": secret, "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [*base, "subscribers", "add", "reader@example.org", "--confirmed"],
            check=True,
            capture_output=True,
            cwd=tmp_path,
            env=env,
        )
        sample = Path(__file__).resolve().parents[1] / "digests" / "sample-digest.txt"
        result = subprocess.run(
            [*base, "--debug", "-v", "run", str(sample), "--date", "2026-03-12"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )
    everything = result.stdout + result.stderr
    assert "authentication failed" in everything.lower(), everything[-2000:]
    assert secret not in everything
    figures.count("security", "secret checks")


def test_the_signing_key_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "signing-key-" + "q" * 40
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", key)
    config = tmp_path / "config.toml"
    config.write_text(
        '[subscribers]\nsecret_env = "NEWSLETTER_SECRET_KEY"\n[delivery]\n'
        'from_address = "digest@papers.example.org"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    outputs = [
        runner.invoke(cli.main, ["--config", str(config), *args]).output
        for args in (["config", "show"], ["config", "show", "--json"], ["status"])
    ]
    assert all(key not in out for out in outputs)
    logging.getLogger().handlers.clear()  # the CLI configured logging for this process
    figures.count("security", "secret checks")
