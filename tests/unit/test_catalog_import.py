"""The import of the sourced ORTPSA list: complete, current, faithful, and kind to hand edits."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from seva import catalog_import
from seva.catalog import CatalogError, load

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "catalog" / "sources" / "ortpsa-services.csv"


def csv_rows():
    with CSV.open(encoding="utf-8", newline="") as handle:
        return {line: row for line, row in enumerate(csv.DictReader(handle), start=2)}


def test_every_csv_row_has_an_entry_with_its_source(catalog):
    rows = csv_rows()
    assert len(rows) == 344
    assert catalog.uncovered_csv_lines() == []
    covered = {}
    for service in catalog.services.values():
        for line in service.csv_lines:
            covered.setdefault(line, []).append(service)
    assert set(covered) == set(rows)
    for line, services in covered.items():
        for service in services:
            assert service.source_url and service.source_url in rows[line]["source_url"], (line, service.id)
    assert len(catalog.services) >= 344


def test_the_committed_import_is_what_the_sources_produce():
    assert catalog_import.stale_files(ROOT / "catalog") == [], "run `make import-catalog` and commit"


def test_imported_entries_copy_the_row_faithfully(catalog):
    rows = csv_rows()
    imported = [s for s in catalog.services.values() if s.csv_lines and s.vintage and not s.fields]
    assert len(imported) > 250
    for service in imported:
        row = rows[service.csv_lines[0]]
        limit = " ".join(row["time_limit_days"].split())
        if limit.isdigit():
            assert service.time_limit_days == int(limit) and service.time_limit_text is None, service.id
        elif limit:
            assert service.time_limit_days is None and service.time_limit_text == limit, service.id
        for key in ("designated_officer", "appellate_authority", "revisional_authority"):
            assert (getattr(service, key) or "") == " ".join(row[key].split()), (service.id, key)
        assert service.official_name == " ".join(row["service_name"].split())


def test_vintage_follows_the_source_and_finance_rows_are_marked_outdated(catalog):
    rows = csv_rows()
    for service in catalog.services.values():
        for line in service.csv_lines:
            assert service.vintage == catalog_import.vintage(rows[line]["source_url"]), service.id
        finance = catalog.departments[service.department].source_name == "Finance"
        assert service.outdated == finance, service.id
    assert sum(1 for s in catalog.services.values() if s.outdated) == 8
    assert {s.vintage for s in catalog.services.values()} >= {"2016", "2017", "2020", "2021", "2024"}


def test_ids_are_stable_lower_snake_case_and_unique_per_row(catalog):
    lines = {}
    for service in catalog.services.values():
        for line in service.csv_lines:
            lines.setdefault(line, []).append(service.id)
    # one row may be split into several hand-written entries (birth / death), never the reverse
    shared = {line: ids for line, ids in lines.items() if len(ids) > 1}
    assert all(set(ids) <= {"birth_certificate", "death_certificate"} for ids in shared.values()), shared


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    return target


def test_reimport_keeps_hand_written_entries_and_is_idempotent(copy):
    """A designer copies an imported entry into services/ and gives it a form: it survives."""
    imported_file = copy / "imported" / "labour.yml"
    doc = yaml.safe_load(imported_file.read_text(encoding="utf-8"))
    entry = dict(doc["services"][0])
    entry["names"] = {**entry["names"], "en": "Hand-written name"}
    entry["synonyms"] = ["my own synonym"]
    entry["fields"] = [{"use": "applicant_name"}, {"use": "district"}]
    hand_file = copy / "services" / "labour.yml"
    hand_file.write_text(yaml.safe_dump({"department": "labour", "services": [entry]}, allow_unicode=True),
                         encoding="utf-8")
    before = hand_file.read_bytes()

    # before re-importing, the hand-written entry already wins over its generated copy
    catalog = load(copy)
    assert catalog.services[entry["id"]].names["en"] == "Hand-written name"
    assert catalog_import.stale_files(copy) == ["labour.yml"]

    assert catalog_import.write(copy) == ["labour.yml"]
    assert hand_file.read_bytes() == before
    regenerated = yaml.safe_load(imported_file.read_text(encoding="utf-8"))
    assert entry["id"] not in [s["id"] for s in regenerated["services"]]
    catalog = load(copy)
    service = catalog.services[entry["id"]]
    assert service.names["en"] == "Hand-written name" and len(service.fields) == 2
    assert catalog.uncovered_csv_lines(copy) == []
    assert catalog_import.write(copy) == []  # a second run changes nothing
    assert catalog_import.stale_files(copy) == []


def test_a_name_fixed_in_the_names_table_reaches_the_catalog(copy):
    part = copy / "sources" / "names" / "part-4.tsv"
    text = part.read_text(encoding="utf-8")
    header, first, rest = text.split("\n", 2)
    cells = first.split("\t")
    columns = header.split("\t")
    cells[columns.index("short_en")] = "Renamed by a designer"
    part.write_text("\n".join([header, "\t".join(cells), rest]), encoding="utf-8")
    assert catalog_import.stale_files(copy)
    catalog_import.write(copy)
    catalog = load(copy)
    assert catalog.services[cells[columns.index("id")]].names["en"] == "Renamed by a designer"


def test_a_missing_row_and_a_wrong_csv_line_are_reported(copy, capsys):
    from seva.catalog import main

    assert main(["check", str(copy)]) == 0
    imported = sorted((copy / "imported").glob("*.yml"))[0]
    doc = yaml.safe_load(imported.read_text(encoding="utf-8"))
    dropped = doc["services"].pop()
    imported.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert main(["check", str(copy)]) == 1
    assert "make import-catalog" in capsys.readouterr().err
    assert dropped["source"]["csv_line"] in load(copy).uncovered_csv_lines(copy)

    doc["services"][0]["source"]["csv_line"] = 2 if doc["services"][0]["source"]["csv_line"] != 2 else 3
    imported.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CatalogError, match="source.csv_line"):
        load(copy)


@pytest.mark.parametrize("lang, says", [
    ("en", ["cannot take this application in chat", "appeal to the", "Decided by", "old list (2016)"]),
    ("hi", ["चैट में नहीं ले सकता", "अपील कर सकते हैं", "निर्णय लेंगे", "पुरानी सूची (2016)"]),
    ("or", ["ଚାଟରେ ନେଇପାରିବି ନାହିଁ", "ଅପିଲ କରିପାରିବେ", "ନିଷ୍ପତ୍ତି ନେବେ", "ପୁରୁଣା ତାଲିକା (2016)"]),
])
def test_an_imported_service_is_explained_not_applied_for(catalog, lang, says):
    """Who decides, how long, where to apply, how to appeal; and the outdated warning."""
    from actions.service_lookup import ActionServiceInfo
    from tests.unit.helpers import make_tracker, run, texts

    finance = next(s for s in catalog.services.values()
                   if catalog.departments[s.department].source_name == "Finance" and s.designated_officer)
    said, events = run(ActionServiceInfo(), make_tracker(
        {"language": lang}, "", "service_info", [{"entity": "service", "value": finance.id}]))
    text = texts(said)
    for phrase in says:
        assert phrase in text, (phrase, text)
    # officers in the citizen's language and script (catalog/officers/), not the source's English
    assert finance.officer("designated", lang) in text and finance.officer("appellate", lang) in text
    if lang != "en":
        assert finance.designated_officer not in text and finance.appellate_authority not in text
    assert finance.names[lang] in text
    limit = str(finance.time_limit_days) if finance.time_limit_days else finance.time_limit_text
    assert limit in text
    assert any(e.get("name") == "service" and e.get("value") == finance.id for e in events)
