"""The features every profile shares: TF-IDF over the papers' words, plus their topic tags.

Fitted once per :func:`~newsletter.ranking.train` call on the corpus (the store's
papers): sublinear term frequency, unigrams and bigrams, English stop words
dropped, terms in fewer than ``min_df`` papers or in more than ``max_df`` of them
left out.  Each paper's text row is L2-normalised, so the dot product of two rows
is their cosine similarity (what the reasons use).

After the words come the paper's topic tags from the stock rules
(``PaperText.topics``, primary first): one column per topic, ``topic_weight`` for
the primary and half that for the others.  A reader whose taste *is* a topic
then needs a handful of votes, not hundreds, to have it learned; a reader whose
taste cuts across topics gets no weight on them.  Topic columns never appear in
a reason (they are not words of the paper).

A vocabulary is kept between runs (:meth:`Vocabulary.state` /
:meth:`Vocabulary.restore`: its terms, their IDF and the topics, a few hundred
kilobytes): a subscriber's stored model is only meaningful over the columns it
was trained on, so the delivery refits it only when the store has grown enough
to matter (``newsletter.delivery.ranked``), and every model then retrains.

Only fitting imports scikit-learn (its import alone is about a second of CPU):
turning papers into rows (:meth:`Vocabulary.rows`) is our own code over the terms
and IDF, the same tokens, n-grams, stop words, sublinear TF, IDF product and L2
norm as ``TfidfVectorizer.transform``, float for float (a test holds the two
equal on the seed digests), so a run that reads a stored vocabulary never
imports it.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from newsletter.ranking.tuning import Tuning
from newsletter.ranking.values import PaperText

TOKEN = re.compile(r"(?u)\b\w\w+\b")
"""What a word is: ``TfidfVectorizer``'s default ``token_pattern``."""
ENGLISH_STOP_WORDS = frozenset(
    (
        "a about above across after afterwards again against all almost alone along already "
        "also although always am among amongst amoungst amount an and another any anyhow "
        "anyone anything anyway anywhere are around as at back be became because become "
        "becomes becoming been before beforehand behind being below beside besides between "
        "beyond bill both bottom but by call can cannot cant co con could couldnt cry de "
        "describe detail do done down due during each eg eight either eleven else elsewhere "
        "empty enough etc even ever every everyone everything everywhere except few fifteen "
        "fifty fill find fire first five for former formerly forty found four from front full "
        "further get give go had has hasnt have he hence her here hereafter hereby herein "
        "hereupon hers herself him himself his how however hundred i ie if in inc indeed "
        "interest into is it its itself keep last latter latterly least less ltd made many "
        "may me meanwhile might mill mine more moreover most mostly move much must my myself "
        "name namely neither never nevertheless next nine no nobody none noone nor not "
        "nothing now nowhere of off often on once one only onto or other others otherwise our "
        "ours ourselves out over own part per perhaps please put rather re same see seem "
        "seemed seeming seems serious several she should show side since sincere six sixty so "
        "some somehow someone something sometime sometimes somewhere still such system take "
        "ten than that the their them themselves then thence there thereafter thereby "
        "therefore therein thereupon these they thick thin third this those though three "
        "through throughout thru thus to together too top toward towards twelve twenty two un "
        "under until up upon us very via was we well were what whatever when whence whenever "
        "where whereafter whereas whereby wherein whereupon wherever whether which while "
        "whither who whoever whole whom whose why will with within without would yet you your "
        "yours yourself yourselves"
    ).split()
)
"""scikit-learn's English stop words (``stop_words="english"``), as of 1.9: a
test holds the two equal, so a fit and our transform drop the same words."""


def text_of(paper: PaperText, tuning: Tuning) -> str:
    """What the vectorizer reads: the title (repeated: it is what a reader judges by),
    then the abstract."""
    return f"{paper.title}. " * tuning.title_repeats + paper.abstract


