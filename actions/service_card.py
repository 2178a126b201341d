"""What the assistant says about one service: its card, built only from sourced catalog facts."""
from __future__ import annotations

from typing import Dict

from actions.common import catalog, officer
from seva import messages
from seva.catalog import Service


def time_limit_line(service: Service, lang: str) -> str:
    if service.time_limit_days:
        return messages.text("time_limit_days", lang, days=service.time_limit_days)
    if service.time_limit_text:
        return messages.text("time_limit_text", lang, limit=service.time_limit_text)
    return messages.text("time_limit_unknown", lang)


def card_values(service: Service, lang: str) -> Dict[str, str]:
    """The placeholders of ``utter_service_card``: name, department, time limit, officers,
    documents, then fee, notes and age of the source; unknowns said plainly."""
    officers = messages.text(
        "officers", lang, designated=officer(service, "designated", lang),
        appellate=officer(service, "appellate", lang), revisional=officer(service, "revisional", lang))
    if service.documents:
        documents = messages.text("documents", lang, documents="; ".join(d[lang] for d in service.documents))
    else:
        documents = messages.text("documents_unknown", lang)
    extra = []
    if service.fee:
        extra.append(messages.text("fee", lang, fee=service.fee[lang]))
    extra.extend(f"ℹ️ {note[lang]}" for note in service.notes)
    if service.outdated:
        extra.append(messages.text("outdated", lang, vintage=service.vintage or "?"))
    return {"name": service.name(lang), "department": catalog().departments[service.department].name(lang),
            "time_limit": time_limit_line(service, lang), "officers": officers, "documents": documents,
            "extra": "".join("\n" + line for line in extra)}
