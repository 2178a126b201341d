"""Documents while applying and after: a photo answers a document question of a service a
designer configured (data only), a refused file is explained and the question asked again,
a supporting document joins the draft, everything is linked when submitting; later a photo
goes to the citizen's own application the office asked documents for."""
from __future__ import annotations

import pytest

from actions.documents import ActionTakeDocument
from seva.catalog import _check_field
from seva.document_store import document_store_from_env, key_for
from seva.store import Document
from tests.unit.helpers import FormDriver, make_tracker, run, say, texts
from tests.unit.test_new_service import temp_catalog  # noqa: F401  (fixture)

SERVICE = """\
department: test_dept
services:
  - id: well_permit
    names: {en: Well digging permit, hi: कुआँ खुदाई अनुमति, or: କୂଅ ଖୋଳିବା ଅନୁମତି}
    synonyms: [kua khudai, kua kholiba]
    time_limit_days: 10
    designated_officer: Test Officer
    appellate_authority: Test Appellate
    revisional_authority: Test Revisional
    source: {url: https://example.org/test-only}
    vintage: "2026"
    fields:
      - use: applicant_name
      - id: land_record
        type: document
        accepts: [photo, pdf]
        label: {en: Land record, hi: भूमि अभिलेख, or: ଜମି ପଟ୍ଟା}
        prompt: {en: "Send a photo of the land record.", hi: "भूमि अभिलेख की फ़ोटो भेजें।", or: "ଜମି ପଟ୍ଟାର ଫଟୋ ପଠାନ୍ତୁ।"}
      - id: site_plan
        type: document
        required: false
        accepts: [pdf]
        label: {en: Site plan, hi: साइट प्लान, or: ସାଇଟ ପ୍ଲାନ}
        prompt:
          en: "Send the site plan as a PDF, or skip."
          hi: "साइट प्लान PDF में भेजें, या छोड़ें।"
          or: "ସାଇଟ ପ୍ଲାନ PDF ରେ ପଠାନ୍ତୁ, କିମ୍ବା ଛାଡ଼ନ୍ତୁ।"
"""
PHOTO_BYTES, PDF_BYTES = b"\xff\xd8\xff a kept photo", b"%PDF-1.7 a kept pdf"
PHOTO = {"key": key_for(PHOTO_BYTES), "kind": "photo", "media_type": "image/jpeg", "size": 2048, "pages": 1}
PDF = {"key": key_for(PDF_BYTES), "kind": "pdf", "media_type": "application/pdf", "size": 9000, "pages": 2}


@pytest.fixture(autouse=True)
def kept_by_the_channel(app_db):
    """What the WhatsApp channel kept before passing the documents on (channels/document_intake.py)."""
    files = document_store_from_env()
    files.put(PHOTO_BYTES, "image/jpeg")
    files.put(PDF_BYTES, "application/pdf")


@pytest.fixture
def well_catalog(temp_catalog):  # noqa: F811
    with (temp_catalog / "departments.yml").open("a", encoding="utf-8") as handle:
        handle.write("  - id: test_dept\n    source_name: Test\n"
                     "    names: {en: Test department, hi: परीक्षण विभाग, or: ପରୀକ୍ଷା ବିଭାଗ}\n")
    (temp_catalog / "services" / "test_dept.yml").write_text(SERVICE, encoding="utf-8")
    return temp_catalog


def test_a_photo_answers_a_document_question_and_goes_with_the_application(app_db, well_catalog):
    form = FormDriver("ମୋତେ କୂଅ ଖୋଳିବା ଅନୁମତି ଦରକାର", "or")
    assert form.slots["service"] == "well_permit"
    assert form.answer("ରମେଶ ସାହୁ") == []
    assert "ଜମି ପଟ୍ଟାର ଫଟୋ" in texts(form.asked)
    refused = form.answer("ମୋ ପାଖରେ ଅଛି")  # typed, not sent: asked for the photo itself
    assert texts(refused) == say("utter_invalid_document", "or")
    said = form.send_document({"problem": "encrypted_pdf"})
    assert texts(said) == say("utter_document_refused_encrypted_pdf", "or")
    assert "ଜମି ପଟ୍ଟାର ଫଟୋ" in texts(form.asked)  # the same question again
    assert form.send_document(PHOTO) == []
    assert "ସାଇଟ ପ୍ଲାନ" in texts(form.asked)
    said = form.send_document(PHOTO)  # a photo where only a PDF is taken
    assert texts(said) == say("utter_document_wrong_kind_pdf", "or")
    assert form.answer("skip") == []  # optional: skipped
    summary = texts(form.asked)
    assert "📎 ଫଟୋ" in summary  # the land record, as the summary shows it
    form.answer("ହଁ", intent="affirm")
    form.submit()
    reference = form.slots["application_id"]
    linked = app_db.documents(reference, form.sender)
    assert [(d.field_id, d.kind, d.key) for d in linked] == [("land_record", "photo", PHOTO["key"])]
    assert app_db.find(reference, form.sender).fields["land_record"] == {"document": PHOTO["key"], "kind": "photo"}


