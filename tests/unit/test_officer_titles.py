"""Officer titles reach citizens in their own language and script (issue 16).

The catalog keeps the official English; catalog/officers/<lang>.yml translate it. A title
without a translation falls back to the English, and the catalog check reports it.
"""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from seva.catalog import OFFICER_KINDS, OFFICER_LANGS, CatalogError, default_catalog, load, main

ROOT = Path(__file__).resolve().parents[2]
OFFICERS = ROOT / "catalog" / "officers"
SCRIPT = {"or": re.compile(r"[\u0b00-\u0b7f]"), "hi": re.compile(r"[\u0900-\u097f]")}
# Latin words of four letters or more a translation may keep: names citizens read in Latin
# letters on signboards and portals. Everything else is written in the language's script.
ALLOWED_LATIN = {"ORTPSA", "CHSE", "OSDMA", "OSFC", "OSIC", "IDCO", "DRDA", "DUDA", "RWSS", "PACS", "LAMPCS",
                 "OSAM", "CDMO", "SDMO", "ADMO", "CDVO", "SDVO", "SDPO", "DTET", "SCTE", "MSME"}
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def translations(lang):
    return yaml.safe_load((OFFICERS / f"{lang}.yml").read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("lang", OFFICER_LANGS)
def test_every_officer_title_of_the_catalog_is_translated(catalog, lang):
    assert catalog.untranslated_officers().get(lang, []) == []
    assert catalog.unused_officer_titles().get(lang, []) == []


@pytest.mark.parametrize("lang", OFFICER_LANGS)
def test_translations_are_in_the_language_script_without_english_words(lang):
    for english, text in translations(lang).items():
        letters = [c for c in text if c.isalpha() or SCRIPT[lang].match(c)]
        native = sum(1 for c in letters if SCRIPT[lang].match(c))
        assert native >= 0.9 * len(letters), (english, text)
        latin = [w for w in LATIN_WORD.findall(text) if w not in ALLOWED_LATIN]
        assert not latin, (english, text, latin)


@pytest.mark.parametrize("lang", OFFICER_LANGS)
def test_the_file_is_sorted_keyed_by_normalised_english_and_explains_itself(lang):
    text = (OFFICERS / f"{lang}.yml").read_text(encoding="utf-8")
    assert text.startswith("#") and "catalog check" in text.split("\n\n")[0]
    keys = list(translations(lang))
    assert keys == sorted(keys)
    assert all(key == " ".join(key.split()) for key in keys)


def test_english_is_the_official_title(catalog):
    service = next(s for s in catalog.services.values() if s.designated_officer and s.revisional_authority)
    for kind, attr in OFFICER_KINDS.items():
        assert service.officer(kind, "en") == getattr(service, attr)


def test_odia_and_hindi_titles_reach_the_citizen(catalog):
    tahasildar = next(s for s in catalog.services.values() if s.designated_officer == "Tahasildar")
    assert tahasildar.officer("designated", "or") == "ତହସିଲଦାର"
    assert SCRIPT["hi"].search(tahasildar.officer("designated", "hi"))
    urban_rural = next(s for s in catalog.services.values()
                       if (s.designated_officer or "").startswith("Urban Area: Health Officer"))
    odia = urban_rural.officer("designated", "or")
    assert "ସହରାଞ୍ଚଳ" in odia and "ଗ୍ରାମାଞ୍ଚଳ" in odia and not re.search(r"[A-Za-z]", odia)


def test_an_unknown_officer_stays_unknown(catalog):
    service = next((s for s in catalog.services.values() if not s.revisional_authority), None)
    if service is None:
        pytest.skip("every service names its revisional authority")
    assert service.officer("revisional", "or") is None


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    return target


def test_a_missing_translation_falls_back_to_english_and_the_check_reports_it(copy, capsys):
    path = copy / "officers" / "or.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc.pop("Tahasildar")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    catalog = load(copy)
    service = next(s for s in catalog.services.values() if s.designated_officer == "Tahasildar")
    assert service.officer("designated", "or") == "Tahasildar"
    assert catalog.untranslated_officers() == {"or": ["Tahasildar"]}
    assert main(["check", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "officers/or.yml" in err and "'Tahasildar'" in err and "hi.yml" not in err


def test_a_left_over_translation_is_reported(copy, capsys):
    path = copy / "officers" / "hi.yml"
    path.write_text(path.read_text(encoding="utf-8") + "Chief Bee Officer: मुख्य मधुमक्खी अधिकारी\n",
                    encoding="utf-8")
    assert main(["check", str(copy)]) == 1
    assert "Chief Bee Officer" in capsys.readouterr().err


def test_a_translation_in_the_wrong_script_is_rejected(copy):
    path = copy / "officers" / "or.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["Tahasildar"] = "तहसीलदार"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"officers/or.yml: 'Tahasildar' is not translated into Odia"):
        load(copy)
