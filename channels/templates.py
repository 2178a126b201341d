"""WhatsApp message templates: the only messages Meta lets us send outside the 24-hour window.

When a department changes an application's status, the citizen may not have written for a
day; then Meta refuses free-form messages (131047) and only an approved template reaches
them. The templates live as files, one per template, in ``templates/whatsapp/<name>.yml``
(``WHATSAPP_TEMPLATES_DIR`` overrides the folder), each with its parameters' names and, per
language, a body with ``{{1}}``… placeholders, example values and quick-reply buttons:

    name: seva_rejected
    category: UTILITY
    parameters: [reference, service, reason, appellate]
    en:
      body: "Your application {{1}} … ({{4}}) …"
      example: [ORT-7K3M-9QXF, Income certificate, …]
      buttons: [Appeal]

This module checks them against Meta's rules when it loads them (so a broken file fails in
the unit tests, not at Meta's review or at send time), builds the Graph API body that sends
one (``template_message``), renders the text the citizen will see (``render``) and builds
what Meta's template-creation API takes (``meta_submission``). An operator submits them with

    python -m channels.templates export > templates.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from seva.language import LANGUAGES

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "templates" / "whatsapp"
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
# Meta's language code per conversation language. Meta's published list of template
# languages has Hindi and English; check that it takes "or" (Odia) before submitting.
LANGUAGE_CODES: Dict[str, str] = {"or": "or", "hi": "hi", "en": "en"}
BODY_LIMIT = 1024  # characters in a template body (Meta)
BUTTON_LIMIT = 20  # characters in a quick-reply button's text (Meta)
MAX_BUTTONS = 10  # quick-reply buttons in one template (Meta)
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
NAME = re.compile(r"^[a-z0-9_]{1,512}$")  # Meta: lowercase letters, digits and underscores
# What may stand around a placeholder at the very start or end and still count as starting
# or ending with it (Meta refuses those bodies): spaces, punctuation, WhatsApp formatting.
_EDGE = " \t\n.,;:!?।|()[]*_~\"'“”‘’-"
_KEYS = {"name", "category", "parameters", *LANGUAGES}
_LANGUAGE_KEYS = {"body", "example", "buttons"}


@dataclass(frozen=True)
class Template:
    """One approved template in every language; ``parameters`` name {{1}}, {{2}}, … in order."""

    name: str
    category: str
    parameters: Tuple[str, ...]
    bodies: Dict[str, str]  # language → body with {{1}}… placeholders
    buttons: Dict[str, Tuple[str, ...]]  # language → quick-reply button titles (same count in each)
    examples: Dict[str, Tuple[str, ...]]  # language → one example value per parameter (Meta's review)


def templates_directory() -> Path:
    return Path(os.environ.get("WHATSAPP_TEMPLATES_DIR") or DEFAULT_DIRECTORY)


def load_templates(directory: Optional[Path] = None) -> Dict[str, Template]:
    """Every ``*.yml`` template in ``directory`` by name, checked against Meta's rules.

    Raises ValueError naming the file and the problem: a template Meta would refuse, or one
    our code could not fill, should stop the tests, not reach a citizen."""
    folder = Path(directory) if directory is not None else templates_directory()
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise ValueError(f"{folder}: no WhatsApp templates (*.yml)")
    out: Dict[str, Template] = {}
    for path in files:
        template = _load(path)
        if template.name in out:
            raise ValueError(f"{path}: a second template named {template.name!r}")
        out[template.name] = template
    return out


def _load(path: Path) -> Template:
    def problem(text: str) -> ValueError:
        return ValueError(f"{path}: {text}")

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise problem(f"not YAML ({error})") from None
    if not isinstance(data, dict):
        raise problem("expected a mapping with name, category, parameters and a section per language")
    unknown = set(map(str, data)) - _KEYS
    if unknown:
        raise problem(f"unknown keys {sorted(unknown)} (expected {sorted(_KEYS)})")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise problem("name must be lowercase letters, digits and underscores")
    if name != path.stem:
        raise problem(f"name {name!r} differs from the file name")
    category = data.get("category")
    if category not in CATEGORIES:
        raise problem(f"category must be one of {', '.join(CATEGORIES)}")
    parameters = data.get("parameters")
    if (not isinstance(parameters, list) or not parameters
            or not all(isinstance(p, str) and p.isidentifier() for p in parameters)
            or len(set(parameters)) != len(parameters)):
        raise problem("parameters must be a non-empty list of distinct names")
    bodies: Dict[str, str] = {}
    buttons: Dict[str, Tuple[str, ...]] = {}
    examples: Dict[str, Tuple[str, ...]] = {}
    for language in LANGUAGES:
        section = data.get(language)
        if not isinstance(section, dict):
            raise problem(f"no {language!r} section (every template needs {', '.join(LANGUAGES)})")
        unknown = set(map(str, section)) - _LANGUAGE_KEYS
        if unknown:
            raise problem(f"{language}: unknown keys {sorted(unknown)} (expected {sorted(_LANGUAGE_KEYS)})")
        where = f"{language}: "
        body = section.get("body")
        if not isinstance(body, str) or not body.strip():
            raise problem(where + "body is missing")
        issue = body_problem(body, len(parameters))
        if issue:
            raise problem(where + issue)
        example = section.get("example")
        if not isinstance(example, list) or len(example) != len(parameters):
            raise problem(where + f"example must give {len(parameters)} values, one per parameter")
        values = tuple(str(value) for value in example)
        if any(clean_parameter(value) != value for value in values):
            raise problem(where + "an example value Meta would refuse (empty, a newline, a tab or 5 spaces)")
        titles = section.get("buttons") or []
        if not isinstance(titles, list) or len(titles) > MAX_BUTTONS:
            raise problem(where + f"buttons must be a list of at most {MAX_BUTTONS} titles")
        for title in titles:
            if not isinstance(title, str) or not title.strip() or len(title) > BUTTON_LIMIT:
                raise problem(where + f"button {title!r} must be 1-{BUTTON_LIMIT} characters")
        bodies[language], examples[language], buttons[language] = body, values, tuple(titles)
    if len({len(titles) for titles in buttons.values()}) > 1:
        raise problem("every language needs the same number of buttons (payloads go by position)")
    return Template(name, category, tuple(parameters), bodies, buttons, examples)


def body_problem(body: str, count: int) -> Optional[str]:
    """Why Meta would refuse ``body`` with ``count`` parameters, or None."""
    if len(body) > BODY_LIMIT:
        return f"body is {len(body)} characters, more than {BODY_LIMIT}"
    numbers = [int(n) for n in PLACEHOLDER.findall(body)]
    if "{{" in PLACEHOLDER.sub("", body) or "}}" in PLACEHOLDER.sub("", body):
        return "a placeholder that is not {{n}}"
    first_seen = list(dict.fromkeys(numbers))
    if first_seen != list(range(1, count + 1)):
        return (f"placeholders {first_seen} must be {{{{1}}}}…{{{{{count}}}}}, one per parameter, "
                "first used in that order")
    edges = body.strip(_EDGE)
    if edges.startswith("{{") or edges.endswith("}}"):
        return "the body may not start or end with a placeholder"
    return None


def clean_parameter(text: str) -> str:
    """``text`` as Meta takes it in a template parameter: no newline or tab and no run of
    more than 4 spaces (Meta refuses the whole message otherwise), and not empty.

    Lines become " · "-separated, tabs and runs of spaces one space; nothing becomes "-"."""
    lines = [" ".join(line.split()) for line in re.split(r"[\r\n\u2028\u2029\v\f]+", str(text))]
    joined = " · ".join(line for line in lines if line)
    return joined or "-"


def _values(template: Template, values: Mapping[str, str]) -> List[str]:
    missing = [name for name in template.parameters if name not in values]
    if missing:
        raise KeyError(f"template {template.name} needs {missing}")
    return [clean_parameter(str(values[name])) for name in template.parameters]


def _language(template: Template, language: str) -> str:
    if language not in template.bodies:
        raise KeyError(f"template {template.name} has no language {language!r}")
    return language


def template_message(to: str, template: Template, language: str, values: Mapping[str, str],
                     button_payloads: Sequence[str] = ()) -> Dict[str, Any]:
    """The Graph API body that sends ``template`` to ``to`` in ``language``.

    ``values`` maps parameter names to text (cleaned with ``clean_parameter``); a missing
    one is a KeyError, never a blank. ``button_payloads`` gives each quick-reply button the
    payload its tap sends back (one per button, in order); without them Meta sends back the
    button's text."""
    _language(template, language)
    texts = _values(template, values)
    titles = template.buttons.get(language, ())
    if button_payloads and len(button_payloads) != len(titles):
        raise ValueError(f"template {template.name} has {len(titles)} buttons, got {len(button_payloads)} payloads")
    components: List[Dict[str, Any]] = [
        {"type": "body", "parameters": [{"type": "text", "text": text} for text in texts]}]
    for index, payload in enumerate(button_payloads):
        components.append({"type": "button", "sub_type": "quick_reply", "index": str(index),
                           "parameters": [{"type": "payload", "payload": str(payload)}]})
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
            "template": {"name": template.name, "language": {"code": LANGUAGE_CODES[language]},
                         "components": components}}


