"""speech/ without decoding: where the model comes from, routes, limits, silence, gating,
scripts, and the faster-whisper internals speech/ relies on."""
import hashlib
from pathlib import Path

import numpy as np
import pytest

from speech import audio, gate, model_store, script, whisper_internals
from speech.clips import FIXTURES, keywords_heard, load_manifest
from speech.recognizer import DEVANAGARI_PROMPT, SpeechRecognizer, max_new_tokens, vad_options
from speech.result import Outcome
from speech.settings import SpeechSettings


# ------------------------------------------------------------------ model store
def _parts(tmp_path: Path):
    first, second = tmp_path / "p1", tmp_path / "p2"
    first.write_bytes(b"abc" * 1000)
    second.write_bytes(b"xyz" * 500)
    side = tmp_path / "side"
    side.mkdir()
    for name in model_store.SIDE_FILES:
        (side / name).write_text(name)
    digest = hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    return [first, second], side, digest


def test_assemble_joins_the_parts_and_records_the_checksum(tmp_path):
    parts, side, digest = _parts(tmp_path)
    folder = model_store.assemble(parts, side, tmp_path / "cache" / "model", digest, 4500)
    assert (folder / "model.bin").read_bytes() == b"abc" * 1000 + b"xyz" * 500
    assert (folder / "model.sha256").read_text().strip() == digest
    assert sorted(p.name for p in folder.iterdir()) == sorted(["model.bin", "model.sha256", *model_store.SIDE_FILES])


def test_a_checksum_mismatch_is_a_clear_error_and_leaves_nothing_behind(tmp_path):
    parts, side, _ = _parts(tmp_path)
    target = tmp_path / "cache" / "model"
    with pytest.raises(model_store.ModelError, match="corrupt.*sha256.*expected"):
        model_store.assemble(parts, side, target, "0" * 64, 4500)
    assert not target.exists()
    assert list((tmp_path / "cache").iterdir()) == []  # no half-written staging folder


def test_the_packaged_model_is_built_once_verified_and_reused(tmp_path):
    folder = model_store.packaged_model(tmp_path)
    assert model_store.sha256_of(folder / "model.bin") == model_store.PACKAGED_SHA256
    built = (folder / "model.bin").stat().st_mtime_ns
    assert model_store.packaged_model(tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == built  # reused, not rebuilt


def test_a_damaged_cached_model_is_rebuilt(tmp_path):
    folder = model_store.packaged_model(tmp_path)
    with open(folder / "model.bin", "r+b") as handle:
        handle.truncate(1000)
    assert model_store.packaged_model(tmp_path) == folder
    assert (folder / "model.bin").stat().st_size == model_store.PACKAGED_SIZE


def test_resolve_names_the_setting_that_is_wrong(tmp_path):
    with pytest.raises(model_store.ModelError, match="SPEECH_MODEL_OR=.*no such folder"):
        model_store.resolve(str(tmp_path / "missing"), "SPEECH_MODEL_OR")
    (tmp_path / "empty").mkdir()
    with pytest.raises(model_store.ModelError, match="SPEECH_MODEL=.*missing model.bin"):
        model_store.resolve(str(tmp_path / "empty"), "SPEECH_MODEL")
    assert model_store.resolve("", cache_dir=tmp_path).name == model_store.PACKAGED_NAME


# ---------------------------------------------------------------------- settings
def test_settings_read_the_documented_variables():
    settings = SpeechSettings.from_env({"SPEECH_MODEL_OR": "/m/odia", "SPEECH_LANGUAGE_TOKEN_OR": "BN",
                                        "SPEECH_MAX_SECONDS": "90", "SPEECH_THREADS": "3",
                                        "SPEECH_QUEUE_LIMIT": "2"})
    assert settings.language_models == {"or": "/m/odia"}
    assert settings.language_tokens == {"or": "bn"}
    assert (settings.max_seconds, settings.threads, settings.queue_limit) == (90.0, 3, 2)
    defaults = SpeechSettings.from_env({})
    assert (defaults.max_seconds, defaults.max_bytes, defaults.compute_type) == (120.0, 16 * 1024 * 1024, "int8")
    with pytest.raises(ValueError, match="SPEECH_MAX_SECONDS"):
        SpeechSettings.from_env({"SPEECH_MAX_SECONDS": "two minutes"})


# ------------------------------------------------------------------------ routes
def _fake_model_folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"")
    (folder / "config.json").write_text("{}")
    return folder


def test_default_routes_use_the_packaged_model_and_an_odia_proxy(tmp_path):
    recognizer = SpeechRecognizer(SpeechSettings(cache_dir=str(tmp_path)), load=False)
    en, hi, odia = (recognizer.route(lang) for lang in ("en", "hi", "or"))
    assert en.model == hi.model == odia.model
    assert (en.whisper_language, en.prompt, en.output_script) == ("en", None, "en")
    assert (hi.whisper_language, hi.prompt, hi.output_script) == ("hi", DEVANAGARI_PROMPT, "hi")
    assert (odia.whisper_language, odia.output_script) == ("hi", "or")


