"""Simulated readers over the five seed digests: NDCG@10 and precision@5 of the ranking
against digest order and against topic-only filtering (used by ``bench_ranking.py``).

The seeds are ingested the project's own way: each digest file is a real
``pipeline.run`` (no sending) into a fresh SQLite store, one date after the other,
so the candidates of digest *k* are exactly the papers new in it, with the keys,
text and stock-rule topics the edition gives them.  Digest order is the order of
the file's entries (read with ``newsletter.sources.text``).

Each reader is a rule over the hand labels (``../shared/labels/topics_dev.json``;
papers without a label are *unjudged*: shown, never voted, not scored) or over
the text (keyword readers judge every paper).  A reader votes on the judged papers
of the digests they have read: 👍 on every one they like, 👎 on half of the others
(drawn with the reader's seed), each vote flipped with the reader's noise.  The
split is by time: train on the votes of digests 1..k, rank digest k+1, k = 1..4;
the metrics use the reader's true preference (no noise) on the judged papers of
digest k+1, in the order each method gives them.
"""

from __future__ import annotations

import json
import math
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from newsletter import config, pipeline
from newsletter.edition import for_topics
from newsletter.identity import title_key
from newsletter.model import Edition, Paper
from newsletter.ranking import PaperText, Ranker, Tuning, Vote, train
from newsletter.sources.text import read_digest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
LABELS = SHARED / "labels" / "topics_dev.json"
FIRST_DAY = date(2026, 3, 11)


@dataclass(frozen=True)
class Digest:
    """One seed digest as the pipeline made it: its edition, and its papers in file order."""

    name: str
    edition: Edition
    in_file_order: tuple[Paper, ...]
    run_seconds: float
    run_cpu_seconds: float


@dataclass(frozen=True)
class Label:
    primary: str
    acceptable: frozenset[str]


@dataclass(frozen=True)
class Reader:
    """A simulated reader: what they like (None: unjudged), the topics they would pick
    for topic-only filtering, and how noisy their votes are."""

    name: str
    likes: Callable[[Paper, Label | None], bool | None]
    topics: frozenset[str]
    noise: float = 0.1
    dislike_share: float = 0.5


def ingest_seeds(folder: Path = SEEDS) -> list[Digest]:
    """Run the pipeline on each seed digest, in name order, one day apart."""
    files = sorted(folder.glob("*.txt"))
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = config.parse(
            '[newsletter]\nbase_url = "https://papers.example.org/"\n',
            where="bench",
            base_dir=Path(tmp),
        )
        for i, path in enumerate(files):
            day = FIRST_DAY + timedelta(days=i)
            started, cpu = time.perf_counter(), time.process_time()
            report = pipeline.run(settings, [str(path)], day, send=False)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            papers = {title_key(p.title): p for p in report.edition.papers}
            order = [title_key(e.title) for e in read_digest(path, day).entries]
            in_order = [papers[t] for t in dict.fromkeys(order) if t in papers]
            rest = [p for p in report.edition.papers if p not in in_order]
            digests.append(Digest(path.name, report.edition, (*in_order, *rest), seconds, cpu))
    return digests


def read_labels(path: Path = LABELS) -> dict[str, Label]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        title_key(item["title"]): Label(item["primary"], frozenset(item["acceptable"]))
        for item in raw
    }


def _words(paper: Paper) -> set[str]:
    return set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", f"{paper.title} {paper.abstract}".lower()))


def _keywords(*words: str) -> Callable[[Paper, Label | None], bool | None]:
    return lambda paper, _label: bool(_words(paper) & set(words))


def _primary(*topics: str) -> Callable[[Paper, Label | None], bool | None]:
    return lambda _paper, label: None if label is None else label.primary in topics


def _acceptable(topic: str) -> Callable[[Paper, Label | None], bool | None]:
    return lambda _paper, label: None if label is None else topic in label.acceptable


def _both(
    first: Callable[[Paper, Label | None], bool | None],
    second: Callable[[Paper, Label | None], bool | None],
) -> Callable[[Paper, Label | None], bool | None]:
    def likes(paper: Paper, label: Label | None) -> bool | None:
        one = first(paper, label)
        return None if one is None else one and bool(second(paper, label))

    return likes


