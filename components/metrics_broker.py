"""An event broker that only counts: NLU messages and NLU fallbacks, for Prometheus.

Loaded by Rasa from endpoints.yml (``event_broker: type: components.metrics_broker.MetricsEventBroker``):
``EventBroker.create`` imports a type that is not one of Rasa's own by module path and calls
its ``from_endpoint_config``. Whenever the tracker store saves a tracker it publishes each new
event to the broker; this one counts the ``user`` events that went through the NLU model
(not ``/intent`` payloads: buttons, menu numbers, voice-note outcomes) in
``seva_nlu_messages_total`` and those classified ``nlu_fallback`` in
``seva_nlu_fallback_total`` (seva/metrics.py). It keeps nothing, sends nothing, never logs a
message's text and never raises into Rasa.

The cost is Rasa's, not ours: with any broker configured, the tracker store reads the stored
tracker once more on each save to find the new events (``TrackerStore.stream_events``).
"""
from __future__ import annotations

import logging
from asyncio import AbstractEventLoop
from typing import Any, Dict, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from seva import metrics

logger = logging.getLogger(__name__)

# The endpoints.yml entry, for code that writes its own endpoints file (tests, the cluster runner).
ENDPOINT = {"type": "components.metrics_broker.MetricsEventBroker"}
FALLBACK_INTENT = "nlu_fallback"
PAYLOAD_PREFIX = "/"  # rasa.shared.constants.INTENT_MESSAGE_PREFIX: the intent is given, not predicted


def classified_by_nlu(event: Dict[Text, Any]) -> Optional[bool]:
    """For a ``user`` event the NLU model classified: whether it fell back; None for any other event."""
    if event.get("event") != "user":
        return None
    text = event.get("text")
    if not isinstance(text, str) or not text.strip() or text.startswith(PAYLOAD_PREFIX):
        return None
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent.get("name") == FALLBACK_INTENT


class MetricsEventBroker(EventBroker):
    """Counts NLU messages and fallbacks in seva/metrics.py; publishes nowhere."""

    @classmethod
    async def from_endpoint_config(cls, broker_config: Optional[EndpointConfig],
                                   event_loop: Optional[AbstractEventLoop] = None) -> "MetricsEventBroker":
        return cls()

    def publish(self, event: Dict[Text, Any]) -> None:
        try:
            fallback = classified_by_nlu(event)
            if fallback is not None:
                metrics.nlu_message(fallback)
        except Exception as error:  # counting must never cost a conversation its turn
            logger.warning("metrics broker: event not counted (%s)", error.__class__.__name__)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None
