"""Tell the citizen what became of a voice note that gave no usable answer, in their language.

The WhatsApp channel sends ``/voice_note{"kind": <speech outcome>}`` when a note gave no
usable answer; its metadata carries the limits in force (so the reply quotes the real
ones) and, for ``suggest``, the likeliest answers, offered here as buttons. A note that
matched nothing gets the buttons the bot last showed again, so tapping is one step away;
in the middle of a form the form asks its question again after this action.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from speech.settings import MAX_MEGABYTES, MAX_SECONDS

KNOWN_KINDS = ("unclear", "silent", "too_long", "too_large", "not_audio", "corrupt", "busy",
               "not_received", "unavailable", "suggest", "type_instead")
MAX_SUGGESTIONS = 3


def voice_problem_kind(tracker: Tracker) -> str:
    kinds = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "kind"]
    kind = kinds[0] if kinds else "unavailable"
    return kind if kind in KNOWN_KINDS else "unclear"


def suggestions(tracker: Tracker) -> List[Dict[str, str]]:
    """The channel's likeliest answers, as buttons (payloads it built from the expected answers)."""
    voice = (tracker.latest_message.get("metadata") or {}).get("voice") or {}
    offered = voice.get("suggestions")
    if not isinstance(offered, list):
        offered = []
    buttons = [{"title": str(b["title"]), "payload": str(b["payload"])} for b in offered
               if isinstance(b, dict) and b.get("title") and b.get("payload")]
    return buttons[:MAX_SUGGESTIONS]


def buttons_shown_before(tracker: Tracker) -> List[Dict[str, Any]]:
    """The buttons of the bot's last message before this voice note, outside a form."""
    if tracker.active_loop_name:
        return []  # the form asks its question again, with its own buttons
    events = list(tracker.events)
    seen_this_message = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_this_message:
                return []
            seen_this_message = True
            continue
        if seen_this_message and event.get("event") == "bot" and (event.get("data") or {}).get("buttons"):
            return list(event["data"]["buttons"])
    return []


class ActionVoiceProblem(Action):
    def name(self) -> Text:
        return "action_voice_problem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kind = voice_problem_kind(tracker)
        limits = ((tracker.latest_message.get("metadata") or {}).get("voice") or {})
        if kind == "suggest":
            offered = suggestions(tracker)
            if offered:
                dispatcher.utter_message(response="utter_voice_suggest", buttons=offered)
                return []
            kind = "unclear"
        seconds = limits.get("max_seconds") or MAX_SECONDS
        megabytes = limits.get("max_megabytes") or MAX_MEGABYTES
        again = buttons_shown_before(tracker) if kind in ("unclear", "type_instead") else []
        dispatcher.utter_message(response=f"utter_voice_{kind}", seconds=_plain(seconds), megabytes=_plain(megabytes),
                                 buttons=again)
        return []


def _plain(number: Any) -> str:
    try:
        value = float(number)
    except (TypeError, ValueError):
        return str(number)
    return str(int(value)) if value == int(value) else f"{value:g}"
