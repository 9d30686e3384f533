"""Facts about the package's shape, checked from its source: exit 1 when one is broken.

- no import circle between modules of ``extraction_pipeline`` (imports inside functions count: a deferred import
  hides a circle, it does not remove it);
- no module over 500 lines outside ``extractors/``;
- nothing imported from Dagster's private ``dagster._core``.

Run: ``python scripts/check_layout.py`` from the project root.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "extraction_pipeline"
MAX_LINES = 500


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, modules: set[str], current: str, is_package: bool) -> set[str]:
    """The package's own modules ``tree`` imports (``from a import b`` counts ``a.b`` when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = current.split(".") if is_package else current.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != current and not current.startswith(name + "."):
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def find_problems(root: Path) -> list[str]:
    """Every broken fact about the package under ``root``, one line each (empty: all hold)."""
    files = sorted((root / PACKAGE).rglob("*.py"))
    modules = {module_name(path, root): path for path in files}
    graph: dict[str, set[str]] = {}
    problems: list[str] = []
    for name, path in modules.items():
        source = path.read_text()
        tree = ast.parse(source)
        graph[name] = imported_modules(tree, set(modules), name, path.name == "__init__.py")
        problems += [f"{path.relative_to(root)}:{line}: imports {module}" for line, module in _private_dagster(tree)]
        lines = source.count("\n")
        if lines > MAX_LINES and "extractors" not in path.relative_to(root).parts:
            problems.append(f"{path.relative_to(root)}: {lines} lines (more than {MAX_LINES})")
    problems += ["import circle: " + " <-> ".join(component) for component in cycles(graph)]
    return problems


def _private_dagster(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._core"):
            found.append((node.lineno, node.module or ""))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("dagster._core")]
    return found


def main() -> int:
    problems = find_problems(Path.cwd())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