VIDEO = ("video", "videos", "temporal")
READERS = (  # the readers the docs report; never used to choose the model's settings
    Reader("efficiency (primary), 10% noise", _primary("efficiency"), frozenset({"efficiency"})),
    Reader(
        "vision + generative (primary), 10% noise",
        _primary("vision", "generative"),
        frozenset({"vision", "generative"}),
    ),
    Reader(
        "efficiency, only its LLM papers",
        _both(_acceptable("efficiency"), _keywords("language", "llm", "llms", "token", "tokens")),
        frozenset({"efficiency"}),
    ),
    Reader(
        "representation (acceptable), 20% noise, few 👎",
        _acceptable("representation"),
        frozenset({"representation"}),
        noise=0.2,
        dislike_share=0.2,
    ),
    Reader("keywords: video, temporal", _keywords(*VIDEO), frozenset({"multimodal", "generative"})),
    Reader(
        "keywords: reasoning, math",
        _keywords("reasoning", "math", "mathematical"),
        frozenset({"llm"}),
    ),
)
CONTROL = Reader(  # taste = a tagged topic: topic filtering is the oracle, ranking can only tie
    "control: multimodal (acceptable)", _acceptable("multimodal"), frozenset({"multimodal"})
)
DEV_READERS = (  # for --tune only: other topics, other words
    Reader("dev: multimodal (primary)", _primary("multimodal"), frozenset({"multimodal"})),
    Reader("dev: llm (acceptable), 10% noise", _acceptable("llm"), frozenset({"llm"})),
    Reader("dev: keywords segmentation", _keywords("segmentation"), frozenset({"vision"})),
    Reader(
        "dev: keywords agent, planning",
        _keywords("agent", "agents", "planning"),
        frozenset({"agents"}),
    ),
    Reader(
        "dev: keywords benchmark",
        _keywords("benchmark", "benchmarks"),
        frozenset({"llm", "vision"}),
    ),
    Reader(
        "dev: keywords quantization",
        _keywords("quantization", "quantized", "pruning"),
        frozenset({"efficiency"}),
    ),
)

HARD_DEV_READERS = (  # built like the reported readers that lose to topic filtering, on other
    # topics and words: for choosing the knobs meant for them, never the reported readers
    Reader(
        "dev: vision (acceptable), 20% noise, few 👎",
        _acceptable("vision"),
        frozenset({"vision"}),
        noise=0.2,
        dislike_share=0.2,
    ),
    Reader(
        "dev: multimodal, only its image papers",
        _both(_acceptable("multimodal"), _keywords("image", "images")),
        frozenset({"multimodal"}),
    ),
    Reader(
        "dev: llm (acceptable), 20% noise, few 👎",
        _acceptable("llm"),
        frozenset({"llm"}),
        noise=0.2,
        dislike_share=0.2,
    ),
)


def _text(paper: Paper) -> PaperText:
    return PaperText(paper.key, paper.title, paper.abstract, paper.authors, paper.topics)


def _votes(
    reader: Reader, digests: Sequence[Digest], labels: dict[str, Label], rng: random.Random
) -> tuple[list[Vote], list[str]]:
    votes, shown = [], []
    for d, digest in enumerate(digests):
        at = datetime.combine(digest.edition.date, datetime.min.time(), UTC)
        for i, paper in enumerate(digest.in_file_order):
            liked = reader.likes(paper, labels.get(title_key(paper.title)))
            if liked is None or (not liked and rng.random() >= reader.dislike_share):
                shown.append(paper.key)
                continue
            if rng.random() < reader.noise:
                liked = not liked
            votes.append(Vote(paper.key, liked, at + timedelta(seconds=d * 1000 + i)))
    return votes, shown


def ndcg(relevant: Sequence[bool], at: int = 10) -> float:
    gain = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant[:at]) if r)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(at, sum(relevant))))
    return gain / ideal if ideal else float("nan")


def precision(relevant: Sequence[bool], at: int = 5) -> float:
    return sum(relevant[:at]) / at


def _topic_order(digest: Digest, topics: frozenset[str], titles: dict[str, str]) -> list[Paper]:
    """Topic-only filtering: the reader's edition of their picked topics (the stock
    rules' order), then everything else in digest order."""
    picked = list(for_topics(digest.edition, topics, titles).papers)
    return picked + [p for p in digest.in_file_order if p not in picked]


