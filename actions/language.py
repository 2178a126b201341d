"""choose_language: confirm the switch, or ask which language when none was named.

The switch itself happens before this action runs: the ``language`` slot is filled from
the ``language`` entity (components/language_entity.py or a button payload).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language, latest_entity
from seva.texts import buttons, render


class ActionChooseLanguage(Action):
    def name(self) -> Text:
        return "action_choose_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        if latest_entity(tracker, "language"):
            dispatcher.utter_message(text=render("utter_language_set", lang))
        else:
            dispatcher.utter_message(text=render("utter_choose_language", lang),
                                     buttons=buttons("utter_greet", lang))
        return []
