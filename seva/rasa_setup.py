"""What `rasa run` needs before it opens its stores and serves, in one explicit place.

Rasa gives a project no start-up hook of its own; the first project code `rasa run` calls
is the input channel's ``from_credentials`` (credentials.yml), before the agent and its
tracker store are created. The WhatsApp channel calls ``prepare()`` there, once:

- the folders of the configured SQLite stores exist (seva/storage.py), so Rasa does not
  fall back to a tracker store that forgets every conversation;
- Rasa's action-response check is built once instead of per custom action
  (components/action_response_check.py; version-checked, a no-op on another Rasa).
"""
from __future__ import annotations

from components import action_response_check
from seva.storage import prepare_store_folders


def prepare() -> None:
    prepare_store_folders()
    action_response_check.install()
