"""The fake department's operator page (``GET /``) for ``make run`` demos: the applications
received and, for each, forms that post a status change back to Seva.

Plain HTML forms, no script and no external assets. It shows citizens' answers, so every
value goes through ``html.escape``, the page forbids scripts and framing (CSP), and each form
carries the server's per-process token so another site cannot post through it.
"""
from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")

LANGUAGE_NAMES = {"en": "English", "hi": "Hindi", "or": "Odia"}


@dataclass
class Delivery:
    reference: str
    body: Dict[str, Any]
    department_reference: str
    received_at: str


@dataclass
class View:
    deliveries: List[Delivery]
    posts: Sequence[Any]  # server.StatusPost: reference, status, http_status, text
    replays: int
    attempts: int
    seva_status_url: Optional[str]
    form_token: str


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def anchor(reference: str) -> str:
    """An element id for a reference, whatever characters it holds."""
    return "a-" + hashlib.sha256(reference.encode("utf-8")).hexdigest()[:12]


def _text(form: Mapping[str, Any], name: str) -> Optional[str]:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def status_fields(status: str, form: Mapping[str, Any]) -> Dict[str, Any]:
    """post_status's keyword arguments from a submitted form of the page."""
    fields: Dict[str, Any] = {"note": _text(form, "note")}
    if status == "approved":
        fields["certificate_url"] = _text(form, "certificate_url")
    if status == "documents_needed":
        fields["documents_requested"] = [line.strip() for line in (_text(form, "documents") or "").splitlines()
                                         if line.strip()]
    return fields


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem;color:#222}
h1{font-size:1.4rem} .muted{color:#666;font-size:.9rem}
section{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
section h2{font-size:1.1rem;margin:0 0 .3rem}
.forms{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-start;margin-top:.6rem}
form{border:1px solid #e3e3e3;border-radius:4px;padding:.5rem;display:flex;flex-direction:column;gap:.3rem}
textarea,input[type=text],input[type=url]{font:inherit;min-width:14rem}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem}
.ok{color:#176317} .bad{color:#a11}
"""


def _form(view: View, reference: str, status: str, label: str, inner: str = "") -> str:
    disabled = "" if view.seva_status_url else " disabled"
    return (f'<form method="post" action="/_operator/status">'
            f'<input type="hidden" name="token" value="{e(view.form_token)}">'
            f'<input type="hidden" name="reference" value="{e(reference)}">'
            f'<input type="hidden" name="status" value="{e(status)}">'
            f'{inner}<button type="submit"{disabled}>{e(label)}</button></form>')


def _delivery(view: View, delivery: Delivery) -> str:
    body, reference = delivery.body, delivery.reference
    language = body.get("language")
    posts = [p for p in view.posts if p.reference == reference]
    history = "".join(
        f'<li><b>{e(p.status)}</b> → <span class="{"ok" if 200 <= p.http_status < 300 else "bad"}">'
        f'{e(p.http_status or "no answer")}</span> <span class="muted">{e(p.text[:200])}</span></li>'
        for p in posts)
    forms = "".join([
        _form(view, reference, "received", "Received"),
        _form(view, reference, "in_progress", "In progress"),
        _form(view, reference, "documents_needed", "Ask for documents",
              '<label>Documents needed, one per line<br><textarea name="documents" rows="3" required>'
              '</textarea></label>'),
        _form(view, reference, "approved", "Approve",
              '<label>Certificate link (optional)<br><input type="url" name="certificate_url"></label>'),
        _form(view, reference, "rejected", "Reject",
              '<label>Reason<br><input type="text" name="note" required></label>'),
    ])
    answers = json.dumps(body, ensure_ascii=False, indent=2)
    return (f'<section id="{anchor(reference)}"><h2>{e(reference)}</h2>'
            f'<div>Service <b>{e(body.get("service_id"))}</b> · '
            f'{e(LANGUAGE_NAMES.get(str(language), language))} · received {e(delivery.received_at)} · '
            f'<span class="muted">{e(delivery.department_reference)}</span></div>'
            + (f"<ul>{history}</ul>" if history else '<p class="muted">No status sent yet.</p>')
            + f'<div class="forms">{forms}</div>'
            f"<details><summary>What Seva sent</summary><pre>{e(answers)}</pre></details></section>")


def render(view: View) -> str:
    target = (f"Status changes go to <code>{e(view.seva_status_url)}</code>." if view.seva_status_url
              else "<b>No Seva status URL configured</b> (--seva-status-url): the buttons are off.")
    items = "".join(_delivery(view, d) for d in reversed(view.deliveries)) or \
        '<p class="muted">No applications received yet. Submit one on WhatsApp, then reload.</p>'
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Fake department</title><style>{STYLE}</style></head><body>"
            "<h1>Fake department <span class=\"muted\">(local test double, not a real office)</span></h1>"
            f"<p>{target} <span class=\"muted\">{len(view.deliveries)} applications, {view.replays} repeats, "
            f"{view.attempts} attempts.</span> <a href=\"/\">Reload</a></p>{items}</body></html>")
