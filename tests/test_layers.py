"""Contract: imports point down the layers, and no two files import each other in a circle.

entities (agents) <- sim (engine) <- reporting (tables, files) <- reporting.app (command line,
tasks, experiments, the Simulation that returns tables). Lazy imports inside functions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("entities", "sim", "reporting")
LAYERS = ("entities", "sim", "reporting", "reporting.app")  # lowest first


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports, anywhere in it (a package import counts as the
    package's ``__init__``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def layer(module: str) -> int:
    return max(
        i for i, name in enumerate(LAYERS) if module == name or module.startswith(name + ".")
    )


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def test_imports_point_down_the_layers():
    upward = [
        f"{module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]})"
        for module, targets in import_graph().items()
        for target in targets
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_no_files_import_each_other_in_a_circle():
    graph = import_graph()
    circles = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_contract_sees_lazy_imports(tmp_path):
    """The parser finds an import inside a function (so a lazy upward import cannot hide)."""
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from reporting.app.cli import main\n    return main\n")
    assert imports_of(source, project_modules()) == {"reporting.app.cli"}
