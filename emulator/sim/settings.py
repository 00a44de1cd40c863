"""The settings of a simulation run: the world (``[simulation]``) and the exporters (``[export]``).

Everything has a default, so an empty file is a valid run; ``scenarios/sim/default.toml`` spells
the defaults out. Scenario files (issue 6) embed the same two tables, which is why
:func:`load_settings` takes a mapping as well as :func:`load_settings_file` a path. Unknown keys
are errors naming the key (see :mod:`emulator.sim.config` for the merge rules).

Rates are per visit or per lead and shares are relative weights (they need not add up to 1).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from emulator.dates import zone
from emulator.sim.config import SettingsError, build
from emulator.sim.layers import with_base
from emulator.sim.pipelines import PipelineRegistry, PipelineSpec


@dataclass(frozen=True)
class Source:
    """A traffic source: its share of visits, how it is tagged and how often it converts."""

    share: float
    traffic_source: Literal[
        "organic", "ad", "referral", "social", "email", "messenger", "direct", "internal"
    ]
    source_detail: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    campaigns: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    lead_rate: float = 0.01
    cost_per_click: float = 0.0
    yclid: bool = False
    landing_pages: tuple[str, ...] = ("/",)


def _sources() -> dict[str, Source]:
    direct_campaigns = ("brand_search", "generic_search", "rsya_retargeting")
    return {
        "organic_yandex": Source(0.28, "organic", "Yandex", lead_rate=0.012),
        "organic_google": Source(0.14, "organic", "Google", lead_rate=0.011),
        "yandex_direct": Source(
            0.20,
            "ad",
            "Yandex Direct",
            "yandex",
            "cpc",
            direct_campaigns,
            ("купить", "цена", "недорого", "отзывы"),
            lead_rate=0.018,
            cost_per_click=35.0,
            yclid=True,
            landing_pages=("/", "/promo", "/catalog"),
        ),
        "vk_ads": Source(
            0.06,
            "ad",
            "VK Ads",
            "vk",
            "cpc",
            ("vk_lookalike",),
            lead_rate=0.008,
            cost_per_click=18.0,
        ),
        "referral": Source(0.07, "referral", "otzovik.com", lead_rate=0.01),
        "social": Source(
            0.06, "social", "vk.com", "vk", "social", ("group_posts",), lead_rate=0.006
        ),
        "newsletter": Source(
            0.04, "email", "newsletter", "newsletter", "email", ("weekly_digest",), lead_rate=0.015
        ),
        "messenger": Source(0.03, "messenger", "Telegram", "telegram", "messenger", lead_rate=0.01),
        "direct": Source(0.12, "direct", lead_rate=0.015),
    }


@dataclass(frozen=True)
class Traffic:
    """Arrivals and visitor behaviour. ``visitors_per_day`` is the mean number of visits per day
    (new and returning visitors together) on an average weekday profile."""

    visitors_per_day: float = 2000.0
    hourly_profile: tuple[float, ...] = (
        # 00 .. 23 local time
        *(0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.2, 1.4, 1.5),
        *(1.5, 1.5, 1.5, 1.4, 1.4, 1.4, 1.3, 1.3, 1.4, 1.3, 1.0, 0.6),
    )
    weekly_profile: tuple[float, ...] = (1.1, 1.1, 1.05, 1.05, 1.0, 0.85, 0.85)  # Monday first
    return_share: float = 0.3
    return_mean_days: float = 7.0
    cookie_loss: float = 0.05
    mean_duration_seconds: float = 200.0
    devices: dict[str, float] = field(
        default_factory=lambda: {"desktop": 0.45, "mobile": 0.5, "tablet": 0.05}
    )
    regions: dict[str, float] = field(
        default_factory=lambda: {
            "Москва": 0.4,
            "Санкт-Петербург": 0.2,
            "Новосибирск": 0.1,
            "Екатеринбург": 0.1,
            "Казань": 0.1,
            "Краснодар": 0.1,
        }
    )


@dataclass(frozen=True)
class Channel:
    """A lead channel and its data-quality faults (all rates are per lead).

    ClientID capture: with ``capture_rate`` the CRM gets the visit's ClientID, with
    ``foreign_cookie`` one read from another domain's ``_ym_uid`` cookie, otherwise none.
    ``phone_rate``/``email_rate`` are the chances the customer gives each; at least one is given.
    """

    share: float
    capture_rate: float
    foreign_cookie: float = 0.0
    phone_rate: float = 0.9
    email_rate: float = 0.5
    local_phone_format: float = 0.0
    uppercase_email: float = 0.0
    utc_dates: float = 0.0
    advanced_matching: float = 0.0
    delay_minutes: float = 2.0


@dataclass(frozen=True)
class Channels:
    """The eight lead channels of the seeds. ``offline_shop`` leads are purchases in a shop
    some days after the last visit (ROPO): phone only, never a ClientID."""

    web_form: Channel = Channel(0.35, 0.92, 0.01, 0.95, 0.6, 0.15, 0.05, advanced_matching=0.5)
    cart: Channel = Channel(0.15, 0.95, 0.0, 1.0, 0.9, 0.05, 0.1, advanced_matching=0.6)
    chat: Channel = Channel(0.1, 0.8, 0.0, 0.5, 0.7, 0.2, 0.1, delay_minutes=1.0)
    callback: Channel = Channel(0.1, 0.85, 0.02, 1.0, 0.0, 0.3, delay_minutes=1.0)
    call: Channel = Channel(0.15, 0.97, 0.0, 1.0, 0.0, 0.4, delay_minutes=5.0)
    email: Channel = Channel(0.04, 0.7, 0.0, 0.1, 1.0, 0.0, 0.2, delay_minutes=30.0)
    messenger: Channel = Channel(0.06, 0.6, 0.0, 1.0, 0.1, 0.3, delay_minutes=3.0)
    offline_shop: Channel = Channel(0.05, 0.0, 0.0, 1.0, 0.0, 0.5, delay_minutes=4 * 1440.0)

    def items(self) -> tuple[tuple[str, Channel], ...]:
        return tuple((name, getattr(self, name)) for name in CHANNEL_NAMES)


CHANNEL_NAMES = (
    "web_form",
    "cart",
    "chat",
    "callback",
    "call",
    "email",
    "messenger",
    "offline_shop",
)


@dataclass(frozen=True)
class CallTracking:
    """Dynamic call tracking: every visitor is shown a number from a pool for ``hold_minutes``;
    when more visitors are on the site than the pool has numbers, the rest see the static number
    (no ClientID). ``static_share`` of callers dial a static number anyway (print ads, cards)."""

    pool_size: int = 40
    hold_minutes: float = 20.0
    static_share: float = 0.15
    tracking_number: str = "+74951234567"


@dataclass(frozen=True)
class Crm:
    """The CRM: which pipeline deals walk, the sales team and its hours (counter's time zone)."""

    pipeline: str = "default"
    pipelines: dict[str, PipelineSpec] = field(default_factory=dict)
    managers: int = 10
    handle_minutes: float = 6.0
    work_start_hour: int = 9
    work_end_hour: int = 19
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday = 0
    currency: str = "RUB"
    first_order_id: int = 1001
    first_contact_id: int = 501

    def pipeline_spec(self) -> PipelineSpec:
        return PipelineRegistry(self.pipelines).get(self.pipeline)


@dataclass(frozen=True)
class SimulationSettings:
    start: date = date(2024, 3, 1)
    days: int = 30
    time_zone: str = "Europe/Moscow"
    locale: str = "ru_RU"
    traffic: Traffic = Traffic()
    sources: dict[str, Source] = field(default_factory=_sources)
    channels: Channels = Channels()
    call_tracking: CallTracking = CallTracking()
    crm: Crm = Crm()


ExportFormat = Literal["simple_orders", "orders_csv", "orders_json", "offline_conversions", "calls"]


@dataclass(frozen=True)
class Exporter:
    """One integration job. ``schedule``:

    - ``realtime``: every CRM change is sent ``latency_minutes`` later (changes coalesce);
    - ``hourly``: at ``at_minute`` past every hour, what changed since the last run;
    - ``daily``: at ``at_hour`` every day, what changed in the last ``window_days`` days
      (the "send the last 3 days every day" advice of the Direct offline-conversions page);
    - ``weekly``: on ``weekday`` at ``at_hour``, the last ``window_days`` (default 7) days;
    - ``dump``: once, at ``dump_at`` (default: the end of the run), the whole history.

    ``delay_days`` postpones every upload (a late uploader); ``time_zone_mistake`` writes dates in
    UTC while the counter is in its own zone.
    """

    format: ExportFormat
    schedule: Literal["realtime", "hourly", "daily", "weekly", "dump"] = "daily"
    window_days: float | None = None
    at_hour: int = 3
    at_minute: int = 5
    weekday: int = 0
    latency_minutes: float = 1.0
    dump_at: datetime | None = None
    merge_mode: Literal["SAVE", "UPDATE", "APPEND"] = "SAVE"
    delimiter: Literal["COMMA", "SEMICOLON"] = "COMMA"
    russian_headers: bool = True
    status_mapping: bool = True
    delay_days: float = 0.0
    time_zone_mistake: bool = False
    target: str = "crm_paid"
    comment: str = "crm export"

    def window_seconds(self) -> float | None:
        """How far back a run looks; ``None`` means "since the previous run"."""
        if self.window_days is not None:
            return self.window_days * 86400.0
        return {"daily": 3 * 86400.0, "weekly": 7 * 86400.0}.get(self.schedule)


@dataclass(frozen=True)
class Migration:
    """A CRM migration at ``at`` (counter's local time); ``None`` means no migration.

    - ``same_ids``: the new CRM re-uploads all history with the same ids and dates;
    - ``new_dates``: same ids but every migrated record gets the migration time as its creation
      date (the documented pitfall: Metrica keeps the first creation date);
    - ``new_ids``: ids in a new namespace (``id_prefix``), re-uploading all history as duplicates.
    """

    at: datetime | None = None
    variant: Literal["same_ids", "new_dates", "new_ids"] = "same_ids"
    id_prefix: str = "n"


@dataclass(frozen=True)
class Retry:
    """Replay retries on 429 and 5xx: ``base_seconds * 2**attempt`` plus seeded jitter."""

    attempts: int = 5
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    jitter: float = 0.25


@dataclass(frozen=True)
class ExportSettings:
    counter_id: int = 2215573
    token: str = "sim-token"
    offline_goal_id: int = 901
    exporters: dict[str, Exporter] = field(
        default_factory=lambda: {"daily_orders": Exporter(format="orders_csv")}
    )
    migration: Migration = Migration()
    retry: Retry = Retry()


@dataclass(frozen=True)
class Settings:
    simulation: SimulationSettings = SimulationSettings()
    export: ExportSettings = ExportSettings()

    def with_overrides(
        self, days: int | None = None, visitors_per_day: float | None = None
    ) -> Settings:
        """The command line's ``--days`` and ``--visitors-per-day`` on top of a file."""
        sim = self.simulation
        if days is not None:
            sim = replace(sim, days=days)
        if visitors_per_day is not None:
            sim = replace(sim, traffic=replace(sim.traffic, visitors_per_day=visitors_per_day))
        return replace(self, simulation=sim)


def load_settings(mapping: Mapping[str, Any]) -> Settings:
    """Settings from a mapping with optional ``simulation`` and ``export`` tables."""
    settings = build(Settings, mapping, "")
    _validate(settings)
    return settings


def load_settings_file(path: str | Path) -> Settings:
    """Settings from a TOML file (and its ``[simulation] base``, see :mod:`emulator.sim.layers`);
    errors name the file and the key."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            mapping = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    try:
        return load_settings(with_base(mapping, path.parent))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def _validate(settings: Settings) -> None:
    sim = settings.simulation
    try:
        zone(sim.time_zone)
    except ValueError as exc:
        raise SettingsError(f"simulation.time_zone: {exc}") from None
    if sim.days < 1:
        raise SettingsError("simulation.days must be at least 1")
    traffic = sim.traffic
    if len(traffic.hourly_profile) != 24:
        raise SettingsError("simulation.traffic.hourly_profile needs 24 numbers")
    if len(traffic.weekly_profile) != 7:
        raise SettingsError("simulation.traffic.weekly_profile needs 7 numbers (Monday first)")
    if not sim.sources or sum(s.share for s in sim.sources.values()) <= 0:
        raise SettingsError("simulation.sources: at least one source with a positive share")
    for name, channel in sim.channels.items():
        if channel.capture_rate + channel.foreign_cookie > 1:
            raise SettingsError(
                f"simulation.channels.{name}: capture_rate + foreign_cookie exceeds 1"
            )
    for name, spec in sim.crm.pipelines.items():
        spec.validate(f"simulation.crm.pipelines.{name}")
    sim.crm.pipeline_spec()
    if not 0 <= sim.crm.work_start_hour < sim.crm.work_end_hour <= 24:
        raise SettingsError("simulation.crm: work_start_hour must be before work_end_hour")
    if not sim.crm.work_days:
        raise SettingsError("simulation.crm.work_days: at least one working day")
