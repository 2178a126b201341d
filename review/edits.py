"""The review page's two edits: a citizen's message as an NLU example, a conversation as a test story.

Both write into the project's data files the way a designer would, and both are checked
with ``rasa data validate --fail-on-warnings`` before they count: a change that breaks
validation is taken back and the page shows why.

- NLU examples go to ``data/reviewed/<form>.yml``, one file per language form (en, hi,
  hi-latn, or, or-latn, as in the held-out set ``tests/nlu/``), so a designer's additions
  stay apart from the hand-written data and are easy to review in a diff. A message that
  is already a training example, or is in the held-out set (which must never be trained
  on), is refused with the reason.
- Test stories go to ``tests/stories/test_review_<conversation>.yml`` (Rasa reads
  test stories only from files named ``test_…``), written by Rasa's own
  story writer from the conversation's events (as interactive learning did). Answers to
  form questions (names, addresses, incomes, complaints) are written as their intent
  only, never their words; only slots that steer the dialogue are kept.
"""
from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from review.conversations import FORMS, conversation_id, parse_conversation

ROOT = Path(__file__).resolve().parent.parent
REVIEWED_DIR = Path("data") / "reviewed"
STORIES_DIR = Path("tests") / "stories"
HELDOUT_DIR = Path("tests") / "nlu"
MAX_EXAMPLE_CHARS = 300
# Intents the channel or the buttons send, or that are not learnt from examples: no NLU example.
NOT_LEARNT = {
    "voice_note": "sent by the WhatsApp channel for a voice note it could not use",
    "unsupported_message": "sent by the WhatsApp channel for a message type it cannot read",
    "resume_form": "sent by a button only",
    "switch_form": "sent by a button only",
    "request_receipt": "found by keywords (config.yml, KeywordIntent), not learnt from examples",
}
_ENTITY_MARKUP = re.compile(r"\[[^\]]*\]\s*[({]")
_HEADER = ('version: "3.1"\n\n'
           "# NLU examples saved from real conversations on the review page (make review),\n"
           "# language form: {form}. One file per form, like the held-out set in tests/nlu/.\n\n")
_lock = threading.Lock()  # one edit at a time: validation reads every data file


class EditRefused(ValueError):
    """The edit was not made; the message says why, for the designer."""


@dataclass(frozen=True)
class Saved:
    path: Path  # relative to the project
    changed: bool
    message: str


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _examples(path: Path) -> List[tuple]:
    """(intent, example) of a Rasa NLU YAML file; [] when it holds no NLU data."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    out = []
    for block in (data.get("nlu") or []) if isinstance(data, dict) else []:
        if isinstance(block, dict) and block.get("intent") and isinstance(block.get("examples"), str):
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((block["intent"], line[2:].strip()))
    return out


def domain_intents(project: Path) -> List[str]:
    domain = yaml.safe_load((project / "domain.yml").read_text(encoding="utf-8"))
    return [str(i) if not isinstance(i, dict) else str(next(iter(i))) for i in domain.get("intents") or []]


def learnable_intents(project: Path) -> List[str]:
    """The intents a designer may file an example under (the page's pick list)."""
    return [i for i in domain_intents(project) if i not in NOT_LEARNT]


def clean_example(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise EditRefused("the message is empty")
    if text.startswith("/"):
        raise EditRefused("a button tap or a channel message is not something a citizen typed")
    if len(text) > MAX_EXAMPLE_CHARS:
        raise EditRefused(f"longer than {MAX_EXAMPLE_CHARS} characters: too long to be a good example")
    if _ENTITY_MARKUP.search(text):
        raise EditRefused("it contains [..](..) or [..]{..}, which Rasa would read as entity markup")
    return text


def save_example(project: Path, text: str, intent: str, form: str) -> Saved:
    """Add ``text`` under ``intent`` to ``data/reviewed/<form>.yml`` and validate the data."""
    text = clean_example(text)
    if form not in FORMS:
        raise EditRefused(f"unknown language form {form!r} (one of {', '.join(FORMS)})")
    if intent in NOT_LEARNT:
        raise EditRefused(f"{intent} is {NOT_LEARNT[intent]}")
    if intent not in domain_intents(project):
        raise EditRefused(f"{intent} is not an intent in domain.yml")
    key = _key(text)
    with _lock:
        for path in sorted((project / HELDOUT_DIR).glob("*.yml")):
            if any(_key(example) == key for _, example in _examples(path)):
                raise EditRefused(f"this message is in the held-out set ({path.relative_to(project)}), "
                                  "which measures the model and must never be trained on")
        for path in sorted((project / "data").rglob("*.yml")):
            for known_intent, example in _examples(path):
                if _key(example) == key:
                    where = path.relative_to(project)
                    if known_intent == intent:
                        return Saved(where, False, f"already an example of {intent} in {where}")
                    raise EditRefused(f"already an example of {known_intent} in {where}: "
                                      f"change it there if it should be {intent}")
        relative = REVIEWED_DIR / f"{form}.yml"
        path = project / relative
        before = path.read_text(encoding="utf-8") if path.exists() else None
        blocks: Dict[str, List[str]] = {}
        for known_intent, example in _examples(path) if before is not None else []:
            blocks.setdefault(known_intent, []).append(example)
        blocks.setdefault(intent, []).append(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_render_nlu(form, blocks), encoding="utf-8")
        problem = validate(project)
        if problem:
            _restore(path, before)
            raise EditRefused(f"rasa data validate failed, nothing was saved:\n{problem}")
    return Saved(relative, True, f"saved as {intent} in {relative}; retrain (make train) to use it")


def _render_nlu(form: str, blocks: Dict[str, List[str]]) -> str:
    lines = [_HEADER.format(form=form), "nlu:\n"]
    for intent in sorted(blocks):
        lines.append(f"- intent: {intent}\n  examples: |\n")
        lines.extend(f"    - {example}\n" for example in blocks[intent])
    return "".join(lines)


def _restore(path: Path, before: Optional[str]) -> None:
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(before, encoding="utf-8")


def validate(project: Path, extra_data: Sequence[Path] = ()) -> Optional[str]:
    """What ``rasa data validate --fail-on-warnings`` says is wrong with the project, or None."""
    rasa = ROOT / ".venv" / "bin" / "rasa"
    command = [str(rasa) if rasa.exists() else "rasa", "data", "validate", "--fail-on-warnings", "--quiet",
               "--data", "data", *[str(p) for p in extra_data]]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300,
                            env=_quiet_env())
    if result.returncode == 0:
        return None
    output = (result.stdout + result.stderr).strip().splitlines()
    useful = [line for line in output if "UserWarning" in line or "rror" in line or "onflict" in line]
    return "\n".join((useful or output)[-12:])


def _quiet_env() -> Dict[str, str]:
    import os

    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "default"}


