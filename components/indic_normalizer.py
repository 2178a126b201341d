"""A Rasa NLU component that lets Odia, Devanagari and romanised text share features.

Citizens write the same word as ପ୍ରମାଣପତ୍ର, प्रमाणपत्र or "pramanpatra". After tokenisation
this component sets each token's *lemma* to the word's matching form from
``seva.textnorm.latin_key``: Unicode-normalised (NFC, no zero-width joiners, nukta forms and
Odia letters the transliteration library misses fixed), native digits as ASCII, native
script transliterated to Latin and every spelling folded the same way. The
``CountVectorsFeaturizer``s read lemmas (their default ``use_lemma: true``), so their
character n-grams are the same for all three spellings.

The message text and the tokens' text and offsets are untouched: entity extraction, the
language tagger and the actions still see exactly what the citizen wrote.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from seva import textnorm
from seva.textnorm import matching_word


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class IndicNormalizer(GraphComponent):
    """Sets token lemmas to a common Latin form; place it right after the tokenizer."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # fold_latin: also fold words typed in Latin letters ("chahiye" → "cahiye");
        # false keeps them as typed (lower-cased, Unicode-cleaned) and folds only native script
        return {"fold_latin": True}

    def __init__(self, fold_latin: bool = True) -> None:
        self.fold_latin = fold_latin

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "IndicNormalizer":
        return cls(fold_latin=config.get("fold_latin", True))

    def lemma(self, word: str) -> str:
        if self.fold_latin or textnorm.script_of(word) != textnorm.LATIN:
            return matching_word(word)
        return textnorm.clean(word).casefold()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Rasa caches trained graph nodes by fingerprint; the lemmas depend on the
        normalisation code, so a change there must invalidate the cache."""
        return hashlib.sha256(Path(textnorm.__file__).read_bytes()).hexdigest()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            if not tokens:
                continue
            for token in tokens:
                token.lemma = self.lemma(token.text)
            # set() again: it clears the message's cached fingerprint, which Rasa's training
            # cache would otherwise still take for the un-normalised tokens
            message.set(TOKENS_NAMES[TEXT], tokens)
        return messages
