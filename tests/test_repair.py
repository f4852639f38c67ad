"""repair_text: artefacts of HTML and LaTeX repaired, ordinary prose left alone."""

from __future__ import annotations

import pytest
from corpus_kit import Corpus
from hypothesis import given
from hypothesis import strategies as st

from newsletter.repair import repair_text


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("2019&#8211;2024", "2019–2024"),
        ("2019&ndash;2024", "2019–2024"),
        ("a &#x201C;quote&#x201D;", "a “quote”"),
        ("double &amp;amp; escaped", "double & escaped"),
    ],
)
def test_html_entities_become_characters(raw: str, repaired: str) -> None:
    assert repair_text(raw) == repaired


@pytest.mark.parametrize(
    "text",
    ["MoCoV1&V2 and 2D&3D", "CIFAR10&100", "Back&Refine", "X&parameters", "Q&A, R&D"],
)
def test_ampersands_without_a_closing_semicolon_are_left_alone(text: str) -> None:
    assert repair_text(text) == text


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        (
            "machine-oriented compressionx2013which prioritizes",
            "machine-oriented compression–which prioritizes",
        ),
        ("a pausex2014then more", "a pause—then more"),
        ("pages 10 x2013 20", "pages 10 – 20"),
        ("x201Cquotedx201D", "“quoted”"),
        ("it isnx27t so", "it isn't so"),
        ("the modelx27s weights", "the model's weights"),
    ],
)
def test_entities_with_stripped_ampersand_and_semicolon_are_repaired(
    raw: str, repaired: str
) -> None:
    assert repair_text(raw) == repaired


@pytest.mark.parametrize(
    "text",
    [
        "https://anonymous0x233.github.io/ReuseAndDiffuse/",
        "the constant 0x2013 in hex",
        "images of 4096x2016 pixels",
        "ImageNet 256x256 and 16x16 patches",
        "Mixtral 8x7B",
        "an x27 chip and Rx26D",
        "a tile of 3x27 cells",
        "fixed exact mixed excel execution",
        "x20131 items",
    ],
)
def test_hex_like_tokens_that_are_not_stripped_entities_are_kept(text: str) -> None:
    assert repair_text(text) == text


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("at least 2.44times faster for kge3.", "at least 2.44× faster for k≥3."),
        ("speed-ups by 1.75times and 1.76times, as", "speed-ups by 1.75× and 1.76×, as"),
        ("an image with 16times16 descriptors", "an image with 16×16 descriptors"),
        ("inference by 3times, without", "inference by 3×, without"),
        ("a HyperZcdotZcdotW operator", "a HyperZ·Z·W operator"),
        ("a HyperZ{cdotZ{cdot}W} operator", "a HyperZ{·Z{·}W} operator"),
        ("accuracy 81.2pm0.3 percent", "accuracy 81.2±0.3 percent"),
        ("for nleq5 layers", "for n≤5 layers"),
        ("approx10 hours", "≈10 hours"),
        ("maps Arightarrow B", "maps A→ B"),
    ],
)
def test_latex_commands_that_lost_their_backslash_are_repaired(raw: str, repaired: str) -> None:
    assert repair_text(raw) == repaired


@pytest.mark.parametrize(
    "text",
    [
        "three times faster than before",
        "at times the model fails",
        "a similar sim2real gap",
        "approx. ten hours",
        "we meet at 3pm today",
        "the age3 cohort and Age5 group",
        "large language model agents",
        "the right arrow key",
    ],
)
def test_ordinary_words_that_contain_latex_names_are_kept(text: str) -> None:
    assert repair_text(text) == text


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("cross-entropy loss up to 85.1\\% faster", "cross-entropy loss up to 85.1% faster"),
        ("efficient model \\& task scaling", "efficient model & task scaling"),
        ('compared to a na\\"ive application', "compared to a naïve application"),
        ("specifically the \\textbf{Mamba} model", "specifically the Mamba model"),
        ("(1) {\\it determinism}: almost", "(1) determinism: almost"),
        (
            "enhancement and translation, \\etc. However",
            "enhancement and translation, etc. However",
        ),
        ("regions (\\ie, routed regions)", "regions (i.e., routed regions)"),
        ("a $3\\times$ speed-up with $\\alpha \\leq 1$", "a $3×$ speed-up with $α ≤ 1$"),
        ("Knowledge distillation~(KD) has", "Knowledge distillation (KD) has"),
    ],
)
def test_latex_markup_with_its_backslash_is_turned_into_text(raw: str, repaired: str) -> None:
    assert repair_text(raw) == repaired


def test_control_characters_are_removed_and_the_text_kept() -> None:
    assert repair_text("Vision\x00 Trans\x07formers\u200b") == "Vision Transformers"


def test_whitespace_runs_collapse_to_single_spaces() -> None:
    assert repair_text("  A\tTitle \r\n on\u00a0two   lines  ") == "A Title on two lines"


def test_clean_text_is_returned_unchanged() -> None:
    text = "Attention Is All You Need? Good Embeddings with Statistics are enough"
    assert repair_text(text) == text


def test_stripped_dashes_in_the_digests_all_become_dashes(corpus: Corpus) -> None:
    assert any("x2013" in seed.read_text(encoding="utf-8") for seed in corpus.files)
    for seed in corpus.files:
        raw = seed.read_text(encoding="utf-8")
        repaired = repair_text(raw)
        assert "x2013" not in repaired, seed.name
        assert repaired.count("–") >= raw.count("x2013"), seed.name


_PIECES = [
    *"abcdefgkmnpstxzABZ0123456789 .,;&#{}\\~\t\n\x00\u200b",
    *("x2013", "x27", "times", "cdot", "&amp;", "&#8211;", "\\%", "\\textbf{", '\\"', "ge"),
]
_ARTEFACTY = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@given(st.one_of(st.text(), _ARTEFACTY))
def test_repair_is_idempotent(text: str) -> None:
    once = repair_text(text)
    assert repair_text(once) == once


@given(st.one_of(st.text(), _ARTEFACTY))
def test_repaired_text_has_no_control_characters_or_edge_whitespace(text: str) -> None:
    repaired = repair_text(text)
    assert repaired == repaired.strip()
    assert "  " not in repaired
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in repaired)