def topics_and_ranking(
    ranker: Ranker, subscriber: int, edition: Sequence[Paper], rest: Sequence[Paper]
) -> list[Paper]:
    """What a subscriber with topics gets: their topic edition ranked the way delivery
    ranks it (``Ranker.rank`` over the edition's papers in its own order, as
    ``delivery/ranked.py`` passes them), then the rest of the digest ranked too."""
    by_key = {p.key: p for p in (*edition, *rest)}
    picked = {p.key for p in edition}
    others = [p for p in rest if p.key not in picked]
    ordered = []
    for part in (list(edition), others):
        scored = ranker.rank(subscriber, [_text(p) for p in part])
        ordered += [by_key[s.paper_key] for s in scored] if scored else part
    return ordered


@dataclass(frozen=True)
class Row:
    reader: str
    k: int
    seed: int
    judged: int
    relevant: int
    scores: dict[str, tuple[float, float]]  # method → (NDCG@10, P@5)
    validation: dict[str, float]  # method → NDCG@10 with the reader's own 👍 votes as gain
    tuning: Tuning = Tuning()  # noqa: RUF009 (frozen)


def evaluate(
    digests: Sequence[Digest],
    labels: dict[str, Label],
    readers: Sequence[Reader] = READERS,
    seeds: Sequence[int] = (0,),
    tuning: Tuning = Tuning(),  # noqa: B008
) -> list[Row]:
    """One row per reader, split k (train on digests 1..k, test on k+1) and seed (the
    reader's noise and 👎 draws, and the model's); a split whose test digest holds
    nothing the reader likes is left out (NDCG undefined)."""
    rows = []
    for seed in seeds:
        rows += _evaluate(digests, labels, readers, seed, tuning)
    return rows


def _evaluate(
    digests: Sequence[Digest],
    labels: dict[str, Label],
    readers: Sequence[Reader],
    seed: int,
    tuning: Tuning,
) -> list[Row]:
    titles = {s.topic: s.title for d in digests for s in d.edition.sections}
    every = {  # each reader's votes and shown papers over all digests, by digest
        r: _votes(reader, digests, labels, random.Random(f"{seed}:{r}"))
        for r, reader in enumerate(readers)
    }
    digest_of = {p.key: d for d, digest in enumerate(digests) for p in digest.in_file_order}
    rows = []
    for k in range(1, len(digests)):
        test = digests[k]
        corpus = [_text(p) for d in digests[: k + 1] for p in d.in_file_order]
        votes, shown = {}, {}
        for r in range(len(readers)):
            votes[r] = [v for v in every[r][0] if digest_of[v.paper_key] < k]
            shown[r] = [key for key in every[r][1] if digest_of[key] < k]
        # two installations' worth: each reader without topics (ranking alone), and
        # with their picked topics (their blend is validated on that edition)
        everything = train(corpus, votes, shown, seed=seed, tuning=tuning)
        picks = {r: reader.topics for r, reader in enumerate(readers)}
        ranker = train(corpus, votes, shown, seed=seed, tuning=tuning, topics=picks)
        candidates = [_text(p) for p in test.in_file_order]
        for r, reader in enumerate(readers):
            ranked = {s.paper_key: i for i, s in enumerate(everything.rank(r, candidates))}
            truth = {
                p.key: liked
                for p in test.in_file_order
                if (liked := reader.likes(p, labels.get(title_key(p.title)))) is not None
            }
            if not any(truth.values()):
                continue
            edition = list(for_topics(test.edition, reader.topics, titles).papers)
            orders = {
                "digest order": list(test.in_file_order),
                "topic filter": _topic_order(test, reader.topics, titles),
                "ranking alone": sorted(test.in_file_order, key=lambda p: ranked[p.key]),
                "topics + ranking": topics_and_ranking(ranker, r, edition, test.in_file_order),
            }
            scores = {}
            for method, order in orders.items():
                rel = [truth[p.key] for p in order if p.key in truth]
                scores[method] = (ndcg(rel), precision(rel))
            # what an installation could measure: the reader's own 👍 on this digest
            thumbs = {v.paper_key for v in every[r][0] if v.liked and digest_of[v.paper_key] == k}
            validation = {
                method: ndcg([p.key in thumbs for p in order]) for method, order in orders.items()
            }
            rows.append(
                Row(
                    reader.name,
                    k,
                    seed,
                    len(truth),
                    sum(truth.values()),
                    scores,
                    validation,
                    tuning,
                )
            )
    return rows


VALIDATED = ("ranking alone", "topics + ranking")
"""The methods whose validation NDCG@10 (mean of the two) chooses the knobs."""


