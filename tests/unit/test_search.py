"""Service resolution across scripts and romanisations, with ambiguity and unknowns."""
import dataclasses

import pytest

from seva.search import ServiceIndex, Vocabulary, index_for

CASES = [
    ("I want an income certificate", "income_certificate"),
    ("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", "income_certificate"),
    ("mujhe income certificate chahiye", "income_certificate"),
    ("मुझे आय प्रमाण पत्र चाहिए", "income_certificate"),
    ("aay praman patra", "income_certificate"),
    ("income certifcate", "income_certificate"),
    ("birth certificate", "birth_certificate"),
    ("ଜନ୍ମ ପ୍ରମାଣପତ୍ର", "birth_certificate"),
    ("janm praman patra chahiye", "birth_certificate"),
    ("death certificate for my father", "death_certificate"),
    ("ମୃତ୍ୟୁ ପ୍ରମାଣପତ୍ର", "death_certificate"),
    ("legal heir certificate", "legal_heir_certificate"),
    ("residence certificate", "residence_certificate"),
    ("driving licence", "driving_licence"),
    ("ଡ୍ରାଇଭିଂ ଲାଇସେନ୍ସ", "driving_licence"),
    ("fertilizer licence", "fertilizer_licence"),
    ("inter caste marriage incentive", "inter_caste_marriage_incentive"),
    ("national family benefit scheme", "national_family_benefit_scheme"),
    ("NFBS", "national_family_benefit_scheme"),
]


@pytest.mark.parametrize("query, service", CASES)
def test_resolves_the_right_service(catalog, query, service):
    resolution = index_for(catalog).resolve(query)
    ranked = [m.service.id for m in resolution.candidates]
    assert service in ranked[:3], ranked
    assert resolution.service is not None and resolution.service.id == service, ranked


def test_unknown_names_resolve_to_nothing(catalog):
    for query in ["hello", "cricket score today", "pizza delivery"]:
        resolution = index_for(catalog).resolve(query)
        assert resolution.service is None and not resolution.ambiguous, (query, resolution.candidates)


def test_ambiguous_query_offers_at_most_three(catalog):
    resolution = index_for(catalog).resolve("caste certificate")
    assert resolution.service is None
    assert 2 <= len(resolution.candidates) <= 3
    assert {m.service.id for m in resolution.candidates[:2]} == {"sc_certificate", "st_certificate"}


def test_search_never_raises(catalog):
    for junk in ["", "   ", "!!!", "\u200d", "x" * 5000, "ORT-7K3M-9QXF"]:
        index_for(catalog).search(junk)


def test_vocabulary_folds_everyday_words_onto_the_catalog_word():
    vocabulary = Vocabulary([["vehicle", "gaadi", "bike", "ଗାଡ଼ି"], ["certificate", "praman patra"]])
    assert vocabulary.tokens("bike") == vocabulary.tokens("ଗାଡ଼ି") == ["vehicle"]
    assert vocabulary.tokens("gaadi praman patra") == ["vehicle", "certificate"]


def test_vocabulary_leaves_a_word_two_groups_claim_alone():
    vocabulary = Vocabulary([["vehicle", "car"], ["seedlings", "car"]])
    assert vocabulary.tokens("car") == ["car"]


@pytest.mark.parametrize("query, service", [
    ("bike ka naya registration", "vehicle_registration"),
    ("bhalu ne hamla kiya chot lagi", "wildlife_human_injury_death_compensation"),
    ("daru dukan licence", "liquor_licence_district"),
])
def test_catalog_vocabulary_finds_services_by_everyday_words(catalog, query, service):
    ranked = [m.service.id for m in index_for(catalog).resolve(query).candidates]
    plain = ServiceIndex(dataclasses.replace(catalog, vocabulary=[]))
    without = [m.service.id for m in plain.resolve(query).candidates]
    assert service in ranked[:3], ranked
    assert service not in without[:3], "the case no longer exercises catalog/vocabulary.yml"
