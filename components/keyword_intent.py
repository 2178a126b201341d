"""A Rasa NLU component that gives one intent to messages holding one of its keywords.

Some requests are commands named by one word: "receipt ORT-…", "ରସିଦ", "रसीद". A
keyword says it surely, in every script, while a statistical intent with a few dozen
examples does not: it pulls unrelated messages towards it and reshuffles the classifier's
other intents (adding ``request_receipt`` to DIET's data moved Odia held-out accuracy from
0.958 to 0.927 with no change to any other intent's examples). So the intent is left out
of DIET's training data and given here, like Rasa's own ``KeywordIntentClassifier`` but
after DIET, which keeps classifying everything else.

Words are compared on ``seva.textnorm.matching_word``, the form the NLU features use, so
ରସିଦ, रसीद, "rasid" and "raseed" are one keyword; a token matches when it begins with the
keyword's form (ରସିଦଟି, "receipts"). A phrase matches on consecutive tokens. The intent
stays DIET's when DIET chose one of ``unless`` ("no receipt came, I want to complain"
is a grievance).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from seva.textnorm import matching_word

Phrase = Tuple[str, ...]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KeywordIntent(GraphComponent):
    """Sets ``intent`` when a keyword is in the message; place it after DIET, before the fallback."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intent": None, "words": [], "unless": []}

    def __init__(self, config: Dict[str, Any]) -> None:
        if not config.get("intent") or not config.get("words"):
            raise ValueError("KeywordIntent needs an `intent` and its `words`")
        self.intent: str = config["intent"]
        self.phrases: List[Phrase] = list(dict.fromkeys(k for k in map(phrase_key, config["words"]) if k))
        self.unless = set(config.get("unless") or [])

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KeywordIntent":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def matches(self, words: Sequence[str]) -> bool:
        keys = [matching_word(w) for w in words]
        return any(_starts_at(keys, i, phrase) for phrase in self.phrases for i in range(len(keys)))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            chosen = (message.get(INTENT) or {}).get("name")
            if chosen in self.unless:
                continue
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if not self.matches([t.text for t in tokens]):
                continue
            # certain, as in Rasa's KeywordIntentClassifier: the ranking holds the keyword's
            # intent alone, else DIET's confident second choice would make the
            # FallbackClassifier call the message ambiguous
            intent = {"name": self.intent, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages


def phrase_key(phrase: str) -> Phrase:
    return tuple(k for k in (matching_word(w) for w in phrase.split()) if k)


def _starts_at(keys: Sequence[str], i: int, phrase: Phrase) -> bool:
    if i + len(phrase) > len(keys):
        return False
    return all(keys[i + j].startswith(part) for j, part in enumerate(phrase))
