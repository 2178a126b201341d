"""choose_language: confirm the switch, or ask which language when none was named.

The switch itself happens before this action runs: the ``language`` slot is filled from
the ``language`` entity (components/language_entity.py or a button payload).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity


class ActionChooseLanguage(Action):
    def name(self) -> Text:
        return "action_choose_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if latest_entity(tracker, "language"):
            dispatcher.utter_message(response="utter_language_set")
        else:
            dispatcher.utter_message(response="utter_choose_language")
        return []
