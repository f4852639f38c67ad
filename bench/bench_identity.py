"""Benchmark of identity *quality*: precision and recall of "same paper".

    python bench/bench_identity.py           # or: make bench-identity

The labelled corpus is generated at run time from the real seed digests in
``../shared/seeds/`` and from boilerplate written for the project
(``tests/identity_kit.py``): arXiv-v2-style revisions at four strengths,
retitles, disguises, challenge-report series, model-family technical reports,
benchmark suites, a group's templated abstracts, reused titles over unrelated
abstracts and look-alike titles.  Every listing goes through the text-digest
parser first, as a real digest would.

Two scenarios, each for today's rule and for the rule before issue 12
(``bench/legacy_identity.py``), on the same corpus:

* **one run** — the originals, then every other listing shuffled, in one split;
* **across runs** — the originals and half of each series are recorded in a
  SQLite store first; then each kind of listing is split against that store
  on its own (so a revision is recognised from the store, not from a sibling
  in its own run).

A listing is a *repeat* when its paper was listed before it.  Precision is
the share of "seen" verdicts that name the right paper; recall the share of
repeats recognised as the right paper; a false merge is a "seen" verdict on a
new paper (or naming the wrong one).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import identity_kit as corpus_mod  # noqa: E402
import legacy_identity  # noqa: E402
from identity_kit import NEGATIVE, POSITIVE, SERIES, Corpus, Listing  # noqa: E402

from newsletter.listings import new_papers  # noqa: E402
from newsletter.novelty import split  # noqa: E402
from newsletter.store import Database  # noqa: E402
from newsletter.store.papers import NewPaper  # noqa: E402
from newsletter.topics import Taxonomy, Topic  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
GOAL_V2_RECALL = 0.99
TAXONOMY = Taxonomy((Topic("other", "Other"),))
KINDS = ("original", *POSITIVE, *NEGATIVE)


class Tally:
    """Verdicts of one rule in one scenario, by kind."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = defaultdict(
            lambda: {"listings": 0, "repeats": 0, "seen": 0, "right": 0, "false_merges": 0}
        )
        self.misses: dict[str, list[str]] = defaultdict(list)
        self.merges: dict[str, list[str]] = defaultdict(list)

    def add(self, listing: Listing, repeat: bool, matched_label: str | None) -> None:
        row = self.rows[listing.kind]
        row["listings"] += 1
        row["repeats"] += repeat
        if matched_label is not None:
            row["seen"] += 1
            if repeat and matched_label == listing.label:
                row["right"] += 1
            else:
                row["false_merges"] += 1
                self.merges[listing.kind].append(f"{listing.title!r} taken for {matched_label}")
        elif repeat:
            self.misses[listing.kind].append(listing.title)

    def total(self, kinds: Sequence[str]) -> dict[str, float]:
        rows = [self.rows[k] for k in kinds if k in self.rows]
        seen = sum(r["seen"] for r in rows)
        right = sum(r["right"] for r in rows)
        repeats = sum(r["repeats"] for r in rows)
        return {
            "listings": sum(r["listings"] for r in rows),
            "repeats": repeats,
            "seen": seen,
            "right": right,
            "false_merges": sum(r["false_merges"] for r in rows),
            "precision": right / seen if seen else 1.0,
            "recall": right / repeats if repeats else 1.0,
        }


# ---------------------------------------------------------------- the rules


def new_rule_one_run(listings: Sequence[Listing]) -> list[str | None]:
    entries = corpus_mod.as_digest(listings)
    verdicts = split(entries, None)
    label_of: dict[str, str] = {}
    out: list[str | None] = []
    for listing, v in zip(listings, verdicts, strict=True):
        if v.new:
            label_of[v.key] = listing.label
            out.append(None)
        else:
            out.append(label_of[v.same_as or ""])
    return out


def new_rule_across_runs(
    first: Sequence[Listing], later: Sequence[Sequence[Listing]]
) -> list[list[str | None]]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Database.open(f"sqlite:///{Path(tmp) / 'identity.db'}")
        try:
            with store.read() as tx:
                verdicts = split(corpus_mod.as_digest(first, "run1.txt"), tx.seen)
            label_of = {v.key: x.label for x, v in zip(first, verdicts, strict=True) if v.new}
            papers = {p.key: p for p in new_papers(verdicts, TAXONOMY)}
            with store.write() as tx:
                tx.papers.bulk_seed(
                    [
                        NewPaper(papers[v.key], v.title_key, v.signature, v.terms, v.rare_pairs)
                        for v in verdicts
                        if v.new
                    ],
                    datetime.now(UTC),
                )
            results = []
            for group in later:
                out: list[str | None] = []
                batch_labels: dict[str, str] = {}
                with store.read() as tx:
                    found = split(corpus_mod.as_digest(group), tx.seen)
                for listing, v in zip(group, found, strict=True):
                    if v.new:
                        batch_labels[v.key] = listing.label
                        out.append(None)
                    else:
                        out.append(label_of.get(v.same_as or "") or batch_labels[v.same_as or ""])
                results.append(out)
            return results
        finally:
            store.close()


def legacy_one_run(listings: Sequence[Listing]) -> list[str | None]:
    entries = corpus_mod.as_digest(listings)
    keys = [f"k{i}" for i in range(len(listings))]
    label_of = {k: x.label for k, x in zip(keys, listings, strict=True)}
    matched = legacy_identity.split(entries, legacy_identity.LegacyIndex(), keys)
    return [label_of[m] if m else None for m in matched]


