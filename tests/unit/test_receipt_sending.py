"""The receipt reaches the citizen: the action renders and keeps it (actions/receipt.py), the
WhatsApp channel uploads it to WhatsApp's media and sends it as a document (channels/whatsapp.py)."""
from __future__ import annotations

import asyncio
import io
import time

import pytest
from pypdf import PdfReader

from actions.receipt import DOCUMENT_KEY, ActionSendReceipt
from channels.graph_client import GraphClient
from channels.menus import MenuStore
from channels.outbox import Outbox
from channels.whatsapp import WhatsAppOutput, document_store
from fakegraph.server import FakeGraph
from tests.unit.helpers import make_tracker, run, texts

OWNER, OTHER = "919437000611", "919437000612"


def submit(app_db, sender=OWNER, draft="d"):
    return app_db.submit(sender_id=sender, draft_id=draft, service_id="income_certificate", language="or",
                         fields={"applicant_name": "ରମେଶ ସାହୁ"}, time_limit_days=15)


def sent_document(said):
    [custom] = [m["custom"][DOCUMENT_KEY] for m in said if DOCUMENT_KEY in (m.get("custom") or {})]
    return custom


def test_the_receipt_of_the_named_application_is_kept_and_described(app_db):
    app = submit(app_db)
    said, events = run(ActionSendReceipt(), make_tracker({"language": "or"}, f"ରସିଦ {app.reference}",
                                                         "request_receipt", sender=OWNER))
    spec = sent_document(said)
    assert spec["filename"] == f"{app.reference}.pdf" and app.reference in spec["caption"]
    document_store.cache_clear()
    pdf = document_store().get(spec["key"])
    words = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert app.reference in words
    assert {"event": "slot", "name": "application_id", "value": app.reference} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events]


def test_the_receipt_names_the_documents_attached_in_the_citizens_language(app_db):
    from seva.store import Document

    document_store.cache_clear()
    photo = b"\xff\xd8\xff a photo"
    key = document_store().put(photo, "image/jpeg")
    app = app_db.submit(sender_id=OWNER, draft_id="docs", service_id="income_certificate", language="or",
                        fields={"applicant_name": "ରମେଶ ସାହୁ"}, time_limit_days=15,
                        documents=[Document(key=key, kind="photo", media_type="image/jpeg", size=len(photo),
                                            field_id="applicant_name")])
    app_db.attach_document(app.reference, OWNER, Document(key=document_store().put(b"%PDF-1.4 x", "application/pdf"),
                                                          kind="pdf", media_type="application/pdf", size=10))
    from actions.receipt import attached
    from seva.receipt import ReceiptDocument

    # the question the photo answered, in Odia, and the PDF the office asked for
    assert attached(app, "or") == [ReceiptDocument("ଆବେଦକଙ୍କ ନାମ", "photo"),
                                   ReceiptDocument("କାର୍ଯ୍ୟାଳୟ ମାଗିବା ପରେ ପଠାଯାଇଛି", "pdf")]
    said, _ = run(ActionSendReceipt(), make_tracker({"language": "en"}, f"receipt {app.reference}",
                                                    "request_receipt", sender=OWNER))
    pdf = document_store().get(sent_document(said)["key"])
    words = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Applicant's name (photo)" in words and "sent when the office asked for it (PDF file)" in words, words


def test_another_numbers_application_has_no_receipt_for_you(app_db):
    app = submit(app_db, sender=OTHER)
    said, events = run(ActionSendReceipt(), make_tracker({"language": "en"}, f"receipt {app.reference}",
                                                         "request_receipt", sender=OWNER))
    assert "could not find" in texts(said) and not any(m.get("custom") for m in said) and events == []
    nothing, _ = run(ActionSendReceipt(), make_tracker({"language": "en"}, "receipt", "request_receipt",
                                                       sender="919437000999"))
    assert not any(m.get("custom") for m in nothing) and texts(nothing)


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    fake.customer_wrote(OWNER, time.time())
    yield fake
    fake.stop()


def output(graph, folder):
    client = GraphClient(graph.base_url, graph.access_token, graph.phone_number_id, max_attempts=1)
    return WhatsAppOutput(Outbox(client), MenuStore(f"sqlite:///{folder / 'menus.db'}"))


def test_the_channel_uploads_the_kept_file_and_sends_it_as_a_document(app_db, graph, tmp_path):
    document_store.cache_clear()
    key = document_store().put(b"%PDF-1.4 receipt", "application/pdf")
    out = output(graph, tmp_path)
    spec = {"key": key, "mime": "application/pdf", "filename": "ORT-7K3M-9QXF.pdf", "caption": "ରସିଦ",
            "fallback": "not sent"}

    async def send():
        await out.send_custom_json(OWNER, {DOCUMENT_KEY: spec})
        await out.flush()
    asyncio.run(send())
    [(body, data)] = graph.document_sent_to(OWNER)
    assert data == b"%PDF-1.4 receipt" and body["document"]["filename"] == "ORT-7K3M-9QXF.pdf"
    assert body["document"]["caption"] == "ରସିଦ"


def test_a_file_that_cannot_be_uploaded_gives_the_fallback_text(app_db, graph, tmp_path):
    document_store.cache_clear()
    key = document_store().put(b"%PDF-1.4 receipt", "application/pdf")
    out = output(graph, tmp_path)
    graph.fail("500", count=1, on="media")

    async def send(spec):
        await out.send_custom_json(OWNER, {DOCUMENT_KEY: spec})
        await out.flush()
    asyncio.run(send({"key": key, "filename": "r.pdf", "fallback": "send “receipt” again"}))
    asyncio.run(send({"key": "sha256:" + "0" * 64, "filename": "r.pdf", "fallback": "missing"}))
    assert [b["text"]["body"] for b in graph.messages_to(OWNER)] == ["send “receipt” again", "missing"]
    assert graph.document_sent_to(OWNER) == []