class Vocabulary:
    """The fitted terms, their IDF and the topic columns; :meth:`rows` turns papers into
    features."""

    def __init__(self, papers: Sequence[PaperText], tuning: Tuning) -> None:
        """Fit on ``papers``; raises ``ValueError`` when they have no usable word."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        big = len(papers) >= 20
        self.tuning = tuning
        """The knobs it was made with (the ranker reads its own from here)."""
        vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2 if tuning.bigrams else 1),
            min_df=tuning.min_df if big else 1,
            max_df=tuning.max_df if big else 1.0,
            stop_words="english",
            dtype=np.float64,
        )
        fitted = vectorizer.fit_transform([text_of(p, tuning) for p in papers])
        words = [str(w) for w in vectorizer.get_feature_names_out()]
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._columns(words, sorted({t for p in papers for t in p.topics}))
        self.papers = len(papers)
        """How many papers it was fitted on (the delivery refits when the store grows)."""
        self.corpus_tags = self.tags(papers)
        """The tag rows of the papers fitted on (see :meth:`tags`)."""
        self.corpus = self._with_topics(fitted, self.corpus_tags)
        """The feature rows of the papers fitted on, in their order."""

    def _columns(self, words: Sequence[str], topics: Sequence[str]) -> None:
        self._topics = {t: i for i, t in enumerate(topics)}
        self._index = {w: i for i, w in enumerate(words)}
        self.words = len(words)
        """How many columns are words (the rest are topics)."""
        self.terms: tuple[str, ...] = (*words, *(f"topic {t}" for t in topics))
        self.topics: tuple[str, ...] = tuple(topics)
        """The topic ids of the tag columns, in column order."""
        self._word_columns: Any = None
        self._nameable: Any = None

    def nameable(self) -> Any:
        """Per word column, 1.0 when a reason may name the term, else 0.0 (made once):
        see :func:`newsletter.ranking.reasons.nameable`.  Scores use every term; only
        the words a reader is shown are chosen among these."""
        if self._nameable is None:
            from newsletter.ranking.reasons import nameable

            self._nameable = nameable(self.terms[: self.words])
        return self._nameable

    def word_columns(self) -> Any:
        """:func:`newsletter.ranking.reasons.word_columns` of these terms (made once)."""
        if self._word_columns is None:
            from newsletter.ranking.reasons import word_columns

            self._word_columns = word_columns(self.terms, self.words)
        return self._word_columns

    def state(self) -> bytes:
        """The fitted vocabulary as bytes (terms, IDF, topics; zlib-compressed JSON):
        what :meth:`restore` rebuilds, column for column."""
        words = list(self.terms[: self.words])
        idf = [float(x) for x in self._idf]
        data = {"words": words, "idf": idf, "topics": list(self.topics), "papers": self.papers}
        return zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def restore(cls, state: bytes, tuning: Tuning) -> Vocabulary:
        """The vocabulary :meth:`state` saved: the same columns and the same rows for any
        paper (no corpus rows: :attr:`corpus` is empty; train on :meth:`rows`)."""
        from scipy import sparse

        data = json.loads(zlib.decompress(state).decode("utf-8"))
        made = cls.__new__(cls)
        made.tuning = tuning
        made._idf = np.asarray(data["idf"], dtype=np.float64)
        made._columns(data["words"], data["topics"])
        made.papers = int(data["papers"])
        made.corpus_tags = sparse.csr_matrix((0, len(made.topics)))
        made.corpus = sparse.csr_matrix((0, len(made.terms)))
        return made

    def rows(self, papers: Sequence[PaperText]) -> Any:
        """The feature rows (CSR) of ``papers``, words not in the vocabulary ignored."""
        if not papers:
            from scipy import sparse

            return sparse.csr_matrix((0, len(self.terms)))
        text = self.text_rows([text_of(p, self.tuning) for p in papers])
        return self._with_topics(text, self.tags(papers))

    def text_rows(self, texts: Sequence[str]) -> Any:
        """The TF-IDF rows (CSR, float64) of ``texts`` over the words: what the fitted
        ``TfidfVectorizer.transform`` gives, float for float, without scikit-learn —
        lower-cased, :data:`TOKEN` words, :data:`ENGLISH_STOP_WORDS` dropped, then
        unigrams and bigrams of what is left, counted when in the vocabulary; then
        ``1 + log(count)``, times the IDF, each row divided by its L2 norm (its squares
        summed in column order, as scikit-learn's loop does)."""
        from scipy import sparse

        index = self._index
        stop = ENGLISH_STOP_WORDS
        bigrams = self.tuning.bigrams
        columns: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            tokens = [w for w in TOKEN.findall(text.lower()) if w not in stop]
            found: dict[int, int] = {}
            for token in tokens:
                j = index.get(token)
                if j is not None:
                    found[j] = found.get(j, 0) + 1
            if bigrams:
                for pair in map(" ".join, pairwise(tokens)):
                    j = index.get(pair)
                    if j is not None:
                        found[j] = found.get(j, 0) + 1
            for j in sorted(found):
                columns.append(j)
                counts.append(found[j])
            indptr.append(len(columns))
        starts = np.asarray(indptr, dtype=np.int64)
        data = np.log(np.asarray(counts, dtype=np.float64)) + 1.0
        cols = np.asarray(columns, dtype=np.int32)
        data *= self._idf[cols]
        # the L2 norm, each row's squares added one column after another (not numpy's
        # pairwise sum, whose last bit can differ): position k of every row at once
        lengths = np.diff(starts)
        squares = data * data
        total = np.zeros(len(texts), dtype=np.float64)
        for k in range(int(lengths.max()) if len(lengths) else 0):
            rows = np.flatnonzero(lengths > k)
            total[rows] += squares[starts[rows] + k]
        norm = np.sqrt(total)
        norm[total == 0.0] = 1.0
        data /= np.repeat(norm, lengths)
        return sparse.csr_matrix(
            (data, cols, starts.astype(np.int32)), shape=(len(texts), self.words)
        )

    def tags(self, papers: Sequence[PaperText]) -> Any:
        """One row per paper over :attr:`topics` (CSR): 1 for its primary topic,
        ``secondary_share`` for each other topic it is tagged with; topics not seen
        when fitting are ignored."""
        from scipy import sparse

        rows, cols, values = [], [], []
        for i, paper in enumerate(papers):
            for j, topic in enumerate(dict.fromkeys(paper.topics)):
                if topic in self._topics:
                    rows.append(i)
                    cols.append(self._topics[topic])
                    values.append(1.0 if j == 0 else self.tuning.secondary_share)
        return sparse.csr_matrix(
            (values, (rows, cols)), shape=(len(papers), len(self._topics)), dtype=np.float64
        )

    def _with_topics(self, text: Any, tags: Any) -> Any:
        from scipy import sparse

        return sparse.hstack([text, tags * self.tuning.topic_weight], format="csr")
