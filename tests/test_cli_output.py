"""What the operator reads: one clear line per problem, unwrapped when piped, JSON on request,
and exit statuses that match the README's table."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import shutil
import socket
from pathlib import Path

import pytest
from cli_kit import error_lines, init_project, newsletter, set_config
from corpus_kit import OWN_CORPUS
from smtp_loopback import smtp_server

import newsletter as package
from newsletter.errors import NewsletterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return init_project(tmp_path)


def long_bad_digest(project: Path) -> Path:
    """A binary file with a long name: its error line is far wider than 80 columns."""
    bad = project / ("a-digest-with-a-rather-long-file-name-saved-from-somewhere-" * 2 + ".txt")
    bad.write_bytes(b"\x00\x01\x02 binary")
    return bad


# ---------------------------------------------------------------- the quick start


def test_the_quick_start_run_begins_with_its_summary_not_a_warning(project: Path) -> None:
    result = newsletter("run", cwd=project, check=True)
    assert result.stderr == ""  # the default http://localhost base_url warns nobody
    assert not result.stdout.splitlines()[0].lower().startswith("warning")
    assert "Recorded edition" in result.stdout


def test_an_http_base_url_warns_once_when_mail_really_leaves(project: Path) -> None:
    with smtp_server() as server:
        set_config(project, 'method = "maildir"', 'method = "smtp"')
        set_config(project, 'host = "localhost"', 'host = "127.0.0.1"')
        set_config(project, "port = 587", f"port = {server.port}")
        set_config(project, 'security = "starttls"', 'security = "none"')
        newsletter(
            "subscribers", "add", "reader@example.org", "--confirmed", cwd=project, check=True
        )
        result = newsletter("run", cwd=project, check=True)
        assert server.handler.received_by("reader@example.org")
    warnings = [line for line in result.stderr.splitlines() if "base_url is not https" in line]
    assert len(warnings) == 1, result.stderr


# ---------------------------------------------------------------- digests by their shape


def test_preview_of_a_markdown_file_is_refused_in_one_line_naming_it(project: Path) -> None:
    shutil.copy(ROOT / "README.md", project / "README.md")
    result = newsletter("preview", "README.md", cwd=project)
    assert result.returncode == 1
    naming = [line for line in result.stderr.splitlines() if "README.md" in line]
    assert naming == [line for line in error_lines(result.stderr)]
    assert len(naming) == 1 and "not a text digest" in naming[0], result.stderr
    assert "'# newsletter'" in naming[0]
    assert (
        not (project / "preview" / "edition.json").exists()
        or json.loads((project / "preview" / "edition.json").read_text())["paper_count"] == 0
    )


# ---------------------------------------------------------------- one output layer


def test_errors_are_whole_single_lines_when_piped(project: Path) -> None:
    bad = long_bad_digest(project)
    result = newsletter("run", str(bad), str(OWN_CORPUS.file(0)), cwd=project)
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert bad.name in line and "binary file" in line and len(line) > 120  # not wrapped at 80
    for text in (result.stdout, result.stderr):
        assert all(line == line.rstrip() for line in text.splitlines()), "no padding"


def test_each_problem_is_reported_once(project: Path) -> None:
    bad = long_bad_digest(project)
    result = newsletter("run", str(bad), str(OWN_CORPUS.file(0)), cwd=project)
    everything = result.stdout + result.stderr
    assert everything.count("binary file") == 1, everything  # no log line, no table cell copy
    assert "WARNING" not in result.stderr


def test_config_show_keys_and_help_are_not_truncated_when_piped(project: Path) -> None:
    result = newsletter("config", "show", cwd=project, check=True)
    from newsletter import config

    for setting in config.SETTINGS:
        assert setting.key in result.stdout, setting.key
        assert setting.help in " ".join(result.stdout.split()), setting.key
    assert "…" not in result.stdout


def test_log_json_turns_every_line_on_standard_error_into_json(project: Path) -> None:
    bad = long_bad_digest(project)
    result = newsletter("--log-json", "run", str(bad), str(OWN_CORPUS.file(0)), cwd=project)
    records = [json.loads(line) for line in result.stderr.splitlines()]  # every line parses
    errors = [r for r in records if r["level"] == "error"]
    assert len(errors) == 1 and bad.name in errors[0]["message"] and errors[0]["hint"]
    assert {"time", "level", "logger", "message"} <= set(errors[0])
    config_error = newsletter(
        "--log-json", "--config", str(project / "nope.toml"), "config", "show", cwd=project
    )
    assert config_error.returncode == 2
    assert all(json.loads(line)["level"] for line in config_error.stderr.splitlines())
    usage = newsletter("--log-json", "run", "--date", "yesterday", cwd=project)
    assert usage.returncode == 2
    [record] = [json.loads(line) for line in usage.stderr.splitlines()]
    assert record["level"] == "error" and "yesterday" in record["message"]


# ---------------------------------------------------------------- exit statuses


def readme_exit_statuses() -> dict[int, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| exit status | meaning |") :].split("\n\n", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    return {int(code): meaning.strip() for code, meaning in rows}


def error_classes() -> list[type[NewsletterError]]:
    for info in pkgutil.walk_packages(package.__path__, "newsletter."):
        if not info.name.startswith(("newsletter.cli", "newsletter.__main__")):
            importlib.import_module(info.name)
    found: list[type[NewsletterError]] = []
    pending: list[type[NewsletterError]] = [NewsletterError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_the_readme_exit_status_table_is_what_the_code_uses() -> None:
    documented = readme_exit_statuses()
    used = {0, 2} | {cls.exit_code for cls in error_classes()}  # 0 success, 2 click usage
    source = (ROOT / "newsletter" / "cli" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):  # sys.exit(<literal>) in the commands
        literal = (
            isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
        )
        if literal and ast.unparse(node.func) == "sys.exit":  # type: ignore[union-attr]
            used.add(int(node.args[0].value))  # type: ignore[union-attr]
    assert set(documented) == used
    by_code = {cls.exit_code: cls for cls in error_classes() if cls.exit_code == 3}
    assert "serve" in documented[3] and inspect.getmodule(by_code[3]).__name__.endswith("serve")


def test_each_exit_status_is_what_a_command_returns(project: Path) -> None:
    assert newsletter("config", "show", cwd=project).returncode == 0
    assert newsletter("preview", str(ROOT / "README.md"), cwd=project).returncode == 1
    set_config(project, 'timezone = "UTC"', 'timezone = "Mars/Olympus"')
    assert newsletter("config", "show", cwd=project).returncode == 2
    assert newsletter("run", "--date", "yesterday", cwd=project).returncode == 2


def test_a_port_in_use_is_one_line_and_exit_status_3(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = newsletter("serve", "--port", str(port), cwd=project, timeout=60)
    assert result.returncode == 3, result.stderr
    [line] = error_lines(result.stderr)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


# ---------------------------------------------------------------- errors that say what and where


def test_a_broken_template_override_names_the_template_and_line(project: Path) -> None:
    (project / "mytemplates").mkdir()
    (project / "mytemplates" / "email.mjml.j2").write_text(
        '{% extends "stock/email.mjml.j2" %}\n{% block note %}\n{% if %}\n{% endblock %}\n',
        encoding="utf-8",
    )
    set_config(project, 'templates_dir = ""', 'templates_dir = "mytemplates"')
    result = newsletter("preview", str(OWN_CORPUS.file(0)), cwd=project)
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "email.mjml.j2" in line and "line 3" in line, line
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("preview", "{digest}", "--out", "{blocked}/preview"),
        ("init", "{blocked}/new"),
        ("subscribers", "export", "{blocked}/subscribers.csv"),
    ],
    ids=["preview --out", "init", "subscribers export"],
)
def test_an_unwritable_output_path_is_one_line(project: Path, args: tuple[str, ...]) -> None:
    blocked = project / "a-file"  # a path under a regular file can be written by nobody
    blocked.write_text("not a folder\n", encoding="utf-8")
    values = {"digest": str(OWN_CORPUS.file(0)), "blocked": str(blocked)}
    result = newsletter(*(a.format(**values) for a in args), cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = error_lines(result.stderr)
    assert "cannot write" in line and str(blocked) in line and "Not a directory" in line, line
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert re.search(r"^hint: ", result.stderr, re.M)


def test_a_maildir_file_name_with_terminal_escapes_is_printed_escaped(project: Path) -> None:
    set_config(project, 'intake = "none"', 'intake = "maildir"')
    maildir = project / "subscribers" / "bounces"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / "x\x1b]0;pwned\x07\x1b[2J\u202eevil").write_bytes(b"\x00 not mail")
    result = newsletter("bounces", "fetch", cwd=project)
    assert "\x1b" not in result.stdout + result.stderr
    assert "\x07" not in result.stdout + result.stderr and "\u202e" not in result.stderr
    assert result.stderr.splitlines()[0].startswith(
        "warning: new/x\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil: not a mail message"
    )
