"""Coverage-guided fuzzing of the byte parsers with atheris (libFuzzer for Python).

Hypothesis (``test_fuzz_parsers.py``) explores shapes we thought of; atheris
mutates real inputs (the shared seed digests, a real arXiv-like feed, an HF
document) towards code paths nobody thought of, guided by line coverage of
the ``newsletter`` package.  Each target runs in its own process for
``NEWSLETTER_ATHERIS_SECONDS`` (default 6) and fails on any exception that is
not one of our :class:`NewsletterError` refusals.

Run one target by hand for longer::

    .venv/bin/python tests/test_fuzz_atheris.py digest -max_total_time=600
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "shared" / "seeds"
OWN = HERE / "digests"
TARGETS = ("digest", "feed", "hf", "config")
SECONDS = int(os.environ.get("NEWSLETTER_ATHERIS_SECONDS", "6"))

_FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
    b'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<channel><title>cs.CL updates on arXiv.org</title><item><title>A Paper &amp; More</title>"
    b"<link>https://arxiv.org/abs/2403.01234</link><description>arXiv:2403.01234v2 Announce "
    b"Type: replace Abstract: We study &lt;b&gt;things&lt;/b&gt;.</description>"
    b"<guid isPermaLink='false'>oai:arXiv.org:2403.01234v2</guid><category>cs.CL</category>"
    b"<pubDate>Mon, 11 Mar 2024 00:00:00 -0400</pubDate><dc:creator>A. One, B. Two</dc:creator>"
    b"<arxiv:announce_type>replace</arxiv:announce_type></item></channel></rss>"
)
_HF = (
    b'[{"paper": {"id": "2403.01234", "title": "T", "summary": "S.", "authors": '
    b'[{"name": "A"}], "upvotes": 3, "publishedAt": "2024-03-04T12:00:00.000Z"}, '
    b'"publishedAt": "2024-03-05T00:00:00Z", "title": "T"}]'
)
_CONFIG = (
    b'[newsletter]\nname = "x"\ntimezone = "Europe/Paris"\n[fetch]\nmax_mb = 2\n'
    b'[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://e.org/f"\n'
    b'[[topics]]\nid = "other"\ntitle = "Other"\nfallback = true\n'
)


def _corpus(target: str, folder: Path) -> None:
    """Real inputs to start from (libFuzzer mutates them)."""
    folder.mkdir(parents=True, exist_ok=True)
    if target == "digest":
        for seed in [*sorted(OWN.glob("*.txt"))[:3], *sorted(SEEDS.glob("*.txt"))[:3]]:
            (folder / seed.name).write_bytes(seed.read_bytes()[:6000])
    samples = {"feed": _FEED, "hf": _HF, "config": _CONFIG, "digest": b"Mar 11\n\nT\n\nA.\n"}
    (folder / "sample").write_bytes(samples[target])


def _fuzz(target: str, argv: list[str]) -> None:  # pragma: no cover - runs in a subprocess
    import atheris

    with atheris.instrument_imports(include=["newsletter"]):
        from newsletter import config
        from newsletter.errors import NewsletterError
        from newsletter.sources.feed import parse_feed
        from newsletter.sources.hf import parse_hf
        from newsletter.sources.text import parse_digest

    import warnings

    warnings.simplefilter("error")  # as the suite runs: a warning is a failure

    def one(data: bytes) -> None:
        try:
            if target == "digest":
                parse_digest(data, name="d.txt", edition_date=date(2026, 3, 12))
            elif target == "feed":
                parse_feed(data, name="f")
            elif target == "hf":
                parse_hf(data, name="h")
            else:
                config.parse(data.decode("utf-8", "replace"), where="c.toml", base_dir=Path("/"))
        except NewsletterError:
            pass

    atheris.Setup([sys.argv[0], *argv], one)
    atheris.Fuzz()


@pytest.mark.parametrize("target", TARGETS)
def test_coverage_guided_fuzzing_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is in the test extras")
    import figures

    corpus = tmp_path / "corpus"
    _corpus(target, corpus)
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            target,
            f"-max_total_time={SECONDS}",
            "-max_len=8192",
            "-print_final_stats=1",
            "-artifact_prefix=" + str(tmp_path) + "/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", output)
    figures.count("fuzz", "examples", int(runs[1]) if runs else 0)
    figures.count("fuzz", "atheris runs", int(runs[1]) if runs else 0)


if __name__ == "__main__":
    _fuzz(sys.argv[1], sys.argv[2:])
