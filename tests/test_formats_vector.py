"""The column-at-a-time fast paths agree with the scalar rules they stand in for.

:mod:`emulator.dates` and :mod:`emulator.identity` are the single source of truth; the
vectorised paths must never accept a value differently. Here every value the fast path
accepts is checked against the scalar function, over generated near-miss inputs.
"""

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.dates import DateFormatError, EndOfDay, parse_csv_datetime, parse_json_datetime, zone
from emulator.formats import FormatOptions
from emulator.formats.cellrules import IntRule, MoneyRule, YclidRule, parse_money
from emulator.formats.cells import Family
from emulator.formats.daterules import UnixTimeRule
from emulator.formats.hashing import KeyCounts, Keys, SeenKeys, hash_strings
from emulator.formats.validate import make_ctx
from emulator.formats.vdates import LocalColumn, ZoneOffsets
from emulator.formats.videntity import check_client_ids, check_emails, check_md5s, check_phones
from emulator.identity import (
    IdentityError,
    normalize_email,
    normalize_md5,
    normalize_phone,
    parse_client_id,
)

ZONES = [
    "Europe/Moscow",
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]
EPOCH = datetime(1970, 1, 1)

digits = st.text("0123456789", min_size=1, max_size=4)
near_dates = st.one_of(
    st.from_regex(
        r"[0-9]{1,4}[.\-/][0-9]{1,2}[.\-/][0-9]{1,4}( ?[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?)?",
        fullmatch=True,
    ),
    st.builds(
        lambda d, m, y, t: f"{d:02d}.{m:02d}.{y} {t}".strip(),
        st.integers(0, 32),
        st.integers(0, 13),
        st.sampled_from(["1969", "1970", "2000", "2024", "1900", "69", "70", "00", "68", "99"]),
        st.sampled_from(["", "00:00", "23:59", "24:00", "12:60", "02:30", "23:59:59", "23:59:60"]),
    ),
    st.builds(
        lambda y, m, d, t: f"{y}-{m:02d}-{d:02d} {t}".strip(),
        st.sampled_from(["1969", "1970", "2000", "2024", "2100", "9999", "0000"]),
        st.integers(0, 13),
        st.integers(0, 32),
        st.sampled_from(["", "02:30", "03:30:00", "1:00", "00:00:00"]),
    ),
    st.text(st.sampled_from("0123456789.-: \t٢"), max_size=20),
)


def _scalar_seconds(text, tz, end_of_day, parse=parse_csv_datetime):
    try:
        return int(parse(text, tz, end_of_day).timestamp())
    except DateFormatError:
        return None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(near_dates, min_size=1, max_size=30),
    st.sampled_from(ZONES),
    st.sampled_from(list(EndOfDay)),
)
def test_fast_dates_agree_with_dates_module(values, zone_name, end_of_day):
    tz = zone(zone_name)
    local = LocalColumn(pa.array(values, pa.string()), end_of_day)
    utc = ZoneOffsets(tz).to_utc(local.seconds[local.accepted])
    for value, seconds in zip(
        np.asarray(values, object)[local.accepted], utc.tolist(), strict=True
    ):
        assert _scalar_seconds(value, tz, end_of_day) == seconds, value
    json_fast = local.accepted & local.json_shape
    json_utc = ZoneOffsets(tz).to_utc(local.seconds[json_fast])
    for value, seconds in zip(
        np.asarray(values, object)[json_fast], json_utc.tolist(), strict=True
    ):
        assert _scalar_seconds(value, tz, end_of_day, parse_json_datetime) == seconds, value


def test_the_canonical_shapes_take_the_fast_path():
    values = [
        "21.04.2020",
        "21.04.20",
        "2020-04-21",
        "21.04.2020 11:59:21",
        "21.04.20 11:59",
        "2020-04-21 11:59",
    ]
    assert LocalColumn(pa.array(values), EndOfDay.METRICA).accepted.all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 4_102_444_800), min_size=1, max_size=40), st.sampled_from(ZONES))
def test_zone_offsets_agree_with_zoneinfo_even_in_gaps_and_folds(locals_, zone_name):
    tz = zone(zone_name)
    # Cluster some values around the zone's clock changes of one year.
    seconds = np.asarray(locals_, np.int64)
    got = ZoneOffsets(tz).to_utc(seconds)
    expected = [
        int((EPOCH + timedelta(seconds=int(s))).replace(tzinfo=tz).timestamp()) for s in seconds
    ]
    assert got.tolist() == expected


def test_zone_offsets_around_a_spring_gap_and_an_autumn_fold():
    tz = zone("Europe/Berlin")
    start = int((datetime(2024, 3, 31) - EPOCH).total_seconds())
    fall = int((datetime(2024, 10, 27) - EPOCH).total_seconds())
    seconds = np.concatenate(
        [np.arange(start, start + 86400, 900), np.arange(fall, fall + 86400, 900)]
    )
    expected = [
        int((EPOCH + timedelta(seconds=int(s))).replace(tzinfo=tz).timestamp()) for s in seconds
    ]
    assert ZoneOffsets(tz).to_utc(seconds).tolist() == expected


