"""The review page: one self-contained HTML file (no network, no build step).

Readable as a file (``results/review/index.html``); served by the chat page at ``/review``
(or ``python -m review serve``) its buttons also save an NLU example or a test story
through ``review/server.py``. Phone numbers are masked and form answers redacted unless
the page was built with ``--show-answers``.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Set

from review.conversations import Conversation, Turn, mask_phones
from review.findings import KINDS, LOW_CONFIDENCE, Finding
from review.funnel import Funnel
from seva.catalog import Catalog
from seva.privacy import mask_phone

LANGUAGE_NAMES = {"en": "English", "hi": "हिंदी (Hindi)", "or": "ଓଡ଼ିଆ (Odia)"}
# replies that repeat answers as the form stored them ("₹65,000" for "65000"): hidden with them
ECHOING_RESPONSES = {"utter_confirm_summary", "utter_answer_edited"}
_e = html.escape


def _time(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if seconds else "?"


def languages_of(conversation: Conversation) -> Set[str]:
    """The languages a conversation is filed under: its language and those its messages were in."""
    found = {conversation.language} if conversation.language else set()
    found.update(t.form.split("-")[0] for t in conversation.turns if t.form)
    found.update(s.language for s in conversation.sessions if s.language)
    return found or {"en"}


def _hidden_answers(conversation: Conversation) -> List[str]:
    texts = {t.text.strip() for t in conversation.turns if t.personal and not t.payload}
    return sorted((t for t in texts if len(t) >= 2), key=len, reverse=True)


def _redact(text: str, hidden: Sequence[str]) -> str:
    """A bot reply without the citizen's answers it repeats (public numbers such as the
    helpline stay readable; the citizen's own words are masked where they are shown)."""
    for answer in hidden:
        text = text.replace(answer, "▒▒▒")
    return text


def _turn_html(turn: Turn, flagged: List[Finding], intents: Sequence[str], show_answers: bool,
               hidden: Sequence[str]) -> str:
    redacted = turn.personal and not turn.payload and not show_answers
    if redacted:
        said = f'<span class="redacted">answer to “{_e(turn.question or turn.answer_slot or "?")}” (hidden)</span>'
    else:
        said = _e(mask_phones(turn.text))
    icon = {"voice": "🎤 ", "voice_refused": "🎤✗ ", "button": "👆 ", "document": "📎 "}.get(turn.kind, "")
    confidence_class = "low" if turn.confidence < LOW_CONFIDENCE else ""
    ranking = ", ".join(f"{_e(name)} {score:.2f}" for name, score in turn.ranking[1:])
    voice = f" · voice {_e(str(turn.voice.get('outcome')))}" if turn.voice else ""
    parse = (f'<span class="intent {confidence_class}">{_e(turn.intent or "?")} {turn.confidence:.2f}</span>'
             f'{f" <span class=runner>then {ranking}</span>" if ranking else ""}'
             f' · <span class="form">{_e(turn.form or "payload")}</span>'
             f'{voice}'
             f'{f" · question {_e(turn.question)}" if turn.question else ""}')
    bots = []
    for text, response in zip(turn.bot, turn.responses, strict=True):
        if response in ECHOING_RESPONSES and not show_answers:
            text = "(repeats the answers: hidden)"
        elif not show_answers:
            text = _redact(text, hidden)
        bots.append(f'<div class="bot"><span class="response">{_e(response)}</span> {_e(text)}</div>')
    notes = "".join(f'<div class="finding-note">⚠ {_e(KINDS[f.kind])}: {_e(f.detail)}</div>' for f in flagged)
    save = ""
    if not turn.payload and turn.form and not turn.personal:  # answers stay out of data/
        guess = turn.intent if turn.intent in intents else (turn.ranking[1][0] if len(turn.ranking) > 1 else "")
        options = "".join(f'<option value="{_e(i)}"{" selected" if i == guess else ""}>{_e(i)}</option>'
                          for i in intents)
        save = (f'<div class="save"><select class="intent-pick" aria-label="intent">{options}</select>'
                f'<button class="save-example" type="button">Save as NLU example ({_e(turn.form)})</button>'
                f'<span class="save-result" role="status"></span></div>')
    return (f'<li class="turn{" flagged" if flagged else ""}" data-event="{turn.event_index}" '
            f'data-form="{_e(turn.form or "")}">'
            f'<div class="user">{icon}{said}</div><div class="parse">{parse}</div>{notes}{"".join(bots)}{save}</li>')


