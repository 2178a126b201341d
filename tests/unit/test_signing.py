"""seva.signing: the X-Seva-Signature both sides of the department link compute and check."""
import hashlib
import hmac
import json

import pytest

from seva import signing

SECRET = "department-secret"
BODY = json.dumps({"reference": "OD-2024-000123", "note": "ଆଧାର କାର୍ଡ"}, ensure_ascii=False).encode()


def test_sign_is_hmac_sha256_of_the_bytes_in_hex():
    # RFC 4231, test case 2: an answer computed by somebody else
    assert signing.sign(b"what do ya want for nothing?", "Jefe") == \
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signing.sign(BODY, SECRET) == "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert signing.HEADER == "X-Seva-Signature"


def test_round_trip():
    assert signing.verify(BODY, signing.sign(BODY, SECRET), SECRET) is True


def test_a_changed_body_or_another_secret_is_refused():
    header = signing.sign(BODY, SECRET)
    assert signing.verify(BODY.replace(b"123", b"124"), header, SECRET) is False
    assert signing.verify(BODY + b" ", header, SECRET) is False
    assert signing.verify(BODY, header, SECRET + "x") is False
    assert signing.verify(BODY, signing.sign(BODY, "other"), SECRET) is False


def test_the_same_json_serialised_again_is_other_bytes_and_is_refused():
    """Why the MAC is over the raw body: parsing and re-serialising does not give it back."""
    again = json.dumps(json.loads(BODY)).encode()  # \\u escapes instead of UTF-8
    assert json.loads(again) == json.loads(BODY) and again != BODY
    assert signing.verify(again, signing.sign(BODY, SECRET), SECRET) is False


@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha256", signing.sign(BODY, SECRET)[len("sha256="):],  # no prefix
    "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
    signing.sign(BODY, SECRET)[:-2],  # truncated
    signing.sign(BODY, SECRET) + "00",  # too long
    "sha256=" + "zz" * 32,  # not hex
    "sha256=" + "é" * 64,  # not ASCII
])
def test_missing_or_malformed_headers_are_refused(header):
    assert signing.verify(BODY, header, SECRET) is False


def test_an_empty_secret_accepts_nothing():
    assert signing.verify(BODY, signing.sign(BODY, ""), "") is False


def test_the_digests_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    assert signing.verify(BODY, signing.sign(BODY, SECRET), SECRET) is True
    assert signing.verify(BODY, signing.sign(b"other", SECRET), SECRET) is False
    assert len(calls) == 2
