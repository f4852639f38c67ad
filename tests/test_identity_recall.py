"""Two holes a red team found in finding candidates across runs (issue 12):

* a version that lost its subtitle *and* most of its abstract ("Foo: A Bar for
  Baz" → "Foo" over its first sentence or two) was never even a candidate, so it
  was sent again as new — the title-head index finds it (``candidates.py``);
* whether a revision was found depended on the other entries of its run (the
  rare words it probed the store with were ranked by the store's *and the run's*
  counts) — the store is now probed by the store's counts alone.

Everything here runs the novelty API against a real SQLite file, run after run,
on the real seed digests' text (``identity_kit``)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from identity_kit import (
    cut_short,
    headed_challenge_series,
    record,
    reword,
    seed_papers,
    seen_split,
)

from newsletter.candidates import MAX_HEAD_POSTINGS, head_hash, title_head
from newsletter.identity import title_key
from newsletter.model import RawEntry
from newsletter.novelty import split
from newsletter.store import Database
from newsletter.store.migrations import LATEST
from newsletter.store.papers import title_hash
from newsletter.store.schema import paper_title_heads, papers


def _cut_versions(originals: list[RawEntry], seed: int = 4) -> list[tuple[RawEntry, RawEntry]]:
    rng = random.Random(seed)
    out = []
    for i, p in enumerate(originals):
        made = cut_short(p.title, p.abstract, rng, 1 + i % 2)
        if made is not None:
            out.append((p, RawEntry(*made, "v2.txt")))
    return out


# ---------------------------------------------------------------- a subtitle and an abstract cut


def test_a_version_cut_to_its_name_and_a_sentence_or_two_is_seen_across_runs(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """ "Foo: A Bar for Baz" recorded; a later run lists "Foo" over the first one or
    two sentences of its abstract (a third lightly reworded): every one is the paper
    seen, named as it — none is sent again as new."""
    originals = seed_papers(seeds_dir)[:150]
    cuts = _cut_versions(originals)
    assert len(cuts) >= 25
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    first = record(store, originals, date(2026, 3, 11))
    key_of = {v.entry.title: v.key for v in first}
    later = seen_split(store, [v2 for _, v2 in cuts])
    store.close()
    wrong = [
        (v2.title, v.reason)
        for (p, v2), v in zip(cuts, later, strict=True)
        if v.new or v.same_as != key_of[p.title]
    ]
    assert wrong == []
    assert {v.reason.split(" (")[0] for v in later} <= {
        "subtitle dropped, one abstract holds the other",
        "same abstract",
        "similar title and abstract",
    }


def test_the_cut_version_is_seen_in_the_same_run_too() -> None:
    full = RawEntry(
        "Halyard: Mooring Language Models to Retrieved Evidence",
        "Halyard anchors every generated claim of a language model to a retrieved passage. "
        "A verifier scores each claim against its passage and the decoder backtracks when "
        "the score drops below a threshold. On four question answering benchmarks Halyard "
        "halves unsupported claims at equal fluency, and the verifier transfers to new "
        "domains without retraining.",
        "d1.txt",
    )
    cut = RawEntry("Halyard", full.abstract.split(". ")[0] + ".", "d2.txt")
    verdicts = split([full, cut], None)
    assert [v.new for v in verdicts] == [True, False]
    assert verdicts[1].same_as == verdicts[0].key


def test_a_headed_series_shares_the_name_before_the_colon_and_stays_apart(
    tmp_path: Path,
) -> None:
    """Every track report of "AURORA 2025 Challenge: <track>" is indexed under the same
    head, so each is a candidate of every other across runs — and each stays a paper of
    its own, in one run and across runs."""
    members = headed_challenge_series(random.Random(7))
    entries = [RawEntry(m.title, m.abstract, "s.txt") for m in members]
    assert len({title_head(m.title) for m in members}) == 1
    assert all(v.new for v in split(entries, None))
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    half = len(entries) // 2
    record(store, entries[:half], date(2026, 3, 11))
    later = seen_split(store, entries[half:])
    store.close()
    assert [(v.entry.title, v.reason) for v in later if not v.new] == []
    assert all(v.compared_with for v in later)  # candidates they were, ruled out


def test_a_head_many_papers_share_is_never_looked_up(tmp_path: Path) -> None:
    """ "Position: …" titles: the head's list stops at MAX_HEAD_POSTINGS + 1 rows and
    a lookup of it returns nothing, so such a head costs nothing at a million papers;
    a head few papers share returns them all."""
    common = [
        RawEntry(
            f"Position: Topic {i} Deserves {w} Attention",
            f"We argue that topic number {i} deserves {w} attention from the community, "
            f"because {w} evidence keeps accumulating in venue {i} and beyond it.",
            "p.txt",
        )
        for i, w in enumerate(("more", "less", "urgent", "calm", "broad", "narrow") * 3)
    ]
    rare = [
        RawEntry("Keelson: Sparse Routing for Speech", "Keelson routes speech frames.", "k.txt"),
        RawEntry("Keelson: Dense Routing for Vision", "Keelson routes image patches.", "k.txt"),
    ]
    store = Database.open(f"sqlite:///{tmp_path / 'seen.db'}")
    record(store, common[:5], date(2026, 3, 11))
    record(store, [*common[5:], *rare], date(2026, 3, 12))
    position, keelson = head_hash("position"), head_hash("keelson")
    with store.engine.connect() as conn:
        rows = Counter(h for (h,) in conn.execute(sa.select(paper_title_heads.c.head)))
    with store.read() as tx:
        hits = tx.seen.head_hits([position, keelson])
    store.close()
    assert rows[position] == MAX_HEAD_POSTINGS + 1 < len(common)
    assert position not in hits
    assert len(hits[keelson]) == 2


def test_upgrading_a_database_indexes_the_heads_of_the_papers_it_holds(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """A store written before migration 9: the migration files every paper under its
    title head, and the next run finds the cut versions through it (these papers have
    no signature and no term counts, so nothing else can)."""
    originals = [p for p in seed_papers(seeds_dir)[:60] if ": " in p.title]
    cuts = _cut_versions(originals, seed=5)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Database.connect(url)
    assert store.migrate(to=8) == list(range(1, 9))
    with store.engine.begin() as conn:
        for i, p in enumerate(originals):
            tkey = title_key(p.title)
            conn.execute(
                papers.insert().values(
                    key=f"title:{tkey}",
                    title_hash=title_hash(tkey),
                    title_key=tkey,
                    title=p.title,
                    abstract=p.abstract,
                    url=f"https://example.org/{i}",
                    source="old.txt",
                    seen_at=sa.func.now(),
                )
            )
    assert store.migrate() == list(range(9, LATEST + 1))  # from 8: the index's step, on
    store.close()
    store = Database.open(url)
    later = seen_split(store, [v2 for _, v2 in cuts])
    store.close()
    assert len(cuts) >= 10
    assert [v.entry.title for v in later if v.new] == []


# ---------------------------------------------------------------- independent of the neighbours


def test_a_revision_across_runs_gets_one_verdict_whatever_its_runs_neighbours(
    tmp_path: Path, seeds_dir: Path
) -> None:
    """The same v1 recorded, then the same reworded v2 listed a run later — each time
    beside other entries (other seed papers; in the second run also reworded versions
    of the first run's neighbours, which repeat one another's added sentences).  The
    v2's verdict — new or seen, and as which paper — is one and the same every time,
    and seen for nearly all of them."""
    papers_ = seed_papers(seeds_dir)
    pairs = []
    for i, p in enumerate(papers_[:40]):
        made = reword(p.title, p.abstract, random.Random(i))
        if made is not None:
            pairs.append((p, RawEntry(*made, "v2.txt")))
    pairs = pairs[:14]
    chosen = {p.title for p, _ in pairs}
    others = [p for p in papers_[40:] if p.title not in chosen]
    outcomes: dict[str, Counter[tuple[bool, str | None]]] = {p.title: Counter() for p, _ in pairs}
    for run in range(10):
        rng = random.Random(100 + run)
        first_neighbours = rng.sample(others, 30)
        second_neighbours = rng.sample(others, 30)
        for o in rng.sample(first_neighbours, 10):
            made = reword(o.title, o.abstract, rng)
            if made is not None:
                second_neighbours.append(RawEntry(*made, "n.txt"))
        store = Database.open(f"sqlite:///{tmp_path / f'run{run}.db'}")
        first = record(store, [*(p for p, _ in pairs), *first_neighbours], date(2026, 3, 11))
        key_of = {v.entry.title: v.key for v in first}
        later_entries = [*second_neighbours, *(v2 for _, v2 in pairs)]
        rng.shuffle(later_entries)
        by_title = {v.entry.title: v for v in seen_split(store, later_entries)}
        store.close()
        for p, v2 in pairs:
            v = by_title[v2.title]
            outcomes[p.title][(v.new, None if v.new else v.same_as == key_of[p.title])] += 1
    moved = {title: dict(o) for title, o in outcomes.items() if len(o) > 1}
    assert moved == {}
    seen_right = [t for t, o in outcomes.items() if (False, True) in o]
    assert len(seen_right) >= len(pairs) - 1


def test_within_one_run_a_head_many_entries_share_is_not_matched_on() -> None:
    """In one run as in the store: the entries after the ninth "Position: …" are not
    compared with the others through the head (each is new; none is a candidate)."""

    def words(i: int) -> list[str]:  # words no other entry holds
        return [f"{stem}{chr(97 + i)}" for stem in ("tern", "gull", "skua", "auk", "shag", "loon")]

    entries = [
        RawEntry(f"Position: {' '.join(words(i)[:2])}", " ".join(words(i)) + ".", "p.txt")
        for i in range(12)
    ]
    verdicts = split(entries, None)
    assert all(v.new for v in verdicts)
    assert [v.compared_with is None for v in verdicts][MAX_HEAD_POSTINGS + 1 :] == [True] * (
        len(entries) - MAX_HEAD_POSTINGS - 1
    )
