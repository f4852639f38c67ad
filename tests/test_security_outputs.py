"""Security review, as tests: hostile paper text in every output, SSRF, secrets in logs.

A paper's title and abstract are written by strangers (a digest page, a feed,
a JSON API).  Whatever they hold, every output must show it as text: no
element, attribute, template expression, feed markup or header line of theirs
may take effect.  Each output is parsed back with a real parser and checked.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import figures
import httpx
import pytest
from click.testing import CliRunner
from loopback import body, redirect, serving

from newsletter import cli
from newsletter.sources.fetch import FetchError, FetchPolicy, fetch, make_client

pytestmark = pytest.mark.security

HOSTILE_TITLE = (
    '<script>alert("t")</script> &lt;img src=x onerror=alert(1)&gt; {{ 7*7 }} {% raw %} '
    "]]> \u202eevil\u202c \x1b[31m Title"
)
HOSTILE_ABSTRACT = (
    "&lt;/mj-text&gt;&lt;mj-raw&gt;&lt;script&gt;alert('a')&lt;/script&gt;&lt;/mj-raw&gt; "
    '<a href="javascript:alert(2)">click</a> <form action="https://evil.example/">'
    '<input name="password"></form> ${7*7} #{7*7} <!-- comment --> '
    "\u2066 isolate \u2069 Bcc: victim@example.com. " + "A plain sentence follows. " * 12
)
DIGEST = f"""Mar 12

{HOSTILE_TITLE}

{HOSTILE_ABSTRACT}

A harmless second paper about language models

We study language models and their evaluation on many benchmarks, with care.
"""


class _Elements(HTMLParser):
    """Every start tag and attribute of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _ours(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """The archive's own search box (header), the search page's two scripts and the paper
    pages' ``vote.js`` (by file: a title cannot choose a script's src)."""
    a = dict(attrs)
    if tag == "form":
        return a.get("role") == "search" and a.get("method") == "get"
    if tag == "input":
        return a.get("type") == "search" and a.get("name") == "q"
    src = a.get("src") or ""
    return tag == "script" and src in ("../pagefind/pagefind-ui.js", "search.js", "../../vote.js")


def _check_html(path: Path) -> None:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.tags = [(t, a) for t, a in parser.tags if not _ours(t, a)]
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "form", "input", "iframe", "object", "embed", "img"}, path
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), f"{path}: <{tag} {name}=...>"
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:"))
    text = "".join(parser.text)
    if "{{ 7*7 }}" in HOSTILE_TITLE and "7*7" in text:
        assert "49" not in text.split("7*7")[0][-5:], "a template expression was evaluated"
    assert "\u202e" not in text and "\u2066" not in text and "\x1b" not in text
    figures.count("security", "outputs checked")


def _feed_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # well-formed, whatever the titles held
    return [el.text or "" for el in root.iter() if el.tag.split("}")[-1] in ("title", "summary")]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "digests").mkdir()
    (root / "digests" / "hostile.txt").write_text(DIGEST, encoding="utf-8")
    (root / "config.toml").write_text(
        '[output]\nsite_dir = "site"\n[[sources]]\nname = "d"\nkind = "text"\npath = "digests"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli.main, ["--config", str(root / "config.toml"), "run", "--date", "2026-03-12"]
    )
    assert result.exit_code == 0, result.output
    return root / "site"


def test_hostile_text_is_inert_in_every_html_output(published: Path) -> None:
    pages = sorted(published.rglob("*.html"))
    assert len(pages) >= 3 + 2  # the email, the edition page, the index, the paper pages
    for page in pages:
        _check_html(page)


def test_hostile_text_is_inert_in_the_plain_text_part(published: Path) -> None:
    [text] = list(published.glob("editions/*/email.txt"))
    content = text.read_text(encoding="utf-8")
    assert not re.search(r"^(Bcc|To|Cc|Subject):", content, re.MULTILINE | re.IGNORECASE)
    assert not any(ch in content for ch in "\u202e\u2066\x1b\r")
    assert "<script>" in content  # shown as the text it is, not dropped silently
    figures.count("security", "outputs checked")


