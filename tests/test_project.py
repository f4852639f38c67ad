"""The project keeps its promises: lint-clean, typed, documented, installable as a wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest

from newsletter import cli, config

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_code_is_ruff_clean() -> None:
    _run(sys.executable, "-m", "ruff", "check", "newsletter", "tests", "bench")
    _run(sys.executable, "-m", "ruff", "format", "--check", "newsletter", "tests", "bench")


def test_package_is_mypy_strict_clean() -> None:
    _run(sys.executable, "-m", "mypy")


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            names += _commands(command, full + " ")
        else:
            names.append(full)
    return names


def test_readme_documents_every_command_and_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(cli.main) if f"newsletter {c}" not in readme]
    assert missing == []
    missing_keys = [s.key for s in config.SETTINGS if f"`{s.key}`" not in readme]
    assert missing_keys == []


def test_config_toml_sets_and_comments_every_key() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    for setting in config.SETTINGS:
        section, name = setting.key.split(".")
        assert data[section][name] == setting.default, setting.key
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name} ="))
        assert lines[at - 1].startswith("#"), f"{setting.key} has no comment above it"


def test_a_wheel_install_finds_its_config_templates_and_sample(tmp_path: Path) -> None:
    """`pip install .` (not editable) ships everything the command needs at run time."""
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT))
    target = tmp_path / "site-packages"
    [wheel] = list(wheels.glob("*.whl"))
    _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--target",
        str(target),
        str(wheel),
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("NEWSLETTER_CONFIG", None)
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        sys.executable, "-c", "import newsletter; print(newsletter.__file__)", cwd=work, env=env
    )
    assert where.startswith(str(target))
    _run(sys.executable, "-m", "newsletter", "init", "fresh", cwd=work, env=env)
    out = _run(
        sys.executable,
        "-m",
        "newsletter",
        "run",
        "--date",
        "2026-11-20",
        cwd=work / "fresh",
        env=env,
    )
    assert "Recorded edition 2026-11-20" in out
    published = sorted(p.name for p in (work / "fresh" / "site").rglob("*") if p.is_file())
    assert "edition.json" in published


@pytest.mark.parametrize("name", ["CHANGELOG.md", "subscribers/README.md", "docs/topics.md"])
def test_project_documents_exist(name: str) -> None:
    assert (ROOT / name).read_text(encoding="utf-8").strip()
