"""A conversation designer edits a response's text in the domain, retrains, and the bot
says the new text through WhatsApp, with no Python touched.

The response is one a custom action says (``utter_service_unknown``, from
action_resolve_service when no service matches), so this holds only while actions say
whole messages through Rasa's response system: rendered from the *model's* domain, not
read from the repository's domain.yml file.

The training runs from the repository root, like ``make train``, so Rasa's graph cache
(.rasa/cache, warmed by ``make train`` before the end-to-end tests) supplies every trained
component: a response text is not training data, so the NLU pipeline and the policies are
restored, not retrained."""
import os
import re
import subprocess
import time

import pytest
import yaml

from fakegraph.server import FakeGraph, envelope, text
from tests.e2e.servers import BIN, MODEL, ROOT, Stack

SECRET = "domain-edit-secret"
RESPONSE = "utter_service_unknown"
EDITED = "Nothing in our list is called “{query}” yet. Please try other words, or open the list of services."
REQUEST = "I want to apply for pizza delivery"  # apply_service, and no service matches it
TRAINED = ("DIETClassifier", "TEDPolicy", "RulePolicy", "MemoizationPolicy")  # restored, not retrained


def english(domain, response):
    """The variation used when no condition matches (English)."""
    return next(v["text"] for v in domain["responses"][response] if not v.get("condition"))


def edit_english_text(source, target, response, new_text):
    """Change one response's English text in place, as a designer would in an editor."""
    raw = source.read_text(encoding="utf-8")
    before = yaml.safe_load(raw)
    old_text = english(before, response)
    start = re.search(rf"^\s+{response}:\s*$", raw, re.M)
    assert start, f"{response} is not in {source}"
    at = raw.index(old_text, start.end())
    target.write_text(raw[:at] + new_text + raw[at + len(old_text):], encoding="utf-8")
    after = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert english(after, response) == new_text
    before["responses"][response] = after["responses"][response]
    assert after == before  # nothing else changed
    return old_text


@pytest.fixture(scope="module")
def edited_model(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first (it also warms .rasa/cache)")
    folder = tmp_path_factory.mktemp("designer")
    original = edit_english_text(ROOT / "domain.yml", folder / "domain.yml", RESPONSE, EDITED)
    start = time.monotonic()
    training = subprocess.run(
        [str(BIN / "rasa"), "train", "--domain", str(folder / "domain.yml"), "--config", "config.yml",
         "--data", "data", "--out", str(folder / "models"), "--fixed-model-name", "edited"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)})
    seconds = time.monotonic() - start
    log = training.stdout + training.stderr
    (folder / "train.log").write_text(log, encoding="utf-8")
    assert training.returncode == 0, log[-3000:]
    restored = [name for name in TRAINED if f"Restored component '{name}' from cache" in log]
    print(f"\nretrained after a response edit in {seconds:.0f} s; restored from .rasa/cache: {restored}")
    assert restored == list(TRAINED), (
        f"a response edit retrained {sorted(set(TRAINED) - set(restored))} (cold .rasa/cache? `make train` "
        f"warms it); see {folder / 'train.log'}")
    return folder / "models" / "edited.tar.gz", original


@pytest.fixture(scope="module")
def stack(tmp_path_factory, edited_model):
    model, _ = edited_model
    fake = FakeGraph(app_secret=SECRET).start()
    stack = Stack.for_whatsapp(tmp_path_factory.mktemp("edited"), fake, SECRET, model=model,
                               SPEECH_ENABLED="false")  # text only: no speech model to load
    try:
        stack.start_actions()
        stack.start_rasa()
        yield stack, fake
    finally:
        stack.stop()
        fake.stop()


def test_an_edited_response_text_is_what_the_bot_says_on_whatsapp(stack, edited_model):
    stack, fake = stack
    _, original = edited_model
    me = "919800000900"
    message = text(me, REQUEST)
    assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])
    said = [body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]
            for body in fake.messages_to(me)]
    assert said, "no reply"
    prefix, suffix = EDITED.split("{query}")
    assert said[0].startswith(prefix) and said[0].endswith(suffix) and "pizza delivery" in said[0], said
    unedited = max(original.split("{query}"), key=len)
    assert unedited not in said[0], said  # the repository's own text is not what was said
