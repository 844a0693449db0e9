"""The architecture of the real tree (docs/architecture.md, "Rules the tests enforce").

Each check is a pure function of `checks`, shown able to fail by `test_checks.py` on small
synthetic trees. Here they run over the project's application packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.architecture import checks

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph() -> checks.ImportGraph:
    return checks.read_graph(ROOT)


def _lines(pairs, sep: str = " -> ") -> str:
    return "\n".join(f"  {a}{sep}{b}" for a, b in pairs)


def test_the_application_packages_are_found():
    packages = checks.application_packages(ROOT)
    assert {"portal", "delegation", "calls", "graphsim"} <= set(packages)


def test_no_import_cycles(graph):
    cycles = checks.find_cycles(graph.edges)
    assert not cycles, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


# Each rule: the check over the import graph, and what a finding (importer -> imported) means.
RULES = {
    "portal_imports_no_app": (checks.floor_imports_apps, "portal imports an app"),
    "graphsim_and_the_portal_never_import_each_other": (
        checks.simulator_crossings,
        "graphsim and the portal meet over HTTP only",
    ),
    "portal_graph_takes_only_settings_and_the_allowed_actions": (
        checks.seam_imports_portal,
        "portal.graph imports the rest of portal",
    ),
    "only_portal_graph_imports_microsoft_clients": (
        checks.microsoft_clients_outside_seam,
        "msal/requests/azure/msgraph outside portal/graph/",
    ),
}
# The same for the rules over the modules' text; a finding is a module and a number.
MODULE_RULES = {
    "no_module_over_400_lines": (checks.oversized_modules, "modules over 400 lines"),
    "no_view_function_over_25_lines": (checks.long_view_functions, "view functions over 25 lines"),
    "package_inits_hold_no_imports": (
        checks.package_inits_with_imports,
        "imports in __init__.py (package: line)",
    ),
}


@pytest.mark.parametrize("rule", RULES)
def test_the_import_rule_holds(graph, rule):
    check, meaning = RULES[rule]
    found = check(graph)
    assert not found, f"{meaning}:\n" + _lines(found)


@pytest.mark.parametrize("rule", MODULE_RULES)
def test_the_module_rule_holds(graph, rule):
    check, meaning = MODULE_RULES[rule]
    found = check(graph.modules)
    assert not found, f"{meaning}:\n" + _lines(found, ": ")


def _test_imports_of_tests(root: Path) -> list[tuple[str, str]]:
    """(file, imported module) for each import in tests/ of a conftest or a test module: helpers
    live in tests/support/, fixtures in conftest files that nothing imports."""
    found = []
    for path in sorted((root / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module or ''}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if (name.startswith("tests.") or node.__dict__.get("level")) and (
                    last == "conftest" or last.startswith("test_")
                ):
                    found.append((str(path.relative_to(root)), name))
    return found


def test_no_test_module_imports_a_test_module_or_a_conftest():
    found = _test_imports_of_tests(ROOT)
    assert not found, "tests import tests or conftests (use tests/support/):\n" + _lines(found)
