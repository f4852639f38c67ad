"""Templates: the stock set is found, an operator's folder overrides and extends it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from render_kit import settings, small_edition

from newsletter import resources
from newsletter.errors import TemplateError
from newsletter.render import render_email, templates


def test_a_stock_install_finds_its_templates() -> None:
    folder = resources.stock_templates()
    env = templates.environment(None)
    for name in (
        templates.EMAIL_MJML,
        templates.EMAIL_TEXT,
        templates.EDITION_PAGE,
        templates.INDEX_PAGE,
        "_paper.mjml.j2",
        "_section.mjml.j2",
        "_footer.mjml.j2",
        "_palette.j2",
        "_page.html.j2",
    ):
        assert (folder / name).is_file()
        env.get_template(name)
        env.get_template(f"stock/{name}")


def test_an_operator_file_overrides_the_stock_one(tmp_path: Path) -> None:
    (tmp_path / "_footer.mjml.j2").write_text(
        "<p>Sent by {{ edition.name }} &amp; friends. {{ edition.postal_address }}</p>",
        encoding="utf-8",
    )
    email = render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert "Sent by Test Papers &amp; friends." in email.html
    assert "Manage topics" not in email.html
    assert "Manage topics" in email.text  # the text template was not overridden


def test_an_operator_template_extends_the_stock_one(tmp_path: Path) -> None:
    (tmp_path / "email.mjml.j2").write_text(
        '{% extends "stock/email.mjml.j2" %}\n'
        "{% block note %}<mj-section><mj-column><mj-text>"
        "<p>Hello {{ edition.name }}</p></mj-text></mj-column></mj-section>{% endblock %}",
        encoding="utf-8",
    )
    email = render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert "<p>Hello Test Papers</p>" in email.html
    assert "In this edition" in email.html  # the rest of the stock template is kept


def test_operator_templates_are_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "_paper.mjml.j2").write_text("<p>{{ paper.title }}</p>", encoding="utf-8")
    email = render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert "&lt;script&gt;" in email.html and "<script>" not in email.html


def test_mj_style_inline_rules_are_inlined(tmp_path: Path) -> None:
    (tmp_path / "email.mjml.j2").write_text(
        '{% extends "stock/email.mjml.j2" %}\n'
        '{% block styles %}{{ super() }}<mj-style inline="inline">h3 { letter-spacing: 1px; }'
        "</mj-style>{% endblock %}",
        encoding="utf-8",
    )
    email = render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert "letter-spacing: 1px" in email.html.split("<body", 1)[1]  # on the elements
    assert "h3 { letter-spacing" not in email.html  # and its dead <style> rule is gone


def test_a_typo_in_a_template_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "_footer.mjml.j2").write_text("{{ edition.postal_adress }}", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"_footer\.mjml\.j2, line 1: UndefinedError"):
        render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))


def test_a_syntax_error_in_a_template_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "email.txt.j2").write_text("fine\n\n{% if %}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert caught.value.name == str(tmp_path / "email.txt.j2") and caught.value.line == 3


def test_invalid_mjml_names_the_template(tmp_path: Path) -> None:
    (tmp_path / "email.mjml.j2").write_text("<mjml><mj-body><mj-text>x</mj-body>", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"email\.mjml\.j2: .*invalid MJML"):
        render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))


def test_plain_text_template_is_not_html_escaped() -> None:
    email = render_email(small_edition(), settings())
    assert "& Tables" in email.text and "&amp;" not in email.text


def test_wrap_filter() -> None:
    text = "alpha beta gamma delta epsilon " + "x" * 30
    assert (
        templates.wrap(text, width=20, indent=2)
        == "  alpha beta gamma\n  delta epsilon\n  " + "x" * 30
    )


RENDER_OVERRIDE = """
import sys
from pathlib import Path
from newsletter.render import templates
env = templates.environment(Path(sys.argv[1]))
print(templates.render(env, "note.txt.j2", who="you"))
"""


def _render_fresh(folder: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RENDER_OVERRIDE, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NEWSLETTER_CACHE_DIR": str(cache)},
    )


def test_compiled_templates_are_kept_between_processes_and_an_edit_is_seen(
    tmp_path: Path,
) -> None:
    folder, cache = tmp_path / "templates", tmp_path / "cache"
    folder.mkdir()
    (folder / "note.txt.j2").write_text("hello {{ who }}\n", encoding="utf-8")
    first = _render_fresh(folder, cache)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "hello you\n\n"
    kept = list((cache / "jinja").iterdir())
    assert kept, "no compiled template was kept"
    (folder / "note.txt.j2").write_text("goodbye {{ who }}\n", encoding="utf-8")
    second = _render_fresh(folder, cache)
    assert second.stdout == "goodbye you\n\n", second.stderr  # the edit, not the cached code


def test_a_cache_folder_that_cannot_be_made_means_no_cache_not_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note.txt.j2").write_text("hello {{ who }}\n", encoding="utf-8")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    done = _render_fresh(folder, blocked)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello you\n\n"
