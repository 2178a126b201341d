"""Edited and deleted WhatsApp messages, parsed from the shapes Meta sends.

The payloads are those of pywa's fixtures (david-lev/pywa, tests/data/updates/edit_message.json
and delete_message.json), with our own ids and numbers."""
import copy

import pytest

from channels.whatsapp_inbound import IGNORED_TYPES, TEXT_TYPES, decode, parse
from fakegraph.server import meta_json


def notification(message, field="messages", key="messages"):
    return {"object": "whatsapp_business_account", "entry": [{"id": "1234567890987654321", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                  "contacts": [{"profile": {"name": "Test Name"}, "wa_id": "919437000111"}],
                  key: [message]},
        "field": field}]}]}


EDIT_TEXT = {"from": "919437000111", "id": "wamid.edit1", "timestamp": "1697044968", "type": "edit",
             "edit": {"original_message_id": "wamid.answer1",
                      "message": {"type": "text", "text": {"body": "ଖୋର୍ଦ୍ଧା"}}}}
EDIT_CAPTION = {"from": "919437000111", "id": "wamid.edit2", "timestamp": "1697044968", "type": "edit",
                "edit": {"original_message_id": "wamid.photo1",
                         "message": {"type": "image", "image": {"caption": "my ration card", "mime_type": "image/jpeg",
                                                                 "sha256": "4654+8g=", "id": "65463453"}}}}
REVOKE = {"from": "919437000111", "id": "wamid.del1", "timestamp": "1697043223", "type": "revoke",
          "revoke": {"original_message_id": "wamid.answer1"}}


def only(message):
    note = parse(decode(meta_json(notification(message))))
    assert len(note.messages) == 1 and note.skipped == 0
    return note.messages[0]


def test_an_edited_text_carries_its_own_id_the_originals_and_the_new_text():
    edit = only(EDIT_TEXT)
    assert (edit.message_id, edit.type, edit.edit_of, edit.text) == ("wamid.edit1", "edit", "wamid.answer1", "ଖୋର୍ଦ୍ଧା")
    assert edit.sender == "919437000111" and edit.profile_name == "Test Name"
    assert edit.type in TEXT_TYPES and edit.media_id is None


def test_an_edited_caption_is_read_as_text_and_an_edit_with_no_text_has_none():
    assert (only(EDIT_CAPTION).text, only(EDIT_CAPTION).edit_of) == ("my ration card", "wamid.photo1")
    no_caption = copy.deepcopy(EDIT_CAPTION)
    del no_caption["edit"]["message"]["image"]["caption"]
    assert only(no_caption).text is None and only(no_caption).media_id is None


def test_a_deleted_message_is_parsed_and_ignored():
    revoke = only(REVOKE)
    assert (revoke.type, revoke.edit_of, revoke.text) == ("revoke", "wamid.answer1", None)
    assert revoke.type in IGNORED_TYPES


@pytest.mark.parametrize("edit", [None, "junk", [], {}, {"original_message_id": 5, "message": "text"},
                                  {"message": {"type": "text"}}, {"message": {"type": "text", "text": {"body": 7}}},
                                  {"message": {"type": ["x"], "x": {}}}, {"message": {"type": "edit", "edit": {}}}])
def test_odd_edit_shapes_do_not_crash_and_give_no_text(edit):
    message = dict(EDIT_TEXT, edit=edit)
    parsed = only(message)
    assert parsed.type == "edit" and parsed.text is None and parsed.edit_of is None


def test_an_edit_without_the_original_id_keeps_its_new_text():
    message = copy.deepcopy(EDIT_TEXT)
    del message["edit"]["original_message_id"]
    assert (only(message).text, only(message).edit_of) == ("ଖୋର୍ଦ୍ଧା", None)


def test_edits_echoed_from_the_business_app_are_not_citizens_messages():
    """Coexistence numbers also get ``smb_message_echoes`` (our own app's edits): not for Rasa."""
    note = parse(notification(dict(EDIT_TEXT, to="15550783881"), field="smb_message_echoes", key="message_echoes"))
    assert note.messages == [] and note.skipped == 0
