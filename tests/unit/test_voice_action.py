"""action_voice_problem: one reply per speech outcome, in the citizen's language, quoting the
limits; the likeliest answers offered as buttons; the last buttons shown again."""
import pytest

from actions.voice import KNOWN_KINDS, ActionVoiceProblem
from tests.unit.helpers import make_tracker, run, texts
from tests.unit.helpers import say as render

PLAIN_KINDS = [k for k in KNOWN_KINDS if k != "suggest"]


def problem(kind, lang="en", metadata=None, events=None):
    tracker = make_tracker({"language": lang}, text=f'/voice_note{{"kind":"{kind}"}}', intent="voice_note",
                           entities=[{"entity": "kind", "value": kind}])
    if metadata is not None:
        tracker.latest_message["metadata"] = metadata
    if events is not None:
        tracker.events = events + tracker.events
    messages, returned = run(ActionVoiceProblem(), tracker)
    assert returned == []
    return messages


@pytest.mark.parametrize("kind", PLAIN_KINDS)
@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_every_outcome_has_its_own_reply_in_every_language(kind, lang):
    reply = texts(problem(kind, lang, {"voice": {"max_seconds": 120, "max_megabytes": 16}}))
    assert reply == render(f"utter_voice_{kind}", lang, seconds="120", megabytes="16")
    assert "{" not in reply


def test_limits_in_the_reply_are_the_ones_the_channel_used():
    assert "45 seconds" in texts(problem("too_long", metadata={"voice": {"max_seconds": 45.0}}))
    assert "8.5 MB" in texts(problem("too_large", metadata={"voice": {"max_megabytes": 8.5}}))
    assert "120 सेकंड" in texts(problem("too_long", "hi", metadata={}))


def test_an_unknown_kind_is_treated_as_unclear_and_no_kind_as_unavailable():
    assert texts(problem("gibberish")) == render("utter_voice_unclear", "en")
    tracker = make_tracker({"language": "or"}, text="/voice_note", intent="voice_note")
    messages, _ = run(ActionVoiceProblem(), tracker)
    assert texts(messages) == render("utter_voice_unavailable", "or")


def test_the_replies_differ_so_the_citizen_knows_what_to_do():
    replies = {kind: texts(problem(kind)) for kind in PLAIN_KINDS}
    assert len(set(replies.values())) == len(PLAIN_KINDS)


@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_suggestions_become_buttons_with_a_question_in_the_citizens_language(lang):
    offered = [{"title": "ଆୟ ପ୍ରମାଣପତ୍ର", "payload": '/apply_service{"service":"income_certificate"}'},
               {"title": "ଜନ୍ମ ପ୍ରମାଣପତ୍ର", "payload": '/apply_service{"service":"birth_certificate"}'},
               {"title": "no payload"}, "not a button",
               {"title": "ମୃତ୍ୟୁ ପ୍ରମାଣପତ୍ର", "payload": '/apply_service{"service":"death_certificate"}'},
               {"title": "one too many", "payload": "/greet"}]
    messages = problem("suggest", lang, {"voice": {"suggestions": offered}})
    assert texts(messages) == render("utter_voice_suggest", lang)
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/apply_service{"service":"income_certificate"}', '/apply_service{"service":"birth_certificate"}',
        '/apply_service{"service":"death_certificate"}']


def test_suggest_without_suggestions_is_an_unclear_note():
    assert texts(problem("suggest", "hi", {"voice": {}})) == render("utter_voice_unclear", "hi")


def test_an_unclear_note_shows_the_last_buttons_again():
    menu = [{"title": "English", "payload": '/choose_language{"language":"en"}'},
            {"title": "ଓଡ଼ିଆ", "payload": '/choose_language{"language":"or"}'}]
    earlier = [{"event": "user", "text": "hello"}, {"event": "bot", "text": "Namaskar", "data": {"buttons": menu}}]
    messages = problem("unclear", "or", {"voice": {}}, earlier)
    assert texts(messages) == render("utter_voice_unclear", "or")
    assert messages[0]["buttons"] == menu
    # an older menu, before the citizen's last typed message, is not offered again
    older = earlier + [{"event": "user", "text": "thanks"}, {"event": "bot", "text": "You are welcome"}]
    assert problem("unclear", "or", {"voice": {}}, older)[0]["buttons"] == []
