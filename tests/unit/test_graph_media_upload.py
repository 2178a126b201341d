"""Sending a document (issue 19): GraphClient.upload_media against the fake Graph API, which
takes uploads like Meta (multipart, supported types, size limits) and serves them back; the
document message built by whatsapp_outbound.document_message; Meta's 131053 and 131047."""
import asyncio
import json
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from channels.graph_client import GraphClient
from channels.whatsapp_outbound import FILENAME_LIMIT, document_filename, document_message
from fakegraph.server import MB, FakeGraph

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"  # binary, larger than one network chunk
CITIZEN = "919437000701"


@pytest.fixture(scope="module")
def server():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    server.customer_wrote(CITIZEN, time.time())  # the citizen just wrote: the window is open
    return server


def run(fake, call, **options):
    """``call(client)`` with a fresh GraphClient that backs off for milliseconds, not seconds."""
    async def go():
        client = GraphClient(fake.base_url, fake.access_token, fake.phone_number_id,
                             **{"backoff_base": 0.01, "backoff_cap": 0.02, **options})
        try:
            return await call(client)
        finally:
            await client.close()
    return asyncio.run(go())


def upload(fake, data=PDF, mime="application/pdf", filename="ack.pdf", **options):
    return run(fake, lambda client: client.upload_media(data, mime, filename), **options)


def send(fake, body):
    """(HTTP status, error code or None) of one message POST."""
    request = urllib.request.Request(f"{fake.base_url}/{fake.phone_number_id}/messages", json.dumps(body).encode(),
                                     {"Content-Type": "application/json",
                                      "Authorization": f"Bearer {fake.access_token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["error"]["code"]


def raw_upload(fake, fields, token=None):
    """(HTTP status, error code or None) of a multipart POST to /media with ``fields``."""
    async def go():
        form = aiohttp.FormData()
        for name, value in fields.items():
            if name == "file":
                form.add_field("file", value, filename="x.pdf", content_type="application/pdf")
            else:
                form.add_field(name, value)
        headers = {"Authorization": f"Bearer {token or fake.access_token}"}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{fake.base_url}/{fake.phone_number_id}/media", data=form,
                                    headers=headers) as response:
                answer = await response.json(content_type=None)
                return response.status, (answer.get("error") or {}).get("code")
    return asyncio.run(go())


# ------------------------------------------------------------------ upload
def test_an_upload_answers_a_media_id_and_the_fake_serves_the_same_bytes_back(fake):
    media_id = upload(fake)
    assert isinstance(media_id, str) and media_id
    assert fake.uploads == [(media_id, "application/pdf", "ack.pdf", PDF)]
    assert fake.upload_attempts == 1
    # the same two-step lookup + download the channel uses for inbound media
    assert run(fake, lambda client: client.download_media(media_id, 100 * MB)) == PDF


def test_a_server_error_is_retried_and_the_upload_then_succeeds(fake):
    fake.fail("500", on="media")
    media_id = upload(fake)
    assert media_id is not None and fake.upload_attempts == 2
    assert [mode for mode, _ in fake.refused] == ["500"]
    assert [u[0] for u in fake.uploads] == [media_id]


def test_throttling_is_retried_too(fake):
    fake.fail("429", count=2, on="media")
    assert upload(fake) is not None and fake.upload_attempts == 3


def test_a_failure_for_messages_does_not_hit_uploads(fake):
    fake.fail("500")  # meant for the next message send
    assert upload(fake) is not None and fake.upload_attempts == 1
    assert fake.failures and fake.failures[0].count == 1


def test_giving_up_after_the_last_attempt_gives_none(fake):
    fake.fail("500", count=5, on="media")
    assert upload(fake, max_attempts=3) is None
    assert fake.upload_attempts == 3 and fake.uploads == []


def test_a_type_meta_does_not_take_is_refused_once_not_retried(fake, caplog):
    assert upload(fake, b"PK\x03\x04zip", "application/zip", "ack.zip") is None
    assert fake.upload_attempts == 1 and fake.uploads == []
    assert fake.rejected_uploads and fake.rejected_uploads[0][0] == 100
    assert "code 100" in caplog.text and "PK" not in caplog.text and "ack.zip" not in caplog.text


def test_a_file_over_metas_limit_for_its_type_is_refused(fake):
    assert upload(fake, b"\xff\xd8" + b"\0" * (5 * MB - 1), "image/jpeg", "big.jpg") is None  # 5 MB + 1 byte
    assert fake.upload_attempts == 1 and fake.uploads == []
    assert upload(fake, b"\xff\xd8" + b"\0" * (5 * MB - 2), "image/jpeg", "fits.jpg") is not None  # exactly 5 MB


@pytest.mark.parametrize("missing", ["messaging_product", "type", "file"])
def test_an_upload_missing_a_field_is_refused_with_code_100(fake, missing):
    fields = {"messaging_product": "whatsapp", "type": "application/pdf", "file": PDF}
    del fields[missing]
    assert raw_upload(fake, fields) == (400, 100)
    assert fake.uploads == []


def test_an_upload_with_a_wrong_token_is_refused_with_190(fake):
    fields = {"messaging_product": "whatsapp", "type": "application/pdf", "file": PDF}
    assert raw_upload(fake, fields, token="wrong") == (401, 190)
    assert fake.uploads == []


# --------------------------------------------------------------- document
def test_the_document_message_is_accepted_and_carries_the_exact_bytes(fake):
    media_id = upload(fake)
    body = document_message(CITIZEN, media_id, "Acknowledgement ORT-7K3M-9QXF", "Your application is received.")
    assert body["document"] == {"id": media_id, "filename": "Acknowledgement ORT-7K3M-9QXF.pdf",
                                "caption": "Your application is received."}
    result = run(fake, lambda client: client.send(body))
    assert result.ok and result.attempts == 1
    [(sent, data)] = fake.document_sent_to(CITIZEN)
    assert sent == body and data == PDF


def test_a_document_with_an_unknown_media_id_is_refused_with_131053(fake):
    body = document_message(CITIZEN, "1234567890", "ack.pdf")
    assert send(fake, body) == (400, 131053)
    assert fake.rejected == [(131053, body)] and fake.document_sent_to(CITIZEN) == []
    result = run(fake, lambda client: client.send(body))
    assert not result.ok and result.error_code == 131053 and result.attempts == 1  # permanent: not retried


def test_a_document_outside_the_24_hour_window_is_refused_with_131047(fake):
    media_id = upload(fake)
    stranger = "919437000799"  # never wrote
    assert send(fake, document_message(stranger, media_id, "ack.pdf")) == (400, 131047)
    fake.customer_wrote(stranger, time.time() - 25 * 3600)
    assert send(fake, document_message(stranger, media_id, "ack.pdf")) == (400, 131047)
    assert fake.document_sent_to(stranger) == []


def test_a_document_needs_an_id_or_a_link_and_a_caption_within_1024(fake):
    media_id = upload(fake)
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CITIZEN, "type": "document"}
    assert send(fake, {**base, "document": {"filename": "ack.pdf"}}) == (400, 100)
    assert send(fake, {**base, "document": {"id": media_id, "caption": "x" * 1025}}) == (400, 100)
    assert send(fake, {**base, "document": {"id": media_id, "caption": "x" * 1024}}) == (200, None)
    assert send(fake, {**base, "document": {"link": "https://example.org/a.pdf"}}) == (200, None)
    assert [data for _, data in fake.document_sent_to(CITIZEN)] == [PDF, b""]  # a link's bytes the fake never had


