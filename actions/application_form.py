"""The one catalog-driven application form.

The domain knows a single answer slot (``field_answer``). ``required_slots`` asks for it
until every field of the chosen service has an answer, then for ``confirm_answer``. Each
answer is validated by the field's type (seva.validators), stored in ``answers`` and the
answer slot cleared, so the same slot carries the next question. A new service therefore
needs a catalog entry only: no new slots, no retraining.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from seva.catalog import Field, Service
from seva.validators import parse_yes_no, validate

from actions.common import by_voice, catalog, language, latest_intent, rupees, today
from seva.texts import render


def current_service(tracker: Tracker) -> Optional[Service]:
    return catalog().get(tracker.get_slot("service"))


def next_field(service: Service, answers: Dict[str, Any]) -> Optional[Field]:
    return service.next_field(answers)


def display(field: Field, value: Any, lang: str) -> str:
    """An answer as the citizen should read it back in the summary."""
    if value in (None, ""):
        return "—"
    if field.type == "district":
        district = catalog().districts.get(value)
        return district.name(lang) if district else str(value)
    if field.type == "choice":
        for choice in field.choice_list():
            if choice["id"] == value:
                return choice["label"][lang]
    if field.type == "yes_no":
        return render("utter_yes" if value else "utter_no", lang)
    if field.type == "amount":
        return rupees(value)
    return str(value)


def field_buttons(field: Field, lang: str) -> List[Dict[str, str]]:
    if field.type == "choice":
        return [{"title": c["label"][lang], "payload": c["id"]} for c in field.choice_list()]
    if field.type == "yes_no":
        return [{"title": render("utter_yes", lang), "payload": "yes"},
                {"title": render("utter_no", lang), "payload": "no"}]
    return []


class ValidateApplicationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_application_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        service = current_service(tracker)
        if service is None or service.information_only:
            return []
        if next_field(service, tracker.get_slot("answers") or {}) is not None:
            return ["field_answer"]
        return ["confirm_answer"]

    def validate_field_answer(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        service = current_service(tracker)
        answers = dict(tracker.get_slot("answers") or {})
        field = next_field(service, answers) if service else None
        if field is None:
            return {"field_answer": None}
        if self._takes_back(value, field, tracker, answers):
            # "no" right after a voice note answered the last question: ask that one again
            del answers[tracker.get_slot("voice_answered")]
            dispatcher.utter_message(text=render("utter_voice_undone", language(tracker)))
            return {"field_answer": None, "answers": answers, "voice_answered": None}
        result = validate(value, field, catalog(), today())
        if not result.ok:
            lang = language(tracker)
            dispatcher.utter_message(text=render(f"utter_invalid_{result.error}", lang, **result.details))
            return {"field_answer": None, "voice_answered": None}
        answers[field.id] = result.value
        return {"field_answer": None, "answers": answers, "voice_answered": field.id if by_voice(tracker) else None}

    @staticmethod
    def _takes_back(value: Any, field: Field, tracker: Tracker, answers: Dict[str, Any]) -> bool:
        """A "no" to a question that is not itself yes/no, just after a voice answer."""
        previous = tracker.get_slot("voice_answered")
        if not previous or previous not in answers or field.type == "yes_no":
            return False
        return latest_intent(tracker) == "deny" or parse_yes_no(str(value or "")) is False

    def validate_confirm_answer(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        intent = latest_intent(tracker)
        if intent == "affirm":
            return {"confirm_answer": True}
        if intent == "deny":
            return {"confirm_answer": False}
        answer = parse_yes_no(str(value or ""))
        if answer is None:
            dispatcher.utter_message(text=render("utter_invalid_yes_no", language(tracker)))
        return {"confirm_answer": answer}


class ActionAskFieldAnswer(Action):
    """Ask the next unanswered question of the chosen service, in the citizen's language."""

    def name(self) -> Text:
        return "action_ask_field_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        service = current_service(tracker)
        answers = tracker.get_slot("answers") or {}
        field = next_field(service, answers) if service else None
        if field is None:
            return []
        lang = language(tracker)
        number = service.fields.index(field) + 1
        text = f"({number}/{len(service.fields)}) {field.prompt[lang]}"
        dispatcher.utter_message(text=text, buttons=field_buttons(field, lang))
        return []


class ActionAskConfirmAnswer(Action):
    """Show every answer back and ask whether to submit."""

    def name(self) -> Text:
        return "action_ask_confirm_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        service = current_service(tracker)
        if service is None:
            return []
        lang = language(tracker)
        answers = tracker.get_slot("answers") or {}
        summary = "\n".join(f"• {f.label[lang]}: {display(f, answers.get(f.id), lang)}" for f in service.fields)
        dispatcher.utter_message(
            text=render("utter_confirm_summary", lang, service=service.name(lang), summary=summary),
            buttons=[{"title": render("utter_yes_submit", lang), "payload": "/affirm"},
                     {"title": render("utter_no_submit", lang), "payload": "/deny"}],
        )
        return []
