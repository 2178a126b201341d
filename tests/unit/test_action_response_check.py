"""Rasa's check of action-server responses, built once (components/action_response_check.py)."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from components import action_response_check

GOOD = {"events": [{"event": "slot", "name": "applicant_name", "value": "ରମେଶ", "timestamp": None},
                   {"event": "active_loop", "name": "application_form"}],
        "responses": [{"text": "(2/5) …", "buttons": [{"title": "x", "payload": "/x"}]}]}
BAD = [{"events": [{"event": "slot", "value": 1}]}, {"events": "none"}, {"responses": [1]},
       {"events": [{"event": "no_such_event"}]}]


def action():
    return RemoteAction("validate_application_form", None)


@pytest.fixture(autouse=True)
def upstream_restored():
    yield
    RemoteAction._validate_action_result = action_response_check._UPSTREAM


def test_importing_the_components_changes_nothing_in_rasa():
    import importlib

    import components
    importlib.reload(components)
    assert RemoteAction._validate_action_result is action_response_check._UPSTREAM


def test_rasa_run_setup_installs_the_prebuilt_check(monkeypatch, tmp_path):
    from seva import rasa_setup

    monkeypatch.chdir(tmp_path)  # no endpoints.yml here: no store folders to make
    monkeypatch.setenv("APP_DB_URL", f"sqlite:///{tmp_path}/apps.db")
    rasa_setup.prepare()
    assert RemoteAction._validate_action_result is action_response_check.validate_action_result


@pytest.mark.parametrize("change", ["version", "source"])
def test_another_rasa_keeps_its_own_check(monkeypatch, change):
    """The hook refuses, loudly, a Rasa it was not written for: a changed version or method."""
    if change == "version":
        monkeypatch.setattr(action_response_check.rasa, "__version__", "3.7.0")
    else:
        monkeypatch.setattr(action_response_check, "UPSTREAM_SOURCE_SHA256", "0" * 16)
    assert action_response_check.install() is False
    assert RemoteAction._validate_action_result is action_response_check._UPSTREAM


def test_this_rasa_is_the_one_the_hook_was_written_for():
    """Fails on a Rasa upgrade: re-read action_response_check.py, then update the pins."""
    assert action_response_check.install() is True


@pytest.mark.parametrize("result", BAD)
def test_bad_responses_are_refused_with_the_same_error_as_rasas_own_check(result):
    action_response_check.install()
    with pytest.raises(jsonschema.ValidationError) as ours:
        action()._validate_action_result(result)
    with pytest.raises(jsonschema.ValidationError) as upstream:
        action_response_check._UPSTREAM(action(), result)
    assert ours.value.message == upstream.value.message and "custom-actions" in ours.value.message
    assert list(ours.value.path) == list(upstream.value.path)


def test_good_responses_pass_both_checks():
    action_response_check.install()
    assert action()._validate_action_result(GOOD) is True
    assert action_response_check._UPSTREAM(action(), GOOD) is True
