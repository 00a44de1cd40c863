"""Parse + validate a 1M-row simple-orders CSV, side by side with a bare ``csv.reader`` loop.

    python benchmarks/parse_vs_csv_reader.py [--rows 1000000] [--repeat 3] [--records]

The file is generated in a temporary directory. Each contender runs ``--repeat`` times,
interleaved so that a busy machine slows all alike; the best and the median wall time of
each are printed with their ratio to ``csv.reader``'s. The parser uses two threads, so on a
two-core machine any other busy process slows it more than the single-threaded
``csv.reader``. Contenders:

- ``csv.reader``: ``for row in csv.reader(file): pass`` — reading only, no checks;
- ``validate``: :func:`emulator.formats.iter_validate_csv` — every field rule, no records;
- ``check``: what ``crmemu check`` does — validate plus the lint warnings;
- ``records`` (with ``--records``): :func:`emulator.formats.parse_csv` — domain records too.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from simple_orders_data import write

from emulator.domain import UploadKind
from emulator.formats import FormatOptions, iter_validate_csv, parse_csv
from emulator.formats.checking import FileCheck

OPTIONS = FormatOptions(now=datetime(2024, 12, 31, tzinfo=UTC))


def bare_csv_reader(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as stream:
        return sum(1 for _ in csv.reader(stream)) - 1


def validate(path: Path) -> int:
    return sum(batch.rows for batch in iter_validate_csv(UploadKind.SIMPLE_ORDERS, path, OPTIONS))


def check(path: Path) -> int:
    run = FileCheck(UploadKind.SIMPLE_ORDERS, path, OPTIONS, max_warnings_per_code=20)
    for _ in run:
        pass
    return run.summary.rows


def records(path: Path) -> int:
    return parse_csv(UploadKind.SIMPLE_ORDERS, path, OPTIONS).rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--records", action="store_true", help="also time building records")
    args = parser.parse_args()
    contenders: dict[str, Callable[[Path], int]] = {
        "csv.reader": bare_csv_reader,
        "validate": validate,
        "check": check,
    }
    if args.records:
        contenders["records"] = records
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "simple_orders.csv"
        write(path, rows_count=args.rows)
        size = path.stat().st_size
        print(f"{args.rows:,} rows, {size / 1e6:.0f} MB")
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeat):
            for name, run in contenders.items():
                start = time.perf_counter()
                rows = run(path)
                times[name].append(time.perf_counter() - start)
                assert rows == args.rows, (name, rows)
    best_base, median_base = min(times["csv.reader"]), statistics.median(times["csv.reader"])
    for name, seconds in times.items():
        best, median = min(seconds), statistics.median(seconds)
        print(
            f"{name:>11}: best {best:6.2f} s ({best / best_base:5.2f}x csv.reader), "
            f"median {median:6.2f} s ({median / median_base:5.2f}x), "
            f"{args.rows / best / 1e6:5.2f} M rows/s"
        )


if __name__ == "__main__":
    main()
