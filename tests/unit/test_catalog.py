"""The catalog a designer edits: complete, sourced, and checked with precise errors."""
import csv
import shutil
from pathlib import Path

import pytest
import yaml

from seva.catalog import CatalogError, load

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ["birth_certificate", "death_certificate", "legal_heir_certificate", "residence_certificate",
          "income_certificate", "driving_licence", "fertilizer_licence", "inter_caste_marriage_incentive",
          "national_family_benefit_scheme"]


def test_the_launch_services_and_at_least_25_more_take_applications(catalog):
    for sid in LAUNCH:
        assert sid in catalog.services, sid
        assert catalog.services[sid].fields, f"{sid} has no application fields"
    assert sum(1 for s in catalog.services.values() if s.fields) >= 34


def test_every_entry_keeps_its_source_and_matches_the_csv(catalog):
    with (ROOT / "catalog/sources/ortpsa-services.csv").open(encoding="utf-8") as handle:
        rows = {line: r for line, r in enumerate(csv.DictReader(handle), start=2)}
    for service in catalog.services.values():
        assert service.source_url.startswith("http"), service.id
        for line in service.csv_lines:
            row = rows[line]
            assert service.source_url in row["source_url"], (service.id, line)
            limit = row["time_limit_days"].strip()
            if limit.isdigit():  # a plain number in the source must be copied as it is
                assert service.time_limit_days == int(limit), service.id
            else:
                assert service.time_limit_days is None, service.id


def test_known_time_limits(catalog):
    assert catalog.get("income_certificate").time_limit_days == 15
    assert catalog.get("residence_certificate").time_limit_days == 15
    assert catalog.get("legal_heir_certificate").time_limit_days == 30
    incentive = catalog.get("inter_caste_marriage_incentive")
    assert incentive.time_limit_days is None  # the source attaches conditions to its 60 days
    assert incentive.time_limit_text.startswith("60 days from receipt of application")
    assert catalog.get("driving_licence").time_limit_days is None
    assert "test" in catalog.get("driving_licence").time_limit_text.lower()


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    return target


def edit(path: Path, change):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def first_service(doc):
    return next(s for s in doc["services"] if s["id"] == "income_certificate")


@pytest.mark.parametrize("change, message", [
    (lambda d: first_service(d)["names"].pop("or"), "income_certificate).names.or: missing text"),
    (lambda d: first_service(d)["names"].update(hi="Aay praman patra"), "names.hi: not written in Devanagari"),
    (lambda d: first_service(d).update(time_limit_days=-3), "income_certificate).time_limit_days"),
    (lambda d: first_service(d).update(time_limit_days="fifteen"), "time_limit_days: must be a positive"),
    (lambda d: first_service(d).pop("source"), "income_certificate).source.url"),
    (lambda d: first_service(d)["source"].update(csv_service="Invented service"), "source.csv_service"),
    (lambda d: first_service(d)["fields"].append({"id": "x", "type": "colour"}), "fields[5](x).type"),
    (lambda d: first_service(d)["fields"].append({"use": "nope"}), "no shared field 'nope'"),
    (lambda d: first_service(d)["fields"].append(dict(first_service(d)["fields"][3])),
     "annual_income): field id is used twice"),
    (lambda d: first_service(d)["fields"][4].update(choices=[{"id": "only"}]), "purpose).choices"),
    (lambda d: d["services"].append(dict(first_service(d))), "income_certificate): id is used twice"),
])
def test_malformed_entries_are_rejected_naming_entry_and_field(copy, change, message):
    edit(copy / "services" / "revenue.yml", change)
    with pytest.raises(CatalogError) as error:
        load(copy)
    assert message in str(error.value)
    assert "revenue.yml" in str(error.value) or "services/" in str(error.value)


def test_cli_check_reports_problems(copy, capsys):
    from seva.catalog import main

    assert main(["check", str(copy)]) == 0
    edit(copy / "services" / "revenue.yml", lambda d: first_service(d)["names"].pop("hi"))
    assert main(["check", str(copy)]) == 1
    assert "names.hi" in capsys.readouterr().err
