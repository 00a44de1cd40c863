"""Date rules of https://yandex.ru/dev/metrika/en/data-import/date (spec §2.5)."""

from datetime import UTC, datetime

import pytest

from emulator.dates import (
    DateFormatError,
    EndOfDay,
    parse_csv_datetime,
    parse_json_date,
    parse_json_datetime,
    parse_unix_seconds,
    zone,
)

MSK = zone("Europe/Moscow")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21.04.2020", datetime(2020, 4, 21, 23, 59)),
        ("21.04.20", datetime(2020, 4, 21, 23, 59)),
        ("2020-04-21", datetime(2020, 4, 21, 23, 59)),
        ("21.04.2020 11:59:21", datetime(2020, 4, 21, 11, 59, 21)),
        ("21.04.20 11:59", datetime(2020, 4, 21, 11, 59)),
        ("21.04.2020 11:59", datetime(2020, 4, 21, 11, 59)),
        ("21.04.20 11:59:21", datetime(2020, 4, 21, 11, 59, 21)),
        ("2020-04-21 11:59:21", datetime(2020, 4, 21, 11, 59, 21)),
        ("2020-04-21 11:59", datetime(2020, 4, 21, 11, 59)),
    ],
)
def test_every_documented_csv_format(text, expected):
    assert parse_csv_datetime(text, MSK) == expected.replace(tzinfo=MSK)


def test_date_only_is_end_of_day_per_option():
    assert parse_csv_datetime("12.02.2024", MSK).time().isoformat() == "23:59:00"
    assert parse_csv_datetime("12.02.2024", MSK, EndOfDay.DIRECT).time().isoformat() == "23:59:59"


def test_times_are_read_in_the_counter_zone():
    value = parse_csv_datetime("2020-04-21 12:00:00", MSK)
    assert value.astimezone(UTC) == datetime(2020, 4, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["31.12.1969", "1969-12-31 23:59:59", "31.12.69"])
def test_dates_before_1970_are_errors(text):
    with pytest.raises(DateFormatError, match="1970"):
        parse_csv_datetime(text, MSK)


@pytest.mark.parametrize(
    "text", ["2020/04/21", "21-04-2020", "2020-13-01", "32.01.2020", "tomorrow", ""]
)
def test_other_forms_are_errors(text):
    with pytest.raises(DateFormatError):
        parse_csv_datetime(text, MSK)


def test_json_formats_including_iso_with_offset():
    assert parse_json_datetime("2022-09-21 09:48:23", MSK) == datetime(
        2022, 9, 21, 9, 48, 23, tzinfo=MSK
    )
    assert parse_json_datetime("2022-09-21", MSK).hour == 23
    iso = parse_json_datetime("2025-01-01T00:00:00Z", MSK)
    assert iso == datetime(2025, 1, 1, tzinfo=UTC)
    assert iso.utcoffset() == MSK.utcoffset(iso.replace(tzinfo=None))
    with pytest.raises(DateFormatError):
        parse_json_datetime("21.09.2022", MSK)


def test_json_birth_date():
    assert parse_json_date("1990-05-01").isoformat() == "1990-05-01"
    with pytest.raises(DateFormatError, match="1970"):
        parse_json_date("1960-05-01")
    for compact in ("19900501", "1990-W18-2", "1990-123"):
        with pytest.raises(DateFormatError, match="yyyy-MM-dd"):
            parse_json_date(compact)


def test_end_of_day_around_a_dst_change():
    berlin = zone("Europe/Berlin")
    # 2024-03-31: clocks jump from 02:00 to 03:00; the end of that day is still 23:59 local.
    value = parse_csv_datetime("31.03.2024", berlin)
    assert value.astimezone(UTC) == datetime(2024, 3, 31, 21, 59, tzinfo=UTC)
    before = parse_csv_datetime("30.03.2024", berlin)
    assert before.astimezone(UTC) == datetime(2024, 3, 30, 22, 59, tzinfo=UTC)


def test_unknown_zone_is_a_plain_error():
    with pytest.raises(ValueError, match="IANA"):
        zone("Mars/Olympus")


def test_unix_seconds_are_utc():
    assert parse_unix_seconds("1710028800") == datetime(2024, 3, 10, tzinfo=UTC)
    with pytest.raises(DateFormatError):
        parse_unix_seconds("2024-03-10")
