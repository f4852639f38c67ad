"""The digest folders the tests run on, and what is known about each (see conftest.py).

``OWN_CORPUS`` is ``tests/digests`` (written for this project, always there; its
README explains every count); ``SEED_CORPUS`` is ``../shared/seeds`` (the real
pages, optional beside the checkout).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
OWN = ROOT / "tests" / "digests"


@dataclass(frozen=True)
class Corpus:
    """A folder of text digests and what is known about them, file by file (name order).

    ``entries``: entries each file parses into; ``fresh``: distinct papers of
    each file in an empty state; ``new``: papers new in each file when the files
    are ingested in name order; ``dated``: index and date (for an edition on
    2026-03-20) of the file with a ``Daily Papers`` header line; ``explain``: a
    query matching one paper of the first file, and that paper's topic;
    ``labels``: hand labels of topics (``topics_dev.json`` format) and how many.
    """

    name: str
    folder: Path
    entries: tuple[int, ...]
    fresh: tuple[int, ...]
    new: tuple[int, ...]
    dated: tuple[int, date]
    explain: tuple[str, str]
    labels: Path
    label_count: int

    @property
    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.txt"))

    @property
    def distinct(self) -> int:
        return sum(self.new)

    def file(self, index: int) -> Path:
        return self.files[index]


OWN_CORPUS = Corpus(
    name="own",
    folder=OWN,
    entries=(14, 15, 10, 9, 10),
    fresh=(14, 15, 9, 9, 10),
    new=(14, 11, 7, 7, 7),
    dated=(4, date(2025, 11, 12)),
    explain=("Grounded Captions", "multimodal"),
    labels=OWN / "topics.json",
    label_count=46,
)
SEED_CORPUS = Corpus(
    name="seeds",
    folder=SEEDS,
    entries=(94, 91, 67, 102, 86),
    fresh=(94, 91, 67, 102, 86),
    new=(94, 70, 50, 84, 65),
    dated=(4, date(2025, 8, 20)),
    explain=("Visual Dialog", "multimodal"),
    labels=SHARED / "labels" / "topics_dev.json",
    label_count=121,
)
SEEDS_REQUIRED = os.environ.get("NEWSLETTER_REQUIRE_SEEDS") == "1"
SEEDS_MISSING = (
    f"no real seed digests at {SEEDS} (optional: the same checks run on tests/digests; "
    "NEWSLETTER_REQUIRE_SEEDS=1 makes their absence an error)"
)


def require_seeds() -> Path:
    """The seed folder; skip (or fail, with NEWSLETTER_REQUIRE_SEEDS=1) when it is absent."""
    if not any(SEEDS.glob("*.txt")):
        if SEEDS_REQUIRED:
            pytest.fail(f"NEWSLETTER_REQUIRE_SEEDS=1 but {SEEDS_MISSING}")
        pytest.skip(SEEDS_MISSING)
    return SEEDS
