"""Speech recognition for voice notes: audio bytes in, transcript + language + confidence out.

Knows nothing of Rasa or WhatsApp. The channel calls ``SpeechRecognizer.transcribe`` and
decides what to tell the citizen from the ``Outcome``.
"""
from speech.result import Outcome, SpeechResult
from speech.settings import SpeechSettings

__all__ = ["Outcome", "SpeechResult", "SpeechSettings"]
