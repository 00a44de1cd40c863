"""``crmemu check``: every warning from a minimal file, exit status, text and JSON output."""

import json

import pytest

from emulator import cli
from emulator.formats import lint

NOW = "2024-03-01T12:00"
SIMPLE = "id,create_date_time,client_uniq_id,client_ids,emails,phones\n"


def check(tmp_path, capsys, text, *args, kind="simple_orders", name="upload.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    status = cli.main(["check", str(path), "--kind", kind, "--now", NOW, *args])
    return status, capsys.readouterr().out


def codes(out):
    issues = [line for line in out.splitlines() if ": error [" in line or ": warning [" in line]
    return [line.split("[", 1)[1].split("]", 1)[0] for line in issues]


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ("o1,01.02.2024 10:00,,1,,\n", "order_too_old"),
        (",29.02.2024 10:00,,1,,\n", "no_order_id"),
        ("o1,29.02.2024 10:00,,1,,\no1,29.02.2024 11:00,,2,,\n", "repeated_id"),
        ("o1,29.02.2024 10:00,,1,,89995551111\n", "phone_not_canonical"),
        ("o1,29.02.2024 10:00,,1,Mail@Example.com,\n", "email_not_canonical"),
        ("o1,29.02.2024 10:00,,,mail@example.com,\n", "low_client_id_share"),
    ],
)
def test_each_warning_from_a_minimal_file(tmp_path, capsys, rows, code):
    status, out = check(tmp_path, capsys, SIMPLE + rows)
    assert status == 0
    assert codes(out) == [code]


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ("1,buy,1706745600\n", "order_too_old"),  # 2024-02-01: a month before --now
        ("1,buy,1709200000\n1,buy,1709200000\n", "repeated_id"),
    ],
)
def test_offline_conversion_warnings(tmp_path, capsys, rows, code):
    status, out = check(
        tmp_path, capsys, "ClientId,Target,DateTime\n" + rows, kind="offline_conversions"
    )
    assert status == 0 and codes(out) == [code]


def test_more_than_100000_orders_for_one_customer(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lint, "MAX_ORDERS_PER_CUSTOMER", 2)
    rows = "".join(f"o{n},29.02.2024 10:00,c1,{n},,\n" for n in range(1, 5))
    status, out = check(tmp_path, capsys, SIMPLE + rows)
    assert status == 0 and codes(out) == ["too_many_orders"]
    assert "'c1' has 4 orders" in out and "is on line 4" in out


@pytest.mark.slow
def test_more_than_100000_orders_at_full_size(tmp_path, capsys):
    rows = "".join(f"o{n},29.02.2024 10:00,c1,{n},,\n" for n in range(1, 100_002))
    status, out = check(tmp_path, capsys, SIMPLE + rows)
    assert status == 0 and "has 100,001 orders" in out


def test_a_file_without_an_id_column_is_warned_once(tmp_path, capsys):
    status, out = check(
        tmp_path, capsys, "create_date_time,client_ids\n29.02.2024,1\n29.02.2024,2\n"
    )
    assert status == 0 and codes(out) == ["no_order_id"]


def test_an_unknown_column_is_a_warning_or_an_error_by_choice(tmp_path, capsys):
    text = SIMPLE.replace("\n", ",colour\n") + "o1,29.02.2024,,1,,,red\n"
    status, out = check(tmp_path, capsys, text)
    assert status == 0 and codes(out) == ["unknown_column"]
    status, out = check(tmp_path, capsys, text, "--unknown-columns", "error")
    assert status == 1 and codes(out) == ["unknown_column"]


def test_errors_give_exit_1_and_a_summary_line(tmp_path, capsys):
    status, out = check(tmp_path, capsys, SIMPLE + "o1,31.02.2024,,1,,\no2,29.02.2024,,x,,\n")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].endswith(
        "upload.csv:2: error [invalid_date] column 'create_date_time': "
        "'31.02.2024' is not a valid date: day is out of range for month"
    )
    assert "upload.csv:3: error [invalid_client_id] column 'client_ids'" in lines[1]
    assert lines[-1].endswith("2 rows (0 valid), 2 errors, 0 warnings")


def test_offline_conversions_in_the_future_are_errors(tmp_path, capsys):
    text = "ClientId,Target,DateTime\n1,buy,1709294400\n1,buy,1709294401\n"
    status, out = check(tmp_path, capsys, text, "--tz", "UTC", kind="offline_conversions")
    assert status == 1 and codes(out) == ["future_date"]
    assert ":3: error" in out


def test_semicolon_files_and_columns_mapping(tmp_path, capsys):
    text = "ИД;Клиент;Тип;Статус;Создан\n1;c1;CONTACT;paid;29.02.2024 10:00\n"
    mapping = (
        '"id":"ИД","client_uniq_id":"Клиент","client_type":"Тип",'
        '"order_status":"Статус","create_date_time":"Создан"'
    )
    status, out = check(
        tmp_path,
        capsys,
        text,
        "--delimiter",
        "SEMICOLON",
        "--columns-mapping",
        mapping,
        kind="orders",
    )
    assert status == 0 and out.strip().endswith("1 rows (1 valid), 0 errors, 0 warnings")


def test_warnings_beyond_the_cap_are_counted_not_printed(tmp_path, capsys):
    rows = "".join(f",29.02.2024,,{n},,\n" for n in range(1, 8))
    status, out = check(tmp_path, capsys, SIMPLE + rows, "--max-warnings-per-code", "3")
    assert status == 0 and codes(out).count("no_order_id") == 3
    assert "4 more warnings [no_order_id] not shown" in out
    assert out.splitlines()[-1].endswith("7 rows (7 valid), 0 errors, 7 warnings")


def test_json_output_has_the_documented_shape(tmp_path, capsys):
    rows = "o1,31.02.2024,,1,,\n,29.02.2024,,2,Mail@x.ru,\n"
    status, out = check(tmp_path, capsys, SIMPLE + rows, "--format", "json")
    document = json.loads(out)
    assert status == 1
    assert list(document) == ["file", "kind", "issues", "omitted", "summary", "ok"]
    assert document["kind"] == "simple_orders" and document["ok"] is False
    first = document["issues"][0]
    assert list(first) == ["line", "column", "severity", "code", "message"]
    assert (first["line"], first["column"], first["severity"]) == (2, "create_date_time", "error")
    assert document["summary"] == {
        "rows": 2,
        "valid_rows": 1,
        "errors": 1,
        "warnings": 2,
        "by_code": {"email_not_canonical": 1, "invalid_date": 1, "no_order_id": 1},
    }


def test_usage_problems_exit_2(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "missing.csv"), "--kind", "orders"]) == 2
    assert "No such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["check", "x.csv", "--kind", "orders", "--columns-mapping", "id=ИД"])
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["check", "x.csv", "--kind", "orders", "--tz", "Mars/Olympus"])
