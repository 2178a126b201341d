"""Documents citizens send on WhatsApp (``image`` and ``document`` messages), taken in.

Fetched through the Graph API's two-step media flow within WhatsApp's own limits (16 MB for
an image, 100 MB for a document, lower by configuration), judged by their content, never
by the name or MIME type the message declares (seva/documents.py: magic bytes, decoding,
a sandboxed PDF check, EXIF removed), and kept in the document store by the hash of what is
kept. The result is a ``Document`` the store links to an application, or the reason code of
a refusal, for which the citizen gets a reply in their language.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Optional, Sequence

from channels.graph_client import GraphClient, MediaTooLarge
from seva import documents
from seva.document_store import DocumentStore
from seva.store import Document

logger = logging.getLogger(__name__)
NOT_RECEIVED = "not_received"  # the media could not be fetched (expired, Meta's error, network)
MESSAGE_TYPES = ("image", "document")


@dataclass(frozen=True)
class Intake:
    """What became of one image or document message: ``document`` kept, or ``refused`` (a
    reason code of ``seva.documents.REASONS`` or ``NOT_RECEIVED``)."""

    document: Optional[Document] = None
    refused: Optional[str] = None


def download_cap(message_type: str, limits: documents.Limits) -> int:
    """The most we read of this message's media: a photo is never more than an image may be."""
    return limits.image_max_bytes if message_type == "image" else limits.document_max_bytes


async def take(client: GraphClient, files: DocumentStore, media_id: str, message_type: str,
               accept: Sequence[str] = documents.KINDS, limits: Optional[documents.Limits] = None) -> Intake:
    """Fetch, check and keep one document; never raises for what the citizen sent."""
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"not a document message: {message_type!r}")
    limits = limits or documents.Limits.from_env()
    try:
        data = await client.download_media(media_id, download_cap(message_type, limits))
    except MediaTooLarge:
        return Intake(refused="too_large")
    if data is None:
        return Intake(refused=NOT_RECEIVED)
    verdict = await asyncio.to_thread(documents.inspect, data, accept, limits)
    if isinstance(verdict, documents.Refused):
        logger.info("document refused: %s (%s)", verdict.reason, verdict.detail)
        return Intake(refused=verdict.reason)
    key = await asyncio.to_thread(files.put, verdict.data, verdict.mime)
    return Intake(document=Document(key=key, kind=verdict.kind, media_type=verdict.mime, size=len(verdict.data),
                                    pages=verdict.pages))