def render(template: Template, language: str, values: Mapping[str, str]) -> str:
    """The body the citizen sees, placeholders filled as ``template_message`` sends them."""
    texts = _values(template, values)
    return PLACEHOLDER.sub(lambda match: texts[int(match.group(1)) - 1], template.bodies[_language(template, language)])


def language_of(code: str) -> Optional[str]:
    """The conversation language of Meta's language ``code`` (None when it is not one of ours)."""
    return next((language for language, meta in LANGUAGE_CODES.items() if meta == code), None)


def meta_submission(template: Template) -> List[Dict[str, Any]]:
    """What Meta's template-creation API (POST /{WABA id}/message_templates) takes, one per language."""
    out = []
    for language in LANGUAGES:
        components: List[Dict[str, Any]] = [{"type": "BODY", "text": template.bodies[language],
                                             "example": {"body_text": [list(template.examples[language])]}}]
        if template.buttons[language]:
            components.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": title}
                                                              for title in template.buttons[language]]})
        out.append({"name": template.name, "language": LANGUAGE_CODES[language], "category": template.category,
                    "components": components})
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.templates",
                                     description="WhatsApp message templates for Meta's approval")
    parser.add_argument("command", choices=["export"],
                        help="export: print the JSON bodies of Meta's template-creation API, one per language")
    parser.add_argument("--dir", type=Path, default=None, help="templates folder (default: templates/whatsapp)")
    args = parser.parse_args(argv)
    try:
        templates = load_templates(args.dir)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    bodies = [body for name in sorted(templates) for body in meta_submission(templates[name])]
    print(json.dumps(bodies, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
