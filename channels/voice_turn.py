"""What a voice note can answer at this point of the conversation, and what to hand Rasa.

Built from what the conversation is waiting for (``OpenQuestion``, read through the port in
channels/conversation.py): the form question that is open (its field type decides: a
district, yes/no, a number, a date, a choice, or free text), the buttons the bot just
sent, or nothing open (then a service or a command). The answers themselves come
from seva/voice_expectations.py; matching is speech/'s job. ``message_for`` turns the
recogniser's result into the text Rasa receives (a button payload, a district's name,
digits) and the key of the line echoed to the citizen (seva/messages), so a wrong pick is
visible at once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple

from channels.conversation import OpenQuestion
from seva import voice_expectations as answers
from seva.catalog import Catalog
from seva.formatting import rupees
from speech.grammar import Answer, Expected
from speech.result import Outcome, SpeechResult

FORM_COMMANDS = ("/cancel", "/human_help")  # what may be said instead of answering a question


@dataclass(frozen=True)
class VoiceTurn:
    expected: Tuple[Expected, ...]  # the answer sets; empty: nothing to match
    free_text: bool  # the question also takes free text (a name, an address, a complaint)
    question: bool  # an answer to a question (echo "you chose"), not an opening request
    labels: Dict[str, str] = field(default_factory=dict)  # value → what to show (button titles)
    field_type: Optional[str] = None  # the form field's type, when a form question is open

    @property
    def undoable(self) -> bool:
        """A "no" next takes the answer back (not when the next question may itself be yes/no)."""
        return self.field_type is not None and self.field_type != "yes_no"


def with_commands(expected: Expected, commands: Sequence[str] = FORM_COMMANDS) -> Expected:
    """The same answers, plus the commands a citizen may say instead (cancel, help)."""
    spoken = answers.spoken()["commands"]
    extra = tuple(Answer(value, answers.phrases(spoken[value]), whole=True) for value in commands if value in spoken)
    return Expected(expected.kind, expected.answers + extra, expected.before, expected.after)


def _with_no(expected: Expected) -> Expected:
    no = answers.yes_no().answers[1]
    return Expected(expected.kind, expected.answers + (Answer(no.value, no.phrases, whole=True),),
                    expected.before, expected.after)


def commands_only() -> Expected:
    return with_commands(Expected("commands"))


def voice_turn(open_question: OpenQuestion, catalog: Catalog, language: str) -> VoiceTurn:
    """What a voice note may answer now, in ``language``."""
    loop = open_question.form
    buttons = list(open_question.buttons)
    titles = {str(b.get("payload") or b.get("title")): str(b.get("title")) for b in buttons if b.get("title")}
    if loop == "application_form":
        requested = open_question.requested
        if requested == "confirm_answer":
            return VoiceTurn((with_commands(answers.yes_no("/affirm", "/deny")),), False, True, titles)
        service = catalog.get(open_question.service)
        question = service.next_field(dict(open_question.answers)) if service else None
        expected = answers.for_field(question, catalog, language) if question else None
        if open_question.voice_answered and expected is not None and expected.kind != "yes_no":
            expected = _with_no(expected)  # "no" takes back the answer a voice note just gave
        if question is None or expected is None:
            extra = (_with_no(commands_only()),) if open_question.voice_answered else (commands_only(),)
            return VoiceTurn(extra, True, True, titles, question.type if question else None)
        return VoiceTurn((with_commands(expected),), False, True, titles, question.type)
    if loop:  # the complaint form: free text
        return VoiceTurn((commands_only(),), True, True, titles)
    sets = [answers.opening(catalog)]
    if buttons:
        offered = answers.for_buttons(buttons)
        if offered is not None:
            sets.insert(0, Expected("service", offered.answers, offered.before, offered.after))
    return VoiceTurn(tuple(sets), False, False, titles)


@dataclass(frozen=True)
class VoiceMessage:
    text: str  # what Rasa receives
    echo: Optional[Tuple[str, Dict[str, str]]] = None  # (seva.messages key, values) shown to the citizen first
    suggestions: Tuple[Dict[str, str], ...] = ()  # buttons for "did you mean…" (title, payload)


def message_for(result: SpeechResult, turn: VoiceTurn, catalog: Catalog, language: str,
                language_known: bool = True) -> VoiceMessage:
    """What Rasa receives for a voice note, and what the citizen is shown first."""
    if result.outcome is Outcome.OK:
        if turn.question and not turn.free_text and result.choice:  # English: the answer heard
            return _chosen(result.choice, result, turn, catalog, language, language_known)
        return VoiceMessage(result.text.lstrip("/"), ("voice_heard", {"transcript": result.text}))
    if result.outcome is Outcome.CHOICE:
        assert result.choice is not None  # a CHOICE result always names the answer heard (speech/result.py)
        return _chosen(result.choice, result, turn, catalog, language, language_known)
    if result.outcome is Outcome.SUGGEST:
        shown = result.language if not language_known and result.language else language
        buttons = tuple({"title": label(value, turn, catalog, shown),
                         "payload": value if language_known else with_language(value, result.language)}
                        for value in result.alternatives)
        return VoiceMessage(_voice_note("suggest"), suggestions=buttons)
    return VoiceMessage(_voice_note(result.outcome.value))


def _chosen(value: str, result: SpeechResult, turn: VoiceTurn, catalog: Catalog, language: str,
            language_known: bool) -> VoiceMessage:
    shown = language if language_known or not result.language else result.language
    key = ("voice_chose_undo" if turn.undoable else "voice_chose") if turn.question else "voice_understood"
    text = value if language_known else with_language(value, result.language)
    return VoiceMessage(text, (key, {"choice": label(value, turn, catalog, shown)}))


def _voice_note(kind: str) -> str:
    return '/voice_note{"kind":%s}' % json.dumps(kind)


def label(value: str, turn: VoiceTurn, catalog: Catalog, language: str) -> str:
    """How the citizen should see an answer the voice note selected."""
    if value in turn.labels:
        return turn.labels[value]
    if value.startswith("/apply_service"):
        service = catalog.get(_entities(value).get("service"))
        if service:
            return service.name(language)
    if turn.field_type == "amount" and value.isdigit():
        return rupees(int(value))
    for expected in turn.expected:
        if any(a.value == value for a in expected.answers):
            return expected.label(value, language)
    return value


def _entities(payload: str) -> Dict[str, Any]:
    brace = payload.find("{")
    try:
        found = json.loads(payload[brace:]) if brace >= 0 else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def with_language(payload: str, language: Optional[str]) -> str:
    """A payload that also switches the conversation to the language the note was in."""
    if not language or not payload.startswith("/"):
        return payload
    entities = _entities(payload)
    if "language" in entities:
        return payload
    intent = payload.split("{", 1)[0]
    entities["language"] = language
    return intent + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))
