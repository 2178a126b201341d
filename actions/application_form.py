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

from actions import form_help
from actions.common import by_voice, catalog, language, latest_intent, latest_text, rupees, today
from actions.documents import as_slot_value, document_in, kept, say_refused
from seva import messages
from seva.catalog import Field, Service
from seva.validators import parse_yes_no, validate


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
        return messages.text("yes" if value else "no", lang)
    if field.type == "amount":
        return rupees(value)
    if field.type == "document" and isinstance(value, dict):
        return "📎 " + messages.text(f"receipt_document_{value.get('kind')}", lang)
    return str(value)


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
        if service is None or field is None:
            return {"field_answer": None}
        sent = document_in(tracker)
        if sent is not None:
            return {"field_answer": None, **self._document(dispatcher, tracker, sent, field, answers)}
        handled = self._not_an_answer(dispatcher, tracker, service, field)
        if handled is not None:
            return {"field_answer": None, **handled}
        if self._takes_back(value, field, tracker, answers):
            # "no" right after a voice note answered the last question: ask that one again
            del answers[tracker.get_slot("voice_answered")]
            dispatcher.utter_message(response="utter_voice_undone")
            return {"field_answer": None, "answers": answers, "voice_answered": None}
        request = form_help.interruption(tracker, service, field.id) if field.type in form_help.FREE_TYPES else None
        result = validate(value, field, catalog(), today()) if request is None else None
        if result is not None and not result.ok and field.type not in form_help.FREE_TYPES:
            request = form_help.interruption(tracker, service, field.id)  # "hello" is no district: a request?
        if request is not None:
            return {"field_answer": None, **self._offer_switch(dispatcher, tracker, service, field, request)}
        assert result is not None  # validated above unless a request interrupted
        if not result.ok:
            dispatcher.utter_message(response=f"utter_invalid_{result.error}", **result.details)
            failures = form_help.one_more_failure(tracker, field, str(value or ""), form_help.message_id(tracker))
            return {"field_answer": None, "voice_answered": None, "field_page": None, "field_failures": failures}
        answers[field.id] = result.value
        return {"field_answer": None, "answers": answers, "voice_answered": field.id if by_voice(tracker) else None,
                "field_failures": None, "field_page": None, "pending_request": None,
                "last_answer": {"field": field.id, "message_id": form_help.message_id(tracker)}}

    @staticmethod
    def _document(dispatcher: CollectingDispatcher, tracker: Tracker, sent: Dict[str, Any],
                  field: Optional[Field], answers: Dict[str, Any]) -> Dict[Text, Any]:
        """A photo or PDF while the form is open: the answer to a document question, else a
        supporting document kept with the draft (the question is asked again)."""
        answering = field is not None and field.type == "document"
        document = kept(sent, field.id if answering and field is not None else None)
        if document is None:
            say_refused(dispatcher, sent.get("problem"))
            return {}
        if answering and field is not None and document.kind not in field.accepts():
            dispatcher.utter_message(response=f"utter_document_wrong_kind_{field.accepts()[0]}")
            return {}
        others = [d for d in tracker.get_slot("documents") or [] if isinstance(d, dict)]
        others = [d for d in others if not (answering and field is not None and d.get("field_id") == field.id)]
        slots: Dict[Text, Any] = {"documents": [*others, as_slot_value(document)]}
        if answering and field is not None:
            answers[field.id] = {"document": document.key, "kind": document.kind}
            slots.update({"answers": answers, "field_failures": None, "field_page": None, "voice_answered": None,
                          "last_answer": {"field": field.id, "message_id": form_help.message_id(tracker)}})
        else:
            dispatcher.utter_message(response="utter_document_kept_for_application")
        return slots

    def _not_an_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, service: Service,
                       field: Optional[Field]) -> Optional[Dict[Text, Any]]:
        """Slots to set for a message that is not an answer to the open question (a button of
        the switch offer or of a stuck question, a request for a person, an edit), else None."""
        intent = latest_intent(tracker)
        if intent == "resume_form":  # continue: the next message answers this question, whatever it reads like
            return {"pending_request": {"declined": field.id if field is not None else "confirm"}}
        if intent == "human_help" and form_help.sure(tracker):
            dispatcher.utter_message(response="utter_human_help")
            return {}
        page = form_help.asked_for_page(tracker)
        if page is not None:
            return {"field_page": page}
        original = form_help.edit_of(tracker)
        if original is None:
            return None
        failures = form_help.failures_for(tracker, field) if field is not None else {}
        if field is not None and failures.get("message_id") == original:
            return None  # a refused answer to this question, corrected: an answer like any other
        return self._edit(dispatcher, tracker, service, original)

    def _edit(self, dispatcher: CollectingDispatcher, tracker: Tracker, service: Service,
              original: str) -> Dict[Text, Any]:
        """An edit of the message that answered the previous question replaces that answer."""
        last = tracker.get_slot("last_answer") or {}
        answers = dict(tracker.get_slot("answers") or {})
        edited = form_help.field_by_id(service, last.get("field")) if last.get("message_id") == original else None
        if edited is None or edited.id not in answers:
            dispatcher.utter_message(response="utter_edit_not_used")
            return {}
        lang = language(tracker)
        result = validate(latest_text(tracker), edited, catalog(), today())
        if not result.ok:
            dispatcher.utter_message(response=f"utter_invalid_{result.error}", **result.details)
            return {}
        answers[edited.id] = result.value
        dispatcher.utter_message(response="utter_answer_edited", label=edited.label[lang],
                                 value=display(edited, result.value, lang))
        return {"answers": answers, "voice_answered": None}

    def _offer_switch(self, dispatcher: CollectingDispatcher, tracker: Tracker, service: Service,
                      field: Optional[Field], request: Dict[str, Any]) -> Dict[Text, Any]:
        lang = language(tracker)
        number = service.fields.index(field) + 1 if field is not None else len(service.fields)
        dispatcher.utter_message(response="utter_offer_switch", service=service.name(lang), number=number,
                                 total=len(service.fields))
        return {"pending_request": request}

    @staticmethod
    def _takes_back(value: Any, field: Field, tracker: Tracker, answers: Dict[str, Any]) -> bool:
        """A "no" to a question that is not itself yes/no, just after a voice answer."""
        previous = tracker.get_slot("voice_answered")
        if not previous or previous not in answers or field.type == "yes_no":
            return False
        return latest_intent(tracker) == "deny" or parse_yes_no(str(value or "")) is False

    def validate_confirm_answer(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        sent = document_in(tracker)
        if sent is not None:  # a supporting document before submitting: kept, then asked again
            answers = dict(tracker.get_slot("answers") or {})
            return {"confirm_answer": None, **self._document(dispatcher, tracker, sent, None, answers)}
        intent = latest_intent(tracker)
        if intent == "affirm":
            return {"confirm_answer": True}
        if intent == "deny":
            return {"confirm_answer": False}
        service = current_service(tracker)
        if service is not None:
            handled = self._not_an_answer(dispatcher, tracker, service, None)
            if handled is not None:
                return {"confirm_answer": None, **handled}
            request = form_help.interruption(tracker, service, "confirm")
            if request is not None:
                return {"confirm_answer": None, **self._offer_switch(dispatcher, tracker, service, None, request)}
        answer = parse_yes_no(str(value or ""))
        if answer is None:
            dispatcher.utter_message(response="utter_invalid_yes_no")
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
        if service is None or field is None:
            return []
        lang = language(tracker)
        number = service.fields.index(field) + 1
        question = f"({number}/{len(service.fields)}) {field.prompt[lang]}"
        if form_help.is_stuck(tracker, field):
            dispatcher.utter_message(**form_help.stuck_question(tracker, field, question, lang))
        else:
            dispatcher.utter_message(text=question, buttons=form_help.field_buttons(field, lang))
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
        extra = [d for d in tracker.get_slot("documents") or [] if isinstance(d, dict) and not d.get("field_id")]
        if extra:
            summary += "\n" + messages.text("summary_documents", lang, count=len(extra))
        # the optional "add a document" step: no source lists what each service needs, so
        # nothing is required, but a citizen can send what they have before submitting
        summary += "\n\n" + messages.text("summary_add_documents", lang)
        dispatcher.utter_message(
            response="utter_confirm_summary", service=service.name(lang), summary=summary,
            buttons=[{"title": messages.text("yes_submit", lang), "payload": "/affirm"},
                     {"title": messages.text("no_submit", lang), "payload": "/deny"}],
        )
        return []