def test_an_odia_model_gets_its_own_route_without_a_language_token(tmp_path):
    odia_model = _fake_model_folder(tmp_path, "odia-ct2")
    settings = SpeechSettings(cache_dir=str(tmp_path), language_models={"or": str(odia_model)})
    route = SpeechRecognizer(settings, load=False).route("or")
    assert (route.model, route.whisper_language, route.prompt) == (odia_model, None, None)
    settings = SpeechSettings(cache_dir=str(tmp_path), language_models={"or": str(odia_model)},
                              language_tokens={"or": "bn"})
    assert SpeechRecognizer(settings, load=False).route("or").whisper_language == "bn"
    assert SpeechRecognizer(settings, load=False).route("hi").model.name == model_store.PACKAGED_NAME


def test_token_budget_grows_with_the_audio_and_is_capped():
    budgets = [max_new_tokens(s) for s in (1, 5, 10, 30, 300)]
    assert budgets == sorted(budgets) and budgets[0] < budgets[2]
    assert budgets[-1] == budgets[-2] <= 200


# ------------------------------------------------------------------------ limits
def test_size_is_refused_before_parsing():
    with pytest.raises(audio.AudioRejected) as rejected:
        audio.load(b"OggS" + b"\0" * 2000, max_bytes=1000, max_seconds=120)
    assert rejected.value.outcome is Outcome.TOO_LARGE


@pytest.mark.parametrize("name, outcome", [("not_audio.ogg", Outcome.NOT_AUDIO), ("corrupt.ogg", Outcome.CORRUPT),
                                           ("too_long.ogg", Outcome.TOO_LONG)])
def test_bad_files_are_named_for_what_they_are(name, outcome):
    with pytest.raises(audio.AudioRejected) as rejected:
        audio.load((FIXTURES / name).read_bytes(), max_bytes=16 << 20, max_seconds=120)
    assert rejected.value.outcome is outcome


def test_the_vad_finds_no_speech_in_silence_or_hum_and_finds_it_in_every_spoken_clip():
    """faster-whisper's Silero VAD (shipped in its package, no download) decides "silent"."""
    for clip in load_manifest():
        if clip.expect in ("corrupt", "not_audio", "too_long"):
            continue
        samples = audio.load(clip.path.read_bytes(), max_bytes=16 << 20, max_seconds=120).samples
        chunks = whisper_internals.speech_chunks(samples, vad_options())
        assert bool(chunks) is (clip.expect != "silent"), (clip.name, chunks)


def test_empty_and_text_bodies_are_not_audio():
    for data in (b"", b"hello, this is not a recording"):
        with pytest.raises(audio.AudioRejected) as rejected:
            audio.load(data, max_bytes=1000, max_seconds=120)
        assert rejected.value.outcome is Outcome.NOT_AUDIO


def test_the_duration_limit_is_configurable():
    data = (FIXTURES / "too_long.ogg").read_bytes()
    assert audio.load(data, max_bytes=16 << 20, max_seconds=200).duration == pytest.approx(130, abs=0.5)
    with pytest.raises(audio.AudioRejected) as rejected:
        audio.load((FIXTURES / "en_income.ogg").read_bytes(), max_bytes=16 << 20, max_seconds=2)
    assert rejected.value.outcome is Outcome.TOO_LONG


def test_a_voice_note_decodes_to_16khz_mono_floats():
    clip = audio.load((FIXTURES / "en_income.ogg").read_bytes(), max_bytes=16 << 20, max_seconds=120)
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.duration == pytest.approx(len(clip.samples) / 16000)
    assert 2.0 < clip.duration < 4.0 and np.abs(clip.samples).max() <= 1.0


# -------------------------------------------------------------------- confidence
def _decoded(text, logprob=-0.3, no_speech=0.05, compression=1.2):
    return gate.Decoded(text, logprob, no_speech, compression)


def test_a_confident_transcript_passes():
    assert gate.rejection(_decoded("I want to apply for an income certificate."), 0.0) is None


@pytest.mark.parametrize("decoded, unreadable, reason", [
    (_decoded(" . . "), 0.0, "empty"),
    (_decoded("I want a certificate", logprob=-1.4), 0.0, "log-probability"),
    (gate.combine([]), 0.0, "no speech"),  # faster-whisper judged every window silent
    (_decoded("आवो आवो आवो आवो"), 0.0, "repetition"),
    (_decoded("do you do you do you know"), 0.0, "repetition"),
    (_decoded("some text", compression=3.1), 0.0, "repetition"),
    (_decoded("مبھیئی پرمان پر چاہئے"), 1.0, "script"),
    (_decoded("मैं हिंदी में बोल रहा हूँ"), 0.0, "prompt"),
])
def test_doubtful_transcripts_are_refused_with_a_reason(decoded, unreadable, reason):
    assert reason in gate.rejection(decoded, unreadable, DEVANAGARI_PROMPT)


def test_repeated_run_counts_words_and_pairs():
    assert gate.repeated_run("yes that is correct") == 1
    assert gate.repeated_run("no no") == 2
    assert gate.repeated_run("ape to ape to ape to") == 3


