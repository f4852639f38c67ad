"""An edition's stored JSON: its ``edition.json`` and the texts made for it at ingest.

The ``editions`` table keeps each edition as the JSON the site publishes, plus one key
the site does not publish: each paper's :class:`~newsletter.model.PaperText` (the
cleaned text and contribution sentence every rendering shows, made once at ingest).
A later process (``send``, a rebuild of the site) reads them back instead of choosing
each contribution sentence again; an edition stored before they were kept has none,
and its renderings make them (the same text: a test checks it).  No migration: the
payload column holds JSON already, and older code reading a newer payload ignores the
key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from newsletter import edition as edition_json
from newsletter.model import TEXT_RULES, Edition, Paper, PaperText

TEXTS = "texts"
"""The stored payload's key for its papers' :class:`~newsletter.model.PaperText` (not in
the published ``edition.json``): ``{"rules": TEXT_RULES, "papers": {paper key: {"teaser":
…, and "title", "abstract", "authors" when cleaning changed them}}}``; texts stored
under other rules (:data:`~newsletter.model.TEXT_RULES`) are not read."""


def payload(edition: Edition) -> str:
    """The stored JSON of ``edition``: its ``edition.json`` with the texts its papers carry
    (made at ingest), so a later process renders it without making them again."""
    data = edition_json.to_dict(edition)
    texts: dict[str, dict[str, Any]] = {}
    for paper in edition.papers:
        text = paper.text
        if text is None or paper.key in texts:
            continue
        kept: dict[str, Any] = {"teaser": text.teaser}
        # the cleaned title, abstract and authors are usually the paper's own: kept only
        # when cleaning changed them, so the payload grows by the teasers alone
        if text.title != paper.title:
            kept["title"] = text.title
        if text.abstract != paper.abstract:
            kept["abstract"] = text.abstract
        if text.authors != paper.authors:
            kept["authors"] = list(text.authors)
        texts[paper.key] = kept
    if texts:
        data[TEXTS] = {"rules": TEXT_RULES, "papers": texts}
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def from_payload(text: str) -> Edition:
    """The edition of a stored payload, each paper with the text stored with it (a payload
    written before texts were kept, or a paper without one, leaves ``text`` None: the
    rendering makes it, the same value)."""
    data = json.loads(text)  # parsed once: an edition's payload is a few hundred KB
    edition = edition_json.from_dict(data)
    stored = data.get(TEXTS)
    if stored is None:
        return edition
    if not isinstance(stored, dict) or stored.get("rules") != TEXT_RULES:
        return edition  # made by other rules (or damaged): the rendering makes them again
    texts = stored.get("papers")
    if not isinstance(texts, dict):
        return edition

    def texted(paper: Paper) -> Paper:
        kept = texts.get(paper.key)
        if not isinstance(kept, dict) or not isinstance(kept.get("teaser"), str):
            return paper
        made = PaperText(
            title=kept.get("title", paper.title),
            abstract=kept.get("abstract", paper.abstract),
            teaser=kept["teaser"],
            authors=tuple(kept.get("authors", paper.authors)),
        )
        return replace(paper, text=made)

    return replace(
        edition,
        sections=tuple(
            replace(s, papers=tuple(texted(p) for p in s.papers)) for s in edition.sections
        ),
    )
