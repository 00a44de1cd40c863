"""Management routes through HTTP: one goal by id, yclid conversions (the older generation) and
chats uploads with the ``type`` filter of the uploadings list."""

from __future__ import annotations

import pytest

from emulator import Emulator
from emulator.api import inprocess_client

COUNTER = 5151
TOKEN = "manager-token"
READER = "reader-token"
BASE = f"/management/v1/counter/{COUNTER}"
VISITS = [
    {
        "visit_id": 1,
        "client_id": 11,
        "start_time": "2024-03-01T10:00:00+03:00",
        "traffic_source": "ad",
        "source_detail": "Yandex Direct",
        "yclid": 9001,
    },
    {
        "visit_id": 2,
        "client_id": 12,
        "start_time": "2024-03-02T10:00:00+03:00",
        "traffic_source": "organic",
    },
]
CONVERSION_TIME = 1709370000  # 2024-03-02T09:00:00Z
YCLID_CSV = (
    "Yclid,Target,DateTime,Price,Currency\n"
    f"9001,call_done,{CONVERSION_TIME},120.5,RUB\n"
    f"9002,call_done,{CONVERSION_TIME},10,RUB\n"
)
OFFLINE_CSV = f"ClientId,Target,DateTime\n12,call_done,{CONVERSION_TIME}\n"
SETUP = {
    "tokens": {TOKEN: ["metrika:read", "metrika:write"], READER: ["metrika:read"]},
    "goals": [{"id": 70, "name": "Call", "identifier": "call_done"}],
}


@pytest.fixture
def client(tmp_path):
    emu = Emulator(tmp_path / "state.sqlite3")
    with inprocess_client(emu, TOKEN) as http:
        http.put(f"/_emulator/counters/{COUNTER}", json=SETUP).raise_for_status()
        http.post("/_emulator/clock", json={"now": "2024-03-05T12:00:00+03:00"})
        http.post(f"/_emulator/counters/{COUNTER}/visits", json={"visits": VISITS})
        yield http
    emu.close()


def upload(client, path: str, body: str, status: int = 200, **params) -> dict:
    response = client.post(f"{BASE}/{path}", params=params, files={"file": body.encode()})
    assert response.status_code == status, response.text
    return response.json()


def test_yclid_upload_links_by_click_id_and_has_the_old_shape(client):
    """https://tech.yandex.com/dev/metrika/doc/api2/management/yclid_conversion/upload.html
    (path under ``yclid_conversions``, ``{"uploading": …}``) and the YclidConversionUploading
    fields (…/yclid_conversion/class_yclidconversionuploading.html)."""
    uploading = upload(client, "yclid_conversions/upload", YCLID_CSV, comment="Direct")["uploading"]
    assert set(uploading) == {
        "id",
        "create_time",
        "source_quantity",
        "line_quantity",
        "comment",
        "status",
    }
    assert (uploading["line_quantity"], uploading["comment"]) == (2, "Direct")
    assert uploading["status"] == "PROCESSED"
    listed = client.get(f"{BASE}/yclid_conversions/uploadings").json()["uploadings"]
    assert listed == [uploading]
    one = client.get(f"{BASE}/yclid_conversions/uploading/{uploading['id']}").json()
    assert one == {"uploading": uploading}
    rows = client.get(f"/_emulator/counters/{COUNTER}/offline_conversions/{uploading['id']}/rows")
    assert [(r["row"]["yclid"], r["visit_id"]) for r in rows.json()["rows"]] == [
        (9001, 1),
        (9002, None),
    ]
    report = client.get(
        "/stat/v1/data",
        params={
            "ids": COUNTER,
            "metrics": "ym:s:goal70reaches,ym:s:goal70revenue",
            "date1": "2024-03-01",
            "date2": "2024-03-05",
        },
    ).json()
    assert report["totals"] == [1.0, 120.5]
    # Not an offline-conversions uploading: the current routes do not list it.
    assert client.get(f"{BASE}/offline_conversions/uploadings").json()["uploadings"] == []
    missing = client.get(f"{BASE}/yclid_conversions/uploading/999")
    assert missing.status_code == 404


