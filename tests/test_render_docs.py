"""docs/templates.md documents every field of every template context class."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from newsletter.delivery import confirmations
from newsletter.render import archive, context
from newsletter.web import pages

DOC = Path(__file__).resolve().parents[1] / "docs" / "templates.md"
CLASSES = [
    context.EditionContext,
    context.SectionView,
    context.PaperView,
    context.Tag,
    context.Links,
    context.IndexContext,
    context.EditionSummary,
    archive.Chrome,
    archive.TopicLink,
    archive.EditionNav,
    archive.PaperPage,
    archive.ListPage,
    archive.Pager,
    archive.PaperItem,
    pages.PageContext,
    pages.RankingPanel,
    pages.PageLinks,
    pages.TopicChoice,
    confirmations.ConfirmationContext,
    confirmations.LinksContext,
]


def documented_fields(name: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^### {name}\n(.*?)(?=^##|\Z)", text, re.M | re.S)
    assert match, f"docs/templates.md has no '### {name}' section"
    return set(re.findall(r"^\| `(\w+)` \|", match.group(1), re.M))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_context_field_is_documented(cls: type) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    assert documented_fields(cls.__name__) == fields


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_context_classes_are_frozen(cls: type) -> None:
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
