"""Documents linked to applications: with the submission, later when the department asks,
only to the citizen's own application, delivered with it, listed for officers."""
from __future__ import annotations

import pytest

from fakedepartment.server import FakeDepartment
from seva import officer
from seva.catalog import default_catalog
from seva.deliveries import DeliveryQueue
from seva.document_store import LocalDocumentStore, digest_of
from seva.store import Document, Store

SECRET = "department-secret"
SENDER, OTHER = "919437000123", "919437000999"
PHOTO = b"\xff\xd8\xff\xe0 a photo of a ration card"
PDF = b"%PDF-1.7 a land record"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'apps.db'}")
    return Store(request.getfixturevalue("postgres_db"))


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("SEVA_DOCUMENT_STORE", "local")
    monkeypatch.setenv("SEVA_DOCUMENT_DIR", str(tmp_path / "documents"))
    return LocalDocumentStore(tmp_path / "documents")


def stored(files, data, kind, media_type, field_id=None):
    return Document(key=files.put(data, media_type), kind=kind, media_type=media_type, size=len(data),
                    field_id=field_id)


def submit(store, documents=(), draft="d1"):
    return store.submit(sender_id=SENDER, draft_id=draft, service_id="income_certificate", language="or",
                        fields={"applicant_name": "ରମେଶ ସାହୁ"}, time_limit_days=15, documents=documents)


def test_documents_answering_questions_are_linked_with_the_submission_once(store, files):
    photo = stored(files, PHOTO, "photo", "image/jpeg", "ration_card")
    app = submit(store, [photo, photo, stored(files, PDF, "pdf", "application/pdf", "land_record")])
    linked = store.documents(app.reference, SENDER)
    assert [(d.field_id, d.kind, d.size) for d in linked] == [("ration_card", "photo", len(PHOTO)),
                                                             ("land_record", "pdf", len(PDF))]
    assert store.documents(app.reference, OTHER) == []  # another number sees nothing
    assert submit(store, [photo]).reference == app.reference and len(store.documents(app.reference)) == 2


def test_a_document_sent_when_asked_goes_only_to_the_citizens_own_undecided_application(store, files):
    app = submit(store)
    pdf = stored(files, PDF, "pdf", "application/pdf")
    assert store.attach_document(app.reference, OTHER, pdf) is None
    assert store.attach_document(app.reference, SENDER, pdf) is True
    assert store.attach_document(app.reference, SENDER, pdf) is False  # the same bytes again
    assert [d.field_id for d in store.documents(app.reference, SENDER)] == [None]
    store.change_status(app.reference, "approved", changed_by="department")
    assert store.attach_document(app.reference, SENDER, stored(files, PHOTO, "photo", "image/jpeg")) is None


def test_an_unknown_kind_is_refused(store, files):
    with pytest.raises(ValueError):
        submit(store, [Document(key=files.put(PHOTO, "image/gif"), kind="gif", media_type="image/gif", size=1)])


def test_the_department_receives_the_documents_with_the_application(store, files, monkeypatch):
    department = FakeDepartment(SECRET).start()
    try:
        monkeypatch.setenv("DEPARTMENT_API_URL", department.base_url)
        photo = stored(files, PHOTO, "photo", "image/jpeg", "ration_card")
        app = submit(store, [photo])
        DeliveryQueue(store, default_catalog(), SECRET).deliver_due()
        body = department.wait_for_delivery(app.reference, timeout=10)
    finally:
        department.stop()
    assert body["documents"] == [{"sha256": digest_of(photo.key), "question": "ration_card", "kind": "photo",
                                  "media_type": "image/jpeg", "size": len(PHOTO), "pages": 1}]


def test_officers_list_the_documents_and_can_save_them(store, files, tmp_path, capsys):
    app = submit(store, [stored(files, PHOTO, "photo", "image/jpeg", "ration_card")])
    store.attach_document(app.reference, SENDER, stored(files, PDF, "pdf", "application/pdf"))
    url = str(store.engine.url.render_as_string(hide_password=False))
    assert officer.main(["--db", url, "documents", app.reference, "--save", str(tmp_path / "out")]) == 0
    listing = capsys.readouterr().out
    assert "ration_card" in listing and "sent when asked" in listing and "2 document(s)" in listing
    assert (tmp_path / "out" / f"{app.reference}-1.jpg").read_bytes() == PHOTO
    assert (tmp_path / "out" / f"{app.reference}-2.pdf").read_bytes() == PDF
    assert officer.main(["--db", url, "documents", "ORT-0000-0000"]) == 1