def test_yclid_rows_need_a_yclid(client):
    """The yclid routes identify visitors by ``Yclid`` only (the sample header
    ``Yclid,Target,DateTime,Price,Currency`` of …/yclid_conversion/upload.html)."""
    mixed = "Yclid,ClientId,Target,DateTime\n9001,,call_done,{t}\n,12,call_done,{t}\n"
    uploading = upload(client, "yclid_conversions/upload", mixed.format(t=CONVERSION_TIME))[
        "uploading"
    ]
    assert (uploading["source_quantity"], uploading["line_quantity"]) == (2, 1)
    refused = upload(client, "yclid_conversions/upload", OFFLINE_CSV, status=400)
    assert refused["errors"][0]["error_type"] == "invalid_uploading"
    assert "Yclid" in refused["errors"][0]["message"]


def test_yclid_status_walk_has_no_prepared(client):
    """The old status set is UPLOADED, EXPORTED, MATCHED, PROCESSED, LINKAGE_FAILURE
    (…/yclid_conversion/class_yclidconversionuploading.html): no PREPARED while waiting."""
    delayed = SETUP | {"rules": {"processing_delay_seconds": 7200}}
    client.put(f"/_emulator/counters/{COUNTER}", json=delayed).raise_for_status()
    uploading = upload(client, "yclid_conversions/upload", YCLID_CSV)["uploading"]
    assert uploading["status"] == "UPLOADED"
    client.post("/_emulator/clock", json={"advance_seconds": 7201}).raise_for_status()
    done = client.get(f"{BASE}/yclid_conversions/uploading/{uploading['id']}").json()
    assert done["uploading"]["status"] == "PROCESSED"


def test_chats_upload_and_the_type_filter(client):
    """Chats go through ``offline_conversions/upload?type=CHATS``
    (https://yandex.com/dev/metrika/en/management/openapi/chats/upload_chats.md) and are listed
    with ``uploadings?type=CHATS``; the list's ``type`` is BASIC by default
    (https://yandex.com.tr/dev/metrika/en/management/openapi/offline_conversions/findAll_1)."""
    basic = upload(client, "offline_conversions/upload", OFFLINE_CSV)["uploading"]
    chat = upload(client, "offline_conversions/upload", OFFLINE_CSV, type="CHATS")["uploading"]
    calls = upload(client, "offline_conversions/upload", OFFLINE_CSV, type="CALLS")["uploading"]
    assert (chat["type"], calls["type"]) == ("CHATS", "CALLS")

    def listed(**params) -> list[int]:
        answer = client.get(f"{BASE}/offline_conversions/uploadings", params=params)
        assert answer.status_code == 200, answer.text
        return [u["id"] for u in answer.json()["uploadings"]]

    assert listed() == listed(type="BASIC") == [basic["id"]]
    assert listed(type="CHATS") == [chat["id"]]
    assert listed(type="calls") == [calls["id"]]
    one = client.get(f"{BASE}/offline_conversions/uploading/{chat['id']}").json()
    assert one["uploading"]["type"] == "CHATS"
    bad = client.get(f"{BASE}/offline_conversions/uploadings", params={"type": "SMS"})
    assert (bad.status_code, bad.json()["errors"][0]["location"]) == (400, "type")


def test_get_one_goal(client):
    """https://yandex.ru/dev/metrika/ru/management/openapi/goal/goal: ``{"goal": Goal}``;
    an unknown goal is 404 (the service's text: "Object with id = … not found")."""
    goal = client.get(f"{BASE}/goal/70").json()["goal"]
    assert goal == {
        "id": 70,
        "name": "Call",
        "type": "action",
        "identifier": "call_done",
        "conditions": [{"type": "exact", "url": "call_done"}],
        "default_price": 0.0,
        "goal_source": "user",
        "is_favorite": False,
        "status": "Active",
    }
    assert client.get(f"{BASE}/goals").json()["goals"] == [goal]
    missing = client.get(f"{BASE}/goal/71")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"] == "Object with id = 71 not found"


