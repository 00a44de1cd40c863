"""A realistic simple-orders CSV of any size, for the parsing benchmarks (not committed data).

Rows mix the documented shapes: one or two e-mails, ClientIDs, phones (a few in local
format), dates with and without a time, statuses left empty, goals with and without a
price. Most rows are valid; about 1 in 500 has an error, as a real export might.
"""

from __future__ import annotations

import random
from pathlib import Path

HEADER = (
    "id,create_date_time,client_uniq_id,client_ids,emails,phones,"
    "order_status,revenue,cost,goals,currency\n"
)
STATUSES = ["PAID", "IN_PROGRESS", "CANCELLED", "SPAM", "", "good_lead"]
GOALS = ['"oplata_cash:200,filial_1"', "lead", "", "", "zakaz:1500.50"]
CURRENCIES = ["", "", "RUB", "EUR"]


def rows(start: int, count: int, seed: int = 1) -> str:
    """``count`` data rows numbered from ``start`` (deterministic for a seed)."""
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    for n in range(start, start + count):
        day, month, hour, minute = (
            rng.randrange(1, 29),
            rng.randrange(1, 13),
            rng.randrange(24),
            rng.randrange(60),
        )
        date = (
            f"{day:02d}.{month:02d}.2024 {hour:02d}:{minute:02d}"
            if n % 7
            else f"2024-{month:02d}-{day:02d}"
        )
        email = f"user{rng.randrange(10**7)}@example.com"
        emails = (email, f'"{email},alt{n}@example.org"', "")[n % 3]
        phone = (
            f"79{rng.randrange(10**9):09d}"
            if n % 50
            else f"8 (9{rng.randrange(100):02d}) 555-11-{n % 100:02d}"
        )
        client_id = str(rng.randrange(10**18, 2 * 10**18)) if n % 4 else ""
        revenue = rng.randrange(100, 100_000)
        date = "31.02.2024" if n % 500 == 0 else date  # one row in 500 is invalid
        status, goals, currency = rng.choice(STATUSES), rng.choice(GOALS), rng.choice(CURRENCIES)
        out.append(
            f"ord{n},{date},user{n // 3},{client_id},{emails},{phone},"
            f"{status},{revenue},{revenue // 2},{goals},{currency}\n"
        )
    return "".join(out)


def write(path: Path, *, rows_count: int | None = None, size_bytes: int | None = None) -> int:
    """Write a file of ``rows_count`` rows or of about ``size_bytes``; returns the rows written."""
    written = 0
    block = 100_000
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        while True:
            if rows_count is not None and written >= rows_count:
                break
            if size_bytes is not None and out.tell() >= size_bytes:
                break
            count = block if rows_count is None else min(block, rows_count - written)
            out.write(rows(written + 1, count))
            written += count
    return written
