"""Malformed files give plain row errors with line and column; chunking never changes a verdict."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.domain import UploadKind
from emulator.formats import FormatOptions, bytesource, csvread, iter_parse_csv, parse_csv

CORPUS = Path(__file__).parent / "corpus"
KIND = UploadKind.SIMPLE_ORDERS

# file → (line, column, code) of its first error; the corpus covers every case of issue 2 item 7.
MALFORMED = {
    "empty.csv": (0, None, "empty_file"),
    "header_only.csv": (0, None, "no_rows"),
    "missing_header.csv": (1, None, "missing_header"),
    "wrong_delimiter.csv": (1, None, "wrong_delimiter"),
    "invalid_utf8.csv": (3, "emails", "invalid_encoding"),
    "unbalanced_quotes.csv": (3, None, "unbalanced_quotes"),
    "long_cell.csv": (2, "id", "too_long"),
    "binary.png": (0, None, "binary_file"),
    "too_many_cells.csv": (3, None, "wrong_cell_count"),
    "too_few_cells.csv": (2, None, "wrong_cell_count"),
    "lone_cr.csv": (2, None, "invalid_line_break"),
    "nul_in_row.csv": (4, "id", "nul_byte"),
    "blank_and_quoted_newlines.csv": (6, "create_date_time", "invalid_date"),
}


def outcome(result):
    return (
        result.records,
        result.lines,
        [(e.line, e.column, e.code) for e in result.errors],
        result.rows,
    )


@pytest.mark.parametrize(("name", "expected"), sorted(MALFORMED.items()))
def test_each_malformed_file_gives_a_located_plain_error(name, expected):
    result = parse_csv(KIND, CORPUS / name)
    first = result.errors[0]
    assert (first.line, first.column, first.code) == expected
    assert "Traceback" not in first.message and len(first.message) < 300


def test_good_rows_around_a_bad_one_are_kept_with_their_lines():
    assert parse_csv(KIND, CORPUS / "invalid_utf8.csv").lines == [2, 4]
    assert parse_csv(KIND, CORPUS / "too_many_cells.csv").lines == [2, 4]
    assert parse_csv(KIND, CORPUS / "lone_cr.csv").lines == [3]
    assert parse_csv(KIND, CORPUS / "long_cell.csv").lines == [3]


def test_quoted_line_breaks_and_blank_lines_shift_the_line_numbers():
    result = parse_csv(KIND, CORPUS / "blank_and_quoted_newlines.csv")
    assert result.lines == [2, 5]
    assert result.records[0].client_uniq_id == "line one\nline two"
    assert result.rows == 3


def test_wrong_delimiter_says_so_in_plain_words():
    (error,) = parse_csv(KIND, CORPUS / "wrong_delimiter.csv").errors
    assert "wrong delimiter?" in error.message and "SEMICOLON" in error.message
    right = parse_csv(KIND, CORPUS / "wrong_delimiter.csv", FormatOptions(delimiter=";"))
    assert right.ok and len(right.records) == 2


def test_a_byte_order_mark_and_crlf_line_ends_are_fine():
    result = parse_csv(KIND, CORPUS / "excel_bom_crlf.csv")
    assert result.ok and result.lines == [2, 3] and result.records[0].id == "s_ord1"


def test_a_line_without_breaks_stops_reading_with_a_plain_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bytesource, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "blob.csv"
    path.write_bytes(HEADER.encode() + b"\n" + b"o1,10.01.2024,,1,,,,,,,\n" + b"x" * 5000)
    result = parse_csv(KIND, path)
    assert [(e.line, e.code) for e in result.errors] == [(3, "binary_file")]
    assert result.lines == [2]


def test_the_unbalanced_quote_names_its_line_and_stops_reading():
    result = parse_csv(KIND, CORPUS / "unbalanced_quotes.csv")
    assert [e.line for e in result.errors] == [3]
    assert result.lines == [2]


# -- chunking and the two readers ------------------------------------------------------------

HEADER = (
    "id,create_date_time,client_uniq_id,client_ids,emails,phones,"
    "order_status,revenue,cost,goals,currency"
)
ROWS = [
    'o{n},10.01.2024 11:56,u{n},{n},mail{n}@example.com,,PAID,200,150,"g:1,h",',
    "o{n},2024-01-20,,{n},,79990000000,,1.5,,,EUR",
    'o{n},10.01.2024,"two\nlines",{n},,,,,,,',
    'o{n},10.01.2024,"say ""hi""",{n},,,,,,,',
    'o{n},10.01.2024,a"b,{n},,,,,,,',
    'o{n},10.01.2024,"a"b,{n},,,,,,,',
    "",
    ",,,,,,,,,,",
    "o{n},10.01.2024,,{n},,,,,,,,extra",
    "o{n},10.01.2024",
    "o{n},99.99.2024,,{n},,,,,,,",
    "o{n},10.01.2024,,{n},Bad@Example.com,8 (999) 555-11-11,,,,,",
]
RAW_ROWS = [
    b"o\xff{n},10.01.2024,,{n},,,,,,,",
    b"o{n},10.01.2024,\x00,{n},,,,,,,",
    b"o{n},10.01.2024,a\rb,{n},,,,,,,",
]


@st.composite
def messy_files(draw):
    lines = []
    for n in range(draw(st.integers(1, 40))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(RAW_ROWS)).replace(b"{n}", str(n + 1).encode()))
        else:
            lines.append(draw(st.sampled_from(ROWS)).format(n=n + 1).encode())
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    body = end.join([HEADER.encode(), *lines])
    if draw(st.booleans()):
        body += end
    if draw(st.integers(0, 15)) == 0:
        body += b'o99,10.01.2024,"never closed,1,,,,,,,\n'
    return body


def _parse(data: bytes):
    return outcome(parse_csv(KIND, io.BytesIO(data)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messy_files(), st.sampled_from([7, 64, 211]))
def test_small_chunks_and_the_exact_reader_agree_with_the_fast_reader(monkeypatch, data, chunk):
    whole = _parse(data)
    with monkeypatch.context() as patch:
        patch.setattr(bytesource, "CHUNK_BYTES", chunk)
        assert _parse(data) == whole
    with monkeypatch.context() as patch:
        patch.setattr(csvread, "read_fast", lambda *args: None)
        assert _parse(data) == whole


def test_a_file_is_read_in_batches(monkeypatch):
    monkeypatch.setattr(bytesource, "CHUNK_BYTES", 4096)
    text = HEADER + "\n" + "\n".join(ROWS[0].format(n=n) for n in range(1, 2001)) + "\n"
    batches = list(iter_parse_csv(KIND, io.BytesIO(text.encode())))
    assert len(batches) > 10
    assert sum(len(b.records) for b in batches) == 2000
    assert [line for b in batches for line in b.lines] == list(range(2, 2002))


def test_a_text_stream_is_read_as_utf8():
    text = HEADER + "\n" + ROWS[0].format(n=1) + "\n"
    assert parse_csv(KIND, io.StringIO(text)).lines == [2]


@pytest.mark.parametrize(("name", "status"), [("invalid_utf8.csv", 1), ("excel_bom_crlf.csv", 0)])
def test_the_check_process_exits_cleanly(name, status):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "check",
            str(CORPUS / name),
            "--kind",
            "simple_orders",
            "--now",
            "2024-01-25T00:00",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == status, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[-1].endswith(("error", "errors", "warning", "warnings"))
