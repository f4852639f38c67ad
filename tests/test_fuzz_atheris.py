"""Coverage-guided fuzzing of the byte parsers with atheris (libFuzzer for Python).

Hypothesis (``test_fuzz_parsers.py``) explores shapes we thought of; atheris
mutates real inputs (the shared seed digests, a real arXiv-like feed, an HF
document, and every past crash input of ``tests/corpus/``) towards code paths
nobody thought of, guided by line coverage of the ``newsletter`` package.
Each target runs in its own process and fails on any exception that is not
one of our :class:`NewsletterError` refusals.

Deterministic, so CI never flakes: a fixed libFuzzer seed
(``NEWSLETTER_ATHERIS_SEED``, default 1), a fixed number of inputs per target
(``NEWSLETTER_ATHERIS_RUNS``, default a few seconds' worth each) rather than a
time budget, and a fixed hash seed, so a loaded machine runs the same inputs,
only slower.  A crash found once is kept in ``tests/corpus/<target>/`` and
read on every run by ``test_regression_corpus.py``.

Explore by hand, for longer and with other seeds::

    .venv/bin/python tests/test_fuzz_atheris.py digest -max_total_time=600 -seed=7
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "shared" / "seeds"
OWN = HERE / "digests"
TARGETS = ("digest", "feed", "hf", "config")  # crashkit.TARGETS (not imported here: see _fuzz)
SEED = int(os.environ.get("NEWSLETTER_ATHERIS_SEED", "1"))
# A few seconds each on an idle core; the feed parser is the slowest per input.
DEFAULT_RUNS = {"digest": 4_000, "feed": 1_200, "hf": 20_000, "config": 2_500}
RUNS = os.environ.get("NEWSLETTER_ATHERIS_RUNS")
CAP_SECONDS = 300  # a safety net only: the runs, not the clock, end a fuzzing session

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
    """Real inputs to start from (libFuzzer mutates them), past crashes included."""
    folder.mkdir(parents=True, exist_ok=True)
    if target == "digest":
        for seed in [*sorted(OWN.glob("*.txt"))[:3], *sorted(SEEDS.glob("*.txt"))[:3]]:
            (folder / seed.name).write_bytes(seed.read_bytes()[:6000])
    samples = {"feed": _FEED, "hf": _HF, "config": _CONFIG, "digest": b"Mar 11\n\nT\n\nA.\n"}
    (folder / "sample").write_bytes(samples[target])
    import crashkit

    for crash in crashkit.corpus(target):
        (folder / f"crash-{crash.name}").write_bytes(crash.read_bytes())


def _fuzz(target: str, argv: list[str]) -> None:  # pragma: no cover - runs in a subprocess
    import atheris

    # Nothing of newsletter may be imported before this block (not even through
    # crashkit at the top of this file), or it runs without coverage feedback.
    with atheris.instrument_imports(include=["newsletter"]):
        import crashkit

        from newsletter.errors import NewsletterError

    import contextlib
    import warnings

    warnings.simplefilter("error")  # as the suite runs: a warning is a failure

    def one(data: bytes) -> None:
        with contextlib.suppress(NewsletterError):
            crashkit.read(target, data)

    atheris.Setup([sys.argv[0], *argv], one)
    atheris.Fuzz()


def _without_aslr() -> list[str]:
    """``setarch -R`` where it works: Python's id()-ordered containers follow memory
    addresses, so with address randomisation the same seed reaches different coverage."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    prefix = [setarch, platform.machine(), "-R"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else []


@pytest.mark.parametrize("target", TARGETS)
def test_coverage_guided_fuzzing_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is in the test extras")
    import figures

    corpus = tmp_path / "corpus"
    _corpus(target, corpus)
    runs = int(RUNS) if RUNS else DEFAULT_RUNS[target]
    result = subprocess.run(
        [
            *_without_aslr(),
            sys.executable,
            __file__,
            target,
            f"-seed={SEED}",
            f"-runs={runs}",
            f"-max_total_time={CAP_SECONDS}",
            "-max_len=8192",
            "-reload=0",  # the corpus is ours alone: never re-read it on a timer
            "-timeout=60",  # one input taking a minute is a hang, loaded machine or not
            "-print_final_stats=1",
            "-artifact_prefix=" + str(tmp_path) + "/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=CAP_SECONDS + 120,
        env={**os.environ, "PYTHONWARNINGS": "error", "PYTHONHASHSEED": "0"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", output)
    figures.count("fuzz", "examples", int(runs[1]) if runs else 0)
    figures.count("fuzz", "atheris runs", int(runs[1]) if runs else 0)


if __name__ == "__main__":
    _fuzz(sys.argv[1], sys.argv[2:])
