"""The SimPy world against its settings: arrival rates, capture rates, pipeline outcomes, CRM.

Tolerances: counts are compared with their expectation within 4.5 standard deviations of the
binomial or Poisson law they follow (a false alarm about once in 150,000 checks), so the tests
are about the model, not about luck. Runs are medium-sized (~100k visits, a second or two).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from emulator.identity import md5_hex, normalize_email, normalize_phone
from emulator.sim import load_settings
from emulator.sim.calendar import HOUR
from emulator.sim.settings import CHANNEL_NAMES
from emulator.sim.world import World

SIGMAS = 4.5


def within(observed: float, expected: float, sd: float) -> bool:
    return abs(observed - expected) <= SIGMAS * sd + 1e-9


def binomial_ok(hits: int, n: int, p: float) -> bool:
    return within(hits, n * p, math.sqrt(max(n * p * (1 - p), 1e-12)))


@pytest.fixture(scope="module")
def world() -> World:
    settings = load_settings({"simulation": {"days": 21, "traffic": {"visitors_per_day": 6000.0}}})
    world = World(settings, seed=11)
    world.run()
    return world


def test_visits_per_source_match_rate_and_shares(world):
    traffic = world.traffic
    expected_total = sum(traffic.expected_visits(h * HOUR) for h in range(world.calendar.days * 24))
    counts = np.bincount(traffic.table()["source"], minlength=len(traffic.sources))
    for index, name in enumerate(traffic.source_names):
        mean = expected_total * traffic.source_shares[index]
        assert within(counts[index], mean, math.sqrt(mean)), name


def test_visits_follow_the_hourly_profile(world):
    table = world.traffic.table()
    hours = np.array(
        [world.calendar.local(t - world.calendar.origin_unix).hour for t in table["start"][::50]]
    )
    observed = np.bincount(hours, minlength=24) / len(hours)
    profile = np.array(world.settings.simulation.traffic.hourly_profile)
    expected = profile / profile.sum()
    n = len(hours)
    for hour in range(24):
        sd = math.sqrt(expected[hour] * (1 - expected[hour]) / n)
        assert within(observed[hour], expected[hour], sd), hour


def test_leads_per_visit_follow_each_sources_lead_rate(world):
    traffic = world.traffic
    visits = np.bincount(traffic.table()["source"], minlength=len(traffic.sources))
    leads = Counter(lead.visit.source for lead in world.leads)
    for index, spec in enumerate(traffic.sources):
        assert binomial_ok(leads[index], int(visits[index]), spec.lead_rate), traffic.source_names[
            index
        ]


def test_channels_share_the_leads_as_configured(world):
    shares = np.array([c.share for _, c in world.settings.simulation.channels.items()])
    shares = shares / shares.sum()
    counts = Counter(lead.channel for lead in world.leads)
    n = len(world.leads)
    for name, share in zip(CHANNEL_NAMES, shares, strict=True):
        assert binomial_ok(counts[name], n, share), name


@pytest.mark.parametrize("channel", ["web_form", "cart", "chat", "callback", "messenger", "email"])
def test_clientid_capture_and_foreign_cookies_match_each_channels_rates(world, channel):
    spec = getattr(world.settings.simulation.channels, channel)
    leads = [lead for lead in world.leads if lead.channel == channel]
    kinds = Counter(lead.client_id_kind for lead in leads)
    assert binomial_ok(kinds["true"], len(leads), spec.capture_rate)
    assert binomial_ok(kinds["foreign"], len(leads), spec.foreign_cookie)
    for lead in leads:
        if lead.client_id_kind == "true":
            assert lead.client_id == lead.visit.client_id
        elif lead.client_id_kind == "foreign":
            assert lead.client_id != lead.visit.client_id and len(str(lead.client_id)) == 19


def test_offline_purchases_carry_a_phone_and_never_a_clientid(world):
    shop = [lead for lead in world.leads if lead.channel == "offline_shop"]
    assert shop
    assert all(lead.client_id is None and lead.phone and not lead.email for lead in shop)
    assert np.median([lead.at - lead.visit.start for lead in shop]) > 86400  # days later


def test_phone_and_email_faults_follow_their_rates(world):
    spec = world.settings.simulation.channels.web_form
    leads = [lead for lead in world.leads if lead.channel == "web_form"]
    phones = [lead.phone for lead in leads if lead.phone]
    local = sum(phone != normalize_phone(phone) for phone in phones)
    assert binomial_ok(local, len(phones), spec.local_phone_format)
    emails = [lead.email for lead in leads if lead.email]
    upper = sum(email != email.lower() for email in emails)
    assert binomial_ok(upper, len(emails), spec.uppercase_email)


def test_clientids_look_like_ym_uid_and_date_the_first_visit(world):
    table = world.traffic.table()
    cids = table["client_id"]
    assert all(len(str(c)) == 19 for c in cids[:1000].tolist())
    first_seen = cids // np.uint64(10**9)
    assert np.all(first_seen <= table["start"].astype(np.uint64))
    # cookie loss: some people show up under more than one ClientID
    per_person = {}
    for person, cid in zip(table["person"].tolist(), cids.tolist(), strict=True):
        per_person.setdefault(person, set()).add(cid)
    assert any(len(ids) > 1 for ids in per_person.values())
    assert len(per_person) < len(table["person"])  # and people come back


def test_final_statuses_match_the_pipelines_absorption_probabilities(world):
    expected = world.pipeline.outcome_shares()
    horizon = world.calendar.end - 9 * 86400  # deals with 9+ days to finish their walk
    deals = [d for d in world.crm.deals if d.created < horizon and d.lead.channel != "offline_shop"]
    finals = Counter(d.status for d in deals)
    for status, share in expected.items():
        assert binomial_ok(finals[status], len(deals), share), status


def test_managers_move_deals_only_in_working_hours(world):
    crm = world.settings.simulation.crm
    for deal in world.crm.deals:
        for _, at in deal.history[1:]:
            moment = world.calendar.local(at)
            assert moment.weekday() in crm.work_days
            assert crm.work_start_hour <= moment.hour <= crm.work_end_hour


def test_advanced_matching_records_the_md5_of_what_was_typed(world):
    by_visit = {lead.visit.visit_id: lead for lead in world.leads}
    assert world.typed
    for visit_id, (email_md5, phone_md5) in world.typed.items():
        lead = by_visit[visit_id]
        if lead.email:
            assert email_md5 == md5_hex(normalize_email(lead.email))
        if lead.phone:
            assert phone_md5 == md5_hex(normalize_phone(lead.phone))


def test_an_exhausted_number_pool_leaves_calls_without_clientids():
    settings = load_settings(
        {
            "simulation": {
                "days": 5,
                "traffic": {"visitors_per_day": 4000.0},
                "channels": {"call": {"share": 5.0}},
                "call_tracking": {"pool_size": 2, "static_share": 0.0},
            }
        }
    )
    world = World(settings, seed=3)
    world.run()
    calls = [lead for lead in world.leads if lead.channel == "call"]
    static = [lead for lead in calls if lead.static_call]
    assert len(static) > 0.7 * len(calls)
    assert all(lead.client_id is None for lead in static)


def test_contacts_dedup_and_keep_first_touch_while_deals_keep_their_own():
    settings = load_settings(
        {
            "simulation": {
                "days": 30,
                "crm": {"pipeline": "eshop"},
                "traffic": {"visitors_per_day": 3000.0},
            }
        }
    )
    world = World(settings, seed=5)
    world.run()
    deals_by_contact = Counter(d.contact.uniq_id for d in world.crm.deals)
    repeat = [c for c in world.crm.contacts if deals_by_contact[c.uniq_id] > 1]
    assert len(repeat) > 20
    for contact in repeat:
        deals = [d for d in world.crm.deals if d.contact is contact]
        assert contact.client_id == deals[0].lead.client_id
        assert all(d.contact.person == contact.person for d in deals)
    own = [d for d in world.crm.deals if d.lead.client_id != d.contact.client_id]
    assert own  # later deals carry their own request's ClientID


def test_utc_written_as_local_time_shifts_the_recorded_creation_time():
    settings = load_settings(
        {"simulation": {"days": 3, "channels": {"web_form": {"utc_dates": 1.0}}}}
    )
    world = World(settings, seed=2)
    world.run()
    forms = [d for d in world.crm.deals if d.lead.channel == "web_form"]
    assert forms
    assert all(d.created - d.recorded_created == 3 * HOUR for d in forms)  # Moscow is UTC+3
    others = [d for d in world.crm.deals if d.lead.channel != "web_form"]
    assert all(d.recorded_created == d.created for d in others)


@pytest.mark.slow
def test_the_full_size_world_keeps_its_rates():
    """100,000 visitors a day for 30 days (the benchmark's size): the totals still match."""
    settings = load_settings({"simulation": {"traffic": {"visitors_per_day": 100_000.0}}})
    world = World(settings, seed=1)
    world.run()
    traffic = world.traffic
    expected = sum(traffic.expected_visits(h * HOUR) for h in range(world.calendar.days * 24))
    visits = traffic.next_visit_id - 1
    assert within(visits, expected, math.sqrt(expected))
    rate = sum(s.lead_rate * p for s, p in zip(traffic.sources, traffic.source_shares, strict=True))
    assert binomial_ok(len(world.leads), visits, rate)