def test_edit_a_goal(client):
    """https://yandex.ru/dev/metrika/ru/management/openapi/goal/editGoal: ``{"goal": Goal}``
    in and out; offline conversions then count against the new condition."""
    renamed = client.put(f"{BASE}/goal/70", json={"goal": {"name": "Phone call"}})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["goal"]["name"], renamed.json()["goal"]["identifier"]) == (
        "Phone call",
        "call_done",
    )
    moved = client.put(
        f"{BASE}/goal/70",
        json={
            "goal": {
                "name": "Phone call",
                "type": "action",
                "conditions": [{"type": "exact", "url": "phoned"}],
            }
        },
    )
    assert moved.json()["goal"]["conditions"] == [{"type": "exact", "url": "phoned"}]
    csv = f"ClientId,Target,DateTime\n12,phoned,{CONVERSION_TIME}\n12,call_done,{CONVERSION_TIME}\n"
    uploading = upload(client, "offline_conversions/upload", csv)["uploading"]
    rows = client.get(f"/_emulator/counters/{COUNTER}/offline_conversions/{uploading['id']}/rows")
    assert [r["row"]["target"] for r in rows.json()["rows"] if r["visit_id"] is not None] == [
        "phoned"
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"goal": {"name": "x", "conditions": []}}, "number of conditions"),
        ({"goal": {"name": ""}}, "goal name"),
        ({"goal": {"name": "x" * 256}}, "goal name"),
        ({"goal": {"name": "x", "type": "url"}}, "JS-event goals only"),
        ({"name": "x"}, "JS-event goals only"),
    ],
)
def test_a_bad_goal_edit_is_a_400(client, body, message):
    """The service's goal errors as its published autotests word them ("the number of
    conditions must be greater than zero", "the goal name must not be empty"); nothing
    changes."""
    response = client.put(f"{BASE}/goal/70", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["errors"][0]["message"]
    assert client.get(f"{BASE}/goal/70").json()["goal"]["name"] == "Call"


def test_delete_a_goal(client):
    """https://yandex.ru/dev/metrika/ru/management/openapi/goal/deleteGoal:
    ``{"success": true}``; the goal is gone from the lists and its id is not given again."""
    assert client.delete(f"{BASE}/goal/70").json() == {"success": True}
    assert client.get(f"{BASE}/goal/70").status_code == 404
    assert client.get(f"{BASE}/goals").json()["goals"] == []
    again = client.delete(f"{BASE}/goal/70")
    assert again.status_code == 404
    created = client.post(
        f"{BASE}/goals",
        json={
            "goal": {"name": "New", "type": "action", "conditions": [{"type": "exact", "url": "n"}]}
        },
    ).json()["goal"]
    assert created["id"] != 70


def test_goals_the_service_creates_are_not_edited(client):
    """CRM goals appear with the first CRM upload (``goal_source`` ``auto`` on live counters);
    the emulator does not edit or delete them (the docs leave it open)."""
    orders = "id,create_date_time,client_ids,order_status\nA,02.03.2024 12:00,12,PAID\n"
    answer = client.post(
        f"/cdp/api/v1/counter/{COUNTER}/data/simple_orders?merge_mode=SAVE",
        files={"file": orders.encode()},
    )
    assert answer.status_code == 200, answer.text
    crm = next(g for g in client.get(f"{BASE}/goals").json()["goals"] if g["id"] != 70)
    assert crm["goal_source"] == "auto"
    edit = client.put(f"{BASE}/goal/{crm['id']}", json={"goal": {"name": "mine"}})
    delete = client.delete(f"{BASE}/goal/{crm['id']}")
    assert (edit.status_code, delete.status_code) == (400, 400)


def test_editing_needs_write_access(client):
    """Reads need ``metrika:read``; changing a goal needs ``metrika:write`` (spec §2.2)."""
    headers = {"Authorization": f"OAuth {READER}"}
    assert client.get(f"{BASE}/goal/70", headers=headers).status_code == 200
    denied = client.put(f"{BASE}/goal/70", json={"goal": {"name": "x"}}, headers=headers)
    assert denied.status_code == 403
    assert client.delete(f"{BASE}/goal/70", headers=headers).status_code == 403
