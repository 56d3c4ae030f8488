"""The shape of the code, checked: the layers' arrows, one home for each request parameter, small parts.

Production code is app.py, components/ and deploy/ (the stand-in in standin/ is a test fake, imported by
offline mode alone). Read with ``ast``: comments and strings do not count as imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = sorted([ROOT / "app.py", *(ROOT / "components").rglob("*.py"), *(ROOT / "deploy").rglob("*.py")])
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def uses(path: Path, package: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for name in imports(path))


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_imports_both_gradio_and_the_sdk() -> None:
    both = [name(path) for path in PRODUCTION if uses(path, "gradio") and uses(path, "writerai")]
    assert both == []


@pytest.mark.parametrize(
    ("layer", "never"),
    [
        ("components/chat", ("gradio", "components.ui", "standin")),
        ("components/writer", ("gradio", "components.ui", "components.chat", "components.settings", "standin")),
        ("components/ui", ("writerai", "standin")),
    ],
)
def test_the_layers_point_one_way(layer: str, never: tuple[str, ...]) -> None:
    """app -> ui -> chat -> writer; app -> offline -> stand-in."""
    wrong = [
        f"{name(path)} imports {package}"
        for path in (ROOT / layer).rglob("*.py")
        for package in never
        if uses(path, package)
    ]
    assert wrong == []


def test_only_offline_mode_imports_the_stand_in() -> None:
    assert [name(path) for path in PRODUCTION if uses(path, "standin")] == ["components/offline.py"]


def test_a_request_parameter_is_named_in_its_declaration_alone() -> None:
    """``top_p`` stands for every optional parameter: declared in params.py, and read from there."""
    naming = [name(path) for path in PRODUCTION if "top_p" in path.read_text()]
    assert naming == ["components/chat/params.py"]


def test_modules_and_functions_are_small() -> None:
    too_long = [f"{name(path)}: {len(path.read_text().splitlines())} lines" for path in PRODUCTION
                if len(path.read_text().splitlines()) > MAX_MODULE_LINES]  # fmt: skip
    for path in PRODUCTION:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name(path)}: {node.name}() {length} lines")
    assert too_long == []
