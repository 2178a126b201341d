"""The NLU normaliser: one Latin lemma per word for every script, the text left as written."""
import glob
from pathlib import Path

import yaml
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.indic_normalizer import IndicNormalizer
from seva import nlu_lookups
from tests.nlu_heldout import load_heldout

ROOT = Path(__file__).resolve().parents[2]


def _normalised(text):
    message = Message(data={TEXT: text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    IndicNormalizer().process([message])
    return message


def _lemmas(text):
    return [t.lemma for t in _normalised(text).get(TOKENS_NAMES[TEXT])]


def test_odia_devanagari_and_romanised_words_share_a_lemma():
    assert _lemmas("ପ୍ରମାଣପତ୍ର") == _lemmas("प्रमाणपत्र") == _lemmas("pramanapatra")
    assert _lemmas("ଆୟ") == _lemmas("आय")
    assert _lemmas("ମୋତେ") == _lemmas("mote")


def test_unicode_variants_digits_and_joiners_are_folded():
    assert _lemmas("ଡ଼ାକ") == _lemmas("\u0b5cାକ")  # decomposed and precomposed ଡ଼
    assert _lemmas("ज़मीन") == _lemmas("जमीन")  # nukta
    assert _lemmas("ପ୍\u200dରମାଣ") == _lemmas("ପ୍ରମାଣ")  # zero-width joiner
    assert _lemmas("୧୨/୦୩/୧୯୯୦") == _lemmas("१२/०३/१९९०") == _lemmas("12/03/1990")


def test_text_tokens_and_offsets_stay_as_written():
    text = "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"
    message = _normalised(text)
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert message.get(TEXT) == text
    assert [text[t.start:t.end] for t in tokens] == [t.text for t in tokens] == text.split()
    assert all(t.lemma.isascii() for t in tokens)


def test_training_data_is_normalised_too():
    message = Message(data={TEXT: "ଆୟ ପ୍ରମାଣପତ୍ର", "intent": "apply_service"})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(TrainingData([message]))
    IndicNormalizer().process_training_data(TrainingData([message]))
    assert [t.lemma for t in message.get(TOKENS_NAMES[TEXT])] == _lemmas("aaya pramanapatra")


def test_the_pipeline_normalises_before_any_featurizer():
    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    position = names.index("components.indic_normalizer.IndicNormalizer")
    assert names[position - 1] == "WhitespaceTokenizer"
    assert all("Featurizer" not in name for name in names[:position])


def test_lookup_file_is_current_with_the_district_list():
    assert (ROOT / "data" / "lookups.yml").read_text(encoding="utf-8") == nlu_lookups.render(), \
        "run: python -m seva.nlu_lookups"


def test_no_held_out_message_is_in_the_training_data():
    norm = lambda text: " ".join(text.casefold().split())  # noqa: E731
    training = set()
    for path in glob.glob(str(ROOT / "data" / "**" / "*.yml"), recursive=True):  # data/reviewed/ too
        for block in (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in block:
                training |= {norm(line.strip()[2:]) for line in block["examples"].splitlines()
                             if line.strip().startswith("- ")}
    leaked = [ex.text for ex in load_heldout() if norm(ex.text) in training]
    assert not leaked, leaked


def test_normalising_changes_the_fingerprint_rasa_caches_by():
    message = Message(data={TEXT: "ଆୟ ପ୍ରମାଣପତ୍ର"})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    before = message.fingerprint()
    IndicNormalizer().process([message])
    assert message.fingerprint() != before
    assert IndicNormalizer.fingerprint_addon({})  # tied to the normalisation code


def test_fold_latin_off_keeps_latin_words_as_typed():
    message = Message(data={TEXT: "Chahiye ଆୟ"})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    IndicNormalizer(fold_latin=False).process([message])
    assert [t.lemma for t in message.get(TOKENS_NAMES[TEXT])] == ["chahiye", _lemmas("ଆୟ")[0]]
