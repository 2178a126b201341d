"""Every field type: good answers normalised, bad answers refused with the right reason."""
import datetime as dt

import pytest

from seva.catalog import Field
from seva.validators import parse_amount, parse_date, parse_yes_no, validate

TODAY = dt.date(2026, 11, 28)


def field(ftype, **options):
    texts = {"en": "x", "hi": "x", "or": "x"}
    return Field("f", ftype, texts, texts, options.pop("required", True), options)


@pytest.mark.parametrize("text, expected", [
    ("Ramesh Kumar Sahoo", "Ramesh Kumar Sahoo"),
    ("  priyanka   mohanty ", "priyanka mohanty"),
    ("ପ୍ରିୟଙ୍କା ମହାନ୍ତି", "ପ୍ରିୟଙ୍କା ମହାନ୍ତି"),
    ("सुनीता देवी", "सुनीता देवी"),
    ("K. Ramana Rao", "K. Ramana Rao"),
])
def test_name_accepts_names_in_any_script(catalog, text, expected):
    assert validate(text, field("name"), catalog, TODAY).value == expected


@pytest.mark.parametrize("text", ["12345", "R2D2", "a", "!!!", "x" * 81, "@@ ##"])
def test_name_refuses_non_names(catalog, text):
    assert validate(text, field("name"), catalog, TODAY).error == "name"


@pytest.mark.parametrize("text, expected", [
    ("12/03/1990", dt.date(1990, 3, 12)),
    ("12-3-1990", dt.date(1990, 3, 12)),
    ("12.03.90", dt.date(1990, 3, 12)),
    ("5/6/21", dt.date(2021, 6, 5)),
    ("12 March 2020", dt.date(2020, 3, 12)),
    ("3 mar 2019", dt.date(2019, 3, 3)),
    ("March 12 2020", dt.date(2020, 3, 12)),
    ("୧୨/୦୩/୧୯୯୦", dt.date(1990, 3, 12)),
    ("१२/०३/१९९०", dt.date(1990, 3, 12)),
    ("12 ମାର୍ଚ୍ଚ 2020", dt.date(2020, 3, 12)),
    ("12 मार्च 2020", dt.date(2020, 3, 12)),
    ("1990-03-12", dt.date(1990, 3, 12)),
    ("15th August 1990.", dt.date(1990, 8, 15)),  # as Whisper writes a spoken date
    ("5th of March 1985", dt.date(1985, 3, 5)),
])
def test_dates_in_common_forms(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["31/02/2020", "yesterday", "12/13/2020", "2020", "", "00/00/0000"])
def test_unreadable_dates_are_refused(catalog, text):
    result = validate(text, field("date"), catalog, TODAY)
    assert result.error in {"date", "empty"}


def test_future_date_refused_where_it_makes_no_sense(catalog):
    assert validate("01/01/2027", field("date", past_only=True), catalog, TODAY).error == "date_future"
    assert validate("01/01/2027", field("date"), catalog, TODAY).value == "01/01/2027"
    assert validate("01/01/2020", field("date", future_only=True), catalog, TODAY).error == "date_past"
    assert validate("01/01/1880", field("date"), catalog, TODAY).error == "date_too_old"


@pytest.mark.parametrize("text, district", [
    ("Cuttack", "cuttack"), ("cuttak", "cuttack"), ("କଟକ", "cuttack"), ("कटक", "cuttack"),
    ("Balasore", "balasore"), ("Baleswar", "balasore"), ("ବାଲେଶ୍ୱର", "balasore"),
    ("Khurda", "khordha"), ("ଖୋର୍ଦ୍ଧା", "khordha"), ("Keonjhar", "keonjhar"), ("Kendujhar", "keonjhar"),
    ("Sonepur", "subarnapur"), ("mayurbhanj", "mayurbhanj"), ("मयूरभंज", "mayurbhanj"),
    ("Bargarh", "bargarh"), ("ବରଗଡ଼", "bargarh"), ("Jajpur", "jajpur"), ("ଯାଜପୁର", "jajpur"),
    ("Cuttack district", "cuttack"),
])
def test_districts_in_three_languages(catalog, text, district):
    assert validate(text, field("district"), catalog, TODAY).value == district


