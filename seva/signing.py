"""Signing of the requests Seva and the department send each other (``X-Seva-Signature``).

Both directions of the department link (applications out, status changes in) carry
``X-Seva-Signature: sha256=<hex>``, the HMAC-SHA256 of the request body with the shared
DEPARTMENT_API_SECRET, so each side knows the other sent it and nobody changed it on the way.

The MAC is over the raw bytes of the body exactly as they travel, never over the parsed
JSON: serialising the same object again can give different bytes (key order, spaces,
``\\u0b13`` against the UTF-8 of the Odia letter, ``1.0`` against ``1``), so a receiver that
re-serialises before checking refuses honest requests, or, worse, checks something other than
what it acts on. Sign the bytes you send; verify the bytes you received, before parsing them.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Optional

HEADER = "X-Seva-Signature"
_PREFIX = "sha256="
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(body: bytes, secret: str) -> str:
    """The ``X-Seva-Signature`` value for ``body``: ``"sha256=<hex HMAC-SHA256 with secret>"``.

    An empty secret still gives a value, but :func:`verify` never accepts one made with it."""
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: Optional[str], secret: str) -> bool:
    """Whether ``header`` (the received ``X-Seva-Signature``) is the signature of ``body``.

    False for a missing or malformed header and for an empty secret (an unconfigured
    receiver must refuse everything rather than accept what anybody can sign). The digests
    are compared in constant time, so the answer's timing tells nothing about the right one."""
    if not secret or not header:
        return False
    value = header.strip()
    if not value.startswith(_PREFIX) or not _HEX_DIGEST.fullmatch(value[len(_PREFIX):]):
        return False
    given = bytes.fromhex(value[len(_PREFIX):])
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)
