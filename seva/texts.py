"""Render the responses of ``domain.yml`` in the citizen's language, outside Rasa's own rendering.

All user-facing text lives in ``domain.yml`` as conditional response variations on the
``language`` slot. Rasa renders them for rules; the actions need the same texts to compose
messages (a service card is several responses put together), and the WhatsApp channel
needs one to echo a voice note's transcript, so they read the same file.
"""
from __future__ import annotations

import functools
import os
import string
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

DOMAIN_PATH = Path(__file__).resolve().parent.parent / "domain.yml"


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@functools.lru_cache(maxsize=2)
def _responses(path: str) -> Dict[str, List[Dict[str, Any]]]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"]


def responses() -> Dict[str, List[Dict[str, Any]]]:
    return _responses(str(os.environ.get("SEVA_DOMAIN") or DOMAIN_PATH))


def _variation(key: str, lang: Optional[str]) -> Dict[str, Any]:
    variations = responses()[key]
    default = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions:
            default = default or variation
            continue
        if all(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            return variation
    if default is None:
        raise KeyError(f"response {key} has no default (English) variation")
    return default


def render(key: str, lang: Optional[str], **values: Any) -> str:
    """The text of response ``key`` in ``lang`` (English if missing), placeholders filled."""
    template = _variation(key, lang)["text"]
    return string.Formatter().vformat(template, (), _Blank({k: "" if v is None else v for k, v in values.items()}))


def buttons(key: str, lang: Optional[str]) -> List[Dict[str, str]]:
    """The response's buttons, with the doubled braces of domain payloads undone."""
    return [{**b, "payload": str(b.get("payload", "")).replace("{{", "{").replace("}}", "}")}
            for b in _variation(key, lang).get("buttons") or []]
