"""Rasa's check of action-server responses, built once (components/action_response_check.py)."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import components  # noqa: F401  (applies the change, as Rasa's component loading does)
from components import action_response_check

GOOD = {"events": [{"event": "slot", "name": "applicant_name", "value": "ରମେଶ", "timestamp": None},
                   {"event": "active_loop", "name": "application_form"}],
        "responses": [{"text": "(2/5) …", "buttons": [{"title": "x", "payload": "/x"}]}]}
BAD = [{"events": [{"event": "slot", "value": 1}]}, {"events": "none"}, {"responses": [1]},
       {"events": [{"event": "no_such_event"}]}]


def action():
    return RemoteAction("validate_application_form", None)


def test_rasa_uses_the_prebuilt_check_once_components_are_loaded():
    assert RemoteAction._validate_action_result is action_response_check.validate_action_result


@pytest.mark.parametrize("result", BAD)
def test_bad_responses_are_refused_with_the_same_error_as_rasas_own_check(result):
    with pytest.raises(jsonschema.ValidationError) as ours:
        action()._validate_action_result(result)
    with pytest.raises(jsonschema.ValidationError) as upstream:
        action_response_check._UPSTREAM(action(), result)
    assert ours.value.message == upstream.value.message and "custom-actions" in ours.value.message
    assert list(ours.value.path) == list(upstream.value.path)


def test_good_responses_pass_both_checks():
    assert action()._validate_action_result(GOOD) is True
    assert action_response_check._UPSTREAM(action(), GOOD) is True