@pytest.mark.parametrize("text", ["Kolkata", "Patna", "xyz", "12345"])
def test_unknown_districts_refused(catalog, text):
    assert validate(text, field("district"), catalog, TODAY).error == "district"


def test_there_are_thirty_districts(catalog):
    assert len(catalog.districts) == 30


@pytest.mark.parametrize("text, amount", [
    ("60000", 60000), ("60,000", 60000), ("Rs 60000", 60000), ("₹60,000", 60000), ("Rs. 1,20,000/-", 120000),
    ("1.5 lakh", 150000), ("2 lakhs", 200000), ("1.2 लाख", 120000), ("୭୫୦୦୦", 75000), ("2 ଲକ୍ଷ", 200000),
    ("50 hazar", 50000), ("60000 rupees", 60000), ("60000 ଟଙ୍କା", 60000),
    ("50,000.", 50000), ("25,000 rupees.", 25000),  # English voice notes, as Whisper writes them
])
def test_amounts(text, amount):
    assert parse_amount(text) == amount


def test_amount_errors_and_range(catalog):
    spec = field("amount", min=0, max=100000)
    assert validate("sixty thousand", spec, catalog, TODAY).value == 60000
    assert validate("a lot of money", spec, catalog, TODAY).error == "amount"
    assert validate("2 lakh", spec, catalog, TODAY).error == "too_large"
    assert validate("50000", spec, catalog, TODAY).value == 50000


def test_number(catalog):
    spec = field("number", min=1, max=20)
    assert validate("7", spec, catalog, TODAY).value == 7
    assert validate("୭", spec, catalog, TODAY).value == 7
    assert validate("0", spec, catalog, TODAY).error == "too_small"
    assert validate("21", spec, catalog, TODAY).error == "too_large"
    assert validate("seven", spec, catalog, TODAY).value == 7
    assert validate("many", spec, catalog, TODAY).error == "number"


@pytest.mark.parametrize("text, value", [
    ("yes", True), ("Haan", True), ("हाँ", True), ("ହଁ", True), ("ji haan", True), ("ok", True),
    ("no", False), ("nahi", False), ("नहीं", False), ("ନା", False), ("ନାହିଁ", False),
])
def test_yes_no(text, value):
    assert parse_yes_no(text) is value


def test_yes_no_refuses_other_words(catalog):
    assert validate("maybe later", field("yes_no"), catalog, TODAY).error == "yes_no"


def test_choice_by_number_label_synonym_any_language(catalog):
    spec = catalog.get("income_certificate").fields[-1]
    assert spec.type == "choice"
    assert validate("1", spec, catalog, TODAY).value == "education"
    assert validate("job", spec, catalog, TODAY).value == "job"
    assert validate("ଚାକିରି", spec, catalog, TODAY).value == "job"
    assert validate("naukri", spec, catalog, TODAY).value == "job"
    assert validate("पढ़ाई", spec, catalog, TODAY).value == "education"
    assert validate("9", spec, catalog, TODAY).error == "choice"
    assert validate("banana", spec, catalog, TODAY).error == "choice"


def test_pincode_and_phone(catalog):
    assert validate("751 001", field("pincode"), catalog, TODAY).value == "751001"
    assert validate("110001", field("pincode"), catalog, TODAY).error == "pincode"
    assert validate("+91 98765 43210", field("phone"), catalog, TODAY).value == "9876543210"
    assert validate("12345", field("phone"), catalog, TODAY).error == "phone"


def test_text_length_limits(catalog):
    spec = field("text", min_length=3, max_length=10)
    assert validate("ab", spec, catalog, TODAY).error == "text_short"
    assert validate("abcdefghijkl", spec, catalog, TODAY).error == "text_long"
    assert validate("Ward 5", spec, catalog, TODAY).value == "Ward 5"


def test_optional_field_can_be_skipped(catalog):
    assert validate("skip", field("text", required=False), catalog, TODAY).value == ""
    assert validate("skip", field("date"), catalog, TODAY).error == "date"


@pytest.mark.parametrize("junk", [None, 12, "", "   ", "x" * 10_000, "\u200d\u200c", "\x00\x01"])
def test_never_raises_on_junk(catalog, junk):
    for ftype in ("name", "text", "date", "district", "number", "amount", "yes_no", "pincode", "phone"):
        assert not validate(junk, field(ftype), catalog, TODAY).ok
