"""Property-based fuzzing (hypothesis) of what strangers control: webhook bodies and answers.

Thousands of generated inputs; the only outcomes allowed are the documented ones — a parsed
notification or ``MalformedPayload`` (the webhook's 400) for bodies, a ``Result`` with a code
that has a reply in all three languages for answers. Any other exception is a bug: Sanic
would answer 500 and Meta would re-deliver the body again and again.
"""
import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.whatsapp_inbound import MalformedPayload, Notification, decode, parse
from seva import validators
from tests.unit.helpers import say as render

SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=25)
KEYS = ["id", "from", "type", "text", "body", "timestamp", "interactive", "button_reply", "list_reply",
        "button", "payload", "audio", "voice", "mime_type", "metadata", "phone_number_id", "contacts",
        "profile", "name", "wa_id", "messages", "statuses", "status", "errors", "code", "recipient_id"]


def near_valid(leaf):
    """Bodies with WhatsApp's shape and random content where its fields are."""
    field = st.dictionaries(st.sampled_from(KEYS), st.one_of(leaf, json_values), max_size=6)
    message = st.fixed_dictionaries({"id": st.one_of(st.text(max_size=8), json_values),
                                     "from": st.one_of(st.just("919437000111"), json_values),
                                     "type": st.one_of(st.sampled_from(["text", "interactive", "button", "audio",
                                                                        "image", "sticker", "unknown"]), json_values)},
                                    optional={k: st.one_of(field, json_values) for k in
                                              ["text", "interactive", "button", "audio", "timestamp"]})
    value = st.fixed_dictionaries({}, optional={"metadata": st.one_of(field, json_values),
                                                 "contacts": st.one_of(st.lists(field, max_size=2), json_values),
                                                 "messages": st.one_of(st.lists(message, max_size=3), json_values),
                                                 "statuses": st.one_of(st.lists(field, max_size=2), json_values)})
    change = st.fixed_dictionaries({"value": st.one_of(value, json_values)})
    entry = st.fixed_dictionaries({"changes": st.one_of(st.lists(change, max_size=2), json_values)})
    return st.fixed_dictionaries({"object": st.just("whatsapp_business_account"),
                                  "entry": st.lists(st.one_of(entry, json_values), max_size=2)})


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_rejected_as_malformed(body):
    try:
        data = decode(body)
    except MalformedPayload:
        return
    assert isinstance(parse(data), Notification)


@SETTINGS
@given(near_valid(scalars))
def test_any_body_with_whatsapps_shape_parses_or_is_rejected(data):
    body = json.dumps(data, allow_nan=True).encode()
    try:
        note = parse(decode(body))
    except MalformedPayload:
        return
    assert isinstance(note, Notification)
    for message in note.messages:
        assert isinstance(message.message_id, str) and message.message_id
        assert isinstance(message.sender, str) and message.sender
        assert message.text is None or isinstance(message.text, str)


ANSWERS = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(min_codepoint=0x0900, max_codepoint=0x0B7F), max_size=40),
    st.from_regex(r"[0-9୦-୯०-९/.\- ]{1,14}", fullmatch=True),
    st.text(min_size=490, max_size=520),
    st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=3),
)


def _fields(catalog):
    seen = {}
    for service in catalog.services.values():
        for spec in service.fields:
            seen.setdefault((spec.type, spec.required, repr(spec)), spec)
    return list(seen.values())


@SETTINGS
@given(answer=ANSWERS, data=st.data())
def test_any_answer_gets_a_value_or_a_reply_in_three_languages(catalog, answer, data):
    spec = data.draw(st.sampled_from(_fields(catalog)))
    result = validators.validate(answer, spec, catalog, dt.date(2026, 11, 29))
    assert isinstance(result, validators.Result)
    if not result.ok:
        for lang in ("en", "hi", "or"):
            assert render(f"utter_invalid_{result.error}", lang, **result.details).strip()
