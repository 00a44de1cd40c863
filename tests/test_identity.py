"""Identifier rules, with the vectors of https://yandex.ru/dev/metrika/ru/data-import/hashing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.identity import (
    IdentityError,
    is_canonical_phone,
    md5_hex,
    normalize_email,
    normalize_md5,
    normalize_phone,
    parse_client_id,
)


@pytest.mark.parametrize(
    "raw", ["8 (999) 555-11-11", "+7 999 555 11 11", "9995551111", "79995551111"]
)
def test_phone_forms_normalise_to_digits_with_country_code(raw):
    assert normalize_phone(raw) == "79995551111"


@pytest.mark.parametrize("raw", ["555-11-11", "", "123456789", "+7 (999)"])
def test_phone_with_fewer_than_ten_digits_is_an_error(raw):
    with pytest.raises(IdentityError, match="at least 10"):
        normalize_phone(raw)


def test_phone_longer_than_e164_is_an_error():
    with pytest.raises(IdentityError, match="at most 15"):
        normalize_phone("1234567890123456")


def test_only_the_digit_form_is_canonical():
    assert is_canonical_phone("79995551111")
    assert not is_canonical_phone("7 (999) 555-11-11")
    assert not is_canonical_phone("89995551111")


def test_documented_md5_vectors():
    assert md5_hex(normalize_email("mail@yandex.ru")) == "3c56ff8fef0f6c65b36b2d25720fe276"
    assert md5_hex(normalize_phone("79995551111")) == "f09f2c3d48f31e2a802944ade2e5aec5"
    assert md5_hex(normalize_phone("8 (987) 654-32-10")) == "5c5259938ed3e632bc5e3f94731090af"


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Mail@Yandex.RU ") == "mail@yandex.ru"


@pytest.mark.parametrize("raw", ["mail", "mail@", "@yandex.ru", "a b@yandex.ru", "a@b"])
def test_malformed_email_is_an_error(raw):
    with pytest.raises(IdentityError):
        normalize_email(raw)


def test_md5_accepts_upper_case_and_stores_lower():
    assert normalize_md5("3C56FF8FEF0F6C65B36B2D25720FE276") == "3c56ff8fef0f6c65b36b2d25720fe276"
    with pytest.raises(IdentityError):
        normalize_md5("3c56ff8fef0f6c65b36b2d25720fe27")


@pytest.mark.parametrize("raw", ["1551977723718998723", 1551977723718998723, " 12345 "])
def test_client_id_accepts_strings_and_integers(raw):
    assert parse_client_id(raw) == int(str(raw).strip())


@pytest.mark.parametrize("raw", ["0", "-5", "18446744073709551616", "12a", "", "1.5", True])
def test_client_id_must_be_a_positive_uint64(raw):
    with pytest.raises(IdentityError):
        parse_client_id(raw)


@given(st.integers(min_value=1, max_value=2**64 - 1))
def test_every_uint64_is_a_client_id(value):
    assert parse_client_id(str(value)) == value


@given(st.text(alphabet="0123456789 ()-+", max_size=25))
def test_phone_normalisation_is_idempotent(raw):
    try:
        once = normalize_phone(raw)
    except IdentityError:
        return
    assert normalize_phone(once) == once
    assert once.isdigit()
