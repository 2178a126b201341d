"""Make sure the configured stores can keep their data before anything opens them.

Why: on a fresh clone, `rasa run --credentials credentials.yml --endpoints endpoints.yml`
finds ``tracker_store: {type: SQL, dialect: sqlite, db: var/tracker.db}`` but no ``var/``
folder. Rasa's SQLTrackerStore logs "unable to open database file" and its fail-safe
wrapper falls back to an in-memory store whose ``retrieve`` returns nothing: every message
silently starts a new conversation. So, before the stores are created:
- the folder of every SQLite file we are configured to use is created;
- if it cannot be (or is not writable), we raise ``StorageNotReady`` and the process does
  not start, rather than run and forget.

Where it runs:
- `rasa run`: from ``channels.whatsapp.WhatsAppInput.from_credentials``. Rasa builds the
  input channels (``rasa.core.run.serve_application`` → ``create_http_input_channels``)
  before the agent and its tracker store are loaded (a ``before_server_start`` listener),
  and ``credentials.yml`` registers that channel. Rasa does not hand the endpoints file
  to a channel, so ``endpoints_path`` reads ``--endpoints`` from the command line the way
  `rasa run` does (default ``endpoints.yml``; a missing file falls back to the default).
- the application store (``APP_DB_URL``, action server and channel): ``Store.__init__``.

PostgreSQL and other servers need no folder; they are left alone.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

DEFAULT_ENDPOINTS = "endpoints.yml"  # rasa.shared.constants.DEFAULT_ENDPOINTS_PATH


class StorageNotReady(RuntimeError):
    """A configured store's folder cannot be created or written: refuse to start."""


def endpoints_path(argv: Optional[Sequence[str]] = None) -> Optional[str]:
    """The endpoints file `rasa run` is using, as ``rasa.cli.run`` resolves it.

    ``--endpoints FILE`` or ``--endpoints=FILE``; no option, or a file that does not exist,
    means ``endpoints.yml`` if that exists, else none.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    chosen: Optional[str] = None
    for i, arg in enumerate(args):
        if arg == "--endpoints" and i + 1 < len(args):
            chosen = args[i + 1]
        elif arg.startswith("--endpoints="):
            chosen = arg.split("=", 1)[1]
    for candidate in (chosen, DEFAULT_ENDPOINTS):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def sqlite_file_of_url(url: str) -> Optional[Path]:
    """The file of a ``sqlite:///path`` URL (relative to the working directory), else None."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def tracker_store_file(endpoints_file: str) -> Optional[Path]:
    """The SQLite file of the SQL tracker store configured in ``endpoints_file``, if any.

    Read with Rasa's own reader, so ``${VAR}`` references resolve exactly as Rasa's do.
    Mirrors ``SQLTrackerStore``: ``url`` may be a whole database URL; otherwise ``dialect``
    (default sqlite) and ``db`` (default ``rasa.db``).
    """
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(endpoints_file, "tracker_store")
    if config is None or str(config.type or "").lower() != "sql":
        return None
    if config.url and "://" in config.url:
        return sqlite_file_of_url(config.url)
    if not str(config.kwargs.get("dialect") or "sqlite").startswith("sqlite"):
        return None
    db = str(config.kwargs.get("db") or "rasa.db")
    return None if db == ":memory:" else Path(db)


def prepare_folder_for(db_file: Path, what: str) -> Path:
    """Create ``db_file``'s folder; raise ``StorageNotReady`` if it cannot hold the database."""
    folder = db_file.absolute().parent
    problem = ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        problem = "the folder cannot be created: a file of that name is in the way"
    except OSError as error:
        problem = f"the folder cannot be created ({error.strerror or error})"
    if not problem and not os.access(folder, os.W_OK | os.X_OK):
        problem = "the folder is not writable"
    if not problem and db_file.exists() and not os.access(db_file, os.R_OK | os.W_OK):
        problem = "the file is not readable and writable"
    if problem:
        raise StorageNotReady(
            f"{what}: cannot use the SQLite file {db_file} ({db_file.absolute()}): {problem}. "
            "Refusing to start: without it every conversation or application would be lost. "
            "Create the folder with write access, or configure another location.")
    return folder


def prepare_sqlite_folder(url: str, what: str = "database") -> Optional[Path]:
    """For a SQLite URL, create its folder (see ``prepare_folder_for``); others: nothing."""
    db_file = sqlite_file_of_url(url)
    return prepare_folder_for(db_file, what) if db_file else None


def prepare_store_folders(endpoints_file: Optional[str] = None) -> List[Path]:
    """Create the folders of the tracker store (from the endpoints file) and the app store.

    ``endpoints_file`` defaults to the one `rasa run` was started with (``endpoints_path``).
    Returns the folders checked.
    """
    from seva.db import database_url

    folders: List[Path] = []
    endpoints_file = endpoints_file or endpoints_path()
    if endpoints_file:
        tracker_file = tracker_store_file(endpoints_file)
        if tracker_file:
            folders.append(prepare_folder_for(
                tracker_file, f"the tracker store in {endpoints_file} (conversations)"))
    app_folder = prepare_sqlite_folder(database_url(), "the application store (APP_DB_URL)")
    if app_folder:
        folders.append(app_folder)
    return folders
