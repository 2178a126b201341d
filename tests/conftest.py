"""Shared fixtures: a private application database per test, the real catalog and domain;
real PostgreSQL and Redis servers the tests start themselves (cluster/services.py)."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
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
    monkeypatch.setenv("SEVA_DOCUMENT_DIR", str(tmp_path / "documents"))  # receipts, not in the repo's var/
    store_module._STORES.clear()
    yield store_module.default_store()
    store_module._STORES.clear()


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()


@pytest.fixture(scope="session")
def services_dir():
    """A folder for the session's servers. Not under pytest's tmp_path: /tmp/pytest-of-root is
    private (0700), and as root PostgreSQL runs as the postgres user, who must get through."""
    path = Path(tempfile.mkdtemp(prefix="seva-test-services-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(services_dir):
    """A private PostgreSQL 15 for the session (cluster.services.Postgres): ``postgres.url`` is
    database ``seva`` as role ``seva``; ``postgres.fresh_database(name)`` makes an empty one."""
    from cluster.services import Postgres

    with Postgres(services_dir / "postgres") as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(services_dir):
    """A private redis-server for the session (cluster.services.Redis): ``redis_server.url``."""
    from cluster.services import Redis

    with Redis(services_dir / "redis") as server:
        yield server


@pytest.fixture
def postgres_db(postgres, request):
    """The URL of a fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + "_" + secrets.token_hex(3)
    url = postgres.fresh_database(name)
    yield url
    try:
        connection = postgres.connect()
        try:
            connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            connection.close()
    except Exception:  # the server goes with the session anyway
        pass
