"""Test kit: a labelled corpus for measuring paper identity, made from the real seed digests.

Nothing of the seeds' text is stored here: the corpus is made at test or
benchmark time from ``shared/seeds/`` (read through the text-digest parser)
and from boilerplate written for this project below.  Every listing carries
the label of the paper it is, so a novelty split can be scored.

Listings, by kind (``Listing.kind``):

==================  =============================================================
``original``        a seed paper as the seeds give it
``v2-light``        arXiv-v2 style: numbers changed, two words swapped for synonyms
``v2-medium``       numbers changed, a sentence dropped, six synonyms, a subtitle
``v2-heavy``        numbers, a sentence dropped *and* one added, twelve synonyms,
                    word order shuffled in places, retitled (subtitle or rephrasing)
``v2-cut``          the title cut to its name before the colon ("Foo: A Bar" → "Foo")
                    and the abstract to its first one or two sentences, every third
                    lightly reworded (two synonyms)
``rename``          one term renamed throughout title and abstract ("Robust" → "Resilient")
``retitle``         the same abstract under a new title (subtitle added or removed,
                    "Towards …", a new name)
``disguise``        case, spacing, Unicode (full-width, curly quotes, zero-width,
                    homoglyphs, accents) and HTML entities in title and abstract
``challenge``       reports of one invented challenge, one per track and year, on one
                    boilerplate abstract (distinct papers)
``family``          technical reports of invented model families, one per variant and
                    version, on one boilerplate abstract (distinct papers)
``suite``           benchmark-suite papers on one template (distinct papers)
``template``        papers of one group reusing an abstract template, titles sharing
                    no word (distinct papers)
``challenge-listed`` one challenge's track reports whose abstracts all list every track
``family-listed``   a model family's base report naming its variants, and variant
                    reports naming their siblings (distinct papers)
``suite-listed``    "<Bench>-<X>: … on <X>" papers whose abstracts name sibling suites
``challenge-headed`` one challenge's track reports titled "<Challenge> <year> Challenge:
                    <track>": every member shares the name before the colon
``suite-shared``    "<Suite>: <Area>" papers whose shared boilerplate holds other
                    members' area words ("grading code", "copyright law")
``suite-spanning``  "<Suite>: <Area>" / "<Suite> <Area>" papers whose shared abstract
                    lists every area ("… spanning math, code, science and law"); the
                    area is in the title and in that list only
``v2-member``       a series member revised: its subtitle replaced by one about the
                    version ("An Updated Release") or "(Extended Version)" added, the
                    abstract revised heavily (numbers, a sentence dropped and one
                    added, twelve synonyms)
``reused-title``    a seen paper's title over an abstract of a paper never listed
``lookalike``       a seen title changed by one word, over an unlisted abstract
==================  =============================================================

Positive kinds repeat an ``original``; negative kinds are new papers.  The
seed papers are split in two: the first two thirds are *listed* (originals
and their versions), the last third only lend abstracts to the negatives,
so a reused title never sits on an abstract that is itself listed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from newsletter.edition import build_edition
from newsletter.identity import title_key
from newsletter.listings import new_papers
from newsletter.model import RawEntry
from newsletter.novelty import Verdict, split
from newsletter.sources.text import parse_digest, read_digest
from newsletter.store import Database
from newsletter.store.papers import NewPaper
from newsletter.topics import Taxonomy, Topic

POSITIVE = (
    "v2-light",
    "v2-medium",
    "v2-heavy",
    "v2-reworded",
    "truncated",
    "v2-cut",
    "rename",
    "retitle",
    "disguise",
    "v2-titled",
    "v2-member",
)
SERIES = (
    "boilerplate",
    "challenge",
    "family",
    "suite",
    "template",
    "challenge-listed",
    "family-listed",
    "suite-listed",
    "challenge-joint",
    "suite-colon",
    "family-stem",
    "findings",
    "challenge-headed",
    "suite-shared",
    "suite-spanning",
)
NEGATIVE = (*SERIES, "reused-title", "lookalike")


@dataclass(frozen=True)
class Listing:
    """One entry of the corpus and the paper it truly is."""

    title: str
    abstract: str
    label: str  # entries with one label are one paper
    kind: str


@dataclass(frozen=True)
class Corpus:
    originals: tuple[Listing, ...]
    series: tuple[Listing, ...]  # every challenge/family/suite/template paper, in order
    positives: tuple[Listing, ...]
    negatives: tuple[Listing, ...]  # reused titles and lookalikes


# ---------------------------------------------------------------- seeds


def seed_papers(seeds_dir: Path) -> list[RawEntry]:
    """The distinct seed papers (first listing of each title), in seed order."""
    seen: dict[str, RawEntry] = {}
    for path in sorted(seeds_dir.glob("*.txt")):
        for e in read_digest(path, date(2026, 3, 20)).entries:
            if e.abstract:
                seen.setdefault(title_key(e.title), e)
    return list(seen.values())


# ---------------------------------------------------------------- revisions

# Our own synonym table: what a revising author swaps.
SYNONYMS = {
    "propose": "introduce",
    "proposed": "introduced",
    "method": "approach",
    "methods": "approaches",
    "improve": "enhance",
    "improves": "enhances",
    "results": "findings",
    "novel": "new",
    "significantly": "substantially",
    "demonstrate": "show",
    "framework": "pipeline",
    "achieves": "attains",
    "achieve": "attain",
    "performance": "accuracy",
    "experiments": "evaluations",
    "existing": "prior",
    "large": "big",
    "efficient": "effective",
    "model": "network",
    "models": "networks",
    "task": "problem",
    "tasks": "problems",
    "data": "samples",
    "approach": "technique",
    "based": "built",
    "paper": "work",
    "study": "investigate",
    "learning": "training",
    "accurate": "precise",
    "fast": "quick",
    "robust": "resilient",
    "generation": "synthesis",
    "various": "diverse",
    "key": "central",
    "challenging": "difficult",
    "outperforms": "surpasses",
    "state-of-the-art": "leading",
    "benchmark": "testbed",
    "benchmarks": "testbeds",
    "simple": "straightforward",
}

ADDED_SENTENCES = (
    "We further extend the evaluation with an ablation over every component and release "
    "the full training configuration.",
    "Compared with the first version, this revision adds experiments on two more settings "
    "and a discussion of failure cases.",
    "An extended analysis shows that the gains persist across random seeds and scales.",
    "Code, checkpoints and evaluation scripts are publicly available.",
)
SUBTITLES = (
    "An Extended Study",
    "Revisited",
    "Analysis and Improvements",
    "A Unified View",
    "Beyond the Baseline",
)

# A number standing alone ("45.3", "12%"), not one inside a name ("YOLOv10", "4M", "2D").
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _change_numbers(text: str, rng: random.Random, share: float) -> str:
    def bump(m: re.Match[str]) -> str:
        if rng.random() > share:
            return m.group(0)
        value = m.group(0)
        if "." in value:
            whole, frac = value.split(".")
            return f"{whole}.{(int(frac) + rng.randint(1, 9)) % 10 ** len(frac):0{len(frac)}d}"
        return str(int(value) + rng.randint(1, 3))

    return _NUMBER.sub(bump, text)


def _swap_synonyms(text: str, rng: random.Random, count: int) -> tuple[str, set[str]]:
    """Replace ``count`` occurrences of words in SYNONYMS; the words swapped."""
    spots = [m for m in re.finditer(r"[A-Za-z-]+", text) if m.group(0).lower() in SYNONYMS]
    rng.shuffle(spots)
    chosen = sorted(spots[:count], key=lambda m: m.start())
    out, last, swapped = [], 0, set()
    for m in chosen:
        word = m.group(0)
        new = SYNONYMS[word.lower()]
        out.append(text[last : m.start()] + (new.capitalize() if word[0].isupper() else new))
        last = m.end()
        swapped.add(word.lower())
    return "".join(out) + text[last:], swapped


def _swap_all(text: str, words: set[str]) -> str:
    """Swap every occurrence of ``words`` (a consistent rename)."""

    def repl(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.lower() not in words:
            return w
        new = SYNONYMS[w.lower()]
        return new.capitalize() if w[0].isupper() else new

    return re.sub(r"[A-Za-z-]+", repl, text)


def _shuffle_clauses(sentence: str, rng: random.Random) -> str:
    """Swap two neighbouring words somewhere in the sentence (a light rewording)."""
    words = sentence.split(" ")
    if len(words) < 6:
        return sentence
    i = rng.randrange(1, len(words) - 2)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _sentences(abstract: str) -> list[str]:
    return [s for s in _SENTENCE.split(abstract) if s]


def _drop_sentence(sentences: list[str], rng: random.Random) -> list[str]:
    if len(sentences) < 4:
        return sentences
    i = rng.randrange(1, len(sentences) - 1)
    return sentences[:i] + sentences[i + 1 :]


def _retitle(title: str, rng: random.Random) -> str:
    """A new version's title: subtitle added, removed or replaced, or rephrased."""
    head, sep, tail = title.partition(": ")
    choice = rng.randrange(4)
    if sep and choice == 0:
        return tail[0].upper() + tail[1:]  # the name dropped, the description kept
    if sep and choice == 1:
        return f"{head}: {rng.choice(SUBTITLES)}"  # the name kept, a new subtitle
    if choice == 2 and not title.lower().startswith("towards"):
        return "Towards " + title[0].lower() + title[1:] if not sep else f"{head}: Towards {tail}"
    return f"{title}: {rng.choice(SUBTITLES)}"


