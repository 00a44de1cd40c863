"""Settings: strict TOML schema, defaults, merge rules, and the pipelines declared as data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.sim import Settings, SettingsError, builtin, load_settings, load_settings_file
from emulator.sim.config import to_plain
from emulator.sim.pipelines import BUILTIN
from emulator.sim.records import RecordBuilder
from emulator.sim.settings import CHANNEL_NAMES

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios" / "sim").glob("*.toml"))


def test_the_shipped_default_file_spells_out_exactly_the_defaults():
    assert load_settings_file(ROOT / "scenarios/sim/default.toml") == Settings()
    assert load_settings({}) == Settings()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_example_settings_file_loads(path):
    assert isinstance(load_settings_file(path), Settings)


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"simulaton": {}}, "'simulaton'"),
        ({"simulation": {"trafic": {}}}, "'simulation.trafic'"),
        (
            {"simulation": {"channels": {"call": {"capture": 1.0}}}},
            "simulation.channels.call.capture",
        ),
        ({"simulation": {"channels": {"fax": {}}}}, "simulation.channels.fax"),
        ({"export": {"exporters": {"x": {"format": "xml"}}}}, "export.exporters.x.format"),
        ({"export": {"exporters": {"x": {}}}}, "export.exporters.x.format"),
        ({"simulation": {"days": "thirty"}}, "simulation.days"),
        ({"simulation": {"days": 1.5}}, "simulation.days"),
        ({"simulation": {"traffic": {"hourly_profile": [1.0]}}}, "hourly_profile"),
        ({"simulation": {"time_zone": "Mars/Olympus"}}, "simulation.time_zone"),
        ({"simulation": {"crm": {"pipeline": "nope"}}}, "'nope'"),
        ({"export": {"migration": {"at": "tomorrow"}}}, "export.migration.at"),
        (
            {"export": {"exporters": {"x": {"format": "calls", "russian_headers": 1}}}},
            "russian_headers",
        ),
    ],
)
def test_a_bad_key_or_value_is_an_error_that_names_it(mapping, named):
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(mapping)
    assert named in str(caught.value)


def test_a_table_changes_only_the_keys_it_names():
    settings = load_settings({"simulation": {"channels": {"call": {"capture_rate": 0.5}}}})
    call = settings.simulation.channels.call
    assert call.capture_rate == 0.5
    assert call.share == Settings().simulation.channels.call.share
    assert settings.simulation.channels.web_form == Settings().simulation.channels.web_form


def test_a_table_of_named_items_replaces_the_defaults():
    settings = load_settings(
        {"simulation": {"sources": {"only": {"share": 1.0, "traffic_source": "direct"}}}}
    )
    assert list(settings.simulation.sources) == ["only"]


def test_toml_dates_and_command_line_overrides(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[simulation]\nstart = 2024-05-06\n[export.migration]\nat = 2024-05-20T03:00:00\n"
    )
    settings = load_settings_file(path).with_overrides(days=3, visitors_per_day=10.0)
    assert settings.simulation.start == date(2024, 5, 6)
    assert settings.simulation.days == 3
    assert settings.simulation.traffic.visitors_per_day == 10.0
    assert settings.export.migration.at.hour == 3


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[simulation\n")
    with pytest.raises(SettingsError, match=r"broken\.toml"):
        load_settings_file(path)


def test_a_custom_pipeline_is_data_in_the_same_schema():
    mapping = {
        "simulation": {
            "crm": {
                "pipeline": "two_step",
                "pipelines": {
                    "two_step": {
                        "initial": "open",
                        "statuses": [
                            {"id": "open", "type": "IN_PROGRESS"},
                            {"id": "won", "type": "PAID"},
                        ],
                        "transitions": {"open": [{"to": "won", "p": 0.25, "delay": {"hours": 1}}]},
                    }
                },
            }
        }
    }
    spec = load_settings(mapping).simulation.crm.pipeline_spec()
    assert spec.outcome_shares() == pytest.approx({"open": 0.75, "won": 0.25})


def test_a_pipeline_pointing_at_an_unknown_status_is_rejected():
    bad = dict(BUILTIN["default"])
    bad["transitions"] = {"new": [{"to": "nowhere", "p": 1.0, "delay": {"hours": 1}}]}
    with pytest.raises(SettingsError, match="nowhere"):
        load_settings({"simulation": {"crm": {"pipelines": {"bad": bad}}}})


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_pipelines_end_somewhere_with_certainty(name):
    shares = builtin(name).outcome_shares()
    assert sum(shares.values()) == pytest.approx(1.0)


def test_the_dental_clinic_uses_the_seed_status_ids_and_goals():
    spec = builtin("dental_clinic")
    mapping = {s.id: (s.type, s.goal_action_ids) for s in spec.order_statuses()}
    assert mapping["new_lead"] == ("IN_PROGRESS", ())
    assert mapping["zapis1"] == ("OTHER", ("zapis1", "vse_zapisi"))
    assert mapping["CANCELLED"] == ("CANCELLED", ())
    assert mapping["zapis2"] == ("OTHER", ("zapis2", "vse_zapisi"))
    assert mapping["paid_in_filial2"] == ("PAID", ("oplaty_2_filial",))
    identifiers = {g.identifier for g in spec.goals}
    assert {"zapis1", "zapis2", "vse_zapisi", "oplaty_2_filial"} <= identifiers
    # re-booking: a cancelled appointment can be booked again at branch 2
    assert "zapis2" in {t.to for t in spec.transitions["CANCELLED"]}


@pytest.mark.parametrize(
    ("pipeline", "status", "expected"),
    [
        ("dental_clinic", "zapis1", ("zapis1", ("vse_zapisi",))),
        ("dental_clinic", "paid_in_filial2", ("PAID", ("oplaty_2_filial",))),
        ("dental_clinic", "new_lead", ("IN_PROGRESS", ())),
        ("good_lead", "good_lead", ("good_lead", ())),
        ("default", "spam", ("SPAM", ())),
    ],
)
def test_simple_orders_say_a_custom_status_by_its_type_or_js_goal(pipeline, status, expected):
    builder = RecordBuilder(calendar=None, pipeline=builtin(pipeline), currency="RUB")  # type: ignore[arg-type]
    assert builder.simple_status(status) == expected


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_settings_written_into_a_manifest_load_back_equal(path):
    settings = load_settings_file(path)
    assert load_settings(to_plain(settings)) == settings


rates = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)


@given(
    capture=rates,
    foreign=rates,
    local=rates,
    share=st.floats(min_value=0.01, max_value=100.0),
    days=st.integers(min_value=1, max_value=400),
    channel=st.sampled_from(CHANNEL_NAMES),
)
def test_any_valid_channel_and_length_round_trip_through_plain_values(
    capture, foreign, local, share, days, channel
):
    mapping = {
        "simulation": {
            "days": days,
            "channels": {
                channel: {
                    "capture_rate": capture,
                    "foreign_cookie": foreign,
                    "local_phone_format": local,
                    "share": share,
                }
            },
        }
    }
    settings = load_settings(mapping)
    assert getattr(settings.simulation.channels, channel).capture_rate == capture
    assert load_settings(to_plain(settings)) == settings


def test_the_documented_public_surface_is_exported():
    import emulator.sim as sim

    documented = {
        "simulate",
        "SimulationResult",
        "Settings",
        "load_settings",
        "load_settings_file",
        "SettingsError",
        "Upload",
        "Replayer",
        "send_timeline",
        "write_run",
    }
    assert documented <= set(sim.__all__)
    assert all(getattr(sim, name) is not None for name in sim.__all__)
