"""list_services: departments, then a department's services, within WhatsApp's list limits.

A WhatsApp list holds at most 10 rows, so a page shows 9 items and a "More…" row.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalog, language, latest_entity, payload
from seva import messages
from seva.search import page

PAGE_SIZE = 9  # + one "More…" row = WhatsApp's 10-row limit


def _page_number(tracker: Tracker) -> int:
    raw = latest_entity(tracker, "page") or "0"
    return int(raw) if raw.isdigit() else 0


class ActionListServices(Action):
    def name(self) -> Text:
        return "action_list_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        number = _page_number(tracker)
        department = catalog().departments.get(latest_entity(tracker, "department") or "")
        if department is None:
            departments = sorted(catalog().departments_in_use(), key=lambda d: d.name(lang))
            pages = max(1, -(-len(departments) // PAGE_SIZE))
            number = min(number, pages - 1)
            items, more = page(departments, number, PAGE_SIZE)
            buttons = [{"title": d.name(lang), "payload": payload("list_services", department=d.id)} for d in items]
            if more:
                buttons.append({"title": messages.text("more", lang),
                                "payload": payload("list_services", page=str(number + 1))})
            dispatcher.utter_message(response="utter_departments", buttons=buttons)
            return []
        services = sorted(catalog().by_department(department.id), key=lambda s: (s.name(lang), s.id))
        pages = max(1, -(-len(services) // PAGE_SIZE))
        number = min(number, pages - 1)
        items, more = page(services, number, PAGE_SIZE)
        buttons = [{"title": s.name(lang), "payload": payload("service_info", service=s.id)} for s in items]
        if more:
            buttons.append({"title": messages.text("more", lang),
                            "payload": payload("list_services", department=department.id, page=str(number + 1))})
        dispatcher.utter_message(
            response="utter_department_services", department=department.name(lang), page=number + 1, pages=pages,
            buttons=buttons,
        )
        return []