def revise(title: str, abstract: str, rng: random.Random, strength: str) -> tuple[str, str]:
    """An arXiv-v2-style revision at ``strength`` (light, medium, heavy, consistent)."""
    if strength == "light":
        text, _ = _swap_synonyms(_change_numbers(abstract, rng, 0.5), rng, 2)
        return title, text
    if strength == "medium":
        sentences = _drop_sentence(_sentences(_change_numbers(abstract, rng, 1.0)), rng)
        text, _ = _swap_synonyms(" ".join(sentences), rng, 6)
        head = title.partition(": ")[0]
        return (f"{head}: {rng.choice(SUBTITLES)}" if ": " in title else title), text
    if strength == "heavy":
        sentences = _drop_sentence(_sentences(_change_numbers(abstract, rng, 1.0)), rng)
        sentences.insert(rng.randrange(1, len(sentences) + 1), rng.choice(ADDED_SENTENCES))
        sentences = [_shuffle_clauses(s, rng) if rng.random() < 0.3 else s for s in sentences]
        text, _ = _swap_synonyms(" ".join(sentences), rng, 12)
        return _retitle(title, rng), text
    if strength == "consistent":
        in_title = {w.lower() for w in re.findall(r"[A-Za-z-]+", title) if w.lower() in SYNONYMS}
        if not in_title:
            in_title = {w for w in ("method", "model", "learning") if w in abstract.lower()}
        text = _swap_all(_change_numbers(abstract, rng, 0.5), in_title)
        return _swap_all(title, in_title), text
    raise ValueError(strength)


_TITLE_STOP = frozenset(
    "a an and are as at be by for from in into is it its of on or our the this that to "
    "via we with".split()
)


def _words_of(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _TITLE_STOP}


