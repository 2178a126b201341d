"""Resolve what the citizen asked for against the catalog: apply for it, or tell about it."""
from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FORM_SLOTS, catalog, index, language, latest_entity, latest_text, officer, payload, reset
from actions.service_card import card_values
from seva import messages
from seva.catalog import Service
from seva.search import Resolution


def resolve(tracker: Tracker) -> Resolution:
    """A tapped button names the service exactly; free text goes through fuzzy search."""
    chosen = catalog().get(latest_entity(tracker, "service"))
    if chosen:
        return Resolution(chosen, [])
    return index().resolve(latest_text(tracker))


def offer_choices(dispatcher: CollectingDispatcher, resolution: Resolution, lang: str, intent: str) -> None:
    dispatcher.utter_message(
        response="utter_service_choices",
        buttons=[{"title": m.service.name(lang), "payload": payload(intent, service=m.service.id)}
                 for m in resolution.candidates[:3]],
    )


def say_unknown(dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> None:
    query = " ".join(latest_text(tracker).split())[:60]
    dispatcher.utter_message(
        response="utter_service_unknown", query=query,
        buttons=[{"title": messages.text("services_button", lang), "payload": "/list_services"}],
    )


def explain_unresolved(dispatcher: CollectingDispatcher, tracker: Tracker, resolution: Resolution,
                       lang: str, intent: str) -> Optional[str]:
    """When no single service was found, say so: ``choices`` or ``unknown``; else None."""
    if resolution.service is not None:
        return None
    if resolution.ambiguous:
        offer_choices(dispatcher, resolution, lang, intent)
        return "choices"
    say_unknown(dispatcher, tracker, lang)
    return "unknown"


def say_information_only(dispatcher: CollectingDispatcher, service: Service, lang: str) -> None:
    """The card, and where to apply for a service the chat cannot take yet."""
    dispatcher.utter_message(response="utter_service_card", **card_values(service, lang))
    if service.designated_officer:
        dispatcher.utter_message(response="utter_info_only", designated=officer(service, "designated", lang))
    else:
        dispatcher.utter_message(response="utter_info_only_no_officer",
                                 department=catalog().departments[service.department].name(lang))
    if service.appellate_authority:
        dispatcher.utter_message(response="utter_appeal_howto", appellate=officer(service, "appellate", lang))
    else:
        dispatcher.utter_message(response="utter_appeal_howto_unknown")


class ActionResolveService(Action):
    """apply_service: state the service's facts and open its form, or ask which one."""

    def name(self) -> Text:
        return "action_resolve_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        resolution = resolve(tracker)
        unresolved = explain_unresolved(dispatcher, tracker, resolution, lang, "apply_service")
        if unresolved:
            return [SlotSet("service_match", unresolved)]
        service = resolution.service
        assert service is not None  # explain_unresolved answers whenever no single service was found
        if service.information_only:
            say_information_only(dispatcher, service, lang)
            return [SlotSet("service", service.id), SlotSet("service_match", "info")]
        dispatcher.utter_message(response="utter_service_card", **card_values(service, lang))
        dispatcher.utter_message(response="utter_form_start", count=len(service.fields))
        return [
            *reset(FORM_SLOTS),
            SlotSet("service", service.id),
            SlotSet("service_match", "form"),
            SlotSet("answers", {}),
            SlotSet("draft_id", uuid.uuid4().hex),
        ]


class ActionServiceInfo(Action):
    """service_info: what a service needs and how long it takes, with a button to apply."""

    def name(self) -> Text:
        return "action_service_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        resolution = resolve(tracker)
        if explain_unresolved(dispatcher, tracker, resolution, lang, "service_info"):
            return []
        service = resolution.service
        assert service is not None  # explain_unresolved answers whenever no single service was found
        if service.information_only:
            say_information_only(dispatcher, service, lang)
        else:
            dispatcher.utter_message(
                response="utter_service_card", **card_values(service, lang),
                buttons=[{"title": messages.text("apply_button", lang),
                          "payload": payload("apply_service", service=service.id)}],
            )
        return [SlotSet("service", service.id)]
