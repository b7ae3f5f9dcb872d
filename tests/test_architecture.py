"""The layout the architecture promises (docs/architecture.md), checked on the source itself.

The import contracts between apps are checked by import-linter (``make test`` runs
``lint-imports``); these tests check what it cannot: that the standards core really loads no
Django, that no function imports another app to dodge a contract, that every transaction is
opened by a service, and that production code carries no ticket numbers or second defaults.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "common",
    "accounts",
    "issuers",
    "badges",
    "verification",
    "frameworks",
    "achievements",
    "awarding",
    "earners",
    "sharing",
    "insignia",
)
PACKAGES = (*APPS, "openbadges")


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found.append(path)
    return found


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _app_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def test_the_standards_core_loads_no_django() -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "openbadges").rglob("*.py")
    )
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'celery'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert len(modules) > 10
    assert json.loads(done.stdout) == []


def test_no_function_imports_another_app() -> None:
    """An import inside a function hides a dependency from the import contracts."""
    hidden = []
    for path in _modules():
        own = _app_of(path)
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                names: list[tuple[str, int]] = []
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    names = [(inner.module, inner.lineno)]
                elif isinstance(inner, ast.Import):
                    names = [(alias.name, inner.lineno) for alias in inner.names]
                for name, line in names:
                    top = name.split(".")[0]
                    if top in PACKAGES and top != own:
                        hidden.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert hidden == []


def _opens_transaction(node: ast.AST) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "atomic"
        and isinstance(target.value, ast.Name)
        and target.value.id == "transaction"
    )


def test_every_transaction_is_opened_by_a_service() -> None:
    """Every write is a function in a ``services.py`` (STYLE.md): no view, form, task,
    command or helper module opens a transaction of its own."""
    elsewhere = []
    for path in _modules():
        if path.name == "services.py":
            continue
        for node in ast.walk(_tree(path)):
            decorators = (
                node.decorator_list
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                else []
            )
            withs = node.items if isinstance(node, ast.With) else []
            if any(_opens_transaction(d) for d in decorators) or any(
                _opens_transaction(item.context_expr) for item in withs
            ):
                elsewhere.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    assert elsewhere == []


def test_settings_have_one_default() -> None:
    """Defaults live in ``insignia/settings.py`` only: code reads ``settings.X``."""
    pattern = re.compile(r"getattr\(\s*settings\s*,")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _modules()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == []


def test_comments_say_why_not_which_ticket() -> None:
    pattern = re.compile(r"\bissues? ?#\s?\d+|\(issue \d+\)", re.IGNORECASE)
    sources = [*_modules(), *sorted((ROOT / "templates").rglob("*.html"))]
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == []


def test_a_long_module_says_why_it_is_long() -> None:
    """STYLE.md: modules under ~400 lines; a longer one says in its docstring why (a little
    slack over 400, so that one more import does not fail the suite)."""
    limit = 420
    unexplained = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines <= limit:
            continue
        docstring = ast.get_docstring(_tree(path)) or ""
        if not re.search(r"\b\d{3} lines\b", docstring):
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert unexplained == []