def reword(title: str, abstract: str, rng: random.Random) -> tuple[str, str] | None:
    """A heavy v2 under an entirely new title: the title made of words its abstract's
    second and third sentences use (none from the old title); the abstract reworded —
    synonyms swapped, a sentence dropped and one added, the sentences reordered, and
    within each sentence its halves swapped and neighbouring words transposed, so
    almost no word pair survives.  None when the abstract is too short."""
    sentences = _sentences(abstract)
    old = _words_of(title)
    words = [
        w
        for w in re.findall(r"[A-Za-z][A-Za-z-]+", " ".join(sentences[1:3]))
        if w.lower() not in _TITLE_STOP and not (_words_of(w) & old)
    ]
    if len(words) < 6:
        return None
    new_title = " ".join(w[0].upper() + w[1:] for w in words[:6]) + " Revisited"
    text, _ = _swap_synonyms(_change_numbers(abstract, rng, 1.0), rng, 12)
    kept = [*_drop_sentence(_sentences(text), rng), rng.choice(ADDED_SENTENCES)]
    kept = kept[-2:] + kept[:-2]
    out = []
    for sentence in kept:
        w = sentence.rstrip(".").split()
        w = w[len(w) // 2 :] + w[: len(w) // 2]
        w = [w[i ^ 1] if (i ^ 1) < len(w) else w[i] for i in range(len(w))]
        out.append(" ".join(w) + ".")
    return new_title, " ".join(out)


def truncate(title: str, abstract: str) -> tuple[str, str] | None:
    """The listing as a feed that cuts abstracts short shows it: the first sentence."""
    sentences = _sentences(abstract)
    return (title, sentences[0]) if len(sentences) > 1 else None


SURVEY_TITLE = "A Survey of {topic}"
SURVEY_OPENING = (
    "{topic} have transformed research in machine learning and beyond. In this survey we "
    "review the rapidly growing literature on {lower} and organise it into a taxonomy. "
)
SURVEY_BODY = (
    "We focus on {focus}, covering {a}, {b} and {c}, and we catalogue {d} across {n} "
    "published systems. We close with open problems in {e}."
)
SURVEY_TOPICS = ("Large Language Models", "Diffusion Models", "Vision Transformers")
SURVEY_FOCI = (
    (
        "pretraining corpora",
        "web crawls",
        "code repositories",
        "scanned books",
        "deduplication and filtering practices",
        "forty",
        "data governance",
    ),
    (
        "evaluation in clinical medicine",
        "licensing-exam benchmarks",
        "hallucination audits",
        "bedside deployment studies",
        "failure modes reported by hospitals",
        "eleven",
        "patient safety",
    ),
    (
        "hardware for inference",
        "systolic arrays",
        "sparsity accelerators",
        "memory hierarchies",
        "energy per token",
        "twenty-six",
        "on-device deployment",
    ),
    (
        "legal reasoning",
        "statute retrieval",
        "contract review",
        "court-decision prediction",
        "jurisdiction-specific corpora",
        "nine",
        "accountability",
    ),
)


def cut_short(title: str, abstract: str, rng: random.Random, n: int) -> tuple[str, str] | None:
    """A listing that lost its subtitle *and* most of its abstract: the title before its
    colon, the abstract's first ``n`` sentences (1 or 2), lightly reworded when ``rng``
    says so.  None for a title without a colon or an abstract of under three sentences."""
    head, sep, _ = title.partition(": ")
    sentences = _sentences(abstract)
    if not sep or len(sentences) < 3:
        return None
    text = " ".join(sentences[:n])
    if rng.random() < 1 / 3:
        text, _ = _swap_synonyms(text, rng, 2)
    return head, text


def boilerplate_surveys() -> list[Listing]:
    """Pairs of different surveys under one title whose abstracts open with the same
    two boilerplate sentences and then each describe a focus of their own."""
    out = []
    for i, topic in enumerate(SURVEY_TOPICS):
        opening = SURVEY_OPENING.format(topic=topic, lower=topic.lower())
        for j in range(2):
            focus, a, b, c, d, n, e = SURVEY_FOCI[(i + j) % len(SURVEY_FOCI)]
            body = SURVEY_BODY.format(focus=focus, a=a, b=b, c=c, d=d, n=n, e=e)
            title = SURVEY_TITLE.format(topic=topic)
            out.append(Listing(title, opening + body, f"survey:{i}:{j}", "boilerplate"))
    return out


# ---------------------------------------------------------------- disguises

_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
_HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441"}


def disguise(title: str, abstract: str, rng: random.Random) -> tuple[str, str]:
    """The same listing as another page might render it."""
    how = rng.randrange(7)
    if how == 0:
        return title.upper(), abstract
    if how == 1:
        return "  " + title.replace(" ", "  ").replace(":", " :") + " ", abstract.replace(
            ". ", ".  "
        )
    if how == 2:
        words = title.split(" ")
        i = rng.randrange(len(words))
        words[i] = "".join(_FULL_WIDTH.get(ch, ch) for ch in words[i])
        return " ".join(words), abstract
    if how == 3:
        t = title.replace("'", "\u2019").replace("-", "\u2013", 1)
        return t[: len(t) // 2] + "\u200b" + t[len(t) // 2 :], abstract.replace("'", "\u2019")
    if how == 4:
        t = "".join(_HOMOGLYPHS.get(ch, ch) if rng.random() < 0.15 else ch for ch in title)
        return t, abstract
    if how == 5:
        t = title.replace("&", "&amp;").replace(" - ", " &#8211; ").replace("'", "&#39;")
        return t, abstract.replace("&", "&amp;").replace(" - ", "x2013")
    return title.lower().replace("e", "\u00e9", 1), abstract


# ---------------------------------------------------------------- our own boilerplate

CHALLENGE_TITLE = "{challenge} {year} Challenge on {track}: Methods and Results"
CHALLENGE_ABSTRACT = (
    "This paper reviews the {challenge} {year} challenge on {track_text}, held in conjunction "
    "with the {workshop} workshop. The challenge aims to {goal}. Participants were given "
    "{dataset} and their submissions were ranked by {metric}. In total, {n} participants "
    "registered for the challenge and {m} teams submitted valid entries to the final testing "
    "phase. This report describes the challenge setup, the data, the evaluation protocol and "
    "the solutions of the top-ranked teams, which together gauge the state of the art in "
    "{track_text}."
)
CHALLENGES = (("LUMEN", "Image Restoration in the Wild"), ("ORBIS", "Perception at the Edge"))
TRACKS = (
    ("Image Denoising", "remove real camera noise while keeping fine texture", "PSNR"),
    ("Low-Light Image Enhancement", "brighten images captured in near darkness", "SSIM"),
    ("Image Super-Resolution (×4)", "upscale images four times with high fidelity", "PSNR"),
    ("Image Super-Resolution (×2)", "upscale images two times with high fidelity", "PSNR"),
    ("Efficient Super-Resolution", "upscale images under a strict runtime budget", "runtime"),
    ("Video Deblurring", "recover sharp frames from motion-blurred clips", "LPIPS"),
    ("Raindrop Removal", "remove raindrops from photos taken through glass", "PSNR"),
    ("Shadow Removal", "remove cast shadows from outdoor photographs", "RMSE"),
    ("HDR Reconstruction", "fuse bracketed exposures into one radiance map", "PU-PSNR"),
    ("Night Photography Rendering", "render pleasing photos from raw night captures", "MOS"),
    ("Stereo Image Super-Resolution", "upscale stereo pairs consistently", "PSNR"),
    ("Depth Completion", "complete sparse depth maps from a single sensor", "MAE"),
)

FAMILY_TITLE = "{name}-{variant} Technical Report"
FAMILY_BASE_TITLE = "{name} Technical Report"
FAMILY_ABSTRACT = (
    "In this report, we introduce {name}-{variant}, a series of {domain} models built on the "
    "{name} foundation models. {name}-{variant} is continually pretrained on {tokens} billion "
    "tokens of {data}, followed by supervised fine-tuning and reinforcement learning for "
    "{skill}. We release models with {sizes} parameters. On {benchmarks}, {name}-{variant} "
    "achieves the best results among open models of similar size and rivals much larger "
    "proprietary systems. We describe the data pipeline, the training recipe and the "
    "evaluation in detail, and release the weights to support open research."
)
FAMILY_BASE_ABSTRACT = (
    "In this report, we introduce {name}, a series of general-purpose foundation models. "
    "{name} is pretrained on {tokens} billion tokens of multilingual web text, followed by "
    "supervised fine-tuning and reinforcement learning for instruction following. We release "
    "models with {sizes} parameters. On standard language understanding suites, {name} "
    "achieves the best results among open models of similar size and rivals much larger "
    "proprietary systems. We describe the data pipeline, the training recipe and the "
    "evaluation in detail, and release the weights to support open research."
)
FAMILIES = (("Corvid", ("2", "2.5", "3")), ("Aster", ("1.5", "2")))
VARIANTS = (
    ("Coder", "code", "permissively licensed source code", "program synthesis", "HumanEval"),
    ("Math", "mathematics", "mathematical web pages and proofs", "step-by-step solutions", "GSM8K"),
    ("VL", "vision-language", "interleaved image-text documents", "visual grounding", "MMMU"),
    ("Audio", "audio-language", "transcribed speech and sound clips", "audio captioning", "AIR"),
    ("Med", "clinical", "biomedical literature and clinical notes", "diagnosis", "MedQA"),
    ("Embed", "text embedding", "paired queries and passages", "retrieval", "MTEB"),
)

SUITE_TITLE = "{suite}-{domain}: A Benchmark for Evaluating Language Models on {task}"
SUITE_ABSTRACT = (
    "Large language models are increasingly deployed for {task_text}, yet their abilities in "
    "this setting remain poorly measured. We present {suite}-{domain}, a benchmark of {n} "
    "expert-written problems covering {topics}. Each problem comes with a reference answer and "
    "a grading rubric, and we evaluate {k} open and proprietary models under a common protocol. "
    "The strongest model solves only {p} percent of the problems, which leaves ample room for "
    "progress. We release the data, the grading code and a public leaderboard."
)
SUITES = ("EvalForge", "Gauge")
SUITE_DOMAINS = (
    ("Law", "Legal Reasoning", "legal reasoning", "contracts, statutes and case law"),
    ("Chem", "Chemistry", "chemistry questions", "reactions, spectra and synthesis planning"),
    ("Fin", "Financial Analysis", "financial analysis", "filings, ratios and forecasts"),
    ("Geo", "Geospatial Questions", "geospatial questions", "maps, coordinates and routes"),
    ("Bio", "Protein Biology", "protein biology", "folding, binding and function"),
)

TEMPLATE_ABSTRACT = (
    "We propose {method}, a simple approach to {task}. Existing methods for {task} rely on "
    "costly supervision and transfer poorly to new domains. {method} instead learns from "
    "unlabeled data with a lightweight objective and a single network. Experiments on "
    "standard benchmarks show that {method} outperforms strong baselines while training "
    "several times faster, and ablations confirm the contribution of each component."
)
TEMPLATE_PAPERS = (
    ("Flint", "Self-Supervised Optical Flow Without Labels", "optical flow estimation"),
    ("Tessel", "Learning Mesh Surfaces From Raw Point Clouds", "surface reconstruction"),
    ("Quill", "Unsupervised Handwriting Recognition at Scale", "handwriting recognition"),
    ("Sonar", "Label-Free Sound Event Localization", "sound event localization"),
    ("Ledger", "Cheap Table Question Answering", "table question answering"),
    ("Prism", "Spectral Image Unmixing Made Easy", "hyperspectral unmixing"),
)

WORKSHOPS = ("VISTA", "MERIDIAN")
DATASETS = (
    "a new set of 4K photographs with paired references",
    "a curated collection of smartphone captures",
    "a synthetic corpus with exact ground truth",
)


def challenge_series(rng: random.Random) -> list[Listing]:
    out = []
    for challenge, workshop_theme in CHALLENGES:
        for year in ("2024", "2025"):
            for track, goal, metric in TRACKS:
                track_text = track[0].lower() + track[1:]
                fields = {
                    "challenge": challenge,
                    "year": year,
                    "track": track,
                    "track_text": track_text,
                    "workshop": f"{rng.choice(WORKSHOPS)} {year} ({workshop_theme})",
                    "goal": goal,
                    "dataset": rng.choice(DATASETS),
                    "metric": metric,
                    "n": rng.randint(80, 400),
                    "m": rng.randint(8, 40),
                }
                out.append(
                    Listing(
                        CHALLENGE_TITLE.format(**fields),
                        CHALLENGE_ABSTRACT.format(**fields),
                        f"challenge:{challenge}:{year}:{track}",
                        "challenge",
                    )
                )
    return out


def family_series(rng: random.Random) -> list[Listing]:
    out = []
    for family, versions in FAMILIES:
        for version in versions:
            name = f"{family}{version}"
            sizes = rng.choice(("1.5B, 7B and 32B", "0.5B to 72B", "3B, 14B and 70B"))
            base = {"name": name, "tokens": rng.randint(5, 30) * 1000, "sizes": sizes}
            out.append(
                Listing(
                    FAMILY_BASE_TITLE.format(**base),
                    FAMILY_BASE_ABSTRACT.format(**base),
                    f"family:{name}",
                    "family",
                )
            )
            for variant, domain, data, skill, bench in VARIANTS:
                fields = {
                    **base,
                    "variant": variant,
                    "domain": domain,
                    "data": data,
                    "skill": skill,
                    "benchmarks": f"{bench} and related {domain} benchmarks",
                    "tokens": rng.randint(100, 900),
                }
                out.append(
                    Listing(
                        FAMILY_TITLE.format(**fields),
                        FAMILY_ABSTRACT.format(**fields),
                        f"family:{name}-{variant}",
                        "family",
                    )
                )
    return out


def suite_series(rng: random.Random) -> list[Listing]:
    out = []
    for suite in SUITES:
        for domain, task, task_text, topics in SUITE_DOMAINS:
            fields = {
                "suite": suite,
                "domain": domain,
                "task": task,
                "task_text": task_text,
                "topics": topics,
                "n": rng.randint(300, 3000),
                "k": rng.randint(8, 30),
                "p": rng.randint(20, 60),
            }
            out.append(
                Listing(
                    SUITE_TITLE.format(**fields),
                    SUITE_ABSTRACT.format(**fields),
                    f"suite:{suite}-{domain}",
                    "suite",
                )
            )
    return out


def template_series() -> list[Listing]:
    return [
        Listing(
            f"{method}: {subtitle}",
            TEMPLATE_ABSTRACT.format(method=method, task=task),
            f"template:{method}",
            "template",
        )
        for method, subtitle, task in TEMPLATE_PAPERS
    ]


# ---------------------------------------------------------------- series that name their siblings
# Siblings' abstracts often name one another ("… the foundation of Corvid-Math and
# Corvid-Coder"), or list every track of a challenge: then a sibling's own subject
# word is in the other abstract too, and only the titles' shape tells them apart.

LISTED_CHALLENGE_TITLE = "{challenge} {year} Challenge on {track}: Report and Results"
LISTED_CHALLENGE_ABSTRACT = (
    "We summarise the {track_text} track of the {challenge} {year} challenge, one of "
    "{count} tracks run together ({all_tracks}). The {track_text} track drew {n} registered "
    "teams, of which {m} submitted final predictions on a withheld test split of {k} scenes. "
    "Entries were ranked by {metric}; the best entry scored {score}. We describe the data "
    "collection, the scoring protocol and the methods of the leading teams."
)
LISTED_CHALLENGES = ("TERRA", "HALCYON")
LISTED_TRACKS = (
    ("Point Cloud Denoising", "Chamfer distance"),
    ("Point Cloud Completion", "F-score"),
    ("Mesh Simplification", "Hausdorff error"),
    ("Scene Flow Estimation", "end-point error"),
    ("Lidar Segmentation", "mean IoU"),
    ("Normal Estimation", "angular error"),
    ("Surface Registration", "rotation error"),
    ("Shape Retrieval", "mean average precision"),
)

LISTED_BASE_TITLE = "{name} Technical Report"
LISTED_BASE_ABSTRACT = (
    "This report presents {name}, a family of open foundation models trained on {tokens} "
    "trillion tokens and tuned with preference optimisation. {name} is also the starting "
    "point of the specialised releases {siblings}. Across reasoning, knowledge and coding "
    "evaluations, the largest {name} model leads open models of comparable size, and the "
    "weights are published under a permissive licence."
)
LISTED_VARIANT_TITLE = "{name}-{variant} Technical Report"
LISTED_VARIANT_ABSTRACT = (
    "This report presents {name}-{variant}, a family of open models for {skill}, trained from "
    "{name} on a further {tokens} billion tokens and tuned with preference optimisation. Like "
    "its siblings {siblings}, it keeps the general abilities of {name}. On {skill} "
    "evaluations, the largest {name}-{variant} model leads open models of comparable size, "
    "and the weights are published under a permissive licence."
)
LISTED_FAMILIES = ("Heron3", "Kestrel2.5")
LISTED_VARIANTS = (
    ("Coder", "program synthesis and repair"),
    ("Math", "competition mathematics"),
    ("Omni", "speech, vision and text together"),
    ("Audio", "speech and sound understanding"),
    ("Chem", "chemistry and materials questions"),
)

LISTED_SUITE_TITLE = "{suite}-{area}: Measuring Foundation Models on {area}"
LISTED_SUITE_ABSTRACT = (
    "{suite}-{area} is one part of the {suite} evaluation programme, alongside {siblings}. "
    "{suite}-{area} covers {focus}, with {n} items written and double-checked by specialists. "
    "Every item is screened for leakage into public training corpora and paired with a "
    "worked reference answer. We score {k} open and closed models and find that the best "
    "one still misses {p} percent of the items. Data, scoring code and a leaderboard are public."
)
LISTED_SUITES = ("Lodestar", "Quarry")
LISTED_AREAS = (
    ("Reasoning", "multi-step deduction and commonsense inference"),
    ("Medicine", "clinical questions and diagnostic reasoning"),
    ("Safety", "refusals, jailbreak resistance and harmful advice"),
    ("Agents", "tool use and multi-step web tasks"),
    ("Multilingual", "questions in twenty-four languages"),
    ("Law", "statutes, contracts and legal reasoning"),
)


HEADED_CHALLENGE_TITLE = "{challenge} {year} Challenge: {track}"


def headed_challenge_series(rng: random.Random) -> list[Listing]:
    """One challenge's track reports whose titles all open with the same name before
    the colon ("LUMEN 2024 Challenge: Video Deblurring"): each is a candidate of every
    other through the title-head index, and each is a paper of its own."""
    out = []
    for track, goal, metric in TRACKS:
        fields = {
            "challenge": "AURORA",
            "year": "2025",
            "track": track,
            "track_text": track[0].lower() + track[1:],
            "workshop": f"{rng.choice(WORKSHOPS)} 2025 (Restoration in the Wild)",
            "goal": goal,
            "dataset": rng.choice(DATASETS),
            "metric": metric,
            "n": rng.randint(80, 400),
            "m": rng.randint(8, 40),
        }
        out.append(
            Listing(
                HEADED_CHALLENGE_TITLE.format(**fields),
                CHALLENGE_ABSTRACT.format(**fields),
                f"challenge-headed:{track}",
                "challenge-headed",
            )
        )
    return out


def listed_challenge_series(rng: random.Random) -> list[Listing]:
    out = []
    names = [t for t, _ in LISTED_TRACKS]
    for challenge in LISTED_CHALLENGES:
        year = str(rng.choice((2025, 2026)))
        for track, metric in LISTED_TRACKS:
            fields = {
                "challenge": challenge,
                "year": year,
                "track": track,
                "track_text": track.lower(),
                "count": len(names),
                "all_tracks": ", ".join(t.lower() for t in names),
                "n": rng.randint(60, 300),
                "m": rng.randint(6, 30),
                "k": rng.randint(200, 900),
                "metric": metric,
                "score": f"{rng.uniform(0.1, 0.9):.3f}",
            }
            out.append(
                Listing(
                    LISTED_CHALLENGE_TITLE.format(**fields),
                    LISTED_CHALLENGE_ABSTRACT.format(**fields),
                    f"challenge-listed:{challenge}:{track}",
                    "challenge-listed",
                )
            )
    return out


def listed_family_series(rng: random.Random) -> list[Listing]:
    out = []
    for name in LISTED_FAMILIES:
        everyone = [f"{name}-{v}" for v, _ in LISTED_VARIANTS]
        base = {"name": name, "tokens": rng.randint(8, 20), "siblings": ", ".join(everyone)}
        out.append(
            Listing(
                LISTED_BASE_TITLE.format(**base),
                LISTED_BASE_ABSTRACT.format(**base),
                f"family-listed:{name}",
                "family-listed",
            )
        )
        for variant, skill in LISTED_VARIANTS:
            fields = {
                "name": name,
                "variant": variant,
                "skill": skill,
                "tokens": rng.randint(200, 900),
                "siblings": ", ".join(x for x in everyone if x != f"{name}-{variant}"),
            }
            out.append(
                Listing(
                    LISTED_VARIANT_TITLE.format(**fields),
                    LISTED_VARIANT_ABSTRACT.format(**fields),
                    f"family-listed:{name}-{variant}",
                    "family-listed",
                )
            )
    return out


def listed_suite_series(rng: random.Random) -> list[Listing]:
    out = []
    for suite in LISTED_SUITES:
        for area, focus in LISTED_AREAS:
            siblings = ", ".join(f"{suite}-{a}" for a, _ in LISTED_AREAS if a != area)
            fields = {
                "suite": suite,
                "area": area,
                "focus": focus,
                "siblings": siblings,
                "n": rng.randint(800, 5000),
                "k": rng.randint(10, 30),
                "p": rng.randint(15, 55),
            }
            out.append(
                Listing(
                    LISTED_SUITE_TITLE.format(**fields),
                    LISTED_SUITE_ABSTRACT.format(**fields),
                    f"suite-listed:{suite}-{area}",
                    "suite-listed",
                )
            )
    return out


# ---------------------------------------------------------------- joint tracks
# A challenge runs single tracks and a joint track over two of them ("… Challenge on
# Image Denoising" and "… Joint Challenge on Image Denoising and Deblurring"): the
# joint report's title holds nearly every word of a single track's, and its
# abstract is the same template — only the words the joint title adds (and what
# its abstract says of them) tell the two apart.

JOINT_SINGLE_TITLE = "{challenge} {year} Challenge on {track}: Methods and Results"
JOINT_TITLE = "{challenge} {year} {joint}Challenge on {track} and {added}: Methods and Results"
JOINT_CHALLENGES = (("AURORA", "Image Restoration and Enhancement"), ("NIMBUS", "Mobile Imaging"))
JOINT_TRACKS = (
    ("Image Denoising", "remove real camera noise while keeping fine texture", "PSNR"),
    ("Image Deblurring", "recover sharp photographs from camera shake", "LPIPS"),
    ("Low-Light Image Enhancement", "brighten images captured in near darkness", "SSIM"),
    ("Image Super-Resolution", "upscale images four times with high fidelity", "PSNR"),
    ("Raindrop Removal", "remove raindrops from photos taken through glass", "PSNR"),
    ("Shadow Removal", "remove cast shadows from outdoor photographs", "RMSE"),
)
# (single track, the words the joint title adds, the track they name, "Joint " or "")
JOINTS = (
    (0, "Deblurring", 1, "Joint "),
    (2, "Denoising", 0, "Joint "),
    (3, "Deblurring", 1, ""),
    (4, "Shadow Removal", 5, "Joint "),
)


JOINT_ALONGSIDE = " Its tracks cover {tracks}, and joint tracks over pairs of them."


def joint_challenge_series(rng: random.Random) -> list[Listing]:
    """Single-track reports and joint-track reports of two challenges; one of them
    lists every track in each abstract (as NTIRE reports do), so the words a
    joint title adds are in its single-track siblings' abstracts too."""
    out = []
    for (challenge, theme), listed in zip(JOINT_CHALLENGES, (True, False), strict=True):
        year = str(rng.choice((2025, 2026)))
        common = {
            "challenge": challenge,
            "year": year,
            "workshop": f"{rng.choice(WORKSHOPS)} {year} ({theme})",
        }
        names = [t.lower() for t, _, _ in JOINT_TRACKS]
        alongside = JOINT_ALONGSIDE.format(tracks=", ".join(names)) if listed else ""
        for track, goal, metric in JOINT_TRACKS:
            fields = {
                **common,
                "track": track,
                "track_text": track.lower(),
                "goal": goal,
                "dataset": rng.choice(DATASETS),
                "metric": metric,
                "n": rng.randint(80, 400),
                "m": rng.randint(8, 40),
            }
            out.append(
                Listing(
                    JOINT_SINGLE_TITLE.format(**fields),
                    CHALLENGE_ABSTRACT.format(**fields) + alongside,
                    f"challenge-joint:{challenge}:{track}",
                    "challenge-joint",
                )
            )
        for first, added, second, joint in JOINTS:
            track, goal, metric = JOINT_TRACKS[first]
            other_goal = JOINT_TRACKS[second][1]
            fields = {
                **common,
                "joint": joint,
                "track": track,
                "added": added,
                "track_text": f"{joint.lower()}{track.lower()} and {added.lower()}",
                "goal": f"{goal} and {other_goal} in one model",
                "dataset": rng.choice(DATASETS),
                "metric": metric,
                "n": rng.randint(80, 400),
                "m": rng.randint(8, 40),
            }
            out.append(
                Listing(
                    JOINT_TITLE.format(**fields),
                    CHALLENGE_ABSTRACT.format(**fields) + alongside,
                    f"challenge-joint:{challenge}:{track}+{added}",
                    "challenge-joint",
                )
            )
    return out


# ---------------------------------------------------------------- more series shapes
# Suites named "<Bench>: <Area>" (the area is the whole subtitle, as a retitle's
# subtitle would be), technical reports of a model and of its variants with real
# names' shapes ("Qwen3-VL" beside "Qwen3"), and a workshop's "Findings of …"
# reports, one per shared task.

COLON_SUITE_TITLE = "{suite}: {area}"
COLON_SUITE_ABSTRACT = (
    "We introduce {suite}: {area}, a benchmark for evaluating large language models on "
    "{focus}. It contains {n} problems collected from {source}, each verified by two "
    "annotators and paired with an automatic checker. We evaluate {k} open and proprietary "
    "models and find that the best reaches only {p} percent, with most failures in "
    "{failure}. We release the benchmark, the evaluation harness and a leaderboard."
)
COLON_SUITES = ("Helix-Bench", "OrbitBench")
COLON_AREAS = (
    ("Math", "competition mathematics", "olympiad archives", "multi-step proofs"),
    ("Code", "program synthesis", "programming contests", "edge cases"),
    ("Competition Math", "olympiad problems with numeric answers", "contest archives", "algebra"),
    ("Science", "graduate-level science questions", "textbooks", "unit conversions"),
    ("Long Context", "questions over book-length inputs", "novels and reports", "distant facts"),
)

STEM_BASE_TITLE = "{name} Technical Report"
STEM_VARIANT_TITLE = "{name}-{variant} Technical Report"
STEM_ABSTRACT = (
    "We present {title_name}, the latest model in the {family} series. {title_name} {what}. "
    "It is trained with a {stages}-stage recipe on {tokens} trillion tokens, with a thinking "
    "mode for complex reasoning and a non-thinking mode for fast responses. {title_name} "
    "achieves competitive results against larger models on {evals}. All models are released "
    "under the Apache 2.0 licence."
)
STEM_FAMILIES = (("Quokka3", "Quokka"), ("Wren2.5", "Wren"))
STEM_VARIANTS = (
    ("", "is a dense and mixture-of-experts language model family", "reasoning and coding"),
    ("VL", "adds a vision encoder for images, documents and video", "visual question answering"),
    ("Omni", "perceives text, images, audio and video in one model", "audio-visual tasks"),
    ("Coder", "specialises in agentic coding and repository-level edits", "SWE-bench"),
    ("Embedding", "turns text into vectors for search and reranking", "MTEB"),
)

FINDINGS_TITLE = "Findings of the {venue} {year} Shared Task on {task}"
FINDINGS_ABSTRACT = (
    "This paper presents the results of the {task_text} shared task, organised as part of "
    "the {venue} {year} workshop. Participants were asked to {goal}. We received {n} "
    "submissions from {m} teams, evaluated with {metric} and with human judgements. We "
    "describe the data, the evaluation and the submitted systems, and analyse what worked. "
    "The best systems {finding}."
)
FINDINGS_VENUES = (("WMTX", "2025"), ("ArgMine", "2026"))
FINDINGS_TASKS = (
    ("Machine Translation", "translate news and social media text", "COMET", "used LLMs"),
    (
        "Low-Resource Machine Translation",
        "translate into languages with little data",
        "chrF",
        "relied on back-translation",
    ),
    (
        "Quality Estimation",
        "predict translation quality without references",
        "Spearman",
        "fine-tuned multilingual encoders",
    ),
    (
        "Terminology Translation",
        "translate while respecting a glossary",
        "term accuracy",
        "constrained decoding",
    ),
    ("Automatic Post-Editing", "correct machine-translated text", "TER", "edited conservatively"),
)


def colon_suite_series(rng: random.Random) -> list[Listing]:
    """Two suites; the second's abstracts name every sibling."""
    out = []
    for suite, listed in zip(COLON_SUITES, (False, True), strict=True):
        for area, focus, source, failure in COLON_AREAS:
            others = ", ".join(f"{suite}: {a}" for a, *_ in COLON_AREAS if a != area)
            siblings = f" Its siblings are {others}." if listed else ""
            fields = {
                "suite": suite,
                "area": area,
                "focus": focus,
                "source": source,
                "failure": failure,
                "n": rng.randint(300, 3000),
                "k": rng.randint(10, 40),
                "p": rng.randint(20, 60),
            }
            out.append(
                Listing(
                    COLON_SUITE_TITLE.format(**fields),
                    COLON_SUITE_ABSTRACT.format(**fields) + siblings,
                    f"suite-colon:{suite}:{area}",
                    "suite-colon",
                )
            )
    return out


def stem_family_series(rng: random.Random) -> list[Listing]:
    """Two families; the second's reports name every sibling release."""
    out = []
    for (name, family), listed in zip(STEM_FAMILIES, (False, True), strict=True):
        everyone = [f"{name}-{v}" if v else name for v, *_ in STEM_VARIANTS]
        for variant, what, evals in STEM_VARIANTS:
            mine = f"{name}-{variant}" if variant else name
            others = ", ".join(x for x in everyone if x != mine)
            siblings = f" It joins {others} in the {family} line-up." if listed else ""
            title_name = f"{name}-{variant}" if variant else name
            fields = {
                "name": name,
                "variant": variant,
                "title_name": title_name,
                "family": family,
                "what": what,
                "evals": evals,
                "stages": rng.randint(2, 4),
                "tokens": rng.randint(10, 40),
            }
            template = STEM_VARIANT_TITLE if variant else STEM_BASE_TITLE
            out.append(
                Listing(
                    template.format(**fields),
                    STEM_ABSTRACT.format(**fields) + siblings,
                    f"family-stem:{title_name}",
                    "family-stem",
                )
            )
    return out


def findings_series(rng: random.Random) -> list[Listing]:
    """Two workshops; the second's reports list every shared task of the year."""
    out = []
    # (not by name: "… on machine translation, low-resource machine translation, …" in
    # every report leaves two titles one inside the other nothing to tell them apart by;
    # test_identity_shapes.py shows the limit)
    tasks = f"{len(FINDINGS_TASKS) - 1} other subjects"
    for (venue, year), listed in zip(FINDINGS_VENUES, (False, True), strict=True):
        for task, goal, metric, finding in FINDINGS_TASKS:
            alongside = f" The workshop also ran tasks on {tasks}." if listed else ""
            fields = {
                "venue": venue,
                "year": year,
                "task": task,
                "task_text": task.lower(),
                "goal": goal,
                "metric": metric,
                "finding": finding,
                "n": rng.randint(20, 200),
                "m": rng.randint(5, 40),
            }
            out.append(
                Listing(
                    FINDINGS_TITLE.format(**fields),
                    FINDINGS_ABSTRACT.format(**fields) + alongside,
                    f"findings:{venue}:{task}",
                    "findings",
                )
            )
    return out


# ------------------------------------------------------------- a sibling's word in boilerplate
# "<Suite>: <Area>" members whose shared closing sentence holds other members'
# area words ("… grading code …", "… copyright law …"), so the "Code" and "Law"
# members' subjects are in every member's abstract.  One suite names itself in
# its abstract ("We release Keystone: Math …"); the other only writes its area
# where the template puts it ("… problems in math …").

SHARED_SUITE_TITLE = "{suite}: {area}"
SHARED_SUITE_OPENING = {
    "named": (
        "We release {suite}: {area}, one volume of a benchmark suite for judging "
        "long-horizon reasoning in language models. It holds {n} expert-written problems "
        "with reference solutions and graded rubrics."
    ),
    "slotted": (
        "{suite} is a benchmark suite for judging long-horizon reasoning in language "
        "models. This volume holds {n} expert-written problems in {area_text} with "
        "reference solutions and graded rubrics."
    ),
}
SHARED_SUITE_CLOSING = (
    " We test {k} frontier and open models; the strongest solves only {p} percent, and "
    "errors cluster in multi-step planning. Problems, rubrics and grading code are "
    "released under terms that respect copyright law."
)
SHARED_SUITES = (("Keystone", "named"), ("Tessera", "slotted"))
SHARED_AREAS = ("Math", "Code", "Science", "Law", "Medicine", "Finance")


def shared_word_suite_series(rng: random.Random) -> list[Listing]:
    """Two suites whose boilerplate holds the "Code" and "Law" members' slot words."""
    out = []
    for suite, style in SHARED_SUITES:
        for area in SHARED_AREAS:
            fields = {
                "suite": suite,
                "area": area,
                "area_text": area.lower(),
                "n": rng.randint(500, 3000),
                "k": rng.randint(10, 40),
                "p": rng.randint(20, 60),
            }
            out.append(
                Listing(
                    SHARED_SUITE_TITLE.format(**fields),
                    SHARED_SUITE_OPENING[style].format(**fields)
                    + SHARED_SUITE_CLOSING.format(**fields),
                    f"suite-shared:{suite}:{area}",
                    "suite-shared",
                )
            )
    return out


# ---------------------------------------------------------------- v2s that add a title word
# The v2 side of the joint-track shape: a revision whose title gains a word or two
# (not a subtitle), with a revised abstract — which may already use the word, may
# not, or may gain a sentence that does.

TITLE_WORDS = ("Efficient", "Scalable", "Robust", "Lightweight", "Unified", "Adaptive")
TITLE_WORD_SENTENCE = "This version also makes the approach {word} at no loss of accuracy."


def add_title_words(title: str, abstract: str, rng: random.Random) -> tuple[str, str]:
    """A v2 with a word or two put before the last word of its title's name (the
    part before a colon; of the subtitle after a one-word name), its abstract
    revised as a medium revision is.  The words are ones its abstract already
    uses, or new ones, which the revised abstract then does not use or uses in an
    added sentence.  (Not covered: a revision writing the new word into a sentence
    next to a title word, "efficient segmentation": the rules take that for a
    variant of a name, as "stereo image super-resolution".)"""
    _, text = revise(title, abstract, rng, "medium")
    head, sep, tail = title.partition(": ")
    words = head.split()
    known = {w.lower() for w in re.findall(r"[A-Za-z]+", title)}
    choice = rng.randrange(3)
    if choice == 0:
        pool = [
            w
            for w in re.findall(r"[A-Za-z]{6,}", abstract)
            if w.lower() not in known and w.lower() not in _TITLE_STOP
        ]
        added = [pool[0].capitalize()] if pool else []
    else:
        fresh = [w for w in TITLE_WORDS if w.lower() not in known]
        added = rng.sample(fresh, min(len(fresh), 1 + (choice == 2)))
    if not added:
        added = ["Revised"]
    phrase = " and ".join(a.lower() for a in added)
    if choice == 2:
        text += " " + TITLE_WORD_SENTENCE.format(word=phrase)
    if len(words) == 1 and tail:  # a one-word name ("MinD-3D: …"): into the subtitle
        rest = tail.split()
        return head + sep + " ".join([*rest[:-1], *added, rest[-1]]), text
    new_head = " ".join([*words[:-1], *added, words[-1]])
    return new_head + sep + tail, text


# ---------------------------------------------------------------- the corpus


def build(seeds_dir: Path, seed: int = 12) -> Corpus:
    rng = random.Random(seed)
    papers = seed_papers(seeds_dir)
    cut = len(papers) * 2 // 3
    listed, lenders = papers[:cut], papers[cut:]
    originals = [
        Listing(p.title, p.abstract, f"seed:{i}", "original") for i, p in enumerate(listed)
    ]
    positives: list[Listing] = []
    for o in originals:
        for strength in ("light", "medium", "heavy", "consistent"):
            title, abstract = revise(o.title, o.abstract, rng, strength)
            if (title, abstract) != (o.title, o.abstract):
                kind = "rename" if strength == "consistent" else f"v2-{strength}"
                positives.append(Listing(title, abstract, o.label, kind))
        positives.append(Listing(_retitle(o.title, rng), o.abstract, o.label, "retitle"))
        title, abstract = disguise(o.title, o.abstract, rng)
        positives.append(Listing(title, abstract, o.label, "disguise"))
    negatives: list[Listing] = []
    for i, (o, lender) in enumerate(zip(originals, lenders, strict=False)):
        if i % 2 == 0:
            negatives.append(Listing(o.title, lender.abstract, f"reused:{i}", "reused-title"))
        else:
            title = re.sub(r"\b(of|for|with|on|in)\b", "towards", o.title, count=1)
            if title == o.title:
                title = o.title + " 2"
            negatives.append(Listing(title, lender.abstract, f"lookalike:{i}", "lookalike"))
    # The red team's shapes, from a generator of their own so the shapes above stay put.
    more = random.Random(seed + 1)
    for o in originals:
        for kind, made in (
            ("v2-reworded", reword(o.title, o.abstract, more)),
            ("truncated", truncate(o.title, o.abstract)),
        ):
            if made is not None:
                positives.append(Listing(*made, o.label, kind))
    # Issue 12's second red team: from a generator of its own again.
    again = random.Random(seed + 2)
    for o in originals:
        positives.append(
            Listing(*add_title_words(o.title, o.abstract, again), o.label, "v2-titled")
        )
    cuts = random.Random(seed + 2)
    for i, o in enumerate(originals):
        made = cut_short(o.title, o.abstract, cuts, 1 + i % 2)
        if made is not None:
            positives.append(Listing(*made, o.label, "v2-cut"))
    series = challenge_series(rng) + family_series(rng) + suite_series(rng) + template_series()
    series += boilerplate_surveys()
    series += listed_challenge_series(rng) + listed_family_series(rng) + listed_suite_series(rng)
    series += joint_challenge_series(again) + colon_suite_series(again)
    series += stem_family_series(again) + findings_series(again)
    series += headed_challenge_series(random.Random(seed + 3))
    rng.shuffle(series)
    rng.shuffle(positives)
    # Issue 12's third red team: from a generator of its own, after the shuffles,
    # so every shape above keeps its place.
    shared = shared_word_suite_series(random.Random(seed + 4))
    random.Random(seed + 4).shuffle(shared)
    series += shared
    # Issue 12's fourth red team, again from a generator of its own.
    fourth = random.Random(seed + 5)
    spanning = spanning_suite_series(fourth)
    fourth.shuffle(spanning)
    series += spanning
    positives += member_revisions(series, fourth)
    return Corpus(tuple(originals), tuple(series), tuple(positives), tuple(negatives))


SPANNING_AREAS = ("Math", "Code", "Science", "Law", "Medicine", "Finance", "History", "Physics")
SPANNING_OWN = (
    "This volume has {n} items written by domain experts and checked twice.",
    "Items were collected over {n} weeks from contributors in {k} countries.",
    "We release {n} problems together with worked reference answers.",
    "The volume holds {n} questions of graded difficulty from {k} sources.",
)
SPANNING_ABSTRACT = (
    "{suite} is a benchmark suite for evaluating large language models, spanning "
    "{spanning}. {own} Every item is screened for contamination and paired with a rubric. "
    "We evaluate {m} open and proprietary models and find the best still fails {p} percent "
    "of the items."
)
SPANNING_SUITES = (("Orrery", 8, "{suite}: {area}"), ("Vantage", 3, "{suite} {area}"))


def spanning_suite_series(rng: random.Random) -> list[Listing]:
    """Suites whose one abstract lists every member's area: a member's own area is
    in its title and, once, in that list — nowhere else in its abstract."""
    out = []
    for suite, count, shape in SPANNING_SUITES:
        areas = SPANNING_AREAS[:count]
        spanning = ", ".join(a.lower() for a in areas[:-1]) + " and " + areas[-1].lower()
        for area in areas:
            own = rng.choice(SPANNING_OWN).format(n=rng.randint(300, 3000), k=rng.randint(5, 40))
            abstract = SPANNING_ABSTRACT.format(
                suite=suite,
                spanning=spanning,
                own=own,
                m=rng.randint(10, 40),
                p=rng.randint(10, 60),
            )
            title = shape.format(suite=suite, area=area)
            out.append(Listing(title, abstract, f"suite-spanning:{suite}:{area}", "suite-spanning"))
    return out


VERSION_SUBTITLES = ("An Updated Release", "Revised and Extended", "An Extended Study")


def member_revisions(series: Sequence[Listing], rng: random.Random) -> list[Listing]:
    """A heavy revision of every third series member, keeping what names the member
    (its name before the colon, or its whole title) and saying it is a new version."""
    out = []
    for listing in series[::3]:
        head, colon, tail = listing.title.partition(": ")
        # (a subtitle that names the member stays: "AURORA 2025 Challenge: Dehazing")
        names_member = any(w.lower() in listing.label.lower() for w in tail.split() if len(w) > 3)
        if colon and len(head.split()) > 1 and not names_member:
            title = f"{head}: {rng.choice(VERSION_SUBTITLES)}"
        else:
            title = f"{listing.title} (Extended Version)"
        _, abstract = revise(listing.title, listing.abstract, rng, "heavy")
        out.append(Listing(title, abstract, listing.label, "v2-member"))
    return out


def as_digest(listings: Sequence[Listing], name: str = "corpus.txt") -> list[RawEntry]:
    """The listings written as a text digest and read back through the parser
    (so disguises meet the same repair a real digest gets)."""
    body = "\n\n".join(f"{x.title.strip()}\n\n{x.abstract}" for x in listings)
    text = f"Daily Papers\n\nMar 21\n\n{body}\n"
    entries = list(parse_digest(text.encode(), name=name, edition_date=date(2026, 3, 21)).entries)
    if len(entries) != len(listings):
        raise AssertionError(f"{name}: {len(listings)} listings parsed as {len(entries)} entries")
    return entries


def chunked(items: Sequence[Listing], parts: int) -> Iterator[Sequence[Listing]]:
    size = -(-len(items) // parts)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- runs against a store

STORE_TAXONOMY = Taxonomy((Topic("other", "Other"),))


def record(store: Database, entries: Sequence[RawEntry], day: date) -> list[Verdict]:
    """Split ``entries`` against the store and record the new ones, as a run does."""
    verdicts = seen_split(store, entries)
    papers_ = {p.key: p for p in new_papers(verdicts, STORE_TAXONOMY)}
    new = [
        NewPaper(papers_[v.key], v.title_key, v.signature, v.terms, v.rare_pairs)
        for v in verdicts
        if v.new
    ]
    now = datetime.now(UTC)
    with store.write() as tx:
        stored = tx.editions.record(build_edition([n.paper for n in new], STORE_TAXONOMY, day), now)
        tx.papers.mark_seen(new, stored.id, now)
    return verdicts


def seen_split(store: Database, entries: Sequence[RawEntry]) -> list[Verdict]:
    with store.read() as tx:
        return split(entries, tx.seen)
