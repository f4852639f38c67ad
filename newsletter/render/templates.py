"""The Jinja environment: the operator's templates first, then the stock ones.

Loader chain (like Pelican's theme overrides, with its ``!simple/`` prefix
spelled ``stock/``)::

    "stock/<name>"  → always the stock template (to extend it explicitly)
    "<name>"        → output.templates_dir/<name> if it exists, else the stock one

So an operator overrides one file by dropping a file of the same name in their
folder, or changes one block with ``{% extends "stock/email.mjml.j2" %}``.
Partials included by stock templates (``_paper.mjml.j2``...) are looked up
through the same chain, so they can be overridden alone.

Autoescaping is on for every template except ``*.txt.j2`` (the plain-text
part), and undefined names raise (``StrictUndefined``): a typo in a template
fails the render instead of silently printing nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from newsletter import resources

STOCK_PREFIX = "stock"

EMAIL_MJML = "email.mjml.j2"
EMAIL_TEXT = "email.txt.j2"
EDITION_PAGE = "edition.html.j2"
INDEX_PAGE = "index.html.j2"


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt.j2")


@functools.lru_cache(maxsize=8)
def _environment(stock: Path, user: Path | None) -> jinja2.Environment:
    stock_loader = jinja2.FileSystemLoader(stock)
    chain: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({STOCK_PREFIX: stock_loader})]
    if user is not None:
        chain.append(jinja2.FileSystemLoader(user))
    chain.append(stock_loader)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(chain),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # no stat() per include per card; a process renders one config
    )
    env.filters["wrap"] = wrap
    return env


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The (cached) environment for an operator folder, or the stock templates alone."""
    user = templates_dir.resolve() if templates_dir is not None else None
    return _environment(resources.stock_templates().resolve(), user)


def wrap(text: str, width: int = 72, indent: int = 0) -> str:
    """Greedy word wrap for the plain-text part (``textwrap`` is 10x slower).

    Words longer than the line (URLs) are never broken; every line, the first
    included, is indented by ``indent`` spaces.
    """
    pad = " " * indent
    room = width - indent
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for word in text.split():
        if line and used + 1 + len(word) > room:
            lines.append(pad + " ".join(line))
            line, used = [], 0
        used += len(word) + (1 if line else 0)
        line.append(word)
    if line:
        lines.append(pad + " ".join(line))
    return "\n".join(lines)
