"""The package layout holds (docs/architecture.md, CONTRIBUTING.md): the dependency direction between
subpackages, the CLI at the edge, ``__init__`` files that only re-export, and tests that import
public names and never skip over a broken import of love-r1 itself.

Imports are read from the source (``ast``), function-level imports included, ``if TYPE_CHECKING:``
blocks excluded (they never run)."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "love_r1"
TESTS = Path(__file__).resolve().parent

# The dependency direction: each subpackage may import only the ones listed (and the dependency-free
# top-level modules interval, time_base, errors, _imports, _compat, _sqlite). cli may import everything.
ALLOWED = {
    "video": set(),
    "prompts": set(),
    "backends": {"prompts"},
    "synth": {"prompts"},
    "agent": {"prompts", "video", "backends"},
    "viz": {"agent", "video"},
    "eval": {"agent", "prompts", "video", "backends", "viz"},
    "data": {"agent", "prompts", "video", "backends"},
    "serve": {"agent", "video", "backends", "viz"},
    "train": {"eval", "agent", "prompts", "video", "backends"},
}
TOP_LEVEL = {"interval", "time_base", "errors", "_imports", "_compat", "_sqlite"}
SUBPACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file())


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node outside ``if TYPE_CHECKING:`` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            hidden.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return [n for n in ast.walk(tree) if id(n) not in hidden]


def _imported_modules(path: Path) -> set[str]:
    """Absolute ``love_r1...`` module names imported by ``path`` (``from love_r1 import video`` -> love_r1.video)."""
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("love_r1"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("love_r1"):
            out.add(node.module)
            if node.module == "love_r1":
                out.update(f"love_r1.{a.name}" for a in node.names)
    return out


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


def _library_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] != "cli")


def test_the_layering_covers_every_subpackage():
    assert set(SUBPACKAGES) == set(ALLOWED) | {"cli"}, "add the new subpackage to ALLOWED and docs/architecture.md"
    tops = {p.stem for p in SRC.glob("*.py")} - {"__init__"}
    assert tops == TOP_LEVEL, "a new top-level module: is it dependency-free? add it to TOP_LEVEL"
    for name in TOP_LEVEL:  # the top-level modules import no subpackage
        assert {_area(m) for m in _imported_modules(SRC / f"{name}.py")} <= {None}, name


def test_no_library_module_imports_the_cli():
    offenders = [str(p.relative_to(SRC)) for p in _library_files()
                 if any(_area(m) == "cli" for m in _imported_modules(p))]
    assert offenders == []


def test_imports_follow_the_dependency_direction():
    offenders = []
    for path in _library_files():
        area = path.relative_to(SRC).parts[0]
        if area not in ALLOWED:
            continue
        for module in _imported_modules(path):
            target = _area(module)
            if target is not None and target != area and target not in ALLOWED[area]:
                offenders.append(f"{path.relative_to(SRC)} imports {module} ({area} -> {target})")
    assert offenders == []


def test_subpackage_inits_only_re_export():
    for init in sorted(SRC.glob("*/**/__init__.py")):
        if init.parent.name == "cli":
            continue  # the console script's entry point (main, the parser) is the CLI's own layout
        tree = ast.parse(init.read_text(encoding="utf-8"))
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                   and n.name != "__getattr__"]  # a lazy re-export (train) is still a re-export
        assert defined == [], f"{init.relative_to(SRC)} defines {defined}; move them to a module"


def test_every_exported_name_exists():
    for init in sorted(SRC.glob("**/__init__.py")):
        package = ".".join(("love_r1", *init.parent.relative_to(SRC).parts))
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            assert getattr(module, name, None) is not None, f"{package}.{name}"


def _test_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def test_tests_never_skip_over_a_broken_love_r1_import():
    offenders = []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip" and node.args
                    and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("love_r1")):
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == [], "import love-r1's own modules directly: a broken import must fail, not skip"


def test_tests_import_public_names_where_a_package_exports_them():
    offenders = []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("love_r1.")):
                continue
            parts = node.module.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_")]
            if not private:
                continue
            package = importlib.import_module(".".join(parts[: private[0]]))
            source = importlib.import_module(node.module)
            for alias in node.names:
                exported = alias.name in getattr(package, "__all__", ())
                if exported and getattr(package, alias.name) is getattr(source, alias.name, None):
                    offenders.append(f"{path.relative_to(TESTS)}:{node.lineno} {alias.name} (use {package.__name__})")
    assert offenders == []


@pytest.mark.parametrize("conftest", sorted(TESTS.rglob("conftest.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_conftest_files_hold_fixtures_and_hooks_only(conftest):
    """Helpers live in tests/helpers/ (importable, visible); a conftest holds fixtures and pytest hooks."""
    tree = ast.parse(conftest.read_text(encoding="utf-8"))
    helpers = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            helpers.append(node.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            fixture = any("fixture" in ast.unparse(d) for d in node.decorator_list)
            if not fixture and not node.name.startswith("pytest_"):
                helpers.append(node.name)
    assert helpers == [], f"move {helpers} to tests/helpers/"


def test_no_test_imports_from_a_conftest():
    offenders = [f"{path.relative_to(TESTS)}:{node.lineno}" for path in _test_files()
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest"]
    assert offenders == [], "import helpers from tests/helpers/, not from a conftest"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="reads pyproject.toml with tomllib (Python 3.11+)")
def test_package_data_globs_match_the_files_shipped():
    """Every package-data pattern names files that exist, and every non-Python file of the package is shipped."""
    import tomllib

    config = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["love_r1"]
    covered: set[Path] = set()
    for pattern in patterns:
        matched = {p for p in SRC.glob(pattern) if p.is_file()}
        assert matched, f"package-data pattern {pattern!r} matches no file"
        covered |= matched
    data_files = {p for p in SRC.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert data_files - covered == set(), "add these files' folder to package-data in pyproject.toml"


def test_no_string_in_the_package_holds_a_stray_control_character():
    """A backslash escape slipped into a normal string (``"\\boxed"`` is a backspace plus "oxed") shows up
    garbled in help texts and prompts: only newline, tab and carriage return may appear."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                bad = sorted({repr(c) for c in node.value if ord(c) < 32 and c not in "\n\t\r"})
                if bad:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {', '.join(bad)}")
    assert found == []
