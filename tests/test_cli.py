"""End-to-end: the `newsletter` command on the digests (own and seeds), as an operator runs it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_kit import error_lines
from corpus_kit import Corpus


def newsletter(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("NEWSLETTER_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    newsletter("init", str(tmp_path / "nl"), cwd=tmp_path, check=True)
    return tmp_path / "nl"


def editions(site: Path) -> dict[str, dict[str, object]]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in sorted((site / "editions").glob("*/edition.json"))
    }


def _state_digest(workdir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((workdir / "subscribers").glob("newsletter.db*")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_digests_run_one_by_one_give_the_known_new_counts(workdir: Path, corpus: Corpus) -> None:
    for day, seed in enumerate(corpus.files, start=1):
        newsletter("run", str(seed), "--date", f"2026-03-{10 + day:02d}", cwd=workdir, check=True)
    counts = [e["paper_count"] for e in editions(workdir / "site").values()]
    assert counts == list(corpus.new)


def test_one_run_over_all_digests_reports_counts_per_digest(workdir: Path, corpus: Corpus) -> None:
    result = newsletter("run", str(corpus.folder), "--date", "2026-03-20", cwd=workdir, check=True)
    for seed, new in zip(corpus.files, corpus.new, strict=True):
        line = next(line for line in result.stdout.splitlines() if seed.name in line)
        assert f" {new} " in line, line
    [edition] = editions(workdir / "site").values()
    assert edition["paper_count"] == corpus.distinct
    topics = [s["topic"] for s in edition["sections"]]  # type: ignore[union-attr]
    assert len(topics) >= 8  # papers are grouped, not dumped into one section


def test_preview_changes_nothing_and_is_repeatable(workdir: Path, corpus: Corpus) -> None:
    seeds = corpus.files
    newsletter("run", str(seeds[0]), "--date", "2026-03-11", cwd=workdir, check=True)
    before = _state_digest(workdir)
    args = ("preview", str(seeds[1]), "--date", "2026-03-12")
    newsletter(*args, "--out", "p1", cwd=workdir, check=True)
    newsletter(*args, "--out", "p2", cwd=workdir, check=True)
    assert _state_digest(workdir) == before
    one = json.loads((workdir / "p1" / "edition.json").read_text())
    assert one["paper_count"] == corpus.new[1]
    for path in sorted((workdir / "p1").rglob("*")):
        if path.is_file():
            twin = workdir / "p2" / path.relative_to(workdir / "p1")
            assert twin.read_bytes() == path.read_bytes(), path.name
    # and the run that follows publishes exactly what the preview showed
    newsletter("run", str(seeds[1]), "--date", "2026-03-12", cwd=workdir, check=True)
    run = editions(workdir / "site")["2026-03-12"]
    assert run == one


def test_preview_on_a_fresh_state_creates_no_database(workdir: Path, corpus: Corpus) -> None:
    newsletter("preview", str(corpus.file(0)), cwd=workdir, check=True)
    assert not list((workdir / "subscribers").glob("newsletter.db*"))


def test_second_run_for_a_date_says_so_and_force_makes_another(
    workdir: Path, corpus: Corpus
) -> None:
    seeds = corpus.files
    newsletter("run", str(seeds[0]), "--date", "2026-03-11", cwd=workdir, check=True)
    resumed = newsletter("run", str(seeds[0]), "--date", "2026-03-11", cwd=workdir)
    assert resumed.returncode == 0  # the same command again: nothing lost, it resumes
    assert "exists already" in resumed.stdout and "hold no new paper" in resumed.stdout
    again = newsletter("run", str(seeds[1]), "--date", "2026-03-11", cwd=workdir)
    assert again.returncode == 1  # other digests, whose new papers do not go in: said so
    [line] = error_lines(again.stderr)
    assert "exists already" in line and f"the {corpus.new[1]} new papers" in line
    assert "not recorded" in line and "--force" in line
    assert list(editions(workdir / "site")) == ["2026-03-11"]
    forced = newsletter("run", str(seeds[1]), "--date", "2026-03-11", "--force", cwd=workdir)
    assert forced.returncode == 0, forced.stderr
    assert editions(workdir / "site")["2026-03-11-2"]["paper_count"] == corpus.new[1]


def test_bad_digest_is_reported_in_one_line_and_the_rest_goes_on(
    workdir: Path, corpus: Corpus
) -> None:
    bad = workdir / "aaa-broken.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    good = corpus.file(0)
    result = newsletter("run", str(bad), str(good), "--date", "2026-03-11", cwd=workdir)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "aaa-broken.txt" in errors[0]
    assert "Traceback" not in result.stderr
    assert editions(workdir / "site")["2026-03-11"]["paper_count"] == corpus.fresh[0]


def test_nothing_of_a_truncated_digest_is_marked_seen(workdir: Path, corpus: Corpus) -> None:
    text = corpus.file(1).read_text(encoding="utf-8")
    blocks = text.rstrip().split("\n\n")
    truncated = workdir / "truncated.txt"
    truncated.write_text("\n\n".join(blocks[:-1]) + "\n", encoding="utf-8")  # ends on a title
    result = newsletter("run", str(truncated), "--date", "2026-03-12", cwd=workdir)
    assert result.returncode == 1
    assert "truncated" in result.stderr
    assert not (workdir / "site" / "editions").exists()
    newsletter("run", str(corpus.file(1)), "--date", "2026-03-12", cwd=workdir, check=True)
    # nothing of it was seen
    assert editions(workdir / "site")["2026-03-12"]["paper_count"] == corpus.fresh[1]


def test_config_errors_are_listed_together_with_their_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[newsletter]\ntimezone = "Mars/Olympus"\nnmae = "x"\n'
        '[email]\nbudget_kb = "big"\n'
        '[[sources]]\nname = "a"\nkind = "atomm"\npath = "d"\n',
        encoding="utf-8",
    )
    result = newsletter("--config", str(cfg), "config", "show", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    for key in ("newsletter.timezone", "newsletter.nmae", "email.budget_kb", "sources[0].kind"):
        assert any(key in line and str(cfg) in line for line in lines), key
    assert "Traceback" not in result.stderr
    debug = newsletter("--debug", "--config", str(cfg), "config", "show", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_config_from_environment_and_relative_paths(tmp_path: Path, corpus: Corpus) -> None:
    newsletter("init", str(tmp_path / "site-a"), cwd=tmp_path, check=True)
    shutil.copy(corpus.file(2), tmp_path / "site-a" / "digests")
    env = {"NEWSLETTER_CONFIG": str(tmp_path / "site-a" / "config.toml")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    full_env = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "run", "--date", "2026-03-14"],
        cwd=elsewhere,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    edition = editions(tmp_path / "site-a" / "site")["2026-03-14"]
    assert edition["paper_count"] == corpus.fresh[2] + 23  # the digest and the bundled sample
    assert (tmp_path / "site-a" / "subscribers" / "newsletter.db").exists()
    shown = subprocess.run(
        [sys.executable, "-m", "newsletter", "config", "show", "--json"],
        cwd=elsewhere,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(shown.stdout)
    assert data["sources"][0]["path"] == str(tmp_path / "site-a" / "digests")


def test_explain_shows_verdict_and_fired_rules(workdir: Path, corpus: Corpus) -> None:
    seed = corpus.file(0)
    query, topic = corpus.explain
    newsletter("run", str(seed), "--date", "2026-03-11", cwd=workdir, check=True)
    result = newsletter("explain", query, str(seed), cwd=workdir, check=True)
    # after its own run a listing is not "seen as itself": when and why it was new
    assert "first published in edition 2026-03-11 as NEW" in result.stdout
    assert "SEEN" not in result.stdout
    assert topic in result.stdout


@pytest.mark.slow
def test_killed_run_leaves_state_as_before_or_after(workdir: Path, corpus: Corpus) -> None:
    """SIGKILL at spread-out moments: never a half-written state."""
    seeds = [str(p) for p in corpus.files]
    outcomes = set()
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "run", *seeds, "--date", "2026-03-20"],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        check = newsletter(
            "preview", *seeds, "--date", "2026-03-20", "--force", "--out", "check", cwd=workdir
        )
        edition = json.loads((workdir / "check" / "edition.json").read_text())
        # preview --force computes against the state: all still new, or none (recorded)
        assert edition["paper_count"] in (corpus.distinct, 0), check.stdout
        outcomes.add(edition["paper_count"])
        if edition["paper_count"] == 0:
            break
    final = newsletter("run", *seeds, "--date", "2026-03-20", cwd=workdir)
    assert final.returncode == 0
    assert editions(workdir / "site")["2026-03-20"]["paper_count"] == corpus.distinct


def test_two_runs_at_once_make_one_edition(workdir: Path, corpus: Corpus) -> None:
    seeds = [str(p) for p in corpus.files]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "newsletter", "run", *seeds, "--date", "2026-03-20"],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    recorded = [o for o, _ in outputs if "Recorded edition" in o]
    assert len(recorded) == 1
    assert list(editions(workdir / "site")) == ["2026-03-20"]


@pytest.mark.postgres
def test_digest_counts_on_postgresql(workdir: Path, corpus: Corpus, postgres_url: str) -> None:
    env = {"NEWSLETTER_DATABASE_URL": postgres_url}
    for day, seed in enumerate(corpus.files, start=1):
        newsletter(
            "run", str(seed), "--date", f"2026-03-{10 + day:02d}", cwd=workdir, env=env, check=True
        )
    counts = [e["paper_count"] for e in editions(workdir / "site").values()]
    assert counts == list(corpus.new)
    assert not list((workdir / "subscribers").glob("newsletter.db*"))


def test_archive_index_lists_every_edition_however_many_papers(
    workdir: Path, corpus: Corpus
) -> None:
    config = workdir / "config.toml"
    config.write_text(
        config.read_text().replace("max_items = 200", "max_items = 20"), encoding="utf-8"
    )
    seeds = corpus.files[:3]
    for day, seed in enumerate(seeds, start=1):
        newsletter("run", str(seed), "--date", f"2026-03-{10 + day:02d}", cwd=workdir, check=True)
    index = (workdir / "site" / "index.html").read_text(encoding="utf-8")
    for day in ("2026-03-11", "2026-03-12", "2026-03-13"):
        assert f"editions/{day}/" in index


def test_preview_of_a_date_with_an_edition_shows_what_run_publishes_again(
    workdir: Path, corpus: Corpus
) -> None:
    seeds = corpus.files
    newsletter("run", str(seeds[0]), "--date", "2026-03-11", cwd=workdir, check=True)
    shown = newsletter("preview", str(seeds[1]), "--date", "2026-03-11", cwd=workdir)
    assert shown.returncode == 1  # as the run would: its new papers would not go in
    assert "exists already" in shown.stderr and "next run would record none" in shown.stderr
    assert (
        json.loads((workdir / "preview" / "edition.json").read_text())["paper_count"]
        == (corpus.new[0])
    )
    forced = newsletter(
        "preview", str(seeds[1]), "--date", "2026-03-11", "--force", cwd=workdir, check=True
    )
    assert "exists already" not in forced.stdout
    assert (
        json.loads((workdir / "preview" / "edition.json").read_text())["paper_count"]
        == (corpus.new[1])
    )
