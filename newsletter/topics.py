"""Topic taxonomy and classifier (placeholder interface; being replaced by the real classifier)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from newsletter.model import Paper


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    scope: str = ""


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def title(self, topic_id: str) -> str:
        for t in self.topics:
            if t.id == topic_id:
                return t.title
        return topic_id


@dataclass(frozen=True)
class Classification:
    primary: str
    topics: tuple[str, ...]
    reasons: tuple[str, ...] = ()


def parse_taxonomy(raw: Any) -> tuple[Taxonomy, list[str]]:
    if not raw:
        return Taxonomy((Topic("other", "Other"),)), []
    return Taxonomy(tuple(Topic(t["id"], t["title"], t.get("scope", "")) for t in raw)), []


def classify(title: str, abstract: str, categories: tuple[str, ...], taxonomy: Taxonomy) -> Classification:
    return Classification(primary=taxonomy.topics[-1].id, topics=(taxonomy.topics[-1].id,))


def assign(paper: Paper, taxonomy: Taxonomy) -> Paper:
    c = classify(paper.title, paper.abstract, paper.categories, taxonomy)
    return replace(paper, topic=c.primary, topics=c.topics)
