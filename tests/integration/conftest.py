"""Fixtures the integration modules share; the helpers behind them live in tests/support."""

from __future__ import annotations

import pytest

from tests.support import production, sync


@pytest.fixture
def tenant(graph_settings, sim):
    """graphsim with app-only delegation read on, and the sync set to use app-only tokens."""
    yield from sync.open_tenant(graph_settings, sim)


@pytest.fixture
def production_env(graphsim, tmp_path):
    """The environment of `bin/portal` in production, pointed at graphsim."""
    return production.production_env(graphsim, tmp_path)
