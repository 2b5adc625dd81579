"""No two modules of `mes` or `api` import each other, directly or through others.

A cycle makes the order of imports matter (a name is missing from a half-initialised
module, depending on which module was imported first) and stops a reader from
understanding a module without the ones that import it. The graph is read from the
source, statically, as Python would run it at import time:

- ``import a.b`` is an edge to ``a.b``; ``from a import b`` is an edge to ``a.b`` when
  that is a module, else to ``a`` (``b`` is a name defined in ``a``); relative imports
  are resolved against the importing module's package;
- only imports that run when the module is imported count: those at module level,
  including inside ``try``, ``with``, ``if`` and class bodies, but not inside
  functions (run later, when called) nor under ``if TYPE_CHECKING:`` (never run).

Any strongly connected component of more than one module is a cycle, and the test
names it with one concrete path around it.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mes", "api")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of ``body`` that run when the module is imported, nested ones
    included (functions' bodies and ``if TYPE_CHECKING:`` blocks left out)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _import_time_statements(block)
            for handler in node.handlers:
                yield from _import_time_statements(handler.body)
        elif isinstance(node, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor | ast.While):
            yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse if hasattr(node, "orelse") else [])
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_statements(node.body)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that importing ``name`` imports directly."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_time_statements(ast.parse(path.read_text(), str(path)).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name.split(".")
                if not is_package:
                    package.pop()
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return {target for target in found if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    """Each module of `mes` and `api` -> the modules of those packages it imports."""
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest path from the component's first module back to itself."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node] & members):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    raise AssertionError(f"{component} is not a cycle")  # pragma: no cover


def test_the_graph_sees_the_imports_that_run_at_import_time() -> None:
    graph = import_graph()
    assert "mes.instrument" in graph["mes.loader"]  # from mes.instrument import ...
    assert "mes" in graph["api.domain.responses.storage"]  # import mes
    assert "mes.identifiers" in graph["mes.instrument"]
    assert not any(name.startswith("api") for m, names in graph.items()
                   if m.startswith("mes") for name in names)


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    described = [
        f"{', '.join(c)} (for example {' -> '.join(a_cycle(graph, c))})" for c in cycles
    ]
    assert not described, "modules importing each other:\n" + "\n".join(described)
