"""The architecture rules as small pure functions over a source tree (read with `ast`, never
imported), so the tests can run them on the real tree and on tiny synthetic ones alike.

Every import statement counts, wherever it stands: at module level, inside a function, under
`if TYPE_CHECKING:`. A lazy import hides a cycle from the reader; it does not remove it (the
modules still need each other, and the order they load in still decides whether it works).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Top-level folders that are not application code, even when they hold an __init__.py.
NOT_APPLICATION = frozenset({"tests", "bench", "scripts", "static", "templates", ".venv"})
FLOOR = "portal"  # imports no app
GRAPH_SEAM = "portal.graph"  # the only code speaking to Microsoft
SIMULATOR = "graphsim"  # meets the portal over HTTP only
# What portal/graph/ may take from the rest of the portal: its package, settings, the one table.
SEAM_MAY_IMPORT = frozenset({FLOOR, f"{FLOOR}.settings", f"{FLOOR}.allowed_actions"})
MICROSOFT_CLIENTS = frozenset({"msal", "requests", "azure", "msgraph"})
MAX_MODULE_LINES = 400
MAX_VIEW_LINES = 25


@dataclass
class Module:
    name: str  # dotted: "delegation.sync.apply"
    path: Path
    is_package: bool  # an __init__.py
    tree: ast.Module
    lines: int


@dataclass
class ImportGraph:
    modules: dict[str, Module]
    edges: dict[str, set[str]] = field(default_factory=dict)  # project module -> project modules
    external: dict[str, set[str]] = field(default_factory=dict)  # module -> top-level names


# ------------------------------------------------------------------ reading the tree
def application_packages(root: Path) -> list[str]:
    """Top-level folders with an __init__.py that are not tests, benchmarks, scripts or assets."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir()
        and (p / "__init__.py").is_file()
        and p.name not in NOT_APPLICATION
        and not p.name.startswith(".")
    )


def read_modules(root: Path, packages: Iterable[str]) -> dict[str, Module]:
    """Every module of the packages, by dotted name; `migrations/` folders are skipped."""
    modules: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts or "__pycache__" in parts:
                continue
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
            modules[name] = Module(name, path, is_package, tree, len(text.splitlines()))
    return modules


# ------------------------------------------------------------------ the import graph
def _absolute(module: Module, level: int, target: str | None) -> str:
    """The dotted name a relative import (`from ..a import b`) refers to."""
    if level == 0:
        return target or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]  # a module's `.` is the package holding it
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def imported_names(module: Module, known: set[str]) -> set[str]:
    """The dotted names of modules this one imports, from every import statement in it.

    `from a.b import c` names `a.b.c` when that is a known module (a submodule), else `a.b`.
    """
    names: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            base = _absolute(module, node.level, node.module)
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                names.add(candidate if candidate in known else base)
    names.discard("")
    return names