# ------------------------------------------------------------------------ script
def test_odia_route_output_is_brought_into_odia_script():
    assert script.to_route_script("जन्म प्रमाण पत्र", "or") == "ଜନ୍ମ ପ୍ରମାଣ ପତ୍ର"
    assert script.to_route_script("জন্ম প্রমাণ", "or") == "ଜନ୍ମ ପ୍ରମାଣ"
    assert script.to_route_script("  mote  aay praman patra ", "or") == "mote aay praman patra"
    assert script.to_route_script("आय", "hi") == "आय"  # Hindi stays Devanagari


def test_odia_route_output_is_spelt_as_odia_writes_it():
    assert script.to_route_script("आवेदन की स्थिति क्या है", "or") == "ଆବେଦନ କୀ ସ୍ଥିତି କ୍ୟା ହୈ"
    assert script.to_route_script("आय समय", "or") == "ଆୟ ସମୟ"
    assert script.to_route_script("ज़िला बड़ा", "or") == "ଜିଲା ବଡ଼ା"


def test_unreadable_share_flags_urdu_for_hindi_and_devanagari_for_odia():
    assert script.unreadable_share("مبھیئی پرمان", "hi") == 1.0
    assert script.unreadable_share("मुझे आय प्रमाण पत्र चाहिए", "hi") == 0.0
    assert script.unreadable_share("income certificate", "or") == 0.0
    assert script.unreadable_share("आय", "or") == 1.0


# -------------------------------------------------------------------- test clips
def test_every_clip_in_the_manifest_is_committed_and_small():
    clips = load_manifest()
    assert {c.language for c in clips} == {"en", "hi", "or"}
    for clip in clips:
        assert clip.path.exists(), clip.name
        assert clip.path.stat().st_size < 200_000, clip.name
    assert len({c.name for c in clips}) == len(clips)


def test_keywords_match_across_scripts():
    groups = (("praman", "pramaan"), ("patr",))
    assert keywords_heard("मुझे आय प्रमाण पत्र चाहिए", groups)
    assert keywords_heard("ମୋତେ ଆୟ ପ୍ରମାଣ ପତ୍ର ଦରକାର", groups)
    assert not keywords_heard("मुझे प्रमाण चाहिए", groups)


def test_a_model_folder_ctranslate2_cannot_load_is_a_model_error(tmp_path):
    broken = _fake_model_folder(tmp_path, "broken")
    settings = SpeechSettings(cache_dir=str(tmp_path), language_models={"or": str(broken)})
    recognizer = SpeechRecognizer(settings, load=False)
    with pytest.raises(model_store.ModelError, match="cannot load the speech model in .*broken"):
        recognizer._model(broken)
    recognizer.close()


def test_no_damaged_or_random_file_raises_anything_but_a_rejection():
    import random

    rng = random.Random(7)
    good = (FIXTURES / "en_income.ogg").read_bytes()
    seen = set()
    for i in range(200):
        if i % 4 == 0:
            data = rng.randbytes(rng.randint(0, 3000))
        elif i % 4 == 1:
            data = b"OggS" + rng.randbytes(rng.randint(0, 3000))
        elif i % 4 == 2:
            damaged = bytearray(good)
            for _ in range(rng.randint(1, 50)):
                damaged[rng.randrange(len(damaged))] = rng.getrandbits(8)
            data = bytes(damaged)
        else:
            data = good[: rng.randint(0, len(good))]
        try:
            clip = audio.load(data, max_bytes=16 << 20, max_seconds=120)
            seen.add("ok")
            assert clip.samples.size > 0
        except audio.AudioRejected as rejected:
            seen.add(rejected.outcome.value)
    assert {"not_audio", "corrupt", "ok"} <= seen


# ------------------------------------------------------- faster-whisper internals
def test_the_whisper_internals_speech_uses_are_still_there():
    """speech/whisper_internals.py lists the non-public faster-whisper/CTranslate2 parts
    that answer scoring needs. An upgrade that moves any of them must fail here, by name,
    not as a quietly wrong score: re-check speech/whisper_internals.py, then the pins."""
    from faster_whisper import WhisperModel

    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()
    for name, version in whisper_internals.PINNED.items():
        assert f"\n{name}=={version}\n" in f"\n{requirements}\n", f"requirements.txt must pin {name}=={version}"
    model = WhisperModel(str(model_store.packaged_model()), device="cpu", compute_type="int8", cpu_threads=1)
    problems = whisper_internals.problems(model)
    assert not problems, "faster-whisper internals changed:\n  " + "\n  ".join(problems)
    # and they still do what speech/ uses them for: one window's encoder output, the token ids
    samples = audio.load((FIXTURES / "en_yes.ogg").read_bytes(), max_bytes=16 << 20, max_seconds=120).samples
    encoded = np.asarray(whisper_internals.encode_first_window(model, samples)[1])
    assert encoded.shape == (1, 1500, 512), encoded.shape  # Whisper base: 30 s, 1500 frames, width 512
    ids = whisper_internals.tokenizer(model)
    assert [ids.sot, ids.transcribe, ids.no_timestamps, ids.eot] == [50258, 50359, 50363, 50257]
    assert ids.decode(ids.encode(" yes")) == " yes"
