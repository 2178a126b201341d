"""The keyword intent: a message naming the receipt, in any script or spelling, asks for it;
other messages, and complaints that name it, keep the classifier's intent."""
from pathlib import Path

import pytest
import yaml
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.keyword_intent import KeywordIntent

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def receipt_keywords():
    """The component as config.yml configures it."""
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [config] = [c for c in pipeline if c["name"].endswith("KeywordIntent")]
    return KeywordIntent({**KeywordIntent.get_default_config(), **config})


def classified(component, text, intent="check_status", confidence=0.8):
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence},
                            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence},
                                                 {"name": "inform", "confidence": 0.78}]})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    component.process([message])
    return message


@pytest.mark.parametrize("text", [
    "ରସିଦ ORT-9DKW-4TQP", "ମୋ ଆବେଦନର ରସିଦଟି ପଠାନ୍ତୁ", "ପ୍ରାପ୍ତି ସ୍ୱୀକାର ପତ୍ର ଦିଅନ୍ତୁ",
    "मेरी रसीद भेजो", "आवेदन की पावती चाहिए", "rasid pathantu", "raseed bhejo",
    "Receipt?", "send my receipts again", "acknowledgement slip please",
])
def test_a_message_naming_the_receipt_asks_for_it(receipt_keywords, text):
    message = classified(receipt_keywords, text)
    assert message.get(INTENT) == {"name": "request_receipt", "confidence": 1.0}
    # alone in the ranking: a confident second choice would make the fallback call it ambiguous
    assert message.get(INTENT_RANKING_KEY) == [{"name": "request_receipt", "confidence": 1.0}]


@pytest.mark.parametrize("text", [
    "ମୋ ଆବେଦନର ସ୍ଥିତି କଣ", "ପ୍ରାପ୍ତି", "ration card status", "rasoi gas connection", "मेरा आवेदन कहाँ है",
])
def test_other_messages_keep_the_classifiers_intent(receipt_keywords, text):
    assert classified(receipt_keywords, text).get(INTENT)["name"] == "check_status"


def test_a_complaint_that_names_the_receipt_stays_a_complaint(receipt_keywords):
    message = classified(receipt_keywords, "ରସିଦ ମିଳିଲା ନାହିଁ ଅଭିଯୋଗ କରିବି", intent="grievance")
    assert message.get(INTENT)["name"] == "grievance"


def test_it_refuses_a_configuration_without_words():
    with pytest.raises(ValueError):
        KeywordIntent({"intent": "request_receipt", "words": []})


def test_the_fallback_does_not_call_a_keyword_match_ambiguous(receipt_keywords):
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    message = classified(receipt_keywords, "ରସିଦ ORT-7K3M-9QXF", intent="inform", confidence=0.99)
    fallback = FallbackClassifier({**FallbackClassifier.get_default_config(), "threshold": 0.3,
                                   "ambiguity_threshold": 0.05})
    fallback.process([message])
    assert message.get(INTENT)["name"] == "request_receipt"
