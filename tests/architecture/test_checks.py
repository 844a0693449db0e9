"""The architecture checks themselves, on small synthetic trees: each can fail."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from tests.architecture import checks


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))
    return root


CLEAN = {
    "portal/__init__.py": "",
    "portal/settings.py": "DEBUG = False\n",
    "portal/graph/__init__.py": '"""The seam."""\n',
    "portal/graph/client.py": "import requests\nfrom portal import settings\n",
    "delegation/__init__.py": "",
    "delegation/models.py": "from portal.graph import client\n",
    "delegation/views/__init__.py": "",
    "delegation/views/people.py": "from ..models import *\n\ndef page(request):\n    return 1\n",
    "delegation/migrations/__init__.py": "",
    "delegation/migrations/0001_initial.py": "import calls.models\n" + "x = 1\n" * 500,
    "calls/__init__.py": "",
    "calls/models.py": "from delegation import models\n",
    "graphsim/__init__.py": "",
    "graphsim/app.py": "import requests\nfrom graphsim import tenant\n",
    "graphsim/tenant.py": "",
    "tests/__init__.py": "",
    "tests/test_x.py": "import msal\nimport calls.models\n",
    "bench/__init__.py": "",
    "static/__init__.py": "",
}


def graph_with(root: Path, changes: dict[str, str] | None = None) -> checks.ImportGraph:
    """The import graph of CLEAN written under `root`, with `changes` (path: text) over it."""
    return checks.read_graph(make_tree(root, {**CLEAN, **(changes or {})}))


def test_a_clean_tree_passes_every_check(tmp_path):
    graph = graph_with(tmp_path)
    assert checks.application_packages(tmp_path) == ["calls", "delegation", "graphsim", "portal"]
    assert "delegation.migrations.0001_initial" not in graph.modules
    assert checks.find_cycles(graph.edges) == []
    assert checks.floor_imports_apps(graph) == []
    assert checks.simulator_crossings(graph) == []
    assert checks.seam_imports_portal(graph) == []
    assert checks.microsoft_clients_outside_seam(graph) == []
    assert checks.oversized_modules(graph.modules) == []
    assert checks.long_view_functions(graph.modules) == []
    assert checks.package_inits_with_imports(graph.modules) == []


def test_relative_and_from_imports_resolve_to_modules_and_their_packages(tmp_path):
    graph = graph_with(tmp_path)
    assert graph.edges["delegation.views.people"] == {"delegation", "delegation.models"}
    assert graph.edges["delegation.models"] == {"portal", "portal.graph", "portal.graph.client"}
    assert graph.edges["portal.graph.client"] == {"portal", "portal.settings"}
    assert graph.external["portal.graph.client"] == {"requests"}


def test_a_cycle_through_a_function_local_import_is_found(tmp_path):
    changes = {
        "portal/graph/client.py": "import requests\n\ndef f():\n    from portal import audit\n",
        "portal/audit.py": "from portal.graph.client import GraphClient\n",
    }
    cycles = checks.find_cycles(graph_with(tmp_path, changes).edges)
    assert cycles == [["portal.audit", "portal.graph.client", "portal.audit"]]


def test_a_cycle_under_type_checking_is_found_with_every_member_in_a_chain(tmp_path):
    changes = {
        "calls/rules.py": "from calls import states\n",
        "calls/states.py": "from calls import views\n",
        "calls/views.py": dedent("""
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from calls.rules import Rule
        """),
        "calls/other.py": "from calls import rules, states\n",  # outside the cycle
    }
    cycles = checks.find_cycles(graph_with(tmp_path, changes).edges)
    assert cycles == [["calls.rules", "calls.states", "calls.views", "calls.rules"]]


def test_an_import_in_a_package_init_makes_a_cycle_with_its_submodule(tmp_path):
    changes = {
        "portal/__init__.py": "from .celery import app\n",
        "portal/celery.py": "from portal import settings\n",
    }
    graph = graph_with(tmp_path, changes)
    assert ["portal", "portal.celery", "portal"] in checks.find_cycles(graph.edges)
    # The Celery app import is the one an __init__ may hold; the cycle is still found.
    assert checks.package_inits_with_imports(graph.modules) == []


def test_every_import_inside_a_component_appears_in_a_printed_cycle():
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"a"}}
    assert checks.find_cycles(edges) == [["a", "b", "a"], ["b", "c", "a", "b"]]


def test_tarjan_separates_components():
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}, "e": {"a"}}
    assert checks.strongly_connected(edges) == [["a", "b"], ["c", "d"]]


def test_portal_importing_an_app_is_found(tmp_path):
    changes = {
        "portal/views.py": "def home(request):\n    from delegation.models import Grant\n",
    }
    graph = graph_with(tmp_path, changes)
    assert checks.floor_imports_apps(graph) == [
        ("portal.views", "delegation"),
        ("portal.views", "delegation.models"),
    ]


def test_graphsim_and_portal_imports_are_found_both_ways(tmp_path):
    changes = {
        "graphsim/tenant.py": "from portal import settings\n",
        "calls/models.py": "import graphsim.app\n",
    }
    graph = graph_with(tmp_path, changes)
    assert checks.simulator_crossings(graph) == [
        ("calls.models", "graphsim"),
        ("calls.models", "graphsim.app"),
        ("graphsim.tenant", "portal"),
        ("graphsim.tenant", "portal.settings"),
    ]


def test_portal_graph_importing_more_than_settings_and_the_table_is_found(tmp_path):
    changes = {
        "portal/allowed_actions.py": "ACTIONS = ()\n",
        "portal/models.py": "\n",
        "portal/graph/tokens.py": dedent("""
            from portal import allowed_actions, settings
            from portal.graph import client

            def f():
                from portal.models import TokenCache
        """),
    }
    graph = graph_with(tmp_path, changes)
    assert checks.seam_imports_portal(graph) == [("portal.graph.tokens", "portal.models")]


def test_microsoft_clients_outside_portal_graph_are_found(tmp_path):
    changes = {
        "calls/models.py": "import msal\nfrom azure.communication import identity\n",
        "portal/signin.py": "def f():\n    import requests.adapters\n",
    }
    graph = graph_with(tmp_path, changes)
    assert checks.microsoft_clients_outside_seam(graph) == [
        ("calls.models", "azure"),
        ("calls.models", "msal"),
        ("portal.signin", "requests"),
    ]


def test_a_module_over_400_lines_is_found_with_its_length(tmp_path):
    changes = {
        "graphsim/tenant.py": "x = 1\n" * 401,
        "calls/models.py": "x = 1\n" * 400,
    }
    graph = graph_with(tmp_path, changes)
    assert checks.oversized_modules(graph.modules) == [("graphsim.tenant", 401)]


def test_a_long_view_function_is_found_decorators_aside(tmp_path):
    body = "    x = 1\n"
    changes = {
        # def + 24 lines = 25: allowed, however many decorators sit above it.
        "delegation/views/people.py": "@a\n@b\ndef fits(request):\n" + body * 24,
        "calls/webhooks.py": "def receive(request):\n" + body * 25,
        "calls/services.py": "def start(request):\n" + body * 99,  # not a view module
        "portal/audit_views.py": "class Page:\n    def get(self):\n" + "        x = 1\n" * 30,
    }
    graph = graph_with(tmp_path, changes)
    assert checks.long_view_functions(graph.modules) == [
        ("calls.webhooks.receive", 26),
        ("portal.audit_views.get", 31),
    ]


def test_imports_in_a_package_init_are_found(tmp_path):
    changes = {
        "delegation/__init__.py": "from __future__ import annotations\n",
        "calls/__init__.py": '"""Calls."""\n\ndef f():\n    import os\n',
        "graphsim/__init__.py": "from .celery import app\n",  # only portal's is the Celery app
    }
    graph = graph_with(tmp_path, changes)
    assert checks.package_inits_with_imports(graph.modules) == [("calls", 4), ("graphsim", 1)]
