"""The whole web app over real HTTP: every response's headers, redirects, error pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from delivery_kit import Served, make_settings

from newsletter.store import Database
from newsletter.web.subscribe import SubscriberPages, build_subscriber_app

BASE = "https://papers.example.org/"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = make_settings(tmp_path)
    site = settings.output.site_dir
    (site / "editions" / "2026-03-12").mkdir(parents=True)
    (site / "index.html").write_text("<h1>archive</h1>", encoding="utf-8")
    (site / "editions" / "2026-03-12" / "index.html").write_text("<h1>e</h1>", encoding="utf-8")
    (site / "feed.xml").write_text("<rss version='2.0'><channel/></rss>", encoding="utf-8")
    (site / "editions" / "2026-03-12" / "edition.json").write_text("{}", encoding="utf-8")
    store = Database.open(settings.database.url)
    pages = SubscriberPages(settings, store)
    with Served(build_subscriber_app(pages)) as base, httpx.Client(base_url=base) as http:
        yield http
    pages.close()
    store.close()


REQUESTS = [
    ("GET", "/", 200),
    ("GET", "/feed.xml", 200),
    ("GET", "/editions/2026-03-12/edition.json", 200),
    ("GET", "/healthz", 200),
    ("GET", "/subscribe", 200),
    ("GET", "/subscriber.js", 200),
    ("GET", "/unsubscribe?t=forged", 400),
    ("GET", "/no/such/page", 404),
    ("DELETE", "/", 405),
    ("GET", "/editions/2026-03-12", 307),
    ("GET", "/subscribe/", 308),
    ("POST", "/subscribe", 400),
]


@pytest.mark.parametrize(("method", "path", "status"), REQUESTS)
def test_every_response_carries_the_security_headers(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status, response.text[:300]
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin")


def test_a_413_carries_them_too_and_closes_the_connection(client: httpx.Client) -> None:
    response = client.post("/unsubscribe", content=b"x" * 20_000)
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["connection"] == "close"
    assert "too large" in response.text


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/editions/2026-03-12", BASE + "editions/2026-03-12/"),
        ("/editions/2026-03-12?x=1", BASE + "editions/2026-03-12/?x=1"),
        ("/unsubscribe/?t=abc", BASE + "unsubscribe?t=abc"),
    ],
)
def test_redirects_go_to_the_base_url_whatever_the_host_header_says(
    client: httpx.Client, path: str, location: str
) -> None:
    response = client.get(path, headers={"host": "evil.example"})
    assert response.is_redirect
    assert response.headers["location"] == location


def test_a_missing_page_is_a_page_of_the_site_with_a_way_on(client: httpx.Client) -> None:
    response = client.get("/editions/1999-01-01/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Page not found · " in response.text
    assert f'href="{BASE}"' in response.text and f'href="{BASE}subscribe"' in response.text
