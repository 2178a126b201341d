"""Building ``results/review/index.html`` from the stores, the catalog and the model reports."""
from __future__ import annotations

import html
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from review.conversations import load_conversations
from review.edits import ROOT, learnable_intents
from review.findings import IDLE_SECONDS, findings
from review.funnel import funnels as make_funnels
from review.page import MAX_ITEMS, render


@dataclass
class Summary:
    page: Path
    conversations: int
    flagged: int
    funnels: int
    kinds: Dict[str, int] = field(default_factory=dict)


def _catalog() -> Any:
    from seva.catalog import default_catalog

    try:
        return default_catalog()
    except Exception:  # a broken catalog must not hide the conversations: funnels lose their labels
        return None


def reports_html(out_dir: Path, model: Path, project: Path) -> str:
    """The model reports section: links and images, relative to the page."""
    from review.reports import build_reports

    reports = build_reports(out_dir / "reports", model=model, project=project)
    parts = []
    for title, path in (("Intent confusion matrix (held-out set, tests/nlu/)", reports.confusion_matrix),
                        ("Intent confidence histogram (held-out set)", reports.histogram)):
        if path is not None:
            link = html.escape(path.relative_to(out_dir).as_posix())
            parts.append(f'<figure><figcaption><a href="{link}">{html.escape(title)}</a></figcaption>'
                         f'<a href="{link}"><img src="{link}" alt="{html.escape(title)}" loading="lazy"></a></figure>')
    for title, path in reports.story_graphs:
        link = html.escape(path.relative_to(out_dir).as_posix())
        parts.append(f'<figure><figcaption><a href="{link}">Story graph: {html.escape(title)}</a></figcaption>'
                     f'<a href="{link}"><img src="{link}" alt="story graph {html.escape(title)}" loading="lazy"></a>'
                     f'</figure>')
    parts.extend(f"<p>{html.escape(note)}</p>" for note in reports.notes)
    return "".join(parts)


def build(out_dir: Path, *, endpoints: Path, domain: Path = ROOT / "domain.yml",
          model: Path = ROOT / "models" / "seva.tar.gz", app_store: Any = None, reports: bool = True,
          show_answers: bool = False,
          idle_seconds: float = IDLE_SECONDS, now: Optional[float] = None, project: Path = ROOT,
          max_items: int = MAX_ITEMS) -> Summary:
    catalog = _catalog()
    conversations = load_conversations(endpoints, domain, catalog, app_store)
    now = time.time() if now is None else now
    found = {c.id: findings(c, now, idle_seconds) for c in conversations}
    funnel_list = make_funnels(conversations, catalog)
    out_dir.mkdir(parents=True, exist_ok=True)
    section = reports_html(out_dir, model, project) if reports else \
        "<p>Not built this time (--no-reports): run <code>make review</code> for them.</p>"
    page = render(conversations, found, funnel_list, learnable_intents(project), section, catalog, now,
                  show_answers=show_answers, max_items=max_items)
    target = out_dir / "index.html"
    partial = target.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    os.chmod(partial, 0o600)  # citizens' conversations: readable by the designer only
    partial.replace(target)
    kinds = Counter(k for c in conversations for k in {f.kind for f in found[c.id]})
    return Summary(page=target, conversations=len(conversations), flagged=sum(1 for c in conversations if found[c.id]),
                   funnels=len(funnel_list), kinds=dict(kinds))
