"""Documents end to end: a real `rasa run` and action server, the fake Graph API serving the
media a citizen sends.

A service a designer gave two document questions (catalog data only, no code, no retraining):
an Odia citizen answers the first with a phone photo, which is kept without its GPS; every bad
file sent for the second (an executable named .jpg, a corrupt photo, an encrypted PDF, a PDF
bomb, a 50-page PDF) is refused with its own reply in Odia and the question asked again; the
citizen skips it, submits, and gets the receipt PDF; the photo is linked to the application.
Later the office asks for documents and a photo sent in the chat joins that application.
"""
import io
import shutil
import time
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from fakegraph.server import FakeGraph, button_reply, envelope, media_message, text
from seva.document_store import LocalDocumentStore
from seva.store import Store
from tests.e2e.servers import MODEL, Stack
from tests.e2e.test_department import ODIA, REFERENCE, body_text, pdf_text
from tests.unit.helpers import say
from tests.unit.test_document_intake import phone_photo
from tests.unit.test_documents import GPS_IFD, deflate_zeros, one_page_with, raw_pdf, writer_pdf
from tests.unit.test_documents_in_forms import SERVICE

ROOT = Path(__file__).resolve().parents[2]
SECRET, VERIFY = "e2e-app-secret", "e2e-verify-token"
ME = "919437000901"


@pytest.fixture(scope="module")
def fake():
    server = FakeGraph(app_secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fake):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    workdir = tmp_path_factory.mktemp("documents")
    catalog = workdir / "catalog"
    shutil.copytree(ROOT / "catalog", catalog)
    with (catalog / "departments.yml").open("a", encoding="utf-8") as handle:
        handle.write("  - id: test_dept\n    source_name: Test\n"
                     "    names: {en: Test department, hi: परीक्षण विभाग, or: ପରୀକ୍ଷା ବିଭାଗ}\n")
    (catalog / "services" / "test_dept.yml").write_text(SERVICE, encoding="utf-8")
    # a citizen trying one file after another sends more than the default 10 messages in a
    # burst; the rate limit has its own tests (test_rate_limit.py, test_whatsapp.py)
    stack = Stack.for_whatsapp(workdir, fake, SECRET, VERIFY, SEVA_CATALOG_DIR=str(catalog),
                               WHATSAPP_RATE_BURST="60", WHATSAPP_RATE_PER_MINUTE="120")
    try:
        stack.start_actions()
        stack.start_rasa()
        yield stack
    finally:
        stack.stop()


def ask(stack, fake, message):
    before = len(fake.messages_to(ME))
    assert fake.deliver(envelope([message]))[-1] == 200
    stack.wait_answered([message["id"]])
    return fake.messages_to(ME)[before:]


def send_file(stack, fake, kind, data, mime_type, **extra):
    media_id = fake.add_media(data, mime_type, extra.get("filename", ""))
    return ask(stack, fake, media_message(ME, kind, media_id, mime_type=mime_type, **extra))


def said(replies):
    return [body_text(m) for m in replies]


def test_photos_answer_document_questions_bad_files_are_refused_and_the_receipt_follows(stack, fake):
    ask(stack, fake, text(ME, "ନମସ୍କାର"))
    ask(stack, fake, text(ME, "ମୁଁ କୂଅ ଖୋଳିବା ଅନୁମତି ପାଇଁ ଆବେଦନ କରିବାକୁ ଚାହେଁ"))
    asked = said(ask(stack, fake, text(ME, "ରମେଶ ସାହୁ")))
    assert "(2/3)" in asked[-1] and "ଜମି ପଟ୍ଟାର ଫଟୋ" in asked[-1]

    asked = said(send_file(stack, fake, "image", phone_photo(), "image/jpeg"))
    assert "(3/3)" in asked[-1] and "ସାଇଟ ପ୍ଲାନ" in asked[-1]

    bomb = raw_pdf(one_page_with(zlib.compress(deflate_zeros(512 << 20), 9), b"/Filter [/FlateDecode /FlateDecode] "))
    bad_files = [
        ("document", b"MZ\x90\x00\x03" + bytes(4000), "image/jpeg", {"filename": "card.jpg"}, "not_allowed", {}),
        ("image", phone_photo()[:600], "image/jpeg", {}, "corrupt_image", {}),
        ("document", writer_pdf(encrypt=True), "application/pdf", {"filename": "plan.pdf"}, "encrypted_pdf", {}),
        ("document", bomb, "application/pdf", {"filename": "plan.pdf"}, "pdf_bomb", {}),
        ("document", writer_pdf(pages=50), "application/pdf", {"filename": "plan.pdf"}, "too_many_pages",
         {"pages": 20}),
    ]
    for kind, data, mime_type, extra, reason, values in bad_files:
        replies = said(send_file(stack, fake, kind, data, mime_type, **extra))
        assert replies[0] == say(f"utter_document_refused_{reason}", "or", **values), (reason, replies)
        assert "(3/3)" in replies[-1], (reason, replies)  # the question again

    summary = ask(stack, fake, button_reply(ME, "skip", "ଛାଡ଼ନ୍ତୁ"))[-1]
    assert "📎" in body_text(summary)  # the land record photo, in the summary
    yes = summary["interactive"]["action"]["buttons"][0]["reply"]
    done = ask(stack, fake, button_reply(ME, yes["id"], yes["title"]))
    reference = REFERENCE.search(body_text(done[0])).group(0)
    [(sent, pdf)] = fake.document_sent_to(ME)
    words = pdf_text(pdf)
    assert reference in words and ODIA.search(words)

    rows = stack.query("SELECT d.field_id, d.kind, d.key FROM application_documents d JOIN applications a "
                       "ON a.id = d.application_id WHERE a.reference = :r", r=reference)
    [(field_id, kind, key)] = [tuple(r) for r in rows]
    assert (field_id, kind) == ("land_record", "photo")
    kept = LocalDocumentStore(stack.workdir / "documents").get(key)
    assert GPS_IFD not in Image.open(io.BytesIO(kept)).getexif()  # the photo's home GPS is gone

    # the office asks for documents: a photo sent in the chat joins the application
    Store(stack.app_db_url).change_status(reference, "documents_needed", changed_by="officer",
                                          documents_requested=["ଜମି ପଟ୍ଟା (ROR)"])
    deadline = time.monotonic() + 15
    while not any("ଜମି ପଟ୍ଟା (ROR)" in body_text(m) for m in fake.messages_to(ME)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any("ଜମି ପଟ୍ଟା (ROR)" in body_text(m) for m in fake.messages_to(ME))  # told what is needed
    replies = said(send_file(stack, fake, "document", writer_pdf(pages=2), "application/pdf", filename="ror.pdf"))
    assert replies == [say("utter_document_attached", "or", reference=reference, count=2)]
    with stack.engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT d.kind FROM application_documents d JOIN applications a "
                                     "ON a.id = d.application_id WHERE a.reference = :r ORDER BY d.id"),
                             {"r": reference}).scalars().all()
    assert kinds == ["photo", "pdf"]
