"""What the assistant says about one service: its card, built only from sourced catalog facts."""
from __future__ import annotations

from seva.catalog import Service

from actions.common import catalog, officer_or_unknown
from seva.texts import render


def time_limit_line(service: Service, lang: str) -> str:
    if service.time_limit_days:
        return render("utter_time_limit_days", lang, days=service.time_limit_days)
    if service.time_limit_text:
        return render("utter_time_limit_text", lang, limit=service.time_limit_text)
    return render("utter_time_limit_unknown", lang)


def card(service: Service, lang: str) -> str:
    """Name, department, time limit, officers, documents, notes; unknowns said plainly."""
    department = catalog().departments[service.department].name(lang)
    officers = render(
        "utter_officers", lang,
        designated=officer_or_unknown(service.designated_officer, lang),
        appellate=officer_or_unknown(service.appellate_authority, lang),
        revisional=officer_or_unknown(service.revisional_authority, lang),
    )
    if service.documents:
        documents = render("utter_documents", lang, documents="; ".join(d[lang] for d in service.documents))
    else:
        documents = render("utter_documents_unknown", lang)
    extra = []
    if service.fee:
        extra.append(render("utter_fee", lang, fee=service.fee[lang]))
    extra.extend(f"ℹ️ {note[lang]}" for note in service.notes)
    if service.outdated:
        extra.append(render("utter_outdated", lang, vintage=service.vintage or "?"))
    return render(
        "utter_service_card", lang, name=service.name(lang), department=department,
        time_limit=time_limit_line(service, lang), officers=officers, documents=documents,
        extra="".join("\n" + line for line in extra),
    )
