"""Shared fixtures: a private application database per test, the real catalog and domain."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from seva import store as store_module  # noqa: E402
from seva.catalog import default_catalog  # noqa: E402


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """Point APP_DB_URL at a fresh SQLite file; returns the store the actions will use."""
    url = f"sqlite:///{tmp_path / 'apps.db'}"
    monkeypatch.setenv("APP_DB_URL", url)
    store_module._STORES.clear()
    yield store_module.default_store()
    store_module._STORES.clear()


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()