# ---------------------------------------------------------------- test stories
def story_events(events: List[Dict[str, Any]], domain: Any) -> List[Any]:
    """Rasa events of the last session of ``events``, as a test story should hold them."""
    from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered

    start = max((i for i, e in enumerate(events) if e.get("event") == "session_started"), default=-1)
    steering = {name for name, slot in ((s.name, s) for s in domain.slots) if slot.influence_conversation}
    personal = {t.event_index for t in parse_conversation("", events, None).turns if t.personal}
    out: List[Any] = []
    for position in range(start + 1, len(events)):
        event = Event.from_parameters(events[position])
        if event is None or isinstance(event, SessionStarted):
            continue
        if isinstance(event, ActionExecuted) and event.action_name in ("action_session_start", "action_listen"):
            if event.action_name == "action_listen":
                out.append(event)
            continue
        if isinstance(event, SlotSet) and event.key != "requested_slot" and event.key not in steering:
            continue
        if isinstance(event, UserUttered) and position in personal:
            event = UserUttered(text=None, intent=event.intent, entities=[], parse_data=None, timestamp=event.timestamp)
        if type(event).__name__ in ("BotUttered", "ActionExecutionRejected", "LoopInterrupted",
                                    "UserUtteranceReverted", "ActionReverted", "FollowupAction"):
            continue
        out.append(event)
    return out


def save_story(project: Path, sender_id: str, events: List[Dict[str, Any]], title: str) -> Saved:
    """Write the conversation's last session as ``tests/stories/test_review_<id>.yml`` and validate it."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
    from rasa.shared.core.training_data.structures import Story

    domain = Domain.load(str(project / "domain.yml"))
    story_steps = story_events(events, domain)
    if not any(type(e).__name__ == "UserUttered" for e in story_steps):
        raise EditRefused("the conversation has no message from the citizen to test")
    name = conversation_id(sender_id)
    story = Story.from_events(story_steps, f"review {name}: {title}")
    text = YAMLStoryWriter().dumps(story.story_steps, is_test_story=True)
    header = ("# A conversation saved from the review page (make review). Answers to form questions\n"
              "# are written as their intent only. Edit the steps to what the bot should do;\n"
              "# `make test` runs it with `rasa test core --stories tests/stories`.\n")
    relative = STORIES_DIR / f"test_review_{name}.yml"
    path = project / relative
    with _lock:
        before = path.read_text(encoding="utf-8") if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + text, encoding="utf-8")
        problem = validate(project, extra_data=[relative])
        if problem:
            _restore(path, before)
            raise EditRefused(f"rasa data validate failed on the story, nothing was saved:\n{problem}")
    return Saved(relative, True, f"saved as {relative}; make test runs it")
