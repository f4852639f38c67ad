"""The per-subscriber ranking (newsletter.ranking): what a reader notices of it.

A profile that likes one kind of paper sees that kind first, each with a reason
naming what they liked; no votes, no model, digest order; the same seed gives the
same ranking; seeds alone (no 👎, nothing shown) are enough; and a train() with
nothing to learn from says so in the project's own error.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.errors import NewsletterError
from newsletter.ranking import PaperText, Ranker, RankingError, Scored, Tuning, Vote, reasons, train

T0 = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)

# Two kinds of paper, written for this test: speech papers and diffusion papers,
# plus a few others.  Each kind shares its words, as the papers of one field do.
SPEECH = [
    (
        "Streaming speech recognition with chunked conformers",
        "We build a streaming speech recognition model for low latency transcription of audio.",
    ),
    (
        "Multilingual speech translation from raw audio",
        "Speech translation maps spoken audio in one language to text in another.",
    ),
    (
        "Robust speech enhancement under reverberation",
        "Speech enhancement removes noise and reverberation from recorded audio signals.",
    ),
    (
        "Self-supervised speech representations for low-resource recognition",
        "Pretrained speech encoders improve recognition of audio in low-resource languages.",
    ),
    (
        "Speaker diarization for meeting audio",
        "We segment meeting audio by speaker, improving speech recognition of each turn.",
    ),
    (
        "Neural vocoders for expressive speech synthesis",
        "A vocoder turns acoustic features into speech audio with natural prosody.",
    ),
    (
        "Keyword spotting on microcontrollers with tiny speech models",
        "Tiny speech models detect spoken keywords in streaming audio on devices.",
    ),
    (
        "Speech emotion recognition across corpora",
        "Emotion in speech audio is recognised by a model trained across several corpora.",
    ),
]
DIFFUSION = [
    (
        "Text-guided image editing with diffusion models",
        "A diffusion model edits an image following a text prompt while keeping its layout.",
    ),
    (
        "Video diffusion with temporal attention",
        "We generate video with a diffusion model whose temporal attention keeps frames coherent.",
    ),
    (
        "Fast sampling for latent diffusion",
        "Fewer denoising steps make latent diffusion image generation ten times faster.",
    ),
    (
        "Inpainting with masked diffusion priors",
        "Masked diffusion priors fill missing image regions with plausible content.",
    ),
    (
        "Consistency distillation of image diffusion models",
        "Distilling a diffusion model into a consistency model generates an image in one step.",
    ),
    (
        "Diffusion transformers for high-resolution image synthesis",
        "A transformer backbone for diffusion scales image generation to high resolution.",
    ),
    (
        "Personalised diffusion generation from a few photos",
        "A diffusion model learns a subject from a few photos and generates new images of it.",
    ),
    (
        "3D scene generation by multi-view diffusion",
        "Multi-view diffusion generates consistent images that are lifted into a 3D scene.",
    ),
]
OTHER = [
    (
        "Graph neural networks for molecule property prediction",
        "Message passing over molecular graphs predicts chemical properties.",
    ),
    (
        "Reinforcement learning for robot grasping",
        "A robot learns to grasp objects with reinforcement learning in simulation.",
    ),
    (
        "Dense retrieval with hard negatives",
        "Retrieval of passages improves when the encoder is trained with hard negatives.",
    ),
    (
        "Quantization of large language models to four bits",
        "Four-bit quantization keeps language model accuracy while cutting memory.",
    ),
]


def _papers(prefix: str, rows: list[tuple[str, str]]) -> list[PaperText]:
    return [PaperText(f"{prefix}:{i}", t, a, ("A. Author",)) for i, (t, a) in enumerate(rows)]


SPEECH_PAPERS = _papers("speech", SPEECH)
DIFFUSION_PAPERS = _papers("diffusion", DIFFUSION)
OTHER_PAPERS = _papers("other", OTHER)
CORPUS = SPEECH_PAPERS + DIFFUSION_PAPERS + OTHER_PAPERS


def _votes(liked: list[PaperText], disliked: list[PaperText] = []) -> list[Vote]:  # noqa: B006
    return [Vote(p.key, True, T0 + timedelta(minutes=i)) for i, p in enumerate(liked)] + [
        Vote(p.key, False, T0 + timedelta(minutes=100 + i)) for i, p in enumerate(disliked)
    ]


def _held_out() -> list[PaperText]:
    """Candidates the model was not trained on: the last three of each kind, interleaved
    with others so that digest order puts no kind first."""
    return [
        DIFFUSION_PAPERS[5],
        OTHER_PAPERS[0],
        SPEECH_PAPERS[5],
        DIFFUSION_PAPERS[6],
        OTHER_PAPERS[1],
        SPEECH_PAPERS[6],
        DIFFUSION_PAPERS[7],
        SPEECH_PAPERS[7],
    ]


def _trained(seed: int = 0, tuning: Tuning = Tuning()) -> Ranker:  # noqa: B008
    votes = {
        1: _votes(SPEECH_PAPERS[:5], DIFFUSION_PAPERS[:2]),  # a speech reader
        2: _votes(DIFFUSION_PAPERS[:5], SPEECH_PAPERS[:2]),  # a diffusion reader
    }
    shown = {1: [p.key for p in CORPUS], 2: [p.key for p in CORPUS]}
    return train(CORPUS, votes, shown, seed=seed, tuning=tuning)


def test_a_profile_that_likes_one_topic_sees_its_held_out_papers_first() -> None:
    ranker = _trained(tuning=Tuning(blends=(1.0,)))  # the model's order (the default blends)
    for subscriber, kind in ((1, "speech:"), (2, "diffusion:")):
        ranked = ranker.rank(subscriber, _held_out())
        assert [s.paper_key.startswith(kind) for s in ranked[:3]] == [True] * 3, ranked
        assert len(ranked) == len(_held_out())
        scores = [s.score for s in ranked]
        assert scores == sorted(scores, reverse=True)
        assert {s.paper_key for s in ranked} == {p.key for p in _held_out()}


def test_each_reason_names_a_liked_paper_or_the_words_that_matched() -> None:
    ranked = _trained().rank(1, _held_out())
    liked_titles = {p.title for p in SPEECH_PAPERS[:5]}
    top = ranked[0]
    assert top.reason.startswith("because you liked “"), top
    assert top.reason.removeprefix("because you liked “").removesuffix("”") in liked_titles
    for scored in ranked:
        assert scored.reason.startswith(("because you liked “", "matches: ", "no strong match"))
        if scored.reason.startswith("because you liked"):
            assert any(f"“{t}”" in scored.reason for t in liked_titles)


def test_a_reason_of_matching_words_names_words_of_the_candidate() -> None:
    # a candidate about robots and molecules that shares one word with the speech papers
    # liked: not like any of them, but "audio" is what lifts it
    candidate = PaperText(
        "new:1",
        "Robot grasping of molecules with audio feedback",
        "A robot learns grasping by reinforcement learning in simulation, guided by audio; "
        "message passing over molecular graphs predicts which molecules it can hold.",
    )
    ranker = train([*CORPUS, candidate], {7: _votes(SPEECH_PAPERS[:4])}, {}, seed=0)
    (scored,) = ranker.rank(7, [candidate])
    assert scored.reason == "matches: audio", scored


def test_no_votes_no_model_and_the_caller_keeps_digest_order() -> None:
    ranker = train(CORPUS, {1: _votes(SPEECH_PAPERS[:3]), 3: []}, {}, seed=0)
    assert ranker.has_model(1)
    assert not ranker.has_model(3) and ranker.rank(3, _held_out()) == []
    assert not ranker.has_model(99) and ranker.rank(99, _held_out()) == []
    # votes only on papers the corpus does not hold are no model either
    stray = train(CORPUS, {4: [Vote("arxiv:0000.00000", True, T0)]}, {}, seed=0)
    assert not stray.has_model(4) and stray.rank(4, _held_out()) == []


def test_the_same_seed_gives_the_same_ranking_and_scores() -> None:
    first = _trained(seed=5).rank(1, _held_out())
    again = _trained(seed=5).rank(1, _held_out())
    assert first == again
    assert all(isinstance(s, Scored) for s in first)


def test_a_profile_of_seeds_only_works() -> None:
    """Only 👍 (seeded "papers I like"), nothing shown: random negatives come from
    the corpus."""
    seeds = [Vote(p.key, True, T0, seeded=True) for p in DIFFUSION_PAPERS[:4]]
    ranker = train(CORPUS, {5: seeds}, {}, seed=0)
    ranked = ranker.rank(5, _held_out())
    assert all(s.paper_key.startswith("diffusion:") for s in ranked[:3]), ranked
    assert ranked[0].reason.startswith("because you liked “")


def test_a_later_vote_replaces_an_earlier_one_and_dislikes_push_down() -> None:
    changed = [
        *_votes(DIFFUSION_PAPERS[:4]),
        *[Vote(p.key, False, T0 + timedelta(days=1)) for p in DIFFUSION_PAPERS[:4]],
        *[Vote(p.key, True, T0 + timedelta(days=1)) for p in SPEECH_PAPERS[:4]],
    ]
    ranked = train(CORPUS, {6: changed}, {}, seed=0).rank(6, _held_out())
    assert all(s.paper_key.startswith("speech:") for s in ranked[:3]), ranked
    assert all(s.paper_key.startswith(("diffusion:", "other:")) for s in ranked[3:])


def test_a_tiny_corpus_all_voted_ranks_by_likeness() -> None:
    corpus = [SPEECH_PAPERS[0], DIFFUSION_PAPERS[0]]
    ranker = train(corpus, {1: _votes(corpus[:1])}, {}, seed=0)
    ranked = ranker.rank(1, [DIFFUSION_PAPERS[1], SPEECH_PAPERS[1]])
    assert ranked[0].paper_key == SPEECH_PAPERS[1].key


@pytest.mark.parametrize(
    "corpus",
    [[], [PaperText("k:1", "The", "and of the a")]],
    ids=["no papers", "no words"],
)
def test_nothing_to_train_on_is_our_error_not_a_sklearn_traceback(
    corpus: list[PaperText],
) -> None:
    with pytest.raises(RankingError) as caught:
        train(corpus, {1: _votes(SPEECH_PAPERS[:2])}, {}, seed=0)
    assert isinstance(caught.value, NewsletterError)
    assert "corpus" in caught.value.message and caught.value.hint


def test_a_profile_of_dislikes_only_puts_that_kind_last() -> None:
    ranker = train(CORPUS, {8: _votes([], DIFFUSION_PAPERS[:5])}, {}, seed=0)
    ranked = ranker.rank(8, _held_out())
    assert all(s.paper_key.startswith("diffusion:") for s in ranked[-3:]), ranked
    assert {s.reason for s in ranked} == {"ranked by the papers you marked 👎"}


def test_topic_tags_are_learned_like_words() -> None:
    """Two papers with the same words, one tagged with the topic this reader liked."""
    tagged = [replace(p, topics=("audio",)) for p in SPEECH_PAPERS[:5]]
    twins = [
        PaperText("twin:a", "Sparse models at scale", "We study sparse models.", (), ("audio",)),
        PaperText("twin:b", "Sparse models at scale", "We study sparse models.", (), ("vision",)),
    ]
    corpus = [*tagged, *DIFFUSION_PAPERS, *OTHER_PAPERS, *twins]
    ranked = train(corpus, {9: _votes(tagged)}, {}, seed=0).rank(9, twins[::-1])
    assert [s.paper_key for s in ranked] == ["twin:a", "twin:b"]
    assert "topic" not in ranked[0].reason


def test_importing_the_package_does_not_load_scikit_learn() -> None:
    """``newsletter --help`` and every command that never ranks skip its import."""
    probe = "import sys, newsletter.ranking, newsletter.cli; print('sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "False"


def _tagged(papers: list[PaperText], *topics: str) -> list[PaperText]:
    return [replace(p, topics=topics) for p in papers]


@pytest.mark.parametrize("prior", [0.0, 1.0], ids=["tag columns", "with the topic prior"])
def test_a_reader_of_one_topic_sees_its_new_papers_first_because_of_the_topic(
    prior: float,
) -> None:
    """Liked papers that share a topic but hardly a word: the topic is what they like,
    and a new paper of it, in words none of them used, comes first with that reason."""
    liked = _tagged([SPEECH_PAPERS[0], DIFFUSION_PAPERS[0], *OTHER_PAPERS], "science")
    disliked = _tagged([SPEECH_PAPERS[1], DIFFUSION_PAPERS[1], SPEECH_PAPERS[2]], "audio")
    rest = _tagged([*SPEECH_PAPERS[3:], *DIFFUSION_PAPERS[2:]], "vision")
    candidates = [
        PaperText(
            "new:vision",
            "Cardiac ultrasound segmentation",
            "Echocardiogram frames.",
            (),
            ("vision",),
        ),
        PaperText(
            "new:science", "Glacier flow inversion", "Ice sheet velocity fields.", (), ("science",)
        ),
    ]
    corpus = [*liked, *disliked, *rest, *candidates]
    shown = {1: [p.key for p in rest]}
    tuning = Tuning(topic_prior=prior)
    ranker = train(corpus, {1: _votes(liked, disliked)}, shown, seed=0, tuning=tuning)
    ranked = ranker.rank(1, candidates)
    assert [s.paper_key for s in ranked] == ["new:science", "new:vision"], ranked
    assert ranked[0].reason == "you liked 6 papers in science", ranked[0]


def test_a_reader_of_words_across_topics_is_not_led_by_the_topics() -> None:
    """Speech papers liked whatever their tag (half "audio", half "vision"), diffusion
    papers disliked under the same tags: a speech paper tagged with the topic of most
    disliked papers still comes before a diffusion paper of the topic liked most."""
    liked = _tagged(SPEECH_PAPERS[:3], "audio") + _tagged(SPEECH_PAPERS[3:5], "vision")
    disliked = _tagged(DIFFUSION_PAPERS[:2], "audio") + _tagged(DIFFUSION_PAPERS[2:5], "vision")
    candidates = [
        replace(DIFFUSION_PAPERS[6], topics=("audio",)),
        replace(SPEECH_PAPERS[6], topics=("vision",)),
    ]
    corpus = [*liked, *disliked, *OTHER_PAPERS, *candidates, SPEECH_PAPERS[7]]
    ranked = train(corpus, {2: _votes(liked, disliked)}, {}, seed=0).rank(2, candidates)
    assert [s.paper_key for s in ranked] == [SPEECH_PAPERS[6].key, DIFFUSION_PAPERS[6].key]
    assert "papers in" not in ranked[0].reason, ranked[0]


def test_topic_interests_are_the_smoothed_odds_of_a_thumbs_up_per_topic() -> None:
    from scipy import sparse

    from newsletter.ranking.interests import interests_of

    # topics: 0 always 👍, 1 always 👎, 2 never voted
    liked = sparse.csr_matrix([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0]])
    negatives = sparse.csr_matrix([[0, 1.0, 0], [0, 1.0, 0], [0, 1.0, 0]])
    interests, liked_prior, negative_prior = interests_of(liked, negatives, [1.0] * 3, 2.0)
    assert interests.log_odds[0] > 0 > interests.log_odds[1]
    assert interests.log_odds[2] == pytest.approx(0.0)
    assert list(interests.liked) == [3, 0, 0]
    # each training paper's prior leaves its own vote out: weaker than the full one
    assert 0 < liked_prior[0] < interests.log_odds[0]
    assert interests.log_odds[1] < negative_prior[0] < 0


def test_the_blend_falls_back_to_the_callers_order_and_the_model_moves_it() -> None:
    """Blend 0 is the candidates' order exactly (for a subscriber with topics: the
    topic filter's), blend 1 the model's; the default sits between and still puts
    the reader's kind first, where the caller's order (``_held_out``) does not."""
    votes = {1: _votes(SPEECH_PAPERS[:5], DIFFUSION_PAPERS[:2])}
    shown = {1: [p.key for p in CORPUS]}
    candidates = _held_out()
    fallback = train(CORPUS, votes, shown, tuning=Tuning(blends=(0.0,))).rank(1, candidates)
    assert [s.paper_key for s in fallback] == [p.key for p in candidates]
    model = train(CORPUS, votes, shown, tuning=Tuning(blends=(1.0,))).rank(1, candidates)
    assert [s.paper_key.startswith("speech:") for s in model[:3]] == [True] * 3
    default = train(CORPUS, votes, shown).rank(1, candidates)
    assert default[0].paper_key.startswith("speech:")
    assert [s.paper_key for s in default] != [p.key for p in candidates]


def test_a_subscriber_with_topics_keeps_the_topic_filter_unless_the_model_beats_it() -> None:
    """With a choice of blends, a subscriber with topics whose later votes do not
    show the model beating their topic edition's order keeps that order; one whose
    later votes do (a speech reader whose topic edition mixes kinds) gets the model."""
    tagged = [replace(p, topics=("audio",)) for p in CORPUS]  # one topic holds all
    choice = Tuning(blends=(0.0, 1.0))
    shown = {2: [p.key for p in tagged]}
    speech, diffusion = SPEECH_PAPERS, DIFFUSION_PAPERS
    # a speech reader whose votes alternate speech 👍 / diffusion 👎, like their edition
    alternating = [x for pair in zip(speech[:8], diffusion[:8], strict=True) for x in pair]
    votes = {
        2: [Vote(p.key, p in speech, T0 + timedelta(minutes=i)) for i, p in enumerate(alternating)]
    }
    ranker = train(tagged, votes, shown, tuning=choice, topics={2: frozenset({"audio"})})
    candidates = [replace(p, topics=("audio",)) for p in _held_out()]
    learned = ranker.rank(2, candidates)
    assert [s.paper_key.startswith("speech:") for s in learned[:3]] == [True] * 3
    # and without any 👍 earlier than the held-out votes: no evidence, the fallback
    late = {
        2: [
            Vote(p.key, p in speech, T0 + timedelta(minutes=i))
            for i, p in enumerate([*diffusion[:6], *speech[:3]])
        ]
    }
    kept = train(tagged, late, shown, tuning=choice, topics={2: frozenset({"audio"})})
    assert [s.paper_key for s in kept.rank(2, candidates)] == [p.key for p in candidates]


def test_a_reason_never_names_a_number_or_filler_words_that_matched_by_accident() -> None:
    """The red team's reasons on the real seeds read "matches: 84, base, captures": a
    number and abstract filler the reader's 👍 papers happened to share.  The score
    still uses them; the reason names the words that mean something."""
    liked = [
        PaperText(
            f"liked:{i}",
            f"Audio captioning with transformers, part {i}",
            "We propose a new audio captioning model; it captures 84 sound events and the "
            "base model improves results respectively across the entire benchmark.",
        )
        for i in range(4)
    ]
    candidate = PaperText(
        "new:84",
        "Robot grasping of molecules",
        "A robot grasping policy for molecules, trained by reinforcement learning in "
        "simulation with message passing over molecular graphs, guided by sound; it "
        "captures 84 grasps, respectively.",
    )
    ranker = train([*CORPUS, *liked, candidate], {3: _votes(liked)}, {}, seed=0)
    (scored,) = ranker.rank(3, [candidate])
    assert scored.reason.startswith("matches: "), scored
    named = scored.reason.removeprefix("matches: ").split(", ")
    for term in named:
        words = term.split()
        assert all(any(ch.isalpha() for ch in w) for w in words), scored.reason
        assert not all(w in reasons.FILLER for w in words), scored.reason
    # (delivery's batch path words the same reasons: tests/test_ranked_fast_paths.py)
