"""A document a citizen sends on WhatsApp, taken in: fetched from the (fake) Graph API, judged
by its bytes, kept without its GPS, or refused with a reason; never an exception."""
from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from channels.document_intake import NOT_RECEIVED, take
from channels.graph_client import GraphClient
from fakegraph.server import FakeGraph
from seva import documents
from seva.document_store import LocalDocumentStore
from tests.unit.test_documents import GPS_IFD, phone_exif, two_colour


@pytest.fixture(scope="module")
def fake():
    server = FakeGraph().start()
    yield server
    server.stop()


def taken(fake, files, data, message_type="image", declared="image/jpeg", accept=documents.KINDS, limits=None):
    media_id = fake.add_media(data, declared)

    async def go():
        client = GraphClient(fake.base_url, fake.access_token, fake.phone_number_id)
        try:
            return await take(client, files, media_id, message_type, accept, limits)
        finally:
            await client.close()

    return asyncio.run(go())


def phone_photo():
    out = io.BytesIO()
    two_colour().save(out, "JPEG", exif=phone_exif())
    return out.getvalue()


def test_a_phone_photo_is_kept_without_its_gps(fake, tmp_path):
    files = LocalDocumentStore(tmp_path)
    intake = taken(fake, files, phone_photo())
    assert intake.refused is None and intake.document.kind == "photo"
    kept = files.get(intake.document.key)
    assert intake.document.size == len(kept) and intake.document.media_type == "image/jpeg"
    assert GPS_IFD not in Image.open(io.BytesIO(kept)).getexif()


def test_an_executable_named_as_a_photo_is_refused_by_its_bytes(fake, tmp_path):
    intake = taken(fake, LocalDocumentStore(tmp_path), b"MZ\x90\x00" + b"\0" * 4000, "document", "image/jpeg")
    assert intake.document is None and intake.refused == "not_allowed"
    assert not any(p.is_file() for p in tmp_path.rglob("*"))  # nothing kept


def test_a_photo_where_only_a_pdf_is_asked_for_is_refused(fake, tmp_path):
    assert taken(fake, LocalDocumentStore(tmp_path), phone_photo(), accept=("pdf",)).refused == "not_allowed"


def test_a_document_over_the_configured_limit_is_refused_before_it_is_read(fake, tmp_path):
    limits = documents.Limits(document_max_bytes=1000)
    intake = taken(fake, LocalDocumentStore(tmp_path), b"%PDF-1.4\n" + b"0" * 5000, "document",
                   "application/pdf", limits=limits)
    assert intake.refused == "too_large"


def test_media_that_cannot_be_fetched_is_said_so(fake, tmp_path):
    async def go():
        client = GraphClient(fake.base_url, fake.access_token, fake.phone_number_id)
        try:
            return await take(client, LocalDocumentStore(tmp_path), "999999", "image")
        finally:
            await client.close()

    assert asyncio.run(go()).refused == NOT_RECEIVED
