"""The house rules that no single feature test would notice breaking.

- every exception the package defines hangs under one root and is drawn in
  the tree of ``newsletter/errors.py``;
- ``docs/architecture.md`` names only packages and modules that exist, its
  table lists every one of them, every import in the package is one its
  "may import" column allows, and every subpackage says in its docstring what
  it owns and may import;
- no test module imports another test module: shared pieces live in kit
  modules (``tests/*_kit.py``, ``loopback.py``, ``conftest.py``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from render_kit import settings, small_edition

import newsletter
from newsletter import config, errors
from newsletter.render import render_email
from newsletter.render.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


# ---------------------------------------------------------------- tests


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_test_module_imports_another_test_module() -> None:
    test_modules = {p.stem for p in TESTS.glob("test_*.py")}
    offenders = {
        f"{path.name} imports {name}"
        for path in sorted(TESTS.glob("*.py"))
        for name in _imported_modules(path)
        if name.split(".")[-1] in test_modules or name.split(".")[-1] == "conftest"
    }
    assert not offenders, "move the shared pieces into a kit module: " + "; ".join(
        sorted(offenders)
    )


# ---------------------------------------------------------------- exceptions


def _package_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(newsletter.__path__, prefix="newsletter.")
        if info.name != "newsletter.__main__"
    )


def _defined_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in ["newsletter", *_package_modules()]:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def _drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """class name → (drawn parent, drawn module) from the tree in errors.py's docstring."""
    drawn: dict[str, tuple[str | None, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^ {4}(?:[│ ]*[├└]── )?([A-Z]\w+)(?: +\(([\w.]+)\))?", line)
        if not found:
            continue
        column = found.start(1)
        while stack and stack[-1][0] >= column:
            stack.pop()
        drawn[found.group(1)] = (stack[-1][1] if stack else None, found.group(2))
        stack.append((column, found.group(1)))
    return drawn


def test_every_exception_of_the_package_is_in_the_one_tree() -> None:
    """One root; each class drawn in errors.py's tree under its real parent, with its
    module, and each carrying a hint."""
    drawn = _drawn_tree()
    classes = _defined_exceptions()
    assert len(classes) >= 19 and len(drawn) == len(classes)
    for dotted, cls in classes.items():
        assert issubclass(cls, errors.NewsletterError), f"{dotted} is not a NewsletterError"
        assert cls.__name__ in drawn, f"{dotted} is not drawn in the tree of newsletter/errors.py"
        parent, module = drawn[cls.__name__]
        if cls is errors.NewsletterError:
            assert parent is None
            continue
        assert parent == cls.__mro__[1].__name__, f"the tree puts {cls.__name__} under {parent}"
        assert (module or "errors") == cls.__module__.removeprefix("newsletter."), dotted
        assert cls.default_hint, f"{dotted} has no default hint"


def test_a_caller_tells_template_disk_and_config_errors_apart(tmp_path: Path) -> None:
    (tmp_path / "_footer.mjml.j2").write_text("ok\n{{ edition.postal_adress }}\n", "utf-8")
    with pytest.raises(errors.TemplateError) as template:
        render_email(small_edition(), settings(tmp_path, output__templates_dir=str(tmp_path)))
    assert template.value.name == str(tmp_path / "_footer.mjml.j2")
    assert template.value.line == 2 and "postal_adress" in template.value.reason

    blocked = tmp_path / "file"
    blocked.write_text("not a folder", "utf-8")
    with pytest.raises(errors.OutputError) as disk:
        write_atomic(blocked / "feed.xml", b"x")
    assert disk.value.path == blocked / "feed.xml"

    with pytest.raises(errors.ConfigError) as bad:
        config.parse("[newsletter]\nnam = 1\n", where="c.toml", base_dir=tmp_path)
    assert "c.toml: newsletter.nam" in bad.value.problems[0]
    for caught in (template.value, disk.value, bad.value):
        assert caught.hint and str(caught).endswith(f"(hint: {caught.hint})")


# ---------------------------------------------------------------- layout

ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "newsletter"


def _named_paths(text: str) -> set[str]:
    """Every `backticked` token that is a path: a folder (``x/``) or a module (``x.py``)."""
    return {
        token
        for token in re.findall(r"`([^`\s]+)`", text)
        if token.endswith(("/", ".py")) or token.startswith(("newsletter/", "tests/"))
    }


def test_architecture_names_only_paths_that_exist() -> None:
    named = _named_paths(ARCHITECTURE.read_text(encoding="utf-8"))
    assert len(named) > 20
    for token in sorted(named):
        base = ROOT if token.startswith(("newsletter/", "tests/", "templates/")) else PACKAGE
        assert (base / token).exists(), f"docs/architecture.md names {token}, which does not exist"


def test_architecture_table_has_every_package_and_module() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    first_cells = {t for row in rows for t in _named_paths(row.split(" | ")[0])}
    packages = {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.name for p in PACKAGE.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert packages | modules <= first_cells, "add to the table: " + ", ".join(
        sorted((packages | modules) - first_cells)
    )


def test_every_subpackage_says_what_it_owns_and_may_import() -> None:
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text("utf-8"))) or ""
        assert re.search(r"^Owns\b", doc, re.M), f"{folder.name}/__init__.py: say what it owns"
        assert re.search(r"^May import\b", doc, re.M), (
            f"{folder.name}/__init__.py: say what it may import"
        )


# ---------------------------------------------------------------- imports


def _unit(module: str) -> str | None:
    """``newsletter.render.email`` → ``render/``; ``newsletter.model`` → ``model``."""
    parts = module.split(".")
    if parts[0] != "newsletter" or len(parts) < 2:
        return None
    return f"{parts[1]}/" if (PACKAGE / parts[1]).is_dir() else parts[1]


def _imports_by_unit() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        source = _unit(module)
        if source is None or source == "__main__":  # the package root imports nothing
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if node.module == "newsletter":
                    names = [f"newsletter.{alias.name}" for alias in node.names]
                else:
                    names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                target = _unit(name)
                if target not in (None, source, "__version__"):
                    found.setdefault(source, set()).add(target)  # type: ignore[arg-type]
    return found


def _allowed_by_the_table() -> dict[str, set[str] | None]:
    """unit → what docs/architecture.md lets it import (None: anything)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    core_line = re.search(r'"Core values" means (.*?)\.', text, re.S)
    assert core_line
    core = {t.removesuffix(".py") for t in re.findall(r"`([^`]+)`", core_line.group(1))}
    everything = set(_imports_by_unit()) | {
        t for targets in _imports_by_unit().values() for t in targets
    }
    allowed: dict[str, set[str] | None] = {}
    above: set[str] = set()
    for row in (line for line in text.splitlines() if line.startswith("| `")):
        first, _, rule = row.strip("| ").split(" | ")
        units = {t.removesuffix(".py") for t in re.findall(r"`([^`]+)`", first)}
        names = {t.removesuffix(".py") for t in re.findall(r"`([^`]+)`", rule)}
        if rule.startswith("everything but"):
            rule_set: set[str] | None = everything - names
        elif rule.startswith("everything"):
            rule_set = None
        elif rule.startswith("all of the above"):
            rule_set = set(above)
        else:
            rule_set = names | (core if "core values" in rule else set())
        for unit in units:
            allowed[unit] = rule_set
        above |= units
    return allowed


def test_every_import_in_the_package_is_allowed_by_docs_architecture() -> None:
    allowed = _allowed_by_the_table()
    breaches = [
        f"{source} imports {target}"
        for source, targets in sorted(_imports_by_unit().items())
        for target in sorted(targets)
        if (rule := allowed.get(source, set())) is not None and target not in rule
    ]
    assert not breaches, "not allowed by docs/architecture.md: " + "; ".join(breaches)
    assert "cli/" not in {t for ts in _imports_by_unit().values() for t in ts}


# ---------------------------------------------------------------- persistence and imports

STORE = PACKAGE / "store"
_SQL = re.compile(
    r"\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|"
    r"ALTER\s+TABLE|DROP\s+TABLE|PRAGMA\s|BEGIN\s+IMMEDIATE)"
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a module, its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _outside_store() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STORE not in p.parents)


def test_no_sql_sqlalchemy_or_connection_outside_the_store() -> None:
    """Every query lives in newsletter/store/: elsewhere no SQL text, no SQLAlchemy
    import, no ``engine`` or ``.connect()`` of a database."""
    offenders: list[str] = []
    for path in _outside_store():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                for name in names:
                    if name and name.split(".")[0] == "sqlalchemy":
                        offenders.append(f"{where}:{node.lineno}: imports {name}")
            elif isinstance(node, ast.Attribute) and node.attr in ("engine", "connect"):
                offenders.append(f"{where}:{node.lineno}: uses .{node.attr}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and _SQL.search(node.value)
            ):
                offenders.append(f"{where}:{node.lineno}: SQL text {node.value[:40]!r}")
    assert not offenders, "move these into a repository of newsletter/store/:\n" + "\n".join(
        offenders
    )


def test_the_sql_check_would_see_a_query_outside_the_store() -> None:
    """The check above is not vacuous: it finds a query planted in a module's source."""
    planted = ast.parse('rows = conn.execute(sa.text("SELECT id FROM editions"))')
    texts = [n.value for n in ast.walk(planted) if isinstance(n, ast.Constant)]
    assert any(_SQL.search(t) for t in texts)
    assert any(
        isinstance(n, ast.Attribute) and n.attr == "connect"
        for n in ast.walk(ast.parse("with store.engine.connect() as conn: pass"))
    )


def _import_graph(*, module_level_only: bool) -> dict[str, set[str]]:
    """Module → the package modules it imports (``from a.b import c`` is ``a.b.c``
    when that is a module).  ``module_level_only`` leaves out imports inside
    functions and under ``if TYPE_CHECKING:``: what importing a module runs."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        targets: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                wanted = [
                    f"{node.module}.{a.name}"
                    if f"{node.module}.{a.name}" in modules
                    else node.module
                    for a in node.names
                ]
            else:
                continue
            for target in wanted:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles_not_even_through_imports_inside_functions() -> None:
    graph = _import_graph(module_level_only=False)
    assert len(graph) > 50
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _state_literals_compared(tree: ast.AST, values: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for side in (node.left, *node.comparators):
            items = list(side.elts) if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
            found += [
                (node.lineno, item.value)
                for item in items
                if isinstance(item, ast.Constant) and item.value in values
            ]
    return found


def test_stored_states_are_compared_by_name_not_by_bare_string() -> None:
    """``status == "pending"`` could mean a subscriber or a ledger row; the package
    compares with ``SubscriberStatus.PENDING`` or ``LedgerState.PENDING``."""
    from newsletter.states import LedgerState, RunStatus, SubscriberStatus

    values = {s.value for enum in (RunStatus, SubscriberStatus, LedgerState) for s in enum}
    assert _state_literals_compared(ast.parse('x.status in ("pending", "sent")'), values)
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "states.py"
        for line, value in _state_literals_compared(ast.parse(path.read_text("utf-8")), values)
    ]
    assert not offenders, "compare with newsletter.states: " + "; ".join(offenders)


# The core values (docs/architecture.md names them) count as one level: the
# pure values every stage shares, importing nothing but each other.
def _core_values() -> set[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    line = re.search(r'"Core values" means (.*?)\.', text, re.S)
    assert line
    return {f"newsletter.{t.removesuffix('.py')}" for t in re.findall(r"`([^`]+)`", line.group(1))}


MAX_LEVELS = 6


def _part(module: str) -> str:
    """The part of the package a module belongs to: ``core``, a subpackage, or the
    top-level module itself."""
    if module in _core_values() or module == "newsletter":
        return "core"
    if module == "newsletter.__main__":
        return "newsletter.cli"
    parts = module.split(".")
    return ".".join(parts[:2])


def _levels(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each part's level: 1 for the core, else one above the highest part it imports."""
    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        mine = _part(module)
        parts.setdefault(mine, set()).update(_part(t) for t in targets if _part(t) != mine)
    levels: dict[str, int] = {}

    def level(part: str) -> int:
        if part not in levels:
            levels[part] = 1 + max((level(t) for t in parts[part]), default=0)
        return levels[part]

    for part in parts:
        level(part)
    return levels


def test_the_import_graph_has_at_most_six_levels() -> None:
    """Counted over every import (inside functions too), a subpackage or top-level
    module being one node: core 1 · config, store 2 · sources, render, subscribers,
    novelty, scheduler 3 · delivery, publish, status 4 · pipeline, web 5 · cli 6."""
    graph = _import_graph(module_level_only=False)
    levels = _levels(graph)
    by_level: dict[int, list[str]] = {}
    for part, n in levels.items():
        by_level.setdefault(n, []).append(part.removeprefix("newsletter."))
    print("\nimport graph levels:")
    for n in sorted(by_level):
        print(f"  {n}: {', '.join(sorted(by_level[n]))}")
    core_imports = {
        f"{m} imports {t}"
        for m, targets in graph.items()
        if _part(m) == "core"
        for t in targets
        if _part(t) != "core"
    }
    assert not core_imports, "the core imports nothing else: " + "; ".join(sorted(core_imports))
    assert max(levels.values()) <= MAX_LEVELS, by_level


def test_the_level_count_sees_a_deeper_chain() -> None:
    chain = {f"newsletter.p{i}.m": {f"newsletter.p{i + 1}.m"} for i in range(7)}
    chain["newsletter.p7.m"] = {"newsletter.model"}
    chain["newsletter.model"] = set()
    assert max(_levels(chain).values()) == 9
