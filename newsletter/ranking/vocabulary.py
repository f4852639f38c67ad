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
"""

from __future__ import annotations

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
        self._fitted = self._vectorizer.fit_transform([text_of(p, tuning) for p in papers])
        topics = sorted({t for p in papers for t in p.topics})
        self._topics = {t: i for i, t in enumerate(topics)}
        words = [str(w) for w in self._vectorizer.get_feature_names_out()]
        self.words = len(words)
        """How many columns are words (the rest are topics)."""
        self.terms: tuple[str, ...] = (*words, *(f"topic {t}" for t in topics))
        self.topics: tuple[str, ...] = tuple(topics)
        """The topic ids of the tag columns, in column order."""
        self.corpus_tags = self.tags(papers)
        """The tag rows of the papers fitted on (see :meth:`tags`)."""
        self.corpus = self._with_topics(self._fitted, self.corpus_tags)
        """The feature rows of the papers fitted on, in their order."""

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
