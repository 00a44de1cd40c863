"""pytest-benchmark timings of the upload codecs at a moderate size.

    python -m pytest benchmarks/bench_parse.py --benchmark-columns=min,median,max,rounds

100k simple-order rows (a tenth of ``parse_vs_csv_reader.py``, which compares the full
million with a bare ``csv.reader`` loop), and 10k orders as a JSON body.
"""

import io
import json
from datetime import UTC, datetime

import pytest
from simple_orders_data import write

from emulator.domain import UploadKind
from emulator.formats import (
    FormatOptions,
    iter_validate_csv,
    parse_csv,
    parse_json,
    to_json,
    write_csv,
)
from emulator.formats.checking import FileCheck

ROWS = 100_000
OPTIONS = FormatOptions(now=datetime(2024, 12, 31, tzinfo=UTC))


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    target = tmp_path_factory.mktemp("bench") / "simple_orders.csv"
    write(target, rows_count=ROWS)
    return target


@pytest.fixture(scope="module")
def records(path):
    return parse_csv(UploadKind.SIMPLE_ORDERS, path, OPTIONS).records


def _validate(path):
    return sum(b.rows for b in iter_validate_csv(UploadKind.SIMPLE_ORDERS, path, OPTIONS))


def _check(path):
    run = FileCheck(UploadKind.SIMPLE_ORDERS, path, OPTIONS, max_warnings_per_code=20)
    return sum(1 for _ in run)


@pytest.mark.benchmark(group="csv")
def test_validate(benchmark, path):
    assert benchmark(_validate, path) == ROWS


@pytest.mark.benchmark(group="csv")
def test_check(benchmark, path):
    benchmark(_check, path)


@pytest.mark.benchmark(group="csv")
def test_parse_to_records(benchmark, path):
    result = benchmark(parse_csv, UploadKind.SIMPLE_ORDERS, path, OPTIONS)
    assert result.rows == ROWS


@pytest.mark.benchmark(group="csv")
def test_write(benchmark, records):
    benchmark(lambda: write_csv(UploadKind.SIMPLE_ORDERS, records, io.StringIO(), OPTIONS))


@pytest.fixture(scope="module")
def orders_body():
    orders = [
        {
            "id": str(n),
            "client_uniq_id": f"c{n // 3}",
            "client_type": "CONTACT",
            "order_status": "PAID",
            "create_date_time": "2024-09-21 09:48:23",
            "revenue": 5000 + n,
            "goals": [{"goal_action_id": "goal_id1", "price": 123.5}],
            "products": {"pear": 10, "apple": 30},
        }
        for n in range(10_000)
    ]
    return json.dumps({"orders": orders}).encode()


@pytest.mark.benchmark(group="json")
def test_parse_orders_json(benchmark, orders_body):
    result = benchmark(parse_json, UploadKind.ORDERS, orders_body, OPTIONS)
    assert result.ok and len(result.records) == 10_000


@pytest.mark.benchmark(group="json")
def test_orders_to_json(benchmark, orders_body):
    records = parse_json(UploadKind.ORDERS, orders_body, OPTIONS).records
    benchmark(to_json, UploadKind.ORDERS, records, OPTIONS)
