"""A Rasa NLU component that tags each message with the language it is written in.

It adds a ``language`` entity (``en``/``hi``/``or``) when the script, a named language, or
clear romanised Hindi/Odia words say so. The ``language`` slot is mapped from that entity,
so the slot is set by ``action_extract_slots`` before any response is chosen: replies come
in the citizen's language from their very first message, with no extra round trip.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from seva.language import detect

ENTITY = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds the ``language`` entity; place it after the intent classifier."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"language_change_intent": "choose_language"}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.change_intent = config.get("language_change_intent", "choose_language")

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageEntityExtractor":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get("name")
            language = detect(text, asked_for_language=intent == self.change_intent)
            if language is None:
                continue
            entity = {
                "entity": ENTITY, "value": language, "start": 0, "end": len(text),
                "confidence_entity": 1.0, "extractor": self.__class__.__name__,
            }
            others = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
            message.set(ENTITIES, others + [entity], add_to_output=True)
        return messages