def test_a_media_added_by_a_test_is_known_too(fake):
    media_id = fake.add_media(b"%PDF-1.4 test", "application/pdf", "t.pdf")
    assert send(fake, document_message(CITIZEN, media_id, "t.pdf")) == (200, None)


# ------------------------------------------------------------ the builder
def test_a_long_caption_is_shortened_at_a_word_with_an_ellipsis():
    caption = "Your application for an income certificate is received. " * 30
    shown = document_message(CITIZEN, "1", "ack.pdf", caption)["document"]["caption"]
    assert len(shown) <= 1024 and shown.endswith("…") and caption.startswith(shown[:-1])
    assert shown[-2] != " " and caption[len(shown) - 1] == " "  # cut between words
    kept = "Line one\nLine two"
    assert document_message(CITIZEN, "1", "ack.pdf", kept)["document"]["caption"] == kept  # fits: untouched
    assert "caption" not in document_message(CITIZEN, "1", "ack.pdf", "  ")["document"]


@pytest.mark.parametrize("name, expected", [
    ("ack.pdf", "ack.pdf"),
    ("../../etc/ack.pdf", "ack.pdf"),
    ("C:\\Users\\clerk\\ack.docx", "ack.docx"),
    ("Acknowledgement", "Acknowledgement.pdf"),
    ("Receipt v1.2", "Receipt v1.2.pdf"),
    ("ack.ORT-7K3M", "ack.ORT-7K3M.pdf"),
    ("bad\x00na\nme\t.pdf", "bad na me.pdf"),
    ("invoice\u202efdp.exe", "invoice fdp.exe"),  # a right-to-left override cannot disguise the extension
    ("ଆବେଦନ ପ୍ରାପ୍ତି\u200d", "ଆବେଦନ ପ୍ରାପ୍ତି\u200d.pdf"),  # Odia and its joiner stay
    ("", ""),
    ("///", ""),
])
def test_the_file_name_is_cleaned(name, expected):
    assert document_filename(name) == expected


def test_a_long_file_name_keeps_its_extension_within_240():
    for name in ("x" * 300, "y" * 300 + ".pdf", "z" * 300 + ".docx"):
        cleaned = document_filename(name)
        assert len(cleaned) == FILENAME_LIMIT == 240
        assert cleaned.endswith("." + (name.rpartition(".")[2] if "." in name else "pdf"))


def test_a_nameless_document_has_no_filename_and_a_url_goes_as_a_link():
    assert document_message(CITIZEN, "42", None)["document"] == {"id": "42"}
    assert document_message(CITIZEN, "https://example.org/a.pdf", "a.pdf")["document"] == {
        "link": "https://example.org/a.pdf", "filename": "a.pdf"}
