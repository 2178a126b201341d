"""A whole Odia application through the REST channel, surviving a restart of `rasa run`.

Real action server, real trained model, real SQL tracker store and application store.
"""
import re
import signal

import pytest

from seva.store import Store
from tests.e2e.servers import MODEL, Stack

ODIA = re.compile(r"[\u0b00-\u0b7f]")
SENDER = "919437000111"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    stack = Stack(tmp_path_factory.mktemp("stack"))
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


def text_of(replies):
    return "\n".join(r.get("text") or "" for r in replies)


def test_odia_application_survives_a_restart(stack):
    greeting = stack.say(SENDER, "ନମସ୍କାର")
    assert ODIA.search(text_of(greeting)), greeting
    assert any(r.get("buttons") for r in greeting)

    card = text_of(stack.say(SENDER, "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"))
    assert "ଆୟ ପ୍ରମାଣପତ୍ର" in card and "15" in card and "(1/5)" in card, card

    assert "(2/5)" in text_of(stack.say(SENDER, "ରମେଶ ସାହୁ"))
    assert "(3/5)" in text_of(stack.say(SENDER, "ଗୋପାଳ ସାହୁ"))

    stack.stop_rasa(signal.SIGKILL)  # no graceful shutdown: state must already be in SQL
    stack.start_rasa()

    reply = text_of(stack.say(SENDER, "Cuttak"))
    assert "(4/5)" in reply and ODIA.search(reply), reply
    reply = text_of(stack.say(SENDER, "୬୦୦୦୦"))
    assert "(5/5)" in reply, reply
    summary = text_of(stack.say(SENDER, "ପାଠପଢ଼ା"))
    assert "ରମେଶ ସାହୁ" in summary and "କଟକ" in summary and "₹60,000" in summary, summary

    done = text_of(stack.say(SENDER, "/affirm"))
    match = re.search(r"ORT-\w{4}-\w{4}", done)
    assert match and ODIA.search(done), done
    application = Store(stack.app_db_url).find(match.group(0), SENDER)
    assert application is not None
    assert application.service_id == "income_certificate"
    assert application.fields == {"applicant_name": "ରମେଶ ସାହୁ", "father_name": "ଗୋପାଳ ସାହୁ",
                                  "district": "cuttack", "annual_income": 60000, "purpose": "education"}
    assert application.language == "or"

    # the reference is private: another WhatsApp number gets "not found"
    other = text_of(stack.say("919437000222", f"status {match.group(0)}"))
    assert "ଆୟ" not in other and "Income" not in other
    mine = text_of(stack.say(SENDER, f"status {match.group(0)}"))
    assert match.group(0) in mine and "15" in mine and ODIA.search(mine), mine
