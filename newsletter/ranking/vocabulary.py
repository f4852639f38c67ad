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
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from newsletter.ranking.tuning import Tuning
from newsletter.ranking.values import PaperText


def text_of(paper: PaperText, tuning: Tuning) -> str:
    """What the vectorizer reads: the title (repeated: it is what a reader judges by),
    then the abstract."""
    return f"{paper.title}. " * tuning.title_repeats + paper.abstract


class Vocabulary:
    """The fitted vectorizer and topic columns; :meth:`rows` turns papers into features."""

    def __init__(self, papers: Sequence[PaperText], tuning: Tuning) -> None:
        """Fit on ``papers``; raises ``ValueError`` when they have no usable word."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        big = len(papers) >= 20
        self.tuning = tuning
        """The knobs it was made with (the ranker reads its own from here)."""
        self._vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2 if tuning.bigrams else 1),
            min_df=tuning.min_df if big else 1,
            max_df=tuning.max_df if big else 1.0,
            stop_words="english",
            dtype=np.float64,
        )
        fitted = self._vectorizer.fit_transform([text_of(p, tuning) for p in papers])
        words = [str(w) for w in self._vectorizer.get_feature_names_out()]
        self._columns(words, sorted({t for p in papers for t in p.topics}))
        self.papers = len(papers)
        """How many papers it was fitted on (the delivery refits when the store grows)."""
        self.corpus_tags = self.tags(papers)
        """The tag rows of the papers fitted on (see :meth:`tags`)."""
        self.corpus = self._with_topics(fitted, self.corpus_tags)
        """The feature rows of the papers fitted on, in their order."""

    def _columns(self, words: Sequence[str], topics: Sequence[str]) -> None:
        self._topics = {t: i for i, t in enumerate(topics)}
        self.words = len(words)
        """How many columns are words (the rest are topics)."""
        self.terms: tuple[str, ...] = (*words, *(f"topic {t}" for t in topics))
        self.topics: tuple[str, ...] = tuple(topics)
        """The topic ids of the tag columns, in column order."""

    def state(self) -> bytes:
        """The fitted vocabulary as bytes (terms, IDF, topics; zlib-compressed JSON):
        what :meth:`restore` rebuilds, column for column."""
        words = list(self.terms[: self.words])
        idf = [float(x) for x in self._vectorizer.idf_]
        data = {"words": words, "idf": idf, "topics": list(self.topics), "papers": self.papers}
        return zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def restore(cls, state: bytes, tuning: Tuning) -> Vocabulary:
        """The vocabulary :meth:`state` saved: the same columns and the same rows for any
        paper (no corpus rows: :attr:`corpus` is empty; train on :meth:`rows`)."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        data = json.loads(zlib.decompress(state).decode("utf-8"))
        made = cls.__new__(cls)
        made.tuning = tuning
        made._vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2 if tuning.bigrams else 1),
            stop_words="english",
            dtype=np.float64,
            vocabulary={w: i for i, w in enumerate(data["words"])},
        )
        made._vectorizer.idf_ = np.asarray(data["idf"], dtype=np.float64)
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
        text = self._vectorizer.transform([text_of(p, self.tuning) for p in papers])
        return self._with_topics(text, self.tags(papers))

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
