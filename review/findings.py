"""What in a conversation needs a designer's eye, and where.

Each finding names its kind and the citizen message it is about, so the page can point at
the turn. The rules read only what Rasa recorded (intents, confidences, the responses the
bot gave by name, the form's state) and what the application store knows, never the
words of a reply, so editing a response's text does not change what is found.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from review.conversations import Conversation, FormSession

# DIET is overconfident: on the held-out set (make review's reports, 2026-12-04) 28 of its
# 33 mistakes scored 0.97 or more and nearly every right answer scores over 0.95, so a
# message under 0.8 is already one the model hesitated on. Most mistakes show only in what
# followed (a fallback, an abandoned form, a search that found nothing): the other kinds.
LOW_CONFIDENCE = 0.8
IDLE_SECONDS = 30 * 60  # an open form untouched this long counts as abandoned

KINDS: Dict[str, str] = {  # kind → what the page calls it
    "low_confidence": "Low intent confidence",
    "fallback": "Fallback",
    "voice": "Voice note refused or corrected",
    "abandoned_form": "Form abandoned",
    "repeated_failure": "Same question failed twice or more",
    "search_no_result": "Service search found nothing",
    "grievance": "Grievance",
}
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Finding:
    kind: str
    turn: Optional[int]  # index into Conversation.turns, None when about the whole conversation
    detail: str


def findings(conversation: Conversation, now: float, idle_seconds: float = IDLE_SECONDS) -> List[Finding]:
    out: List[Finding] = []
    for index, turn in enumerate(conversation.turns):
        if turn.intent == FALLBACK_INTENT or "action_default_fallback" in turn.actions:
            best = f" (best guess {turn.ranking[1][0]} {turn.ranking[1][1]:.2f})" if len(turn.ranking) > 1 else ""
            out.append(Finding("fallback", index, f"NLU was not sure{best}"))
        elif not turn.payload and turn.intent and turn.confidence < LOW_CONFIDENCE \
                and (turn.answer_slot is None or turn.failed_answer):
            out.append(Finding("low_confidence", index, f"{turn.intent} at {turn.confidence:.2f}"))
        if turn.kind == "voice_refused":
            why = next((str(e["value"]) for e in turn.entities if e.get("entity") == "kind"), "unknown")
            out.append(Finding("voice", index, f"voice note refused: {why}"))
        if "utter_voice_undone" in turn.responses:
            out.append(Finding("voice", index, "the citizen took back what a voice note answered"))
        if "utter_service_unknown" in turn.responses:
            out.append(Finding("search_no_result", index, "no service matched"))
        if "action_submit_grievance" in turn.actions or "grievance_form" in turn.actions:
            if not any(f.kind == "grievance" for f in out):
                out.append(Finding("grievance", index, "the citizen complained"))
    for session in conversation.sessions:
        out.extend(_session_findings(conversation, session, now, idle_seconds))
    if conversation.grievances and not any(f.kind == "grievance" for f in out):
        out.append(Finding("grievance", None, f"{len(conversation.grievances)} grievance(s) recorded"))
    return out


def _session_findings(conversation: Conversation, session: FormSession, now: float,
                      idle_seconds: float) -> List[Finding]:
    out: List[Finding] = []
    turns = conversation.turns
    in_session = [i for i, t in enumerate(turns)
                  if t.time >= session.started and (session.ended is None or t.time <= session.ended)]
    streak_question, streak = None, 0
    reported = set()
    for index in in_session:
        turn = turns[index]
        if turn.failed_answer and turn.question:
            streak = streak + 1 if turn.question == streak_question else 1
            streak_question = turn.question
            if streak >= 2 and turn.question not in reported:
                reported.add(turn.question)
                out.append(Finding("repeated_failure", index,
                                   f"{session.service}: question '{turn.question}' refused {streak} times"))
        elif turn.question != streak_question or turn.answer_slot is None:
            streak_question, streak = None, 0
    if session.submitted:
        return out
    idle = session.end == "open" and now - conversation.last_time >= idle_seconds
    if session.end in ("cancelled", "left") or idle:
        how = {"cancelled": "cancelled", "left": "left for something else"}.get(session.end, "no reply since")
        last = in_session[-1] if in_session else None
        out.append(Finding("abandoned_form", last,
                           f"{session.service}: {how} at question '{session.last_question or '?'}'"))
    return out
