"""Website traffic, generated vectorised: one numpy pass per hour of simulated time.

A SimPy process per visitor would cost several microseconds per visit in scheduling alone; the
world has millions of visits and only a few per cent of them matter to the CRM. So the arrivals
of one hour are drawn at once (Poisson counts per source with hourly and weekly seasonality,
uniform start times inside the hour), and only the visits that turn into leads become SimPy
processes (see :mod:`emulator.sim.world`).

Visitors are *people* with a current ClientID. A returning visit picks a person by how long ago
they first came (exponential in days); a cookie loss or a device change gives that person a new
ClientID. ClientIDs look like ``_ym_uid``: the Unix time of the first visit followed by nine
random digits (``seeds/alytics-crm-prep-ru.txt``: ``1551977723718998723``). Returning visitors
whose first visit would fall before the run get a ClientID dated then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emulator.sim.calendar import DAY, HOUR, SimCalendar
from emulator.sim.settings import CHANNEL_NAMES, SimulationSettings

CID_SUFFIX = 10**9
NO_VALUE = -1


class GrowingColumns:
    """Numpy columns that grow by doubling, so per-hour appends stay amortised O(1)."""

    def __init__(self, dtypes: dict[str, type]) -> None:
        self.size = 0
        self._data = {name: np.zeros(1024, dtype=dt) for name, dt in dtypes.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name][: self.size]

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append rows; returns their indices."""
        n = len(next(iter(columns.values())))
        need = self.size + n
        for name, array in self._data.items():
            if need > len(array):
                grown = np.zeros(max(need, 2 * len(array)), dtype=array.dtype)
                grown[: self.size] = array[: self.size]
                self._data[name] = array = grown
            array[self.size : need] = columns[name]
        rows = np.arange(self.size, need)
        self.size = need
        return rows

    def assign(self, name: str, rows: np.ndarray, values: np.ndarray) -> None:
        self._data[name][rows] = values


@dataclass(frozen=True, slots=True)
class VisitRef:
    """One visit that led somewhere, as the SimPy side needs it (times are sim seconds)."""

    visit_id: int
    client_id: int
    person: int
    start: float
    duration: int
    source: int
    campaign: int
    yclid: int


@dataclass(frozen=True)
class HourOfTraffic:
    """The visits of one hour (columns) and which of them became leads, through which channel."""

    columns: dict[str, np.ndarray]
    lead_rows: np.ndarray
    lead_channels: np.ndarray
    dynamic_number_share: float


VISIT_COLUMNS: dict[str, type] = {
    "visit_id": np.int64,
    "client_id": np.uint64,
    "person": np.int64,
    "start": np.int64,  # Unix seconds
    "duration": np.int32,
    "source": np.int16,
    "campaign": np.int16,
    "term": np.int16,
    "landing": np.int16,
    "yclid": np.uint64,
    "device": np.int8,
    "region": np.int16,
}