def _with_parents(name: str) -> list[str]:
    """Importing `a.b.c` runs `a/__init__` and `a/b/__init__` first: it depends on them too."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def build_import_graph(modules: dict[str, Module]) -> ImportGraph:
    known = set(modules)
    graph = ImportGraph(modules)
    for name, module in modules.items():
        edges: set[str] = set()
        external: set[str] = set()
        for imported in imported_names(module, known):
            targets = [t for t in _with_parents(imported) if t in known]
            if targets:
                edges.update(targets)
            else:
                external.add(imported.split(".")[0])
        edges.discard(name)  # a package naming its own submodule from itself is not a cycle
        graph.edges[name] = edges
        graph.external[name] = external
    return graph


def read_graph(root: Path) -> ImportGraph:
    return build_import_graph(read_modules(root, application_packages(root)))


# ------------------------------------------------------------------ cycles
def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted; only those of 2+."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return sorted(found)


def _shortest_path(start: str, goal: str, members: set[str], edges: dict[str, set[str]]):
    """start -> ... -> goal inside the component, by breadth-first search."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            path = [current]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return path[::-1]
        for child in sorted(edges.get(current, ()) & members):
            if child not in previous:
                previous[child] = current
                queue.append(child)
    raise ValueError(f"{goal} is not reachable from {start}")  # not one component


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles as chains (`[a, b, a]`). For each strongly connected component, shortest
    cycles until every import between its members appears in one: each is an import to cut."""
    cycles = []
    for component in strongly_connected(edges):
        members = set(component)
        covered: set[tuple[str, str]] = set()
        for source in component:
            for target in sorted(edges.get(source, ()) & members):
                if (source, target) in covered:
                    continue
                chain = [source, *_shortest_path(target, source, members, edges)]
                covered.update(zip(chain, chain[1:], strict=False))
                cycles.append(chain)
    return cycles


# ------------------------------------------------------------------ boundaries
def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def floor_imports_apps(graph: ImportGraph, floor: str = FLOOR) -> list[tuple[str, str]]:
    """(portal module, app module) for each import from the floor up into an app."""
    return sorted(
        (source, target)
        for source, targets in graph.edges.items()
        if _in(source, floor)
        for target in targets
        if not _in(target, floor)
    )


def simulator_crossings(graph: ImportGraph, simulator: str = SIMULATOR) -> list[tuple[str, str]]:
    """Imports between the simulator and the portal's packages, either way."""
    return sorted(
        (source, target)
        for source, targets in graph.edges.items()
        for target in targets
        if _in(source, simulator) != _in(target, simulator)
    )


def seam_imports_portal(graph: ImportGraph, seam: str = GRAPH_SEAM) -> list[tuple[str, str]]:
    """(portal.graph module, portal module) for each import from the seam into the rest of the
    portal, beyond settings and the allowed-actions table."""
    return sorted(
        (source, target)
        for source, targets in graph.edges.items()
        if _in(source, seam)
        for target in targets
        if _in(target, FLOOR) and not _in(target, seam) and target not in SEAM_MAY_IMPORT
    )


def microsoft_clients_outside_seam(
    graph: ImportGraph, seam: str = GRAPH_SEAM, exempt: Iterable[str] = (SIMULATOR,)
) -> list[tuple[str, str]]:
    """(module, library) for each msal/requests/azure/msgraph import outside portal/graph/."""
    allowed = [seam, *exempt]
    return sorted(
        (source, library)
        for source, libraries in graph.external.items()
        if not any(_in(source, package) for package in allowed)
        for library in libraries & MICROSOFT_CLIENTS
    )


# ------------------------------------------------------------------ sizes and package files
def oversized_modules(
    modules: dict[str, Module], limit: int = MAX_MODULE_LINES
) -> list[tuple[str, int]]:
    return sorted((m.name, m.lines) for m in modules.values() if m.lines > limit)


def is_view_module(module: Module) -> bool:
    """views.py, anything in a views/ package, webhooks.py; also views_x.py and x_views.py, the
    names views had before each app got its views/ package."""
    parts = module.name.split(".")
    last = parts[-1]
    return (
        "views" in parts[1:]
        or last == "webhooks"
        or last.startswith("views_")
        or last.endswith("_views")
    )


def long_view_functions(
    modules: dict[str, Module], limit: int = MAX_VIEW_LINES
) -> list[tuple[str, int]]:
    """("module.function", lines) for each function of a view module longer than `limit`,
    counted from its `def` line to the end of its body (decorators not counted)."""
    found = []
    for module in modules.values():
        if not is_view_module(module):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append((f"{module.name}.{node.name}", length))
    return sorted(found)


# Celery's documented Django setup loads the app when the project package is imported, so
# `shared_task` binds to it in every process; that one import is the project's, not a re-export.
CELERY_APP_IMPORT = ("portal", "celery", 1)  # from .celery import app


def package_inits_with_imports(modules: dict[str, Module]) -> list[tuple[str, int]]:
    """(package, line) for each import in an __init__.py (`from __future__` aside: it is a
    compiler switch, not a dependency; and the project package's Celery app)."""
    found = []
    for module in modules.values():
        if not module.is_package:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "__future__"
                or (module.name, node.module, node.level) == CELERY_APP_IMPORT
            ):
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append((module.name, node.lineno))
    return sorted(found)
