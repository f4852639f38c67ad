"""Text digests: parsing real and hand-written files, refusing broken ones, finding inputs."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import pytest
from corpus_kit import Corpus
from hypothesis import given
from hypothesis import strategies as st

from newsletter import resources
from newsletter.errors import DigestError
from newsletter.model import Digest
from newsletter.repair import repair_text
from newsletter.sources.text import (
    MAX_DIGEST_BYTES,
    expand_inputs,
    parse_digest,
    read_digest,
)

EDITION = date(2026, 3, 20)

HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\nMar 11\n\n"
)
TITLE_A = "Sparse Adapters for Streaming Speech Recognition"
ABSTRACT_A = (
    "We study adapters for streaming recognizers. Sparse adapters match full "
    "fine-tuning at a tenth of the cost. Code is released."
)
TITLE_B = "Counting Objects with Diffusion Features"
ABSTRACT_B = "Diffusion features count objects well. We show this on four benchmarks."
TITLE_C = "Is Retrieval All You Need for Long Context?"
ABSTRACT_C = "No. But it helps a lot, as our experiments on six tasks show."
BODY = f"{TITLE_A}\n\n{ABSTRACT_A}\n\n\n{TITLE_B}\n\n{ABSTRACT_B}\n"


def parse(text: str | bytes, edition: date = EDITION) -> Digest:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_digest(data, name="digest.txt", edition_date=edition)


def pairs(digest: Digest) -> list[tuple[str, str]]:
    return [(e.title, e.abstract) for e in digest.entries]


def refusal(text: str | bytes) -> DigestError:
    with pytest.raises(DigestError) as caught:
        parse(text)
    return caught.value


# ---------------------------------------------------------------------------
# Whole digests: the project's own and the real seeds (see `corpus` in conftest.py)


def test_each_digest_parses_into_its_known_number_of_entries(corpus: Corpus) -> None:
    counts = []
    for seed in corpus.files:
        digest = read_digest(seed, EDITION)
        assert digest.name == seed.name
        counts.append(len(digest.entries))
    assert counts == list(corpus.entries)


def test_digest_entries_have_title_abstract_date_and_title_line(corpus: Corpus) -> None:
    for seed in corpus.files:
        digest = read_digest(seed, EDITION)
        lines = seed.read_text(encoding="utf-8").splitlines()
        assert digest.digest_date is not None
        assert (EDITION - digest.digest_date).days in range(366)
        for entry in digest.entries:
            assert entry.title and entry.abstract, (seed.name, entry.line)
            assert entry.source == seed.name
            assert entry.digest_date == digest.digest_date
            assert entry.line is not None
            assert repair_text(lines[entry.line - 1]) == entry.title
            assert len(entry.title) < len(entry.abstract)


def test_digest_with_the_daily_papers_header_has_its_date_read(corpus: Corpus) -> None:
    index, day = corpus.dated
    seed = corpus.file(index)
    assert "Daily Papers" in seed.read_text(encoding="utf-8")
    assert read_digest(seed, EDITION).digest_date == day


# ---------------------------------------------------------------------------
# Layout variations that must parse the same


def test_a_well_formed_digest_gives_titles_abstracts_and_title_lines() -> None:
    digest = parse(HEADER + BODY)
    assert pairs(digest) == [(TITLE_A, ABSTRACT_A), (TITLE_B, ABSTRACT_B)]
    assert [e.line for e in digest.entries] == [11, 16]
    assert digest.digest_date == date(2026, 3, 11)
    assert all(e.source == "digest.txt" and e.url is None for e in digest.entries)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings_parse_like_unix_ones(newline: str) -> None:
    digest = parse((HEADER + BODY).replace("\n", newline))
    assert pairs(digest) == pairs(parse(HEADER + BODY))
    assert [e.line for e in digest.entries] == [11, 16]


def test_extra_blank_and_whitespace_lines_between_blocks_are_ignored() -> None:
    body = f"\n\n   \n{TITLE_A}\n\t\n\n\n{ABSTRACT_A}   \n\n\n\n\n{TITLE_B}\n \n{ABSTRACT_B}\n\n\n"
    assert pairs(parse(HEADER + body)) == pairs(parse(HEADER + BODY))


def test_a_utf8_byte_order_mark_is_ignored() -> None:
    digest = parse(b"\xef\xbb\xbf" + (HEADER + BODY).encode())
    assert pairs(digest) == pairs(parse(HEADER + BODY))
    assert digest.digest_date == date(2026, 3, 11)


def test_the_optional_daily_papers_header_line_is_skipped() -> None:
    header = HEADER.replace("Subscribe\n\n", "Subscribe\n\nDaily Papers\n\n")
    assert pairs(parse(header + BODY)) == pairs(parse(HEADER + BODY))


def test_a_digest_without_page_chrome_but_with_a_date_parses() -> None:
    digest = parse("Mar 11\n\n" + BODY)
    assert pairs(digest) == pairs(parse(HEADER + BODY))
    assert digest.digest_date == date(2026, 3, 11)


def test_the_page_header_without_a_date_line_parses_with_no_date() -> None:
    header = HEADER.replace("Mar 11\n\n", "")
    digest = parse(header + BODY)
    assert pairs(digest) == pairs(parse(HEADER + BODY))
    assert digest.digest_date is None
    assert digest.entries[0].line == 9


def test_a_file_with_neither_page_header_nor_date_line_is_not_a_digest() -> None:
    error = refusal(BODY)
    assert error.where == "digest.txt:1"
    assert "not a text digest" in error.reason and repr(TITLE_A) in error.reason
    readme = refusal(Path("README.md").read_text(encoding="utf-8"))
    assert readme.where == "digest.txt:1" and "'# newsletter'" in readme.reason


def test_markdown_after_a_date_line_is_not_a_digest() -> None:
    error = refusal("Mar 11\n\n" + Path("README.md").read_text(encoding="utf-8"))
    assert "not a text digest" in error.reason and "Markdown" in error.reason
    assert error.where == "digest.txt:3"  # the first heading


def test_chrome_words_after_the_header_are_paper_titles() -> None:
    digest = parse(HEADER + f"Subscribe\n\n{ABSTRACT_A}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n")
    assert [e.title for e in digest.entries] == ["Subscribe", TITLE_B]


def test_a_title_directly_followed_by_a_title_gets_an_empty_abstract() -> None:
    body = f"{TITLE_A}\n\n{TITLE_C}\n\n{ABSTRACT_C}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n"
    assert pairs(parse(HEADER + body)) == [
        (TITLE_A, ""),
        (TITLE_C, ABSTRACT_C),
        (TITLE_B, ABSTRACT_B),
    ]


def test_a_short_abstract_without_its_full_stop_is_still_the_abstract() -> None:
    short = "We propose a sparse attention kernel that halves memory on long sequences"
    body = f"{TITLE_A}\n\n{short}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n"
    assert pairs(parse(HEADER + body)) == [(TITLE_A, short), (TITLE_B, ABSTRACT_B)]


def test_a_title_cased_title_opening_with_we_stays_a_title() -> None:
    title = "We Propose Better Benchmarks for Long Context Language Models"
    body = f"{TITLE_B}\n\n{title}\n\n{ABSTRACT_C}\n"
    assert pairs(parse(HEADER + body)) == [(TITLE_B, ""), (title, ABSTRACT_C)]


def test_a_question_title_after_a_missing_abstract_is_not_taken_for_an_abstract() -> None:
    body = f"{TITLE_B}\n\n{TITLE_C}\n\n{ABSTRACT_C}\n"
    assert pairs(parse(HEADER + body)) == [(TITLE_B, ""), (TITLE_C, ABSTRACT_C)]


def test_a_short_abstract_ending_with_a_url_is_still_an_abstract() -> None:
    abstract = "Code at https://example.org/counting"
    assert pairs(parse(HEADER + f"{TITLE_B}\n\n{abstract}\n")) == [(TITLE_B, abstract)]


def test_an_abstract_in_two_paragraphs_is_joined() -> None:
    first = "We study long abstracts. " * 25
    second = "A second paragraph follows here. It has more sentences to say. " * 10
    digest = parse(HEADER + f"{TITLE_A}\n\n{first}\n\n{second}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n")
    assert pairs(digest) == [
        (TITLE_A, repair_text(first + " " + second)),
        (TITLE_B, ABSTRACT_B),
    ]


def test_a_title_and_abstract_without_a_blank_line_between_are_split() -> None:
    digest = parse(HEADER + f"{TITLE_A}\n{ABSTRACT_A}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n")
    assert pairs(digest) == pairs(parse(HEADER + BODY))


def test_an_abstract_wrapped_over_several_lines_is_joined_with_spaces() -> None:
    wrapped = ABSTRACT_A.replace(". ", ".\n")
    assert pairs(parse(HEADER + f"{TITLE_A}\n\n{wrapped}\n")) == [(TITLE_A, ABSTRACT_A)]


def test_very_long_titles_and_abstracts_are_kept_whole() -> None:
    title = "Scaling " + "Very " * 400 + "Long Titles"
    abstract = "We write a long abstract. " * 40_000
    digest = parse(HEADER + f"{title}\n\n{abstract}\n")
    assert pairs(digest) == [(title, abstract.strip())]


def test_titles_and_abstracts_are_repaired() -> None:
    digest = parse(HEADER + "Fast andx2013Small Models\n\nIt is 3times faster &amp; smaller.\n")
    assert pairs(digest) == [("Fast and–Small Models", "It is 3× faster & smaller.")]


def test_an_arxiv_link_in_an_entry_gives_its_id_version_and_url() -> None:
    abstract = "We count objects. Paper: https://arxiv.org/abs/2403.01234v2 and code."
    (entry,) = parse(HEADER + f"{TITLE_B}\n\n{abstract}\n").entries
    assert (entry.arxiv_id, entry.arxiv_version) == ("2403.01234", 2)
    assert entry.url == "https://arxiv.org/abs/2403.01234v2"


def test_a_file_without_a_final_newline_is_complete() -> None:
    assert pairs(parse(HEADER + BODY.rstrip("\n"))) == pairs(parse(HEADER + BODY))


# ---------------------------------------------------------------------------
# The year of the date line


@pytest.mark.parametrize(
    ("edition", "date_line", "expected"),
    [
        (date(2026, 1, 5), "Dec 30", date(2025, 12, 30)),
        (date(2026, 1, 5), "Jan 5", date(2026, 1, 5)),
        (date(2026, 1, 5), "Jan 6", date(2025, 1, 6)),
        (date(2025, 12, 31), "Dec 30", date(2025, 12, 30)),
        (date(2025, 3, 1), "Feb 29", date(2024, 2, 29)),
        (date(2024, 2, 28), "Feb 29", date(2020, 2, 29)),
        (date(2024, 3, 1), "Feb 29", date(2024, 2, 29)),
        (date(2026, 4, 1), "March 11", date(2026, 3, 11)),
        (date(2026, 10, 1), "Sept 9", date(2026, 9, 9)),
    ],
)
def test_the_digest_date_gets_the_closest_year_not_after_the_edition(
    edition: date, date_line: str, expected: date
) -> None:
    digest = parse(f"{date_line}\n\n{BODY}", edition=edition)
    assert digest.digest_date == expected
    assert {e.digest_date for e in digest.entries} == {expected}


def test_an_impossible_date_line_is_refused_with_its_line() -> None:
    error = refusal(HEADER.replace("Mar 11", "Feb 30") + BODY)
    assert error.where == "digest.txt:9"
    assert "Feb 30" in error.reason


# ---------------------------------------------------------------------------
# Files that are refused whole


@pytest.mark.parametrize("data", [b"", b"   \n\n \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    error = refusal(data)
    assert (error.where, error.reason) == ("digest.txt", "empty file")


def test_a_file_with_nul_bytes_is_refused_as_binary() -> None:
    error = refusal((HEADER + BODY).encode("utf-16"))
    assert error.where == "digest.txt"
    assert error.reason.startswith("binary file")


def test_a_file_of_mostly_control_characters_is_refused_as_binary() -> None:
    error = refusal(bytes(range(1, 32)) * 50 + b"Title\n\nAbstract.\n")
    assert error.reason.startswith("binary file")


def test_invalid_utf8_is_refused_naming_its_line() -> None:
    data = (HEADER + BODY).encode().replace(b"fine-tuning", b"fine-tun\xe9ing")
    error = refusal(data)
    assert error.where == "digest.txt:13"
    assert "UTF-8" in error.reason and "0xE9" in error.reason
    assert "\n" not in error.reason


def test_invalid_utf8_line_number_counts_crlf_lines_once() -> None:
    data = (HEADER + BODY).replace("\n", "\r\n").encode().replace(b"Counting", b"\xffCounting")
    assert refusal(data).where == "digest.txt:16"


def test_a_header_without_entries_is_refused() -> None:
    error = refusal(HEADER)
    assert error.where == "digest.txt"
    assert error.reason.startswith("no entries")


def test_a_last_entry_cut_off_after_its_title_refuses_the_whole_file() -> None:
    error = refusal(HEADER + BODY + f"\n{TITLE_C}")
    assert error.where == "digest.txt:20"
    assert error.reason.startswith("truncated last entry")
    assert "\n" not in error.reason


def test_a_file_of_a_lone_title_is_refused_as_truncated() -> None:
    assert refusal(HEADER + TITLE_A + "\n").reason.startswith("truncated last entry")


def test_an_abstract_where_the_first_title_belongs_is_refused() -> None:
    abstract = "This reads like an abstract. It has many sentences. " * 20
    error = refusal(HEADER + f"{abstract}\n\n{TITLE_B}\n\n{ABSTRACT_B}\n")
    assert error.where == "digest.txt:11"


# ---------------------------------------------------------------------------
# Reading files


def test_read_digest_names_the_digest_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "2026-03-11.txt"
    path.write_text(HEADER + BODY, encoding="utf-8")
    digest = read_digest(path, EDITION)
    assert digest.name == "2026-03-11.txt"
    assert {e.source for e in digest.entries} == {"2026-03-11.txt"}


def test_read_digest_refuses_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(MAX_DIGEST_BYTES + 1)
    with pytest.raises(DigestError) as caught:
        read_digest(path, EDITION)
    assert caught.value.where == "huge.txt"
    assert "MB" in caught.value.reason


def test_read_digest_of_a_missing_file_is_a_digest_error(tmp_path: Path) -> None:
    with pytest.raises(DigestError) as caught:
        read_digest(tmp_path / "gone.txt", EDITION)
    assert caught.value.where == "gone.txt"


# ---------------------------------------------------------------------------
# Finding input files


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + BODY, encoding="utf-8")
    return path


def test_inputs_expand_files_folders_and_globs_sorted_by_file_name(tmp_path: Path) -> None:
    b = touch(tmp_path / "digests" / "b.txt")
    a = touch(tmp_path / "digests" / "a.txt")
    touch(tmp_path / "digests" / "notes.md")
    c = touch(tmp_path / "more" / "c.txt")
    z = touch(tmp_path / "z.dat")
    files, problems = expand_inputs(["more/*.txt", "digests", str(z)], tmp_path)
    assert files == [a, b, c, z]
    assert problems == []


def test_inputs_named_twice_are_listed_once(tmp_path: Path) -> None:
    a = touch(tmp_path / "digests" / "a.txt")
    files, _ = expand_inputs(["digests", "digests/*.txt", a, "digests/../digests/a.txt"], tmp_path)
    assert files == [a]


def test_same_file_names_in_two_folders_sort_by_path(tmp_path: Path) -> None:
    second = touch(tmp_path / "y" / "day.txt")
    first = touch(tmp_path / "x" / "day.txt")
    files, _ = expand_inputs(["*/day.txt"], tmp_path)
    assert files == [first, second]


def test_inputs_matching_nothing_are_reported_as_problems(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    files, problems = expand_inputs(["digests/*.txt", "missing.txt", "empty"], tmp_path)
    assert files == []
    assert problems == [
        "digests/*.txt: no files match",
        "missing.txt: no files match",
        "empty: no files match",
    ]


# ---------------------------------------------------------------------------
# Property: any digest written in the format parses back to what was written

_WORD = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)
_TITLE = st.builds(
    lambda words, question: " ".join(w.capitalize() for w in words) + ("?" if question else ""),
    st.lists(_WORD, min_size=3, max_size=14),
    st.booleans(),
)
_SENTENCE = st.lists(_WORD, min_size=3, max_size=20).map(lambda ws: " ".join(ws).capitalize() + ".")
_ABSTRACT = st.lists(_SENTENCE, min_size=1, max_size=8).map(" ".join)


@st.composite
def _digests(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str, int]]]:
    """A digest file and the (title, abstract, title line) entries it holds."""
    entries = draw(st.lists(st.tuples(_TITLE, st.none() | _ABSTRACT), min_size=1, max_size=8))
    entries[-1] = (entries[-1][0], entries[-1][1] or draw(_ABSTRACT))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = ["Mar 11"]
    if draw(st.booleans()):
        chrome = ["new", "Get trending papers in your email inbox!", "Subscribe"]
        chrome += ["Daily Papers"] if draw(st.booleans()) else []
        header = [*chrome, "byAK and the research community", "Mar 11"]
    lines: list[str] = []
    for line in header:
        lines += [line, ""]
    expected: list[tuple[str, str, int]] = []
    for title, abstract in entries:
        lines += [""] * draw(st.integers(0, 2))
        expected.append((title, abstract or "", len(lines) + 1))
        lines += [title, ""]
        if abstract is not None:
            lines += [""] * draw(st.integers(0, 2))
            lines += [abstract, ""]
    text = newline.join(lines)
    if not draw(st.booleans()):
        text = text.rstrip(newline)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8"), expected


@given(_digests())
def test_any_written_digest_parses_back_to_its_entries(
    case: tuple[bytes, list[tuple[str, str, int]]],
) -> None:
    data, expected = case
    digest = parse_digest(data, name="generated.txt", edition_date=EDITION)
    assert [(e.title, e.abstract, e.line) for e in digest.entries] == [
        (repair_text(t), repair_text(a), line) for t, a, line in expected
    ]
    assert digest.digest_date == date(2026, 3, 11)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_either_parse_or_raise_a_digest_error(data: bytes) -> None:
    try:
        digest = parse_digest(data, name="noise.txt", edition_date=EDITION)
    except DigestError as error:
        assert error.where.startswith("noise.txt")
        assert "\n" not in error.reason
    else:
        assert digest.entries
        assert all(e.title for e in digest.entries)


def test_the_bundled_sample_digest_parses_with_its_artefacts_repaired() -> None:
    digest = read_digest(resources.sample_digest(), date(2026, 1, 5))
    assert len(digest.entries) == 23
    assert digest.digest_date == date(2025, 11, 19)
    abstracts = " ".join(e.abstract for e in digest.entries)
    assert "rate-distortion–yet" in abstracts and "2.1× faster" in abstracts
    assert all(e.title and e.abstract for e in digest.entries)


def test_an_arxiv_link_cited_in_an_abstract_is_not_the_papers_id() -> None:
    cites = (
        "We extend the method of https://arxiv.org/abs/2301.00001 to graphs and show "
        "large gains on six benchmarks while halving the memory needed for training."
    )
    text = f"Nov 19\n\nPaper One About Graphs\n\n{cites}\n\nPaper Two\n\n{cites} Also speech.\n"
    digest = parse_digest(text.encode(), name="t.txt", edition_date=date(2026, 11, 20))
    assert [e.arxiv_id for e in digest.entries] == [None, None]


def test_a_labelled_link_gives_the_papers_id() -> None:
    abstract = "We study things carefully and report results on many benchmarks. " * 5
    text = f"Nov 19\n\nOwn Link Paper\n\n{abstract} arXiv: https://arxiv.org/abs/2403.01234v2\n"
    digest = parse_digest(text.encode(), name="t.txt", edition_date=date(2026, 11, 20))
    assert [(e.arxiv_id, e.arxiv_version) for e in digest.entries] == [("2403.01234", 2)]


def test_a_short_abstract_of_two_sentences_is_not_taken_for_a_title() -> None:
    text = (
        "Nov 19\n\nPaper A Title\n\nCan LLMs count? We find they cannot!\n\nPaper B\n\nShort one.\n"
    )
    digest = parse_digest(text.encode(), name="t.txt", edition_date=date(2026, 11, 20))
    assert [(e.title, e.abstract) for e in digest.entries] == [
        ("Paper A Title", "Can LLMs count? We find they cannot!"),
        ("Paper B", "Short one."),
    ]


# ---------------------------------------------------------------------------
# One read path, from the command line or from [[sources]]


def test_digests_read_the_same_from_the_command_line_and_from_a_text_source(
    tmp_path: Path,
) -> None:
    """Same digests, same errors; only a configured source is remembered as ingested."""
    from newsletter import config, pipeline
    from newsletter.sources.collect import Collected

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.txt").write_text(HEADER + BODY, encoding="utf-8")
    (drop / "b.txt").write_text(HEADER + BODY + f"\n{TITLE_C}", encoding="utf-8")  # truncated
    (drop / "c.txt").write_bytes((HEADER + BODY).encode("utf-8"))  # a's content again
    settings = config.parse(
        '[[sources]]\nname = "drop"\nkind = "text"\npath = "drop"\n',
        where="config.toml",
        base_dir=tmp_path,
    )
    given = pipeline.collect(settings, [str(drop)], EDITION)
    configured = pipeline.collect(settings, [], EDITION)

    def errors(collected: Collected) -> dict[str, str | None]:
        return {r.name: r.error for r in collected.reports if r.error}

    assert configured.digests[0] == given.digests[0]
    assert [d.name for d in given.digests] == ["a.txt", "c.txt"]  # given: always read
    assert [d.name for d in configured.digests] == ["a.txt"]  # the same content once
    assert errors(given) == errors(configured) and set(errors(given)) == {"b.txt"}
    assert "b.txt:20: truncated last entry" in (errors(given)["b.txt"] or "")
    assert given.ingested.files == ()
    assert [(f.name, f.source) for f in configured.ingested.files] == [("a.txt", "drop")]
    assert {kind for _, _, kind in given.kinds + configured.kinds} == {"text"}