class TrafficModel:
    def __init__(
        self, settings: SimulationSettings, calendar: SimCalendar, rng: np.random.Generator
    ) -> None:
        self.settings = settings
        self.calendar = calendar
        self.rng = rng
        self.source_names = list(settings.sources)
        self.sources = [settings.sources[name] for name in self.source_names]
        shares = np.array([s.share for s in self.sources], dtype=float)
        self.source_shares = shares / shares.sum()
        self.lead_rates = np.array([s.lead_rate for s in self.sources])
        traffic = settings.traffic
        self.devices = list(traffic.devices)
        self.device_p = _normalised(traffic.devices.values())
        self.regions = list(traffic.regions)
        self.region_p = _normalised(traffic.regions.values())
        self.channel_p = _normalised(c.share for _, c in settings.channels.items())
        hourly = np.array(traffic.hourly_profile, dtype=float)
        weekly = np.array(traffic.weekly_profile, dtype=float)
        self.hour_weight = hourly / hourly.sum()
        self.week_weight = weekly / weekly.mean()
        self.persons = GrowingColumns(
            {"client_id": np.uint64, "created": np.int64, "device": np.int8, "region": np.int16}
        )
        self.visits: list[dict[str, np.ndarray]] = []
        self.next_visit_id = 1

    def expected_visits(self, t: float) -> float:
        """Mean number of visits in the hour starting at sim time ``t``."""
        moment = self.calendar.local(t)
        per_day = self.settings.traffic.visitors_per_day
        return float(per_day * self.hour_weight[moment.hour] * self.week_weight[moment.weekday()])

    def hour(self, t: float) -> HourOfTraffic:
        """Draw the visits of the hour starting at sim time ``t``."""
        rng = self.rng
        expected = self.expected_visits(t)
        counts = rng.poisson(expected * self.source_shares)
        n = int(counts.sum())
        source = np.repeat(np.arange(len(self.sources), dtype=np.int16), counts)
        start = self.calendar.unix(t) + rng.integers(0, int(HOUR), n)
        order = np.argsort(start, kind="stable")
        start, source = start[order], source[order]
        client_id, person, device, region = self._visitors(start)
        columns = {
            "visit_id": np.arange(self.next_visit_id, self.next_visit_id + n, dtype=np.int64),
            "client_id": client_id,
            "person": person,
            "start": start,
            "duration": self._durations(n),
            "source": source,
            "device": device,
            "region": region,
            **self._tags(source),
        }
        self.next_visit_id += n
        self.visits.append(columns)
        leads = np.flatnonzero(rng.random(n) < self.lead_rates[source])
        channels = rng.choice(len(CHANNEL_NAMES), size=len(leads), p=self.channel_p)
        return HourOfTraffic(columns, leads, channels, self._dynamic_share(expected))

    def extra_visit(self, person: int, t: float, source: int) -> VisitRef:
        """A visit the SimPy world asks for (a customer coming back to buy again)."""
        cid = self.persons["client_id"][person]
        row = {
            "visit_id": np.array([self.next_visit_id]),
            "client_id": np.array([cid], dtype=np.uint64),
            "person": np.array([person]),
            "start": np.array([self.calendar.unix(t)]),
            "duration": self._durations(1),
            "source": np.array([source], dtype=np.int16),
            "device": self.persons["device"][person : person + 1].copy(),
            "region": self.persons["region"][person : person + 1].copy(),
            **self._tags(np.array([source], dtype=np.int16)),
        }
        self.next_visit_id += 1
        self.visits.append(row)
        return visit_refs(row, np.zeros(1, dtype=np.int64), self.calendar)[0]

    def table(self) -> dict[str, np.ndarray]:
        """Every visit, sorted by start time then id."""
        if not self.visits:
            return {name: np.zeros(0, dtype=dt) for name, dt in VISIT_COLUMNS.items()}
        if len(self.visits) > 1:  # consolidate once, so the run holds one copy of its visits
            table = {name: np.concatenate([c[name] for c in self.visits]) for name in VISIT_COLUMNS}
            order = np.lexsort((table["visit_id"], table["start"]))
            self.visits = [{name: column[order] for name, column in table.items()}]
        return self.visits[0]

    def source_index(self, name: str) -> int:
        return self.source_names.index(name)

    def _visitors(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """ClientID, person, device and region of each visit (new or returning)."""
        rng, traffic, persons = self.rng, self.settings.traffic, self.persons
        n = len(start)
        first_seen = start.copy()
        returning = rng.random(n) < traffic.return_share
        back = rng.exponential(traffic.return_mean_days * DAY, n).astype(np.int64)
        first_seen[returning] -= back[returning]
        known = persons["created"]
        # A returning visitor whose first visit predates everyone we know came before the run.
        old = returning & ((len(known) == 0) | (first_seen < (known[0] if len(known) else 0)))
        returning &= ~old
        person = np.empty(n, dtype=np.int64)
        rows = np.flatnonzero(returning)
        if len(rows):
            picked = np.searchsorted(known, first_seen[rows])
            person[rows] = np.minimum(picked, len(known) - 1)
        fresh = np.flatnonzero(~returning)
        device_new = rng.choice(len(self.devices), size=len(fresh), p=self.device_p)
        person[fresh] = persons.append(
            client_id=_client_ids(first_seen[fresh], rng),
            created=start[fresh],
            device=device_new.astype(np.int8),
            region=rng.choice(len(self.regions), size=len(fresh), p=self.region_p),
        )
        client_id = persons["client_id"][person]
        device = persons["device"][person]
        lost = rows[rng.random(len(rows)) < traffic.cookie_loss]
        if len(lost):
            # The new cookie (and device) holds from this visit on: earlier visits in the same
            # hour keep the old ClientID; the person carries the new one into later hours.
            client_id[lost] = _client_ids(start[lost], rng)
            device[lost] = rng.choice(len(self.devices), size=len(lost), p=self.device_p)
            persons.assign("client_id", person[lost], client_id[lost])
            persons.assign("device", person[lost], device[lost])
        return client_id, person, device, persons["region"][person]

    def _durations(self, n: int) -> np.ndarray:
        mean = self.settings.traffic.mean_duration_seconds
        return np.maximum(5, self.rng.exponential(mean, n)).astype(np.int32)

    def _tags(self, source: np.ndarray) -> dict[str, np.ndarray]:
        """Campaign, term and landing page indices per visit (``-1`` when the source has none);
        a Direct click's yclid is filled in here as well."""
        rng = self.rng
        n = len(source)
        campaign = np.full(n, NO_VALUE, dtype=np.int16)
        term = np.full(n, NO_VALUE, dtype=np.int16)
        landing = np.zeros(n, dtype=np.int16)
        yclid = np.zeros(n, dtype=np.uint64)
        for index, spec in enumerate(self.sources):
            rows = np.flatnonzero(source == index)
            if not len(rows):
                continue
            if spec.campaigns:
                campaign[rows] = rng.integers(0, len(spec.campaigns), len(rows))
            if spec.terms:
                term[rows] = rng.integers(0, len(spec.terms), len(rows))
            landing[rows] = rng.integers(0, len(spec.landing_pages), len(rows))
            if spec.yclid:
                yclid[rows] = rng.integers(1, 2**63 - 1, len(rows), dtype=np.int64)
        return {"campaign": campaign, "term": term, "landing": landing, "yclid": yclid}

    def _dynamic_share(self, expected_per_hour: float) -> float:
        """Chance that a visitor was shown a pool number: all of them while the pool lasts."""
        tracking = self.settings.call_tracking
        on_site = expected_per_hour * tracking.hold_minutes / 60.0
        return 1.0 if on_site <= tracking.pool_size else tracking.pool_size / on_site


REF_COLUMNS = (
    "visit_id",
    "client_id",
    "person",
    "start",
    "duration",
    "source",
    "campaign",
    "yclid",
)


def visit_refs(
    columns: dict[str, np.ndarray], rows: np.ndarray, calendar: SimCalendar
) -> list[VisitRef]:
    """The visits at ``rows`` as plain Python values (one ``tolist`` per column, not per cell)."""
    values = [columns[name][rows].tolist() for name in REF_COLUMNS]
    origin = calendar.origin_unix
    return [
        VisitRef(vid, cid, person, float(start - origin), duration, source, campaign, yclid)
        for vid, cid, person, start, duration, source, campaign, yclid in zip(*values, strict=True)
    ]


def _client_ids(first_seen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``<Unix time of the first visit><9 random digits>``."""
    suffix = rng.integers(0, CID_SUFFIX, len(first_seen), dtype=np.int64)
    return first_seen.astype(np.uint64) * np.uint64(CID_SUFFIX) + suffix.astype(np.uint64)


def _normalised(values) -> np.ndarray:
    array = np.fromiter(values, dtype=float)
    return array / array.sum()