def test_hostile_text_is_text_in_every_feed(published: Path) -> None:
    feeds = sorted(published.rglob("*.xml"))
    assert len(feeds) >= 3
    for feed in feeds:
        texts = _feed_texts(feed)
        if feed.name in ("feed.xml", "atom.xml"):  # topic feeds hold only their topic's papers
            assert any("<script>" in t for t in texts), feed  # present as text, escaped
        raw = feed.read_text(encoding="utf-8")
        assert "<script>" not in raw  # never as markup
        assert "\u202e" not in raw and "\x1b" not in raw
        figures.count("security", "outputs checked")
    rss = ET.parse(published / "feed.xml").getroot()
    for description in rss.iter("description"):
        # Readers render an RSS description as HTML: it holds escaped text only.
        assert "<script" not in (description.text or "").lower()


def test_edition_json_keeps_the_text_as_data(published: Path) -> None:
    [data] = list(published.glob("editions/*/edition.json"))
    edition = json.loads(data.read_text(encoding="utf-8"))
    titles = [p["title"] for s in edition["sections"] for p in s["papers"]]
    assert any('<script>alert("t")</script>' in t for t in titles)
    figures.count("security", "outputs checked")


# ---------------------------------------------------------------- SSRF


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret",
        "http://[::1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]:{port}/secret",
        "http://0.0.0.0:{port}/secret",
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
    ],
)
def test_a_public_feed_cannot_redirect_a_fetch_to_a_private_address(target: str) -> None:
    """SSRF through redirects: the first hop is allowed (private, named in config), the next not."""
    with serving() as server:
        server.route(
            "/secret", body(b"<rss version='2.0'><channel><title>S</title></channel></rss>")
        )
        server.route("/feed", redirect(target.format(port=server.port)))
        client = make_client("t", 3)
        policy = FetchPolicy(timeout=3, allow_private=True)  # only for the configured host
        with pytest.raises(FetchError, match=r"refused|only http and https"):
            fetch(client, server.url("/feed", host="localhost"), policy)
        assert [path for path, _ in server.hits] == ["/feed"]  # /secret never reached
    figures.count("security", "ssrf attempts refused")


def test_a_feed_url_naming_a_private_host_is_refused_before_connecting() -> None:
    with serving() as server:
        server.route("/f", body(b"<rss/>"))
        client = make_client("t", 3)
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(FetchError, match="loopback, private or link-local"):
                fetch(client, server.url("/f", host=host), FetchPolicy(timeout=3))
        assert server.hits == []
    figures.count("security", "ssrf attempts refused", 2)


# ---------------------------------------------------------------- secrets


def _outputs_with_a_database_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, commands: list[list[str]]
) -> str:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "postgresql+psycopg://newsletter:{SECRET}@127.0.0.1:1/db"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    outputs = []
    with caplog.at_level(logging.DEBUG):
        for args in commands:
            result = runner.invoke(cli.main, ["--config", str(config), *args])
            outputs.append(result.output)
            figures.count("security", "secret checks")
    return "\n".join(outputs) + caplog.text


SECRET = "s3cr3t-Pa55word"


def test_database_password_is_never_printed_or_logged_by_a_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A PostgreSQL URL with a password: errors and debug logs name the server, not the secret."""
    everything = _outputs_with_a_database_password(
        tmp_path, caplog, [["-v", "run", "--date", "2026-03-12"], ["status"], ["migrate"]]
    )
    assert SECRET not in everything
    assert "127.0.0.1:1" in everything  # the errors did name the server


def test_config_show_hides_the_database_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    everything = _outputs_with_a_database_password(
        tmp_path, caplog, [["config", "show"], ["config", "show", "--json"]]
    )
    assert SECRET not in everything


def test_fetch_errors_do_not_echo_credentials_in_a_feed_url() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(FetchError) as caught:
        fetch(client, "https://user:token123@127.0.0.1/feed", FetchPolicy(timeout=3))
    assert "token123" not in str(caught.value)
    figures.count("security", "secret checks")
