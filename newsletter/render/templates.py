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

Compiled templates are kept between processes in a Jinja bytecode cache
(:func:`bytecode_cache`: ``$NEWSLETTER_CACHE_DIR``, else
``$XDG_CACHE_HOME/newsletter/jinja``, else ``~/.cache/newsletter/jinja``), so a
fresh ``newsletter run`` does not compile every template again; an entry is
keyed by the template's name and file and checked against a hash of its
source, so an edited override is compiled afresh.  A cache folder that cannot
be created means no cache, never an error.

:func:`render` is how every template is rendered: whatever Jinja raises (a
syntax error, an undefined name, a missing include) becomes a
:class:`~newsletter.errors.TemplateError` naming the template file and line.
"""

from __future__ import annotations

import functools
import os
import traceback
from pathlib import Path
from typing import Any

import jinja2

from newsletter import resources
from newsletter.errors import TemplateError
from newsletter.render import cards

STOCK_PREFIX = "stock"

EMAIL_MJML = "email.mjml.j2"
EMAIL_TEXT = "email.txt.j2"
EDITION_PAGE = "edition.html.j2"
INDEX_PAGE = "index.html.j2"


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt.j2")


def cache_dir() -> Path:
    """Where compiled templates are kept (see the module docstring)."""
    given = os.environ.get("NEWSLETTER_CACHE_DIR")
    if given:
        return Path(given) / "jinja"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsletter" / "jinja"


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """The bytecode cache in :func:`cache_dir`, or None when it cannot be made."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


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
        bytecode_cache=bytecode_cache(),
    )
    env.filters["wrap"] = wrap
    cards.register(env, stock, wrap)
    return env


@functools.lru_cache(maxsize=8)
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The (cached) environment for an operator folder, or the stock templates alone (the
    folder is resolved once per process: every email asks)."""
    user = templates_dir.resolve() if templates_dir is not None else None
    return _environment(resources.stock_templates().resolve(), user)


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``; a failure is a :class:`TemplateError`."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            exc.filename or exc.name or name, exc.lineno, exc.message or ""
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            str(exc.name),
            None,
            "not found",
            hint="the stock templates ship with the package; "
            "an override must keep the stock file names",
        ) from exc
    except jinja2.TemplateError as exc:
        where, line = _template_frame(exc, name)
        raise TemplateError(where, line, f"{type(exc).__name__}: {exc.message or exc}") from exc


def check(env: jinja2.Environment) -> list[TemplateError]:
    """Compile every template ``env`` finds (an override where there is one, else the
    stock one): the syntax errors, each naming its file and line."""
    found: list[TemplateError] = []
    for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
        if name.startswith(STOCK_PREFIX + "/"):
            continue  # the same stock files, listed once more under the prefix
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            found.append(
                TemplateError(exc.filename or exc.name or name, exc.lineno, exc.message or "")
            )
    return found


def _template_frame(exc: BaseException, name: str) -> tuple[str, int | None]:
    """The innermost template file and line in the traceback (Jinja maps its frames)."""
    found: tuple[str, int | None] = (name, None)
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, line)
    return found


def wrap(text: str, width: int = 72, indent: int = 0) -> str:
    """Greedy word wrap for the plain-text part (``textwrap`` is 10x slower).

    Words longer than the line (URLs) are never broken; every line, the first
    included, is indented by ``indent`` spaces.  Each line is the longest run of
    whole words that fits, as adding words one by one until the next does not fit
    would make it: on the text with its spaces folded, the last space within reach
    ends the line (one ``rfind`` per line; the text part of a 100-paper email wraps
    every title and teaser, and a regex search per line cost twice as much).
    """
    pad = " " * indent
    room = width - indent
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        # no whitespace but single spaces between words (every other whitespace character
        # is unprintable): already folded, as a cleaned title or teaser always is
        folded = text
        if len(folded) <= room or " " not in folded:
            return pad + folded if folded else ""
    else:
        words = text.split()
        folded = " ".join(words)
        if len(folded) <= room or len(words) <= 1:
            return pad + folded if folded else ""
    reach = max(room, 1)
    lines = []
    start, end = 0, len(folded)
    while end - start > reach:
        cut = folded.rfind(" ", start, start + reach + 1)
        if cut < 0:  # a word longer than the line: whole, on a line of its own
            cut = folded.find(" ", start)
            if cut < 0:
                break
        lines.append(folded[start:cut])
        start = cut + 1
    if start < end:
        lines.append(folded[start:])
    return pad + ("\n" + pad).join(lines)