def _item_html(conversation: Conversation, found: List[Finding], intents: Sequence[str], show_answers: bool,
               catalog: Optional[Catalog]) -> str:
    languages = sorted(languages_of(conversation))
    kinds = sorted({f.kind for f in found})
    badges = "".join(f'<span class="badge kind-{k}">{_e(KINDS[k])}</span>' for k in kinds)
    hidden = [] if show_answers else _hidden_answers(conversation)
    by_turn: Dict[int, List[Finding]] = {}
    for finding in found:
        if finding.turn is not None:
            by_turn.setdefault(finding.turn, []).append(finding)
    whole = "".join(f'<li>{_e(KINDS[f.kind])}: {_e(f.detail)}</li>' for f in found if f.turn is None)
    turns = "".join(_turn_html(t, by_turn.get(i, []), intents, show_answers, hidden)
                    for i, t in enumerate(conversation.turns))
    title = ", ".join(KINDS[k] for k in kinds)
    language = LANGUAGE_NAMES.get(conversation.language or "", conversation.language or "language not chosen")
    return (f'<article class="item" id="{conversation.id}" data-conversation="{conversation.id}" '
            f'data-languages="{" ".join(languages)}" data-kinds="{" ".join(kinds)}" data-title="{_e(title)}">'
            f'<h2>{_e(mask_phone(conversation.sender_id))} · {_e(language)} · '
            f'last message {_time(conversation.last_time)}</h2><div class="badges">{badges}</div>'
            f'{f"<ul class=whole>{whole}</ul>" if whole else ""}'
            f'<details open><summary>{len(conversation.turns)} messages from the citizen</summary>'
            f'<ol class="transcript">{turns}</ol></details>'
            f'<div class="story"><button class="save-story" type="button">Save as test story</button>'
            f'<span class="story-result" role="status"></span></div></article>')


def _funnel_html(funnel: Funnel, catalog: Optional[Catalog]) -> str:
    service = catalog.get(funnel.service) if catalog else None
    name = service.name("en") if service else funnel.service
    labels = {f.id: f.label.get("en") or f.id for f in service.fields} if service else {}
    drops = dict(funnel.drops())
    rows = []
    for step, count in funnel.steps:
        share = f"{100 * count / funnel.started:.0f} %" if funnel.started else "—"
        dropped = drops.get(step, 0)
        label = f"question: {labels.get(step, step)}" if step in labels else step
        rows.append(f'<tr{" class=dropped" if dropped else ""}><td>{_e(label)}</td><td>{count}</td>'
                    f'<td>{share}</td><td>{dropped or ""}</td></tr>')
    return (f'<table class="funnel" data-service="{_e(funnel.service)}" data-language="{_e(funnel.language)}">'
            f'<caption>{_e(name)} · {_e(LANGUAGE_NAMES.get(funnel.language, funnel.language))}</caption>'
            f'<tr><th>step</th><th>reached</th><th>of started</th><th>left here</th></tr>{"".join(rows)}</table>')


MAX_ITEMS = 300  # a page a browser still opens at once (about 4 MB); the counts cover them all


def render(conversations: Iterable[Conversation], found: Dict[str, List[Finding]], funnels: List[Funnel],
           intents: Sequence[str], reports_html: str, catalog: Optional[Catalog], built_at: float,
           show_answers: bool = False, max_items: int = MAX_ITEMS) -> str:
    conversations = list(conversations)
    flagged = sorted((c for c in conversations if found.get(c.id)), key=lambda c: c.last_time, reverse=True)
    shown = flagged[:max_items]
    counts = Counter(k for c in flagged for k in {f.kind for f in found[c.id]})
    kind_options = "".join(f'<option value="{k}">{_e(label)} ({counts.get(k, 0)})</option>'
                           for k, label in KINDS.items())
    language_options = "".join(f'<option value="{k}">{_e(v)}</option>' for k, v in LANGUAGE_NAMES.items())
    items = "".join(_item_html(c, found[c.id], intents, show_answers, catalog) for c in shown) or \
        '<p class="empty">No conversation needs attention.</p>'
    if len(flagged) > len(shown):
        items += (f'<p class="more">{len(flagged) - len(shown)} older conversations that need attention are not '
                  f'shown: fix these first, or build with <code>--max-items</code>.</p>')
    funnel_tables = "".join(_funnel_html(f, catalog) for f in funnels) or "<p>No application form was started yet.</p>"
    privacy = ("Form answers are shown (built with --show-answers)." if show_answers else
               "Phone numbers are masked; answers to form questions are hidden.")
    return _TEMPLATE.format(
        built=_time(built_at), total=len(conversations), flagged=len(flagged), privacy=_e(privacy),
        kind_options=kind_options, language_options=language_options, items=items,
        funnels=funnel_tables, reports=reports_html, script=_SCRIPT, style=_STYLE,
        data=_e(json.dumps({"built": built_at})))