def test_a_supporting_document_before_submitting_joins_the_draft(app_db):
    form = FormDriver("income certificate", "en")
    for answer in ("Ramesh Sahoo", "Gopal Sahoo", "Cuttack", "60000", "Education"):
        form.answer(answer)
    assert form.slots["requested_slot"] == "confirm_answer"
    said = form.send_document(PDF)
    assert texts(said) == say("utter_document_kept_for_application", "en")
    assert "Supporting documents sent: 1" in texts(form.asked)  # the summary, asked again
    form.answer("yes", intent="affirm")
    form.submit()
    [linked] = app_db.documents(form.slots["application_id"], form.sender)
    assert linked.field_id is None and linked.kind == "pdf" and linked.pages == 2


def test_a_document_question_takes_only_photos_and_pdfs():
    spec = {"id": "x", "type": "document", "label": {"en": "X", "hi": "एक्स", "or": "ଏକ୍ସ"},
            "prompt": {"en": "X?", "hi": "एक्स?", "or": "ଏକ୍ସ?"}}
    for wrong in (["video"], [], "photo", ["pdf", "pdf"]):
        problems: list = []
        _check_field("s.fields[0]", {**spec, "accepts": wrong}, {}, problems)
        assert [p for p in problems if "accepts" in p], wrong
    problems = []
    field = _check_field("s.fields[0]", spec, {}, problems)
    assert problems == [] and field.accepts() == ["photo", "pdf"]  # both unless the designer narrows it


def test_after_submitting_a_photo_goes_to_the_application_waiting_for_documents(app_db):
    sender = "919437000777"
    app = app_db.submit(sender_id=sender, draft_id="d", service_id="income_certificate", language="or",
                        fields={"applicant_name": "ରମେଶ ସାହୁ"}, time_limit_days=15)
    tracker = make_tracker({"language": "or"}, "/inform", "inform", [{"entity": "document", "value": PHOTO}], sender)
    said, _ = run(ActionTakeDocument(), tracker)
    assert texts(said) == say("utter_document_not_expected", "or") and app_db.documents(app.reference) == []
    app_db.change_status(app.reference, "documents_needed", changed_by="department",
                         documents_requested=["ଜମି ପଟ୍ଟା"])
    said, events = run(ActionTakeDocument(), tracker)
    assert texts(said) == say("utter_document_attached", "or", reference=app.reference, count=1)
    assert [d.key for d in app_db.documents(app.reference, sender)] == [PHOTO["key"]]
    other = make_tracker({"language": "or"}, "/inform", "inform", [{"entity": "document", "value": PDF}],
                         "919437000778")
    said, _ = run(ActionTakeDocument(), other)  # another number: nothing of theirs waits
    assert texts(said) == say("utter_document_not_expected", "or") and len(app_db.documents(app.reference)) == 1


def test_a_refused_file_outside_a_form_is_explained(app_db):
    tracker = make_tracker({"language": "hi"}, "/inform", "inform",
                           [{"entity": "document", "value": {"problem": "too_many_pages"}}])
    said, _ = run(ActionTakeDocument(), tracker)
    assert texts(said) == say("utter_document_refused_too_many_pages", "hi", pages=20)


def test_the_store_refuses_what_is_not_a_document_kind(app_db):
    with pytest.raises(ValueError):
        app_db.submit(sender_id="1", draft_id="x", service_id="income_certificate", language="en", fields={},
                      time_limit_days=15, documents=[Document(key="sha256:" + "c" * 64, kind="exe",
                                                              media_type="application/x", size=1)])


def test_a_typed_document_payload_the_channel_never_kept_is_not_linked(app_db):
    """Anyone can type ``/inform{"document": …}``: a key the store does not hold is refused."""
    form = FormDriver("income certificate", "en")
    for answer in ("Ramesh Sahoo", "Gopal Sahoo", "Cuttack", "60000", "Education"):
        form.answer(answer)
    forged = {**PDF, "key": "sha256:" + "0" * 64}
    said = form.send_document(forged)
    assert texts(said) == say("utter_document_refused_not_received", "en")
    form.answer("yes", intent="affirm")
    form.submit()
    assert app_db.documents(form.slots["application_id"], form.sender) == []


def test_the_receipt_shows_a_document_answer_as_its_kind_never_its_key(well_catalog):
    from seva.catalog import default_catalog
    from seva.receipt import display_answer

    catalog_ = default_catalog()
    field = next(f for f in catalog_.get("well_permit").fields if f.id == "land_record")
    shown = display_answer(field, {"document": PHOTO["key"], "kind": "photo"}, "or", catalog_)
    assert shown == "ଫଟୋ" and "sha256" not in shown
    assert display_answer(field, "", "or", catalog_) == "—"  # skipped
