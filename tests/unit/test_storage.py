"""The stores' folders exist before anything opens them, or the process refuses to start."""
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seva.storage import StorageNotReady, endpoints_path, prepare_store_folders, tracker_store_file
from seva.store import Store

ENDPOINTS = 'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n'


@pytest.fixture
def fresh_clone(tmp_path, monkeypatch):
    """A working directory without var/, with the repo's own relative tracker path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_DB_URL", "sqlite:///var/seva.db")
    (tmp_path / "endpoints.yml").write_text(ENDPOINTS.format(db="var/tracker.db"), encoding="utf-8")
    return tmp_path


def test_the_repo_endpoints_name_a_sqlite_file_under_var():
    root = Path(__file__).resolve().parents[2]
    assert tracker_store_file(str(root / "endpoints.yml")) == Path("var/tracker.db")


def test_missing_folders_are_created_and_the_tracker_store_keeps_data(fresh_clone):
    assert not (fresh_clone / "var").exists()
    folders = prepare_store_folders("endpoints.yml")
    assert (fresh_clone / "var").is_dir()
    assert folders == [fresh_clone / "var", fresh_clone / "var"]

    # what `rasa run` then does with that file: a real SQLTrackerStore, not the memory fallback
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events("919437000111", [UserUttered("ନମସ୍କାର")])
    asyncio.run(SQLTrackerStore(dialect="sqlite", db="var/tracker.db").save(tracker))
    again = asyncio.run(SQLTrackerStore(dialect="sqlite", db="var/tracker.db").retrieve("919437000111"))
    assert again is not None and again.latest_message.text == "ନମସ୍କାର"


def test_the_endpoints_file_comes_from_the_rasa_command_line(fresh_clone, monkeypatch):
    (fresh_clone / "other.yml").write_text(ENDPOINTS.format(db="state/conversations.db"), encoding="utf-8")
    assert endpoints_path(["run", "--endpoints", "other.yml", "--port", "5005"]) == "other.yml"
    assert endpoints_path(["run", "--endpoints=other.yml"]) == "other.yml"
    assert endpoints_path(["run"]) == "endpoints.yml"
    assert endpoints_path(["run", "--endpoints", "missing.yml"]) == "endpoints.yml"  # as rasa.cli does

    monkeypatch.setattr(sys, "argv", ["rasa", "run", "--endpoints", "other.yml"])
    prepare_store_folders()
    assert (fresh_clone / "state").is_dir()


def test_env_references_resolve_like_rasa(fresh_clone, monkeypatch):
    monkeypatch.setenv("SEVA_TRACKER_DB", "data/tracker.db")
    (fresh_clone / "endpoints.yml").write_text(  # unquoted: Rasa leaves a quoted "${…}" as it is
        'tracker_store:\n  type: SQL\n  db: ${SEVA_TRACKER_DB}\n', encoding="utf-8")
    prepare_store_folders("endpoints.yml")
    assert (fresh_clone / "data").is_dir()


@pytest.mark.parametrize("tracker_store", [
    'tracker_store:\n  type: SQL\n  dialect: "postgresql"\n  url: "db.internal"\n  db: "rasa"\n',
    'tracker_store:\n  type: redis\n  url: "localhost"\n',
    'action_endpoint:\n  url: "http://localhost:5055/webhook"\n',
])
def test_servers_and_other_stores_need_no_folder(fresh_clone, tracker_store, monkeypatch):
    monkeypatch.setenv("APP_DB_URL", "postgresql://u:p@db.internal/seva")
    (fresh_clone / "endpoints.yml").write_text(tracker_store, encoding="utf-8")
    assert prepare_store_folders("endpoints.yml") == []
    assert sorted(p.name for p in fresh_clone.iterdir()) == ["endpoints.yml"]


def test_a_whole_sqlite_url_in_the_tracker_store(fresh_clone):
    (fresh_clone / "endpoints.yml").write_text(
        'tracker_store:\n  type: SQL\n  url: "sqlite:///deep/er/tracker.db"\n', encoding="utf-8")
    assert tracker_store_file("endpoints.yml") == Path("deep/er/tracker.db")
    prepare_store_folders("endpoints.yml")
    assert (fresh_clone / "deep" / "er").is_dir()


def test_a_folder_that_cannot_be_made_refuses_to_start(fresh_clone):
    (fresh_clone / "var").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(StorageNotReady) as error:
        prepare_store_folders("endpoints.yml")
    message = str(error.value)
    assert "tracker store in endpoints.yml" in message and "var/tracker.db" in message
    assert "Refusing to start" in message


def test_the_application_store_refuses_too(fresh_clone):
    (fresh_clone / "var").write_text("not a folder", encoding="utf-8")
    with pytest.raises(StorageNotReady, match="application store"):
        Store("sqlite:///var/seva.db")
    Store("sqlite:///elsewhere/seva.db")
    assert (fresh_clone / "elsewhere" / "seva.db").is_file()


def test_make_clean_keeps_the_data_and_wiping_it_needs_confirmation(tmp_path):
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "Makefile", tmp_path / "Makefile")
    for folder in ("var", "models", "results"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "keep.db").write_text("x", encoding="utf-8")

    def make(*args):
        return subprocess.run(["make", "-s", *args], cwd=tmp_path, capture_output=True, text=True)

    assert make("clean").returncode == 0
    assert not (tmp_path / "models").exists() and not (tmp_path / "results").exists()
    assert (tmp_path / "var" / "keep.db").is_file()

    refused = make("wipe-data")
    assert refused.returncode != 0 and "CONFIRM=yes" in refused.stderr
    assert (tmp_path / "var" / "keep.db").is_file()
    assert make("wipe-data", "CONFIRM=yes").returncode == 0
    assert not (tmp_path / "var").exists()