_STYLE = """
body{font-family:"Noto Sans","Noto Sans Oriya","Noto Sans Devanagari",sans-serif;margin:0 auto;max-width:1100px;
padding:1em;color:#1b1b1b;background:#f6f6f3}
header p{margin:.2em 0;color:#555}nav a{margin-right:1em}
#filters{position:sticky;top:0;background:#f6f6f3;padding:.5em 0;border-bottom:1px solid #ddd;z-index:2}
.item{background:#fff;border:1px solid #ddd;border-radius:8px;margin:1em 0;padding:.6em 1em}
.item h2{font-size:1em;margin:.2em 0}.badge{display:inline-block;font-size:.8em;padding:.1em .5em;margin:.1em;
border-radius:1em;background:#eee}.kind-fallback,.kind-low_confidence{background:#fde2c4}
.kind-abandoned_form,.kind-repeated_failure{background:#fbd0d0}.kind-voice{background:#d9e7fb}
.kind-search_no_result{background:#efe0fb}.kind-grievance{background:#fff3b0}
.transcript{padding-left:1.5em}.turn{margin:.5em 0;padding:.3em;border-left:3px solid transparent}
.turn.flagged{border-left-color:#d9480f;background:#fff8f3}.user{font-weight:600}
.parse{font-size:.85em;color:#444}.intent.low{color:#c00;font-weight:600}.runner{color:#777}
.bot{font-size:.85em;color:#333;margin-left:1em;white-space:pre-wrap}.response{color:#888;font-family:monospace}
.finding-note{font-size:.85em;color:#a33}.redacted{color:#777;font-style:italic;font-weight:400}
.save,.story{margin:.3em 0;font-size:.85em}.save-result,.story-result{margin-left:.5em;white-space:pre-wrap}
.ok{color:#1b7d2b}.error{color:#c00}table.funnel{border-collapse:collapse;margin:1em 0;background:#fff}
.funnel td,.funnel th{border:1px solid #ddd;padding:.2em .6em}.funnel caption{text-align:left;font-weight:600}
tr.dropped td{background:#fff0f0}.reports img{max-width:100%;border:1px solid #ddd;background:#fff}
.hidden{display:none}
"""

_SCRIPT = """
(function(){
  const language = document.getElementById('filter-language');
  const kind = document.getElementById('filter-kind');
  const shown = document.getElementById('shown-count');
  function filter(){
    let n = 0;
    document.querySelectorAll('article.item').forEach(function(item){
      const okLanguage = !language.value || item.dataset.languages.split(' ').includes(language.value);
      const okKind = !kind.value || item.dataset.kinds.split(' ').includes(kind.value);
      item.classList.toggle('hidden', !(okLanguage && okKind));
      if (okLanguage && okKind) n++;
    });
    shown.textContent = n + ' shown';
  }
  language.addEventListener('change', filter); kind.addEventListener('change', filter); filter();
  const token = new URLSearchParams(location.search).get('token');
  async function post(path, body, out){
    out.className = out.className.replace(/ (ok|error)/g, '');
    if (location.protocol === 'file:') {
      out.textContent = 'Saving needs the served page: http://localhost:8080/review/ while make run is up, ' +
        'or python -m review serve';
      out.className += ' error'; return;
    }
    out.textContent = 'checking with rasa data validate…';
    const headers = {'Content-Type': 'application/json'};
    if (token) headers['X-Review-Token'] = token;
    try {
      const response = await fetch('api/' + path, {method: 'POST', headers: headers, body: JSON.stringify(body)});
      const answer = await response.json();
      out.textContent = answer.message; out.className += response.ok ? ' ok' : ' error';
    } catch (error) { out.textContent = 'could not save: ' + error; out.className += ' error'; }
  }
  document.querySelectorAll('button.save-example').forEach(function(button){
    button.addEventListener('click', function(){
      const turn = button.closest('li.turn'), item = button.closest('article.item');
      post('examples', {conversation: item.dataset.conversation, event: Number(turn.dataset.event),
                        intent: turn.querySelector('select.intent-pick').value, form: turn.dataset.form},
           turn.querySelector('.save-result'));
    });
  });
  document.querySelectorAll('button.save-story').forEach(function(button){
    button.addEventListener('click', function(){
      const item = button.closest('article.item');
      post('stories', {conversation: item.dataset.conversation, title: item.dataset.title},
           item.querySelector('.story-result'));
    });
  });
})();
"""

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Seva · conversations to review</title><style>{style}</style></head>
<body data-review="{data}">
<header><h1>Seva · conversations to review</h1>
<p>Built {built} from the tracker store and the application store: {flagged} of {total} conversations
need attention, newest first.</p>
<p>{privacy}</p>
<nav><a href="#items">Conversations</a><a href="#funnels">Funnels</a><a href="#reports">Model reports</a></nav></header>
<div id="filters">
<label>Language <select id="filter-language"><option value="">all</option>{language_options}</select></label>
<label>Kind <select id="filter-kind"><option value="">all</option>{kind_options}</select></label>
<span id="shown-count"></span></div>
<section id="items">{items}</section>
<section id="funnels"><h2>Funnels: where citizens leave an application</h2>{funnels}</section>
<section id="reports" class="reports"><h2>Model reports</h2>{reports}</section>
<script>{script}</script>
</body></html>
"""