def validated(
    digests: Sequence[Digest],
    labels: dict[str, Label],
    readers: Sequence[Reader],
    seeds: Sequence[int],
    grid: Sequence[Tuning],
) -> list[Row]:
    """The rows of :func:`evaluate` with the knobs of each test split chosen on the
    training digests only: for the split that tests digest k+1, the ``grid`` entry
    whose mean validation NDCG@10 (the readers' own 👍 as gain, :data:`VALIDATED`
    methods) is best over the splits *inside* digests 1..k (train on 1..j, validate
    on j+1, j < k).  The first split (one training digest) has none: it takes
    ``grid[0]``, the defaults.  One choice for all readers of a seed."""
    by_tuning = {tuning: evaluate(digests, labels, readers, seeds, tuning) for tuning in grid}
    chosen = []
    for seed in seeds:
        for k in range(1, len(digests)):
            best = max(grid, key=lambda t: (_validation(by_tuning[t], seed, k), t == grid[0]))
            chosen += [r for r in by_tuning[best] if r.seed == seed and r.k == k]
    return chosen


def _alternatives() -> tuple[Tuning, ...]:
    from dataclasses import replace

    base = Tuning()
    return (
        base,
        replace(base, topic_prior=1.0),
        replace(base, topic_prior=3.0),
        replace(base, regularisation=3.0),
        replace(base, random_negatives=100),
        replace(base, secondary_share=0.25),
        replace(base, topic_weight=0.5),
    )


CHOICES = _alternatives()
"""What :func:`validated` chooses from: the defaults, then one knob moved each."""


def describe(tuning: Tuning) -> str:
    """The knobs of ``tuning`` that differ from the defaults ("defaults" if none)."""
    from dataclasses import fields

    base = Tuning()
    moved = [
        f"{f.name}={getattr(tuning, f.name)!r}"
        for f in fields(Tuning)
        if getattr(tuning, f.name) != getattr(base, f.name)
    ]
    return ", ".join(moved) or "defaults"


def _validation(rows: Sequence[Row], seed: int, k: int) -> float:
    """Mean validation NDCG@10 of the splits before ``k`` (NaN ones left out)."""
    values = [
        row.validation[m]
        for row in rows
        if row.seed == seed and row.k < k
        for m in VALIDATED
        if not math.isnan(row.validation[m])
    ]
    return sum(values) / len(values) if values else 0.0


GRID = {
    "topic_weight": (0.0, 0.1, 0.25, 0.5, 1.0),
    "regularisation": (0.3, 1.0, 3.0, 10.0),
    "random_weight": (0.25, 0.5, 1.0),
    "random_negatives": (30, 100),
    "title_repeats": (1, 2, 3),
    "bigrams": (True, False),
    "min_df": (1, 2),
}


def mean_ndcg(rows: Sequence[Row], method: str = "ranking alone") -> float:
    """Macro mean over readers of each reader's mean NDCG@10."""
    by_reader: dict[str, list[float]] = {}
    for row in rows:
        by_reader.setdefault(row.reader, []).append(row.scores[method][0])
    return sum(sum(v) / len(v) for v in by_reader.values()) / len(by_reader)


def tune(
    digests: Sequence[Digest],
    labels: dict[str, Label],
    passes: int = 2,
    method: str = "ranking alone",
    grid: dict[str, tuple[object, ...]] | None = None,
    seeds: Sequence[int] = (0,),
    start: Tuning = Tuning(),  # noqa: B008
) -> list[tuple[str, float]]:
    """Coordinate search over :data:`GRID` on the development readers only: each knob
    in turn set to its best value, the others held; ``passes`` rounds.  Returns the
    trail (setting, mean NDCG@10) so the docs can show how each default was chosen."""
    from dataclasses import replace

    def score_of(tuning: Tuning) -> float:
        return mean_ndcg(evaluate(digests, labels, DEV_READERS, seeds, tuning), method)

    best = start
    best_score = score_of(best)
    trail = [(repr(best), best_score)]
    for _ in range(passes):
        for knob, values in (grid or GRID).items():
            for value in values:
                if getattr(best, knob) == value:
                    continue
                candidate = replace(best, **{knob: value})
                score = score_of(candidate)
                trail.append((f"{knob}={value!r}", score))
                if score > best_score + 1e-9:
                    best, best_score = candidate, score
                    trail.append((f"→ kept {knob}={value!r}", score))
    trail.append((repr(best), best_score))
    return trail
