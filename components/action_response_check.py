"""The same check of action-server responses that Rasa 3.6 makes, without rebuilding it per call.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` for
every custom action the dialogue runs. That call first checks the large event schema
against the JSON-Schema meta-schema and builds a new validator, every time: 29 ms per
custom action on 2 cores, about 60% of `rasa run`'s time in a form turn (py-spy, see
bench/RESULTS.md). Here the validator is built and the schema checked once; the response
is checked exactly as before (``best_match`` of the same errors, the same message).

Applied when Rasa loads the model's custom components (``components/__init__.py``), so
every process that runs the dialogue — `rasa run`, `rasa shell`, `rasa test` — has it.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

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


def apply() -> None:
    RemoteAction._validate_action_result = validate_action_result
