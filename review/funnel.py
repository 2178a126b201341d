"""Where citizens drop out of an application: one funnel per service and language.

Each form session counts once per step it reached: started, every question in the
catalog's order, the confirmation, confirmed, submitted (the application store holds its
draft, or the bot said so). Steps are the catalog's field ids, so a funnel survives any
rewording of the questions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from review.conversations import Conversation
from seva.catalog import Catalog


@dataclass
class Funnel:
    service: str
    language: str
    steps: List[Tuple[str, int]] = field(default_factory=list)  # (step, sessions that reached it)

    @property
    def started(self) -> int:
        return self.steps[0][1] if self.steps else 0

    def drops(self) -> List[Tuple[str, int]]:
        """(step, sessions that reached it but not the next one)."""
        return [(name, count - self.steps[i + 1][1]) for i, (name, count) in enumerate(self.steps[:-1])]


def funnels(conversations: Iterable[Conversation], catalog: Optional[Catalog]) -> List[Funnel]:
    reached: Dict[Tuple[str, str], Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order: Dict[str, List[str]] = {}
    for conversation in conversations:
        for session in conversation.sessions:
            service_id = session.service or "?"
            key = (service_id, session.language or conversation.language or "en")
            service = catalog.get(service_id) if catalog else None
            questions = [f.id for f in service.fields] if service else list(dict.fromkeys(session.asked))
            order.setdefault(service_id, questions)
            counts = reached[key]
            counts["started"] += 1
            asked = set(session.asked)
            furthest = max((questions.index(q) for q in asked if q in questions), default=-1)
            if session.confirmed or session.submitted or "confirm" in asked:
                furthest = len(questions)  # every question was answered
            for question in questions[:furthest + 1]:
                counts[question] += 1
            if "confirm" in asked or session.confirmed or session.submitted:
                counts["confirmation asked"] += 1
            if session.confirmed or session.submitted:
                counts["confirmed"] += 1
            if session.submitted:
                counts["submitted"] += 1
    out = []
    for (service_id, language), counts in sorted(reached.items(), key=lambda kv: (-kv[1]["started"], kv[0])):
        steps = ["started", *order.get(service_id, []), "confirmation asked", "confirmed", "submitted"]
        out.append(Funnel(service_id, language, [(step, counts.get(step, 0)) for step in steps]))
    return out
