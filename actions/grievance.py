"""grievance: record a complaint against one of the sender's own applications."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import GRIEVANCE_SLOTS, catalog, language, latest_entity, latest_text, officer, reset, store
from actions.documents import document_in
from actions.status import reference_in


class ValidateGrievanceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_grievance_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if not store().for_sender(tracker.sender_id, limit=1):
            return []  # nothing to complain about here: action_submit_grievance explains
        return ["grievance_reference", "grievance_details"]

    async def extract_grievance_reference(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> Dict[Text, Any]:
        """A reference written in the complaint itself ("ORT-… is late") fills the slot at once."""
        if tracker.get_slot("grievance_reference") or tracker.get_slot("requested_slot"):
            return {}
        found = latest_entity(tracker, "reference") or reference_in(latest_text(tracker))
        return {"grievance_reference": found} if found else {}

    def validate_grievance_reference(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if document_in(tracker) is not None:  # a complaint is typed: a photo is not its answer
            dispatcher.utter_message(response="utter_document_not_expected")
            return {"grievance_reference": None}
        reference = reference_in(str(value or "")) or str(value or "")
        application = store().find(reference, tracker.sender_id)
        if application is None:
            dispatcher.utter_message(response="utter_grievance_bad_reference")
            return {"grievance_reference": None}
        return {"grievance_reference": application.reference}

    def validate_grievance_details(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if document_in(tracker) is not None:
            dispatcher.utter_message(response="utter_document_not_expected")
            return {"grievance_details": None}
        text = " ".join(str(value or "").split())
        if len(text) < 3:
            dispatcher.utter_message(response="utter_invalid_text_short", min=3)
            return {"grievance_details": None}
        return {"grievance_details": text[:2000]}


class ActionAskGrievanceReference(Action):
    def name(self) -> Text:
        return "action_ask_grievance_reference"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        mine = store().for_sender(tracker.sender_id, limit=3)
        buttons = [{"title": app.reference, "payload": app.reference} for app in mine]
        dispatcher.utter_message(response="utter_ask_grievance_reference", buttons=buttons)
        return []


class ActionSubmitGrievance(Action):
    def name(self) -> Text:
        return "action_submit_grievance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        reference: Optional[str] = tracker.get_slot("grievance_reference")
        details = tracker.get_slot("grievance_details")
        if not reference or not details:
            dispatcher.utter_message(response="utter_grievance_no_application")
            return reset(GRIEVANCE_SLOTS)
        grievance = store().add_grievance(reference, tracker.sender_id, details)
        if grievance is None:
            dispatcher.utter_message(response="utter_grievance_no_application")
            return reset(GRIEVANCE_SLOTS)
        application = store().find(reference, tracker.sender_id)
        service = catalog().get(application.service_id) if application else None
        dispatcher.utter_message(response="utter_grievance_recorded", reference=reference, grievance=grievance,
                                 appellate=officer(service, "appellate", lang))
        return [*reset(GRIEVANCE_SLOTS), SlotSet("application_id", reference)]