identifier_text = (
    st.text(st.sampled_from('0123456789+()- .@abcXYZ_éÉ٣\t\x0b\x1c,;"aF'), max_size=20)
    | st.from_regex(r"[a-z0-9.]{1,6}@[a-z]{1,5}\.[a-z]{2,3}", fullmatch=True)
    | st.from_regex(r"[0-9a-fA-F]{30,33}", fullmatch=True)
    | st.from_regex(r"8?[0-9]{9,16}", fullmatch=True)
)


def _scalar(function, raw):
    try:
        return function(raw)
    except IdentityError:
        return None


@settings(max_examples=150, deadline=None)
@given(st.lists(identifier_text, min_size=1, max_size=25), st.sampled_from(["7", "1"]))
def test_identifier_fast_paths_agree_with_identity(values, country_code):
    items = pa.array(values, pa.string())
    checks = [
        (check_phones(items, country_code), lambda r: normalize_phone(r, country_code), True),
        (check_emails(items), normalize_email, True),
        (check_md5s(items), normalize_md5, False),
        (check_client_ids(items), parse_client_id, False),
    ]
    for verdict, scalar, kept_as_sent in checks:
        for i, raw in enumerate(values):
            expected = _scalar(scalar, raw)
            assert bool(verdict.ok[i]) == (expected is not None), (raw, scalar)
            if expected is None:
                assert i in verdict.errors
                continue
            value = verdict.values[i].as_py()
            assert value == (raw if kept_as_sent else expected), (raw, scalar)
            if kept_as_sent:
                assert (i in verdict.warnings) == (expected != raw), (raw, scalar)
                if expected != raw:  # the message names the canonical form the scalar rule gives
                    assert f"{expected}" in verdict.warnings[i], (raw, verdict.warnings[i])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("0123456789.,-+ e٣"), max_size=16), min_size=1, max_size=20)
)
def test_number_rules_agree_with_their_scalar_parsers(values):
    ctx = make_ctx(FormatOptions(), Family.CSV)
    cells = pa.array(values, pa.string())
    money = MoneyRule().check(cells, ctx).values.to_pylist()
    whole = IntRule().check(cells, ctx).values.to_pylist()
    yclid = YclidRule().check(cells, ctx).values.to_pylist()
    for raw, m, w, y in zip(values, money, whole, yclid, strict=True):
        assert (m is not None) == (_try(parse_money, raw) is not None), raw
        assert w == _try(
            lambda t: int(t) if t.isascii() and t.isdigit() and int(t) < 2**31 else None, raw
        )
        assert y == _try(
            lambda t: int(t) if t.isascii() and t.isdigit() and 0 < int(t) < 2**64 else None, raw
        )


def test_offline_datetime_must_not_be_after_now():
    now = datetime(2024, 3, 1, 12).astimezone()
    ctx = make_ctx(FormatOptions(now=now), Family.CSV)
    stamp = int(now.timestamp())
    checked = UnixTimeRule().check(pa.array([str(stamp), str(stamp + 1), "-5", "1.5"]), ctx)
    assert checked.values.to_pylist() == [stamp, None, None, None]
    codes = Counter(f.code for f in checked.findings for _ in f.rows)
    assert codes == {"future_date": 1, "invalid_date": 2}


def _try(function, raw):
    try:
        return function(raw) if raw else None
    except ValueError:
        return None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text("abc", max_size=3), max_size=30), min_size=1, max_size=5))
def test_seen_keys_behave_like_a_set_across_batches(batches):
    seen = SeenKeys()
    reference: set[str] = set()
    for batch in batches:
        got = seen.add(Keys(hash_strings(pa.array(batch, pa.string()))))
        expected = []
        for key in batch:
            expected.append(key in reference)
            reference.add(key)
        assert got.tolist() == expected


def test_key_counts_report_the_row_that_passes_the_limit():
    counts = KeyCounts(limit=3)
    first = hash_strings(pa.array(["a", "b", "a", "a"]))
    assert counts.add(Keys(first)) == []
    second = hash_strings(pa.array(["b", "a", "c", "a"]))
    assert counts.add(Keys(second)) == [1]  # the fourth "a" is row 1 of the second batch
    assert counts.total(hash_strings(pa.array(["a", "b", "zz"]))).tolist() == [5, 2, 0]


def test_distinct_strings_get_distinct_hashes():
    values = [f"order-{i}" for i in range(100_000)] + ["", "a", "a\x00", "b"]
    assert len(set(hash_strings(pa.array(values)).tolist())) == len(values)
