"""A Rasa NLU component that only counts: messages the model classified, and its fallbacks.

Last in config.yml's pipeline, it sees each parsed message's final intent (after the
FallbackClassifier) and counts it in ``seva_nlu_messages_total`` and, when the intent is
``nlu_fallback``, ``seva_nlu_fallback_total`` (seva/metrics.py). ``/intent`` payloads
(buttons, menu numbers, voice-note outcomes) are not counted: the model did not classify
them. It changes nothing, keeps nothing, never logs a message's text and never raises.

Why here and not in an event broker: with any broker configured, Rasa's tracker store reads
the whole stored conversation again on every save to find the new events
(``TrackerStore.stream_events``): 10-20 % of a turn, measured. Here counting costs nothing.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from seva import metrics

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"


def classified_by_nlu(text: Any, intent: Any) -> Optional[bool]:
    """For a message the model classified: whether it fell back; None for a payload or no text."""
    if not isinstance(text, str) or not text.strip() or text.startswith(INTENT_MESSAGE_PREFIX):
        return None
    name = intent.get("name") if isinstance(intent, dict) else None
    return name == FALLBACK_INTENT


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NluMetrics(GraphComponent):
    """Counts NLU messages and fallbacks; place it last in the pipeline."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NluMetrics":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            try:
                fallback = classified_by_nlu(message.get(TEXT), message.get(INTENT))
                if fallback is not None:
                    metrics.nlu_message(fallback)
            except Exception as error:  # counting must never cost a citizen their turn
                logger.warning("NLU metrics: message not counted (%s)", error.__class__.__name__)
        return messages
