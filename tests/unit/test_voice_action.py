"""action_voice_problem: one reply per speech outcome, in the citizen's language, quoting the limits."""
import pytest

from actions.voice import KNOWN_KINDS, ActionVoiceProblem
from tests.unit.helpers import make_tracker, run, texts
from seva.texts import render


def problem(kind, lang="en", metadata=None):
    tracker = make_tracker({"language": lang}, text=f'/voice_note{{"kind":"{kind}"}}', intent="voice_note",
                           entities=[{"entity": "kind", "value": kind}])
    if metadata is not None:
        tracker.latest_message["metadata"] = metadata
    messages, events = run(ActionVoiceProblem(), tracker)
    assert events == []
    return texts(messages)


@pytest.mark.parametrize("kind", KNOWN_KINDS)
@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_every_outcome_has_its_own_reply_in_every_language(kind, lang):
    reply = problem(kind, lang, {"voice": {"max_seconds": 120, "max_megabytes": 16}})
    assert reply == render(f"utter_voice_{kind}", lang, seconds="120", megabytes="16")
    assert "{" not in reply


def test_limits_in_the_reply_are_the_ones_the_channel_used():
    assert "45 seconds" in problem("too_long", metadata={"voice": {"max_seconds": 45.0}})
    assert "8.5 MB" in problem("too_large", metadata={"voice": {"max_megabytes": 8.5}})
    assert "120 सेकंड" in problem("too_long", "hi", metadata={})


def test_an_unknown_kind_is_treated_as_unclear_and_no_kind_as_unavailable():
    assert problem("gibberish") == render("utter_voice_unclear", "en")
    tracker = make_tracker({"language": "or"}, text="/voice_note", intent="voice_note")
    messages, _ = run(ActionVoiceProblem(), tracker)
    assert texts(messages) == render("utter_voice_unavailable", "or")


def test_the_replies_differ_so_the_citizen_knows_what_to_do():
    replies = {kind: problem(kind) for kind in KNOWN_KINDS}
    assert len(set(replies.values())) == len(KNOWN_KINDS)
