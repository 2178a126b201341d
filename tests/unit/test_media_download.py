"""The two-step media download against the fake Graph API: exact bytes, size cap, errors."""
import asyncio

import pytest

from channels.graph_client import GraphClient, MediaTooLarge
from fakegraph.server import FakeGraph
from speech.clips import FIXTURES


@pytest.fixture(scope="module")
def fake():
    server = FakeGraph(app_secret="secret").start()
    yield server
    server.stop()


def download(fake, media_id, max_bytes):
    async def go():
        client = GraphClient(fake.base_url, fake.access_token, fake.phone_number_id)
        try:
            return await client.download_media(media_id, max_bytes)
        finally:
            await client.close()
    return asyncio.run(go())


def test_a_voice_note_arrives_byte_for_byte(fake):
    data = (FIXTURES / "long_speech.ogg").read_bytes()  # larger than one network chunk
    assert download(fake, fake.add_media(data), 16 << 20) == data


def test_a_note_over_the_limit_is_refused_without_reading_it(fake):
    media_id = fake.add_media(b"OggS" + b"\0" * 5000)
    with pytest.raises(MediaTooLarge) as too_large:
        download(fake, media_id, 1000)
    assert too_large.value.size == 5004


def test_unknown_media_gives_none(fake):
    assert download(fake, "123456789", 16 << 20) is None
