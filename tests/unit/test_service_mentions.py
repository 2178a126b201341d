"""Service mentions in held-out citizen messages reach the right catalog id through the
resolver the actions use (``actions.service_lookup.resolve`` → ``ServiceIndex.resolve``).

``tests/nlu/services.tsv``: apply_service / service_info messages of the held-out NLU set
(``tests/nlu/``), 12 per language form, each with the service it means. Never train on it.
"""
import csv
from collections import defaultdict
from pathlib import Path

from seva.search import index_for
from tests.nlu_heldout import FORMS
from tests.unit.test_search_quality import accepted_ids

ROWS = Path(__file__).resolve().parents[1] / "nlu" / "services.tsv"
THRESHOLD = 0.90  # per form: named directly, or offered among the (at most 3) choices


def _rows():
    with ROWS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _accepted(catalog, service_id):
    """The id itself plus the entries a citizen could not tell from it (same CSV row,
    same-named twins, a repeat under an older rule)."""
    by_line = accepted_ids(catalog)
    service = catalog.get(service_id)
    return {service_id}.union(*(by_line.get(line, set()) for line in service.csv_lines))


def test_every_row_names_a_catalog_service(catalog):
    rows = _rows()
    assert {row["form"] for row in rows} == set(FORMS)
    unknown = [row["service_id"] for row in rows if not catalog.get(row["service_id"])]
    assert not unknown, unknown


def test_service_mentions_resolve_per_form(catalog):
    index = index_for(catalog)
    named, reached, total = defaultdict(int), defaultdict(int), defaultdict(int)
    misses = []
    for row in _rows():
        ok = _accepted(catalog, row["service_id"])
        resolution = index.resolve(row["text"])
        direct = resolution.service is not None and resolution.service.id in ok
        offered = resolution.service is None and any(m.service.id in ok for m in resolution.candidates[:3])
        form = row["form"]
        total[form] += 1
        named[form] += direct
        reached[form] += direct or offered
        if not direct:
            got = resolution.service.id if resolution.service else [m.service.id for m in resolution.candidates]
            misses.append(f"  [{form}] {row['text']!r}: want {row['service_id']}, got {got}")
    print()
    for form in FORMS:
        print(f"{form:8} named {named[form] / total[form]:.2f}  named or offered {reached[form] / total[form]:.2f}"
              f"  ({total[form]} messages)")
    print("not named directly:", *misses, sep="\n")
    low = {f: round(reached[f] / total[f], 2) for f in FORMS if reached[f] / total[f] < THRESHOLD}
    assert not low, f"forms below {THRESHOLD}: {low}"
