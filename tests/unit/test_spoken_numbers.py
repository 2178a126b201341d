"""Numbers and dates said in words (typed or from a voice note) become digits."""
import datetime as dt

import pytest

from seva.catalog import Field, default_catalog
from seva.spoken_numbers import compose, load, parse_date_words, parse_number
from seva.validators import validate

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize("text,value", [
    ("ପଚାଶ ହଜାର", 50000), ("पचास हज़ार", 50000), ("पचास हजार", 50000), ("fifty thousand", 50000),
    ("pachas hazar", 50000), ("ek lakh bees hazar", 120000), ("एक लाख बीस हज़ार", 120000),
    ("ଏକ ଲକ୍ଷ କୋଡ଼ିଏ ହଜାର", 120000), ("one lakh twenty thousand", 120000), ("साढ़े तीन लाख", 350000),
    ("ढाई लाख", 250000), ("दो हज़ार पाँच सौ", 2500), ("ପଞ୍ଚତିରିଶି", 35), ("twenty five thousand rupees", 25000),
    ("2 lakh 50 thousand", 250000), ("सौ", 100), ("ଶହେ", 100), ("ninety nine", 99), ("ଅନେଶତ", 99),
    ("उन्नीस सौ नब्बे", 1990),
])
def test_spoken_numbers_in_three_languages_and_two_scripts(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["hello", "बीस पाँच", "lakh crore", "साढ़े", "मुझे पता नहीं", ""])
def test_words_that_do_not_make_a_number_are_refused(text):
    assert parse_number(text) is None


def test_sat_is_seven_or_sixty_so_romanised_sat_is_not_guessed():
    words = load()
    assert words.lookup(["सात"]) == ("number", 7) and words.lookup(["साठ"]) == ("number", 60)
    assert words.lookup(["sat"]) is None  # both fold to the same Latin key


def test_every_number_to_a_hundred_reads_back_in_every_language():
    words = load()
    for language in ("en", "hi", "or"):
        for (kind, value), texts in words.spellings[language].items():
            if kind == "number":
                for text in texts:
                    assert parse_number(text) == value, (language, text)


@pytest.mark.parametrize("text,date", [
    ("पंद्रह अगस्त उन्नीस सौ नब्बे", dt.date(1990, 8, 15)),
    ("ପାଞ୍ଚ ମାର୍ଚ୍ଚ ଉଣେଇଶି ଶହ ପଞ୍ଚାଅଶୀ", dt.date(1985, 3, 5)),
    ("ଛବିଶି ଜାନୁଆରୀ ଦୁଇ ହଜାର ଏକ", dt.date(2001, 1, 26)),
    ("fifth of March nineteen eighty five", dt.date(1985, 3, 5)),
    ("March 5 1990", dt.date(1990, 3, 5)),
    ("15 अगस्त 1990", dt.date(1990, 8, 15)),
])
def test_dates_with_month_names(text, date):
    assert parse_date_words(text, TODAY) == date


@pytest.mark.parametrize("text", ["thirty February 1990", "पंद्रह उन्नीस सौ नब्बे", "March", "hello"])
def test_impossible_or_incomplete_dates_are_refused(text):
    assert parse_date_words(text, TODAY) is None


def test_the_indian_system_composes_largest_group_first():
    assert compose([("number", 1), ("multiplier", 100000), ("number", 20), ("multiplier", 1000)]) == 120000
    assert compose([("prefix", 0.5), ("multiplier", 1000)]) is None


def test_form_answers_accept_numbers_and_dates_in_words():
    catalog = default_catalog()
    income = next(f for f in catalog.get("income_certificate").fields if f.type == "amount")
    assert validate("ପଚାଶ ହଜାର ଟଙ୍କା", income, catalog, TODAY).value == 50000
    assert validate("fifty thousand rupees", income, catalog, TODAY).value == 50000
    assert validate("pachas hazar", income, catalog, TODAY).value == 50000
    birth = Field("dob", "date", {}, {}, True, {"past_only": True})
    assert validate("पंद्रह अगस्त उन्नीस सौ नब्बे", birth, catalog, TODAY).value == "15/08/1990"
    age = Field("age", "number", {}, {}, True, {"min": 0, "max": 120})
    assert validate("ପଚିଶି", age, catalog, TODAY).value == 25
    assert validate("two hundred", age, catalog, TODAY).error == "too_large"
