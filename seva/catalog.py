"""The service catalog: load the YAML a conversation designer edits, check it, look it up.

A service is data (names in three languages, ORTPSA time limit, officers, fields with typed
validation). Adding one needs no code and no retraining. ``python -m seva.catalog check``
reports every malformed entry with the file, service and field at fault.
"""
from __future__ import annotations

import csv
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml

LANGS = ("en", "hi", "or")
FIELD_TYPES = {
    "name", "text", "date", "district", "number", "amount", "yes_no", "choice", "pincode", "phone",
}
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalog"
_ODIA = re.compile(r"[\u0b00-\u0b7f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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
    vintage: Optional[str]
    outdated: bool
    fields: List[Field]

    @property
    def information_only(self) -> bool:
        return not self.fields

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

    def get(self, service_id: Optional[str]) -> Optional[Service]:
        return self.services.get(service_id or "")

    def by_department(self, department_id: str) -> List[Service]:
        return [s for s in self.services.values() if s.department == department_id]

    def departments_in_use(self) -> List[Department]:
        used = {s.department for s in self.services.values()}
        return [d for d in self.departments.values() if d.id in used]


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
    for bound in ("min", "max", "min_length", "max_length", "max_years_ago"):
        if bound in options and not isinstance(options[bound], (int, float)):
            problems.append(f"{where}.{bound}: must be a number")
    if isinstance(options.get("min"), (int, float)) and isinstance(options.get("max"), (int, float)):
        if options["min"] > options["max"]:
            problems.append(f"{where}: min is larger than max")
    return Field(fid, str(ftype), label, prompt, bool(spec.get("required", True)), options)


def _csv_rows(path: Path) -> Dict[str, set]:
    rows: Dict[str, set] = {}
    if not path.exists():
        return rows
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["department"].strip(), set()).add(row["service_name"].strip())
    return rows


def load(directory: Optional[os.PathLike] = None) -> Catalog:
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
    for path in sorted((root / "services").glob("*.yml")):
        doc = _load_yaml(path)
        dept_id = doc.get("department")
        fname = f"services/{path.name}"
        if dept_id not in departments:
            problems.append(f"{fname}: department {dept_id!r} is not in departments.yml")
            continue
        for i, raw in enumerate(doc.get("services") or []):
            service = _check_service(f"{fname}[{i}]", raw, departments[dept_id], shared, csv_rows, problems)
            if service is None:
                continue
            if service.id in services:
                problems.append(f"{fname}({service.id}): id is used twice")
                continue
            services[service.id] = service

    districts: Dict[str, District] = {}
    dpath = root / "districts.yml"
    for i, raw in enumerate((_load_yaml(dpath).get("districts") or []) if dpath.exists() else []):
        did = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(did, str) or not _ID.match(did) or did in districts:
            problems.append(f"districts.yml[{i}].id: missing, malformed or repeated")
            continue
        names = _check_texts(f"districts.yml({did}).names", raw.get("names"), problems)
        districts[did] = District(did, names, [str(v) for v in raw.get("variants") or []])
    if problems:
        raise CatalogError(problems)
    return Catalog(departments, services, districts)


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
    csv_service = source.get("csv_service")
    if csv_service and csv_rows and csv_service.strip() not in csv_rows.get(department.source_name, set()):
        problems.append(
            f"{where}.source.csv_service: {csv_service!r} is not a {department.source_name!r} row of the CSV"
        )
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
        return " ".join(str(value).split()) if value else None

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
        vintage=str(raw["vintage"]) if raw.get("vintage") is not None else None,
        outdated=bool(raw.get("outdated", False)),
        fields=fields,
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
    try:
        catalog = load(args[1] if len(args) > 1 else None)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return 1
    with_forms = sum(1 for s in catalog.services.values() if not s.information_only)
    print(
        f"catalog ok: {len(catalog.services)} services ({with_forms} with application forms), "
        f"{len(catalog.departments_in_use())} departments, {len(catalog.districts)} districts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
