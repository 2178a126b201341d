"""One shared async client for the WhatsApp Cloud (Graph) API: send, mark read, media
(download, and upload for documents we send).

Retries with exponential backoff and jitter on throttling (HTTP 429, code 130429) and on
server errors (5xx, 131000) and timeouts, a bounded number of times: with the defaults
(8 attempts, waits doubling from 0.5 s up to 15 s) an outage of about 20 s is bridged and
the reply arrives once; after the last attempt the send is logged as given up. Permanent errors
(131047 outside the 24-hour window, 100 bad parameter, 190 token, 131026 undeliverable …)
are logged with their code and not retried.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Dict, Optional

import aiohttp

from seva import metrics
from seva.privacy import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"


class MediaTooLarge(Exception):
    """The media is bigger than the caller accepts."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size
RETRYABLE_CODES = {130429, 131000, 131016, 131048, 131056, 2}


@dataclass
class SendResult:
    ok: bool
    status: int
    error_code: Optional[int] = None
    message_id: Optional[str] = None
    attempts: int = 1


class GraphClient:
    def __init__(self, base_url: str, access_token: str, phone_number_id: str, *, timeout: float = 10.0,
                 max_attempts: int = 8, backoff_base: float = 0.5, backoff_cap: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sessions: Dict[int, aiohttp.ClientSession] = {}

    def _client(self) -> aiohttp.ClientSession:
        """One shared session per event loop (a session belongs to the loop it was made on)."""
        key = id(asyncio.get_running_loop())
        session = self._sessions.get(key)
        if session is None or session.closed:
            session = self._sessions[key] = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return session

    async def close(self) -> None:
        session = self._sessions.pop(id(asyncio.get_running_loop()), None)
        if session is not None and not session.closed:
            await session.close()

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    async def send(self, body: Dict[str, Any]) -> SendResult:
        """POST a message (or a read receipt) to /{phone_number_id}/messages."""
        url = f"{self.base_url}/{self.phone_number_id}/messages"
        to = mask_phone(body.get("to") or "")
        kind = body.get("type") or body.get("status") or "?"
        for attempt in range(1, self.max_attempts + 1):
            retry_after: Optional[float] = None
            try:
                async with self._client().post(url, json=body) as response:
                    status = response.status
                    try:
                        data = await response.json(content_type=None)
                    except ValueError:
                        data = {}
                    if status == 200:
                        messages = (data or {}).get("messages") or [{}]
                        return SendResult(True, status, message_id=messages[0].get("id"), attempts=attempt)
                    error = (data or {}).get("error") or {}
                    code = error.get("code")
                    header = response.headers.get("Retry-After")
                    retry_after = float(header) if header and header.replace(".", "", 1).isdigit() else None
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status, code = 0, None
                metrics.graph_api_error(None, timeout=isinstance(exc, asyncio.TimeoutError))
                logger.info("WhatsApp send %s to %s: network error %s (attempt %d)", kind, to,
                            exc.__class__.__name__, attempt)
            else:
                metrics.graph_api_error(code, status)
                retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
                if not retryable:
                    logger.warning("WhatsApp send %s to %s failed permanently: HTTP %s, code %s (%s)",
                                   kind, to, status, code, (error.get("message") or "")[:120])
                    return SendResult(False, status, code, attempts=attempt)
                logger.info("WhatsApp send %s to %s: HTTP %s code %s, retrying (attempt %d)",
                            kind, to, status, code, attempt)
            if attempt < self.max_attempts:
                await asyncio.sleep(self._delay(attempt, retry_after))
        logger.warning("WhatsApp send %s to %s gave up after %d attempts", kind, to, self.max_attempts)
        return SendResult(False, status, code, attempts=self.max_attempts)

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> Optional[str]:
        """Upload a file as multipart/form-data to /{phone_number_id}/media; its media id, to send
        in a message (``{"document": {"id": …}}``), or None.

        Retried like ``send`` on throttling, server errors and timeouts; None after a permanent
        error (100 unsupported type or too large, 190 token …) or the last attempt. Logged with
        the MIME type and size only: neither the file's content nor its name (which may name the
        citizen) goes into the log."""
        url = f"{self.base_url}/{self.phone_number_id}/media"
        what = f"{mime_type.split(';')[0].strip()}, {len(data)} bytes"
        status, code = 0, None
        for attempt in range(1, self.max_attempts + 1):
            retry_after: Optional[float] = None
            form = aiohttp.FormData()  # a form is consumed by one request: a new one per attempt
            form.add_field("messaging_product", "whatsapp")
            form.add_field("type", mime_type)
            form.add_field("file", data, filename=filename, content_type=mime_type)
            try:
                async with self._client().post(url, data=form) as response:
                    status = response.status
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = {}
                    answer = answer if isinstance(answer, dict) else {}
                    if status == 200 and isinstance(answer.get("id"), str) and answer["id"]:
                        return answer["id"]
                    error = answer.get("error") or {}
                    code = error.get("code") if isinstance(error, dict) else None
                    header = response.headers.get("Retry-After")
                    retry_after = float(header) if header and header.replace(".", "", 1).isdigit() else None
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status, code = 0, None
                metrics.graph_api_error(None, timeout=isinstance(exc, asyncio.TimeoutError))
                logger.info("WhatsApp media upload (%s): network error %s (attempt %d)", what,
                            exc.__class__.__name__, attempt)
            else:
                metrics.graph_api_error(code, status)
                retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
                if not retryable:
                    message = (error.get("message") or "")[:120] if isinstance(error, dict) else ""
                    logger.warning("WhatsApp media upload (%s) failed permanently: HTTP %s, code %s (%s)",
                                   what, status, code, message)
                    return None
                logger.info("WhatsApp media upload (%s): HTTP %s code %s, retrying (attempt %d)",
                            what, status, code, attempt)
            if attempt < self.max_attempts:
                await asyncio.sleep(self._delay(attempt, retry_after))
        logger.warning("WhatsApp media upload (%s) gave up after %d attempts: HTTP %s, code %s",
                       what, self.max_attempts, status, code)
        return None

    async def mark_read(self, message_id: str, typing: bool = True) -> SendResult:
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        return await self.send(body)

    async def download_media(self, media_id: str, max_bytes: int) -> Optional[bytes]:
        """The two-step media flow: look up the short-lived URL, then fetch it (bearer both times).

        None when it cannot be fetched; MediaTooLarge (without reading the rest) past ``max_bytes``.
        """
        for _ in range(2):  # a 404 on the URL means it expired: look it up once more
            try:
                async with self._client().get(f"{self.base_url}/{media_id}") as response:
                    if response.status != 200:
                        logger.warning("media lookup failed: HTTP %s", response.status)
                        return None
                    info = await response.json(content_type=None)
                size = int(info.get("file_size") or 0)
                if size > max_bytes:
                    logger.info("media too large: %d bytes", size)
                    raise MediaTooLarge(size)
                async with self._client().get(info["url"]) as response:
                    if response.status == 404:
                        continue
                    if response.status != 200:
                        logger.warning("media download failed: HTTP %s", response.status)
                        return None
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        data += chunk
                        if len(data) > max_bytes:  # the lookup's size may be missing or wrong
                            raise MediaTooLarge(len(data))
                    return bytes(data)
            except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as exc:
                logger.warning("media download failed: %s", exc.__class__.__name__)
                return None
        logger.warning("media download failed: the URL expired twice")
        return None
