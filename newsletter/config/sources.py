"""``[[sources]]``: the digests, feeds and JSON documents a run reads.

Each rule in :data:`RULES` looks at one entry and yields ``(key, why)``
pairs; :data:`LIST_RULES` look at all entries together.  The loader names
each problem ``sources[i].key``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from newsletter.config.rules import choices

SOURCE_KINDS = ("text", "feed", "hf")
SOURCE_KEYS = ("name", "kind", "path", "url", "allow_private")


@dataclass(frozen=True)
class SourceSettings:
    """One ``[[sources]]`` entry.

    ``text`` sources read ``path``; ``feed`` and ``hf`` sources fetch ``url``.
    ``allow_private`` lets a source fetch from a loopback, private or
    link-local address (its own host only, never a redirect target elsewhere).
    """

    name: str
    kind: str
    path: str = ""
    url: str = ""
    allow_private: bool = False


Problems = Iterator[tuple[str, str]]
EntryRule = Callable[[dict[str, Any]], Problems]


def _known_keys(item: dict[str, Any]) -> Problems:
    for key in sorted(set(item) - set(SOURCE_KEYS)):
        yield key, f"unknown key (expected one of: {choices(SOURCE_KEYS)})"


def _known_kind(item: dict[str, Any]) -> Problems:
    kind = item.get("kind", "text")
    if kind not in SOURCE_KINDS:
        yield "kind", f"unknown kind {kind!r} (expected: {choices(SOURCE_KINDS)})"


def _named(item: dict[str, Any]) -> Problems:
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        yield "name", "required, a non-empty string"


def _allow_private_is_bool(item: dict[str, Any]) -> Problems:
    allow_private = item.get("allow_private", False)
    if not isinstance(allow_private, bool):
        yield "allow_private", f"expected true or false, got {allow_private!r}"


def _text_reads_a_path(item: dict[str, Any]) -> Problems:
    if item.get("kind", "text") != "text":
        return
    path = item.get("path", "")
    if not isinstance(path, str) or not path:
        yield "path", "required for a text source (a file, folder or glob)"
    if item.get("url", ""):
        yield "url", "a text source reads path, not url"


def _fetched_reads_a_url(item: dict[str, Any]) -> Problems:
    kind = item.get("kind", "text")
    if kind == "text" or kind not in SOURCE_KINDS:
        return
    url = item.get("url", "")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        yield (
            "url",
            f"required for a {kind} source, an http:// or https:// URL"
            + (f", got {url!r}" if url else ""),
        )
    if item.get("path", ""):
        yield "path", f"a {kind} source fetches url, not path"


RULES: tuple[EntryRule, ...] = (
    _known_keys,
    _known_kind,
    _named,
    _allow_private_is_bool,
    _text_reads_a_path,
    _fetched_reads_a_url,
)


def _unique_names(items: list[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, str, str]]:
    names: set[str] = set()
    for i, item in items:
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        if name in names:
            yield i, "name", f"{name!r} is used by another source"
        names.add(name)


LIST_RULES = (_unique_names,)


def parse_sources(raw: Any) -> tuple[tuple[SourceSettings, ...], list[str]]:
    """The checked ``[[sources]]`` and every problem, each as ``sources[i].key: why``."""
    if not isinstance(raw, list):
        return (), ["sources: must be an array of tables ([[sources]])"]
    problems: list[str] = []
    items: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(f"sources[{i}]: must be a table")
            continue
        items.append((i, item))
        for rule in RULES:
            problems += [f"sources[{i}].{key}: {why}" for key, why in rule(item)]
    for list_rule in LIST_RULES:
        problems += [f"sources[{i}].{key}: {why}" for i, key, why in list_rule(items)]
    if problems:
        return (), problems
    return tuple(
        SourceSettings(
            name=item["name"],
            kind=item.get("kind", "text"),
            path=item.get("path", ""),
            url=item.get("url", ""),
            allow_private=item.get("allow_private", False),
        )
        for _, item in items
    ), []
