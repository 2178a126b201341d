"""The service catalog: load the YAML a conversation designer edits, check it, look it up.

A service is data (names in three languages, ORTPSA time limit, officers, fields with typed
validation). Adding one needs no code and no retraining. ``python -m seva.catalog check``
reports every malformed entry with the file, service and field at fault.

Officer titles (designated officer, appellate and revisional authority) are kept in the
official English of the source; their Hindi and Odia forms live in ``catalog/officers/<lang>.yml``,
a mapping from the English title to its translation, and ``Service.officer(kind, lang)`` gives
the title in the citizen's language (the English when a translation is missing, which
``check`` reports).
"""
from __future__ import annotations

import csv
import functools
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

import yaml

from seva.language import LANGUAGES

LANGS = LANGUAGES  # the one definition: seva.language
FIELD_TYPES = {
    "name", "text", "date", "district", "number", "amount", "yes_no", "choice", "pincode", "phone",
    "document",  # a photo or PDF the citizen sends (``accepts``: photo, pdf)
}
DOCUMENT_KINDS = ("photo", "pdf")  # what a document question may accept (seva/documents.py KINDS)
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalog"
_ODIA = re.compile(r"[\u0b00-\u0b7f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# kind of officer → the Service attribute holding its official English title
OFFICER_KINDS = {
    "designated": "designated_officer",
    "appellate": "appellate_authority",
    "revisional": "revisional_authority",
}
OFFICER_LANGS = ("hi", "or")  # languages with a catalog/officers/<lang>.yml
_SCRIPT = {"or": (_ODIA, "Odia script"), "hi": (_DEVANAGARI, "Devanagari")}


def officer_key(value: Any) -> str:
    """An officer title as the catalog keeps it: whitespace runs made single spaces."""
    return " ".join(str(value).split())


class CatalogError(ValueError):
    """A malformed catalog; the message lists every problem found."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("catalog is invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: Dict[str, str]
    prompt: Dict[str, str]
    required: bool = True
    options: Dict[str, Any] = field(default_factory=dict)

    def choice_list(self) -> List[Dict[str, Any]]:
        return list(self.options.get("choices") or [])

    def accepts(self) -> List[str]:
        """For a document question: the kinds it takes ("photo", "pdf")."""
        return list(self.options.get("accepts") or DOCUMENT_KINDS)


@dataclass(frozen=True)
class Service:
    id: str
    department: str
    names: Dict[str, str]
    official_name: str
    synonyms: List[str]
    time_limit_days: Optional[int]
    time_limit_text: Optional[str]
    designated_officer: Optional[str]
    appellate_authority: Optional[str]
    revisional_authority: Optional[str]
    fee: Optional[Dict[str, str]]
    documents: List[Dict[str, str]]
    notes: List[Dict[str, str]]
    source_url: str
    csv_service: Optional[str]
    csv_lines: List[int]  # the rows of the sourced CSV this entry covers
    vintage: Optional[str]
    outdated: bool
    fields: List[Field]
    # the same service to a citizen, listed again under an older or parallel rule: search
    # shows the entry named here instead of this one unless this one is asked for by name
    same_as: List[str] = field(default_factory=list)
    # lang → {official English title → title in that language}; shared by all services
    officer_titles: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def officer(self, kind: str, lang: str) -> Optional[str]:
        """The ``kind`` officer ("designated", "appellate", "revisional") in ``lang``.

        English for "en"; otherwise the translation from catalog/officers/<lang>.yml, or the
        official English when there is none (``check`` reports it). None when not known.
        """
        english = getattr(self, OFFICER_KINDS[kind])
        if not english or lang == "en":
            return english
        return self.officer_titles.get(lang, {}).get(english) or english

    @property
    def information_only(self) -> bool:
        return not self.fields

    def next_field(self, answers: Dict[str, Any]) -> Optional[Field]:
        """The first question not answered yet (the form asks them in order)."""
        return next((f for f in self.fields if f.id not in (answers or {})), None)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class Department:
    id: str
    source_name: str
    names: Dict[str, str]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class District:
    id: str
    names: Dict[str, str]
    variants: List[str]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass
class Catalog:
    departments: Dict[str, Department]
    services: Dict[str, Service]
    districts: Dict[str, District]
    # groups of everyday words that mean the same (catalog/vocabulary.yml); first word leads
    vocabulary: List[List[str]] = field(default_factory=list)
    # lang → {official English title → translation} (catalog/officers/<lang>.yml)
    officer_titles: Dict[str, Dict[str, str]] = field(default_factory=dict)

    def officer_titles_in_use(self) -> List[str]:
        """Every distinct English officer title of the catalog, sorted."""
        return sorted({getattr(s, attr) for s in self.services.values()
                       for attr in OFFICER_KINDS.values() if getattr(s, attr)})

    def untranslated_officers(self) -> Dict[str, List[str]]:
        """lang → the English officer titles with no translation in catalog/officers/<lang>.yml."""
        used = self.officer_titles_in_use()
        missing = {lang: [t for t in used if t not in self.officer_titles.get(lang, {})] for lang in OFFICER_LANGS}
        return {lang: titles for lang, titles in missing.items() if titles}

    def unused_officer_titles(self) -> Dict[str, List[str]]:
        """lang → translations whose English title no service has (left over after an edit)."""
        used = set(self.officer_titles_in_use())
        unused = {lang: sorted(set(titles) - used) for lang, titles in self.officer_titles.items()}
        return {lang: titles for lang, titles in unused.items() if titles}

    def get(self, service_id: Optional[str]) -> Optional[Service]:
        return self.services.get(service_id or "")

    def by_department(self, department_id: str) -> List[Service]:
        return [s for s in self.services.values() if s.department == department_id]

    def departments_in_use(self) -> List[Department]:
        used = {s.department for s in self.services.values()}
        return [d for d in self.departments.values() if d.id in used]

    def uncovered_csv_lines(self, directory: Optional[os.PathLike] = None) -> List[int]:
        """Rows of the sourced CSV that no entry covers (the import is incomplete)."""
        root = Path(directory or os.environ.get("SEVA_CATALOG_DIR") or DEFAULT_DIR)
        covered = {line for s in self.services.values() for line in s.csv_lines}
        rows = _csv_rows(root / "sources" / "ortpsa-services.csv")
        return sorted(line for lines in rows.values() for line in lines if line not in covered)


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _check_texts(where: str, value: Any, problems: List[str]) -> Dict[str, str]:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a mapping with en, hi and or texts")
        return {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}.{lang}: missing text")
        elif lang == "or" and not _ODIA.search(text):
            problems.append(f"{where}.or: not written in Odia script: {text!r}")
        elif lang == "hi" and not _DEVANAGARI.search(text):
            problems.append(f"{where}.hi: not written in Devanagari: {text!r}")
    return {lang: str(value.get(lang, "")).strip() for lang in LANGS}


def _load_officer_titles(root: Path, problems: List[str]) -> Dict[str, Dict[str, str]]:
    """catalog/officers/<lang>.yml: {official English title: its translation}, checked."""
    titles: Dict[str, Dict[str, str]] = {}
    for lang in OFFICER_LANGS:
        path = root / "officers" / f"{lang}.yml"
        titles[lang] = {}
        if not path.exists():
            continue  # every title then counts as untranslated; `check` lists them
        where = f"officers/{lang}.yml"
        try:
            doc = _load_yaml(path)
        except yaml.YAMLError as error:
            problems.append(f"{where}: not valid YAML: {error}")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{where}: must be a mapping from the English title to its translation")
            continue
        script, script_name = _SCRIPT[lang]
        for english, translated in doc.items():
            key = officer_key(english)
            if not isinstance(english, str) or not key:
                problems.append(f"{where}: {english!r} is not an English officer title")
            elif key in titles[lang]:
                problems.append(f"{where}: {key!r} is given twice")
            elif not isinstance(translated, str) or not translated.strip():
                problems.append(f"{where}: {key!r} has no translation")
            elif not script.search(translated):
                problems.append(f"{where}: {key!r} is not translated into {script_name}: {translated!r}")
            else:
                titles[lang][key] = " ".join(translated.split())
    return titles


def _check_field(where: str, raw: Any, shared: Dict[str, Any], problems: List[str]) -> Optional[Field]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    spec = dict(raw)
    if "use" in spec:
        base = shared.get(spec.pop("use"))
        if base is None:
            problems.append(f"{where}.use: no shared field {raw['use']!r} in catalog/fields.yml")
            return None
        spec = {**base, "id": raw["use"], **spec}
    fid = spec.get("id")
    if not isinstance(fid, str) or not _ID.match(fid):
        problems.append(f"{where}.id: must be lower_snake_case, got {fid!r}")
        return None
    where = f"{where}({fid})"
    ftype = spec.get("type")
    if ftype not in FIELD_TYPES:
        problems.append(f"{where}.type: {ftype!r} is not one of {sorted(FIELD_TYPES)}")
    label = _check_texts(f"{where}.label", spec.get("label"), problems)
    prompt = _check_texts(f"{where}.prompt", spec.get("prompt"), problems)
    options = {k: v for k, v in spec.items() if k not in {"id", "type", "label", "prompt", "required"}}
    if ftype == "choice":
        choices = options.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            problems.append(f"{where}.choices: a choice field needs at least two choices")
        else:
            seen = set()
            for i, choice in enumerate(choices):
                cid = choice.get("id") if isinstance(choice, dict) else None
                if not isinstance(cid, str) or not _ID.match(cid) or cid in seen:
                    problems.append(f"{where}.choices[{i}].id: missing, malformed or repeated")
                    continue
                seen.add(cid)
                _check_texts(f"{where}.choices[{i}]({cid}).label", choice.get("label"), problems)
    if ftype == "document":
        accepts = options.setdefault("accepts", list(DOCUMENT_KINDS))
        if (not isinstance(accepts, list) or not accepts
                or any(kind not in DOCUMENT_KINDS for kind in accepts) or len(set(accepts)) != len(accepts)):
            problems.append(f"{where}.accepts: a list of {' and/or '.join(DOCUMENT_KINDS)}, got {accepts!r}")
    for bound in ("min", "max", "min_length", "max_length", "max_years_ago"):
        if bound in options and not isinstance(options[bound], (int, float)):
            problems.append(f"{where}.{bound}: must be a number")
    if isinstance(options.get("min"), (int, float)) and isinstance(options.get("max"), (int, float)):
        if options["min"] > options["max"]:
            problems.append(f"{where}: min is larger than max")
    return Field(fid, str(ftype), label, prompt, bool(spec.get("required", True)), options)


def _csv_rows(path: Path) -> Dict[tuple, List[int]]:
    """(department, service name) → the CSV line numbers that hold it (header = line 1)."""
    rows: Dict[tuple, List[int]] = {}
    if not path.exists():
        return rows
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            key = (" ".join(row["department"].split()), " ".join(row["service_name"].split()))
            rows.setdefault(key, []).append(line)
    return rows


def load(directory: Union[str, os.PathLike, None] = None) -> Catalog:
    """Read and check the whole catalog; raise ``CatalogError`` listing every problem."""
    root = Path(directory or os.environ.get("SEVA_CATALOG_DIR") or DEFAULT_DIR)
    problems: List[str] = []
    departments: Dict[str, Department] = {}
    for i, raw in enumerate(_load_yaml(root / "departments.yml").get("departments") or []):
        did = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(did, str) or not _ID.match(did) or did in departments:
            problems.append(f"departments.yml[{i}].id: missing, malformed or repeated")
            continue
        names = _check_texts(f"departments.yml({did}).names", raw.get("names"), problems)
        departments[did] = Department(did, str(raw.get("source_name") or names.get("en")), names)

    shared = _load_yaml(root / "fields.yml").get("fields") or {} if (root / "fields.yml").exists() else {}
    csv_rows = _csv_rows(root / "sources" / "ortpsa-services.csv")
    services: Dict[str, Service] = {}
    hand_lines: set = set()
    # hand-written entries first; a generated entry for the same id or CSV row gives way
    for folder in ("services", "imported"):
        generated = folder == "imported"
        for path in sorted((root / folder).glob("*.yml")):
            doc = _load_yaml(path)
            dept_id = doc.get("department")
            fname = f"{folder}/{path.name}"
            if dept_id not in departments:
                problems.append(f"{fname}: department {dept_id!r} is not in departments.yml")
                continue
            for i, raw in enumerate(doc.get("services") or []):
                service = _check_service(f"{fname}[{i}]", raw, departments[dept_id], shared, csv_rows, problems)
                if service is None:
                    continue
                if generated and (service.id in services or hand_lines.intersection(service.csv_lines)):
                    continue
                if service.id in services:
                    problems.append(f"{fname}({service.id}): id is used twice")
                    continue
                services[service.id] = service
                if not generated:
                    hand_lines.update(service.csv_lines)

    _check_names_tell_apart(services, problems)
    for service in services.values():
        for other in service.same_as:
            if other not in services or other == service.id:
                problems.append(f"{service.id}.same_as: {other!r} is not another service of the catalog")
    districts: Dict[str, District] = {}
    dpath = root / "districts.yml"
    for i, raw in enumerate((_load_yaml(dpath).get("districts") or []) if dpath.exists() else []):
        did = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(did, str) or not _ID.match(did) or did in districts:
            problems.append(f"districts.yml[{i}].id: missing, malformed or repeated")
            continue
        names = _check_texts(f"districts.yml({did}).names", raw.get("names"), problems)
        districts[did] = District(did, names, [str(v) for v in raw.get("variants") or []])
    vocabulary = _check_vocabulary(root / "vocabulary.yml", problems)
    officer_titles = _load_officer_titles(root, problems)
    if problems:
        raise CatalogError(problems)
    services = {sid: replace(s, officer_titles=officer_titles) for sid, s in services.items()}
    return Catalog(departments, services, districts, vocabulary, officer_titles)


def _check_names_tell_apart(services: Dict[str, Service], problems: List[str]) -> None:
    """Two services of one department with the same name would look alike in a list."""
    seen: Dict[tuple, str] = {}
    for service in services.values():
        for lang in LANGS:
            key = (service.department, lang, " ".join(service.names[lang].casefold().split()))
            if key in seen:
                problems.append(f"{service.id}.names.{lang}: {service.names[lang]!r} is also the name of "
                                f"{seen[key]} in the same department; citizens could not tell them apart")
            seen.setdefault(key, service.id)


def _check_vocabulary(path: Path, problems: List[str]) -> List[List[str]]:
    if not path.exists():
        return []
    groups = _load_yaml(path).get("groups") or []
    seen: Dict[str, int] = {}
    out = []
    for i, group in enumerate(groups if isinstance(groups, list) else []):
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(w, str) and w.strip() for w in group):
            problems.append(f"vocabulary.yml groups[{i}]: must be a list of at least two words")
            continue
        for word in group:
            key = " ".join(word.casefold().split())
            if key in seen and seen[key] != i:
                problems.append(f"vocabulary.yml groups[{i}]: {word!r} is also in group {seen[key]}")
            seen[key] = i
        out.append([" ".join(w.split()) for w in group])
    return out


def _check_service(where, raw, department, shared, csv_rows, problems) -> Optional[Service]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID.match(sid):
        problems.append(f"{where}.id: must be lower_snake_case, got {sid!r}")
        return None
    where = f"{where.split('[')[0]}({sid})"
    before = len(problems)
    names = _check_texts(f"{where}.names", raw.get("names"), problems)
    days = raw.get("time_limit_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days <= 0):
        problems.append(f"{where}.time_limit_days: must be a positive whole number or null, got {days!r}")
    limit_text = raw.get("time_limit_text")
    if days is not None and limit_text:
        problems.append(f"{where}: give time_limit_days or time_limit_text, not both")
    source = raw.get("source") or {}
    if not isinstance(source, dict) or not str(source.get("url") or "").startswith("http"):
        problems.append(f"{where}.source.url: every entry needs the URL of its source")
        source = {}
    csv_service = " ".join(str(source.get("csv_service") or "").split()) or None
    csv_lines: List[int] = []
    if csv_service and csv_rows:
        csv_lines = list(csv_rows.get((department.source_name, csv_service), []))
        if not csv_lines:
            problems.append(
                f"{where}.source.csv_service: {csv_service!r} is not a {department.source_name!r} row of the CSV"
            )
        elif source.get("csv_line") is not None:
            if source["csv_line"] not in csv_lines:
                problems.append(f"{where}.source.csv_line: line {source['csv_line']!r} of the CSV is not "
                                f"{csv_service!r} (it is on line(s) {csv_lines})")
            csv_lines = [source["csv_line"]]
    fee = raw.get("fee")
    if fee is not None:
        fee = _check_texts(f"{where}.fee", fee, problems)
    documents = [_check_texts(f"{where}.documents[{i}]", d, problems) for i, d in enumerate(raw.get("documents") or [])]
    notes = [_check_texts(f"{where}.notes[{i}]", d, problems) for i, d in enumerate(raw.get("notes") or [])]
    synonyms = raw.get("synonyms") or []
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        problems.append(f"{where}.synonyms: must be a list of texts")
        synonyms = []
    fields: List[Field] = []
    seen = set()
    for i, raw_field in enumerate(raw.get("fields") or []):
        fld = _check_field(f"{where}.fields[{i}]", raw_field, shared, problems)
        if fld is None:
            continue
        if fld.id in seen:
            problems.append(f"{where}.fields[{i}]({fld.id}): field id is used twice")
        seen.add(fld.id)
        fields.append(fld)
    if len(problems) > before:
        return None

    def officer(key: str) -> Optional[str]:
        value = raw.get(key)
        return officer_key(value) if value else None

    return Service(
        id=sid,
        department=department.id,
        names=names,
        official_name=str(raw.get("official_name") or names["en"]),
        synonyms=[str(s) for s in synonyms],
        time_limit_days=days,
        time_limit_text=str(limit_text) if limit_text else None,
        designated_officer=officer("designated_officer"),
        appellate_authority=officer("appellate_authority"),
        revisional_authority=officer("revisional_authority"),
        fee=fee,
        documents=documents,
        notes=notes,
        source_url=str(source.get("url", "")),
        csv_service=csv_service,
        csv_lines=csv_lines,
        vintage=str(raw["vintage"]) if raw.get("vintage") is not None else None,
        outdated=bool(raw.get("outdated", False)),
        fields=fields,
        same_as=[str(x) for x in raw.get("same_as") or []],
    )


@functools.lru_cache(maxsize=4)
def _cached(directory: str) -> Catalog:
    return load(directory)


def default_catalog() -> Catalog:
    """The catalog the running assistant uses (``SEVA_CATALOG_DIR`` or ``catalog/``), loaded once."""
    return _cached(str(os.environ.get("SEVA_CATALOG_DIR") or DEFAULT_DIR))


def main(argv: Iterable[str] = ()) -> int:
    args = list(argv)
    if not args or args[0] != "check":
        print("usage: python -m seva.catalog check [CATALOG_DIR]", file=sys.stderr)
        return 2
    directory = Path(args[1]) if len(args) > 1 else Path(os.environ.get("SEVA_CATALOG_DIR") or DEFAULT_DIR)
    try:
        catalog = load(directory)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return 1
    from seva.catalog_import import stale_files  # the importer needs this module, not vice versa

    stale = stale_files(directory)
    if stale:
        print(f"catalog/imported is out of date with catalog/sources ({', '.join(stale)}): "
              "run `make import-catalog` and commit the result", file=sys.stderr)
        return 1
    uncovered = catalog.uncovered_csv_lines(directory)
    if uncovered:
        print(f"rows of catalog/sources/ortpsa-services.csv with no catalog entry: lines {uncovered}; "
              "add their names to catalog/sources/names/*.tsv and run `make import-catalog`", file=sys.stderr)
        return 1
    untranslated = catalog.untranslated_officers()
    unused = catalog.unused_officer_titles()
    for lang, titles in untranslated.items():
        print(f"officers/{lang}.yml: {len(titles)} officer title(s) of the catalog have no translation "
              "(citizens would see the English); add them:\n  " + "\n  ".join(map(repr, titles)),
              file=sys.stderr)
    for lang, titles in unused.items():
        print(f"officers/{lang}.yml: {len(titles)} title(s) are no service's officer any more; "
              "remove them or fix the English key:\n  " + "\n  ".join(map(repr, titles)), file=sys.stderr)
    if untranslated or unused:
        return 1
    info_only = sum(1 for s in catalog.services.values() if s.information_only)
    with_forms = sum(1 for s in catalog.services.values() if not s.information_only)
    print(
        f"catalog ok: {len(catalog.services)} services ({with_forms} with application forms, "
        f"{info_only} information-only), "
        f"{len(catalog.departments_in_use())} departments, {len(catalog.districts)} districts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
