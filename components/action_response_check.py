"""The same check of action-server responses that Rasa 3.6 makes, without rebuilding it per call.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` for
every custom action the dialogue runs. That call first checks the large event schema
against the JSON-Schema meta-schema and builds a new validator, every time: 29 ms per
custom action on 2 cores, about 60% of `rasa run`'s time in a form turn (py-spy, see
bench/RESULTS.md). Here the validator is built and the schema checked once; the response
is checked exactly as before (``best_match`` of the same errors, the same message).

This replaces a method of Rasa's, so it is an explicit, version-checked hook and not an
import side effect: ``install()`` is called once by `rasa run`'s set-up
(seva/rasa_setup.py, from the WhatsApp channel) and does nothing — saying so in the log —
unless Rasa is the version it was written against AND the method it replaces is still
the same code (a hash of its source). A Rasa upgrade therefore falls back to Rasa's own,
slower check until someone re-reads this file.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from typing import Any, Dict, Text

import jsonschema
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"  # requirements.txt pins it
UPSTREAM_SOURCE_SHA256 = "f8cdb4be68123961"  # first 16 hex digits of sha256(getsource(method))

_UPSTREAM = RemoteAction._validate_action_result


@functools.lru_cache(maxsize=None)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = jsonschema.exceptions.best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def upstream_fingerprint() -> str:
    return hashlib.sha256(inspect.getsource(_UPSTREAM).encode("utf-8")).hexdigest()[:16]


def install() -> bool:
    """Use the prebuilt check in this process if Rasa is the one it was written for."""
    if RemoteAction._validate_action_result is validate_action_result:
        return True
    if rasa.__version__ != RASA_VERSION or upstream_fingerprint() != UPSTREAM_SOURCE_SHA256:
        logger.warning("Rasa %s: its action-response check is not the one components/action_response_check.py "
                       "was written for; keeping Rasa's own (slower) check", rasa.__version__)
        return False
    RemoteAction._validate_action_result = validate_action_result
    return True
