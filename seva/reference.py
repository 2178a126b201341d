"""Reference numbers of applications (``ORT-7K3M-9QXF``) and complaints (``GRV-…``).

The one definition of their format: the store makes them, the actions find them in what
a citizen wrote, the NLU lookup and the benchmarks recognise them. Eight Crockford base32
characters (no I, L, O, U) in two groups of four: 40 random bits, so one reference says
nothing about another, and a citizen reading one aloud or typing it cannot confuse 0/O, 1/I/L.
"""
from __future__ import annotations

import re
import secrets
from typing import Optional

APPLICATION = "ORT"
GRIEVANCE = "GRV"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
GROUP = 4  # characters per group; two groups

# as printed: ORT-7K3M-9QXF
PRINTED = re.compile(rf"(?:{APPLICATION}|{GRIEVANCE})-[{ALPHABET}]{{{GROUP}}}-[{ALPHABET}]{{{GROUP}}}")
# as citizens write it: any case, spaces or dashes or nothing between the parts
_WRITTEN = re.compile(rf"(?i)\b({APPLICATION}|{GRIEVANCE})[\s\-]*([0-9A-Z]{{{GROUP}}})[\s\-]*([0-9A-Z]{{{GROUP}}})\b")
# for the NLU's RegexFeaturizer (data/lookups.yml, lower-cased text): application numbers
NLU_PATTERN = rf"{APPLICATION.lower()}[- ]?[a-z0-9]{{{GROUP}}}[- ]?[a-z0-9]{{{GROUP}}}"


def new(prefix: str = APPLICATION) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(2 * GROUP))
    return f"{prefix}-{body[:GROUP]}-{body[GROUP:]}"


def normalise(text: str) -> str:
    """Accept ``ort 7k3m 9qxf``, ``ORT7K3M9QXF``; Crockford look-alikes (O→0, I/L→1). "" if not one."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    for prefix in (APPLICATION, GRIEVANCE):
        if raw.startswith(prefix):
            raw = raw[len(prefix):]
            break
    else:
        return ""
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != 2 * GROUP or any(ch not in ALPHABET for ch in raw):
        return ""
    return f"{prefix}-{raw[:GROUP]}-{raw[GROUP:]}"


def find_in(text: Optional[str]) -> Optional[str]:
    """The first reference written in ``text`` (any case, spaces or dashes), normalised."""
    match = _WRITTEN.search(text or "")
    return (normalise("".join(match.groups())) or None) if match else None
