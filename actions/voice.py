"""Tell the citizen why a voice note could not be used, in their language.

The WhatsApp channel sends ``/voice_note{"kind": <speech outcome>}`` when a note cannot be
transcribed; its metadata carries the limits in force, so the reply quotes the real ones.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language
from seva.texts import render

KNOWN_KINDS = ("unclear", "silent", "too_long", "too_large", "not_audio", "corrupt", "busy",
               "not_received", "unavailable")


def voice_problem_kind(tracker: Tracker) -> str:
    kinds = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "kind"]
    kind = kinds[0] if kinds else "unavailable"
    return kind if kind in KNOWN_KINDS else "unclear"


class ActionVoiceProblem(Action):
    def name(self) -> Text:
        return "action_voice_problem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kind = voice_problem_kind(tracker)
        limits = ((tracker.latest_message.get("metadata") or {}).get("voice") or {})
        seconds = limits.get("max_seconds") or 120
        megabytes = limits.get("max_megabytes") or 16
        dispatcher.utter_message(text=render(f"utter_voice_{kind}", language(tracker),
                                             seconds=_plain(seconds), megabytes=_plain(megabytes)))
        return []


def _plain(number: Any) -> str:
    try:
        value = float(number)
    except (TypeError, ValueError):
        return str(number)
    return str(int(value)) if value == int(value) else f"{value:g}"