def legacy_across_runs(
    first: Sequence[Listing], later: Sequence[Sequence[Listing]]
) -> list[list[str | None]]:
    stored = legacy_identity.LegacyIndex()
    keys = [f"a{i}" for i in range(len(first))]
    label_of = {k: x.label for k, x in zip(keys, first, strict=True)}
    legacy_identity.split(corpus_mod.as_digest(first), stored, keys)
    results = []
    for g, group in enumerate(later):
        frozen = legacy_identity.LegacyIndex()
        for known in stored.papers:
            frozen.add(known)
        group_keys = [f"g{g}-{i}" for i in range(len(group))]
        label_of.update({k: x.label for k, x in zip(group_keys, group, strict=True)})
        matched = legacy_identity.split(corpus_mod.as_digest(group), frozen, group_keys)
        results.append([label_of[m] if m else None for m in matched])
    return results


# ---------------------------------------------------------------- scenarios


def scenarios(corpus: Corpus) -> tuple[list[Listing], list[Listing], list[list[Listing]]]:
    """(one run, first run, later runs by kind)."""
    rng = random.Random(5)
    rest = [*corpus.series, *corpus.positives, *corpus.negatives]
    rng.shuffle(rest)
    one_run = [*corpus.originals, *rest]
    by_family: dict[str, list[Listing]] = defaultdict(list)
    for s in corpus.series:
        by_family[s.kind].append(s)
    first_half = [s for ss in by_family.values() for s in ss[: len(ss) // 2]]
    second_half = [s for ss in by_family.values() for s in ss[len(ss) // 2 :]]
    first = [*corpus.originals, *first_half]
    # (a series member's revision is a repeat across runs only of a member run 1 listed)
    firsts = {x.label for x in first}
    later = [
        [
            x
            for x in corpus.positives
            if x.kind == kind and (kind != "v2-member" or x.label in firsts)
        ]
        for kind in POSITIVE
    ]
    later += [second_half, list(corpus.negatives)]
    return one_run, first, later


def score(
    sequence: Sequence[Listing], matched: Sequence[str | None], tally: Tally, before: set[str]
) -> None:
    listed = set(before)
    for listing, label in zip(sequence, matched, strict=True):
        tally.add(listing, listing.label in listed, label)
        listed.add(listing.label)


def measure(seeds: Path) -> dict[str, Any]:
    started = time.perf_counter()
    corpus = corpus_mod.build(seeds)
    one_run, first, later = scenarios(corpus)
    figures: dict[str, Any] = {"corpus": {k: 0 for k in KINDS}}
    for x in one_run:
        figures["corpus"][x.kind] += 1
    for rule, one, across in (
        ("new", new_rule_one_run, new_rule_across_runs),
        ("legacy", legacy_one_run, legacy_across_runs),
    ):
        single = Tally()
        score(one_run, one(one_run), single, set())
        multi = Tally()
        labels_first = {x.label for x in first}
        for group, matched in zip(later, across(first, later), strict=True):
            score(group, matched, multi, labels_first)
        for name, tally in (("one_run", single), ("across_runs", multi)):
            figures[f"{rule}.{name}"] = {
                "by_kind": {k: dict(v) for k, v in sorted(tally.rows.items())},
                "all": tally.total(KINDS),
                "v2": tally.total([k for k in POSITIVE if k.startswith("v2")]),
                "rename": tally.total(["rename"]),
                "series_false_merges": tally.total(SERIES)["false_merges"],
                "misses": {k: v[:5] for k, v in tally.misses.items()},
                "merges": {k: v[:5] for k, v in tally.merges.items()},
            }
    figures["seconds"] = time.perf_counter() - started
    return figures


def markdown(f: dict[str, Any]) -> str:
    lines = [
        "| rule | scenario | precision | recall | v2 recall | false merges: series | "
        "false merges: reused / look-alike titles | missed repeats |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rule, name in (("new", "today"), ("legacy", "before (76bfc1b)")):
        for scenario, label in (("one_run", "one run"), ("across_runs", "across runs")):
            s = f[f"{rule}.{scenario}"]
            kinds = s["by_kind"]
            reused = sum(
                kinds.get(k, {}).get("false_merges", 0) for k in ("reused-title", "lookalike")
            )
            lines.append(
                f"| {name} | {label} | {s['all']['precision']:.3f} | {s['all']['recall']:.3f} | "
                f"{s['v2']['recall']:.3f} | {s['series_false_merges']} | {reused} | "
                f"{s['all']['repeats'] - s['all']['right']} |"
            )
    lines += ["", "Recall by kind (right / repeats), today's rule vs before:", ""]
    lines += [
        "| kind | listings | one run | across runs | one run (before) | across runs (before) |"
    ]
    lines += ["|---|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        cells = []
        for key in ("new.one_run", "new.across_runs", "legacy.one_run", "legacy.across_runs"):
            row = f[key]["by_kind"].get(kind)
            if row is None:
                cells.append("–")
            elif row["repeats"]:
                cells.append(f"{row['right']}/{row['repeats']}")
            else:
                cells.append(f"{row['false_merges']} merged")
        lines.append(f"| {kind} | {f['corpus'][kind]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default=str(SEEDS))
    parser.add_argument("--json", help="write the figures as JSON to this file (bench/run_all.py)")
    parser.add_argument("--show", action="store_true", help="print missed repeats and false merges")
    args = parser.parse_args()
    figures = measure(Path(args.seeds))
    print(markdown(figures))
    if args.show:
        for key in ("new.one_run", "new.across_runs"):
            print(f"\n{key} misses:", json.dumps(figures[key]["misses"], indent=1))
            print(f"{key} merges:", json.dumps(figures[key]["merges"], indent=1))
    print(f"\n({figures['seconds']:.0f} s)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
