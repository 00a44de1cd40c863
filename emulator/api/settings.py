"""What the HTTP adapter itself decides: upload size limit, quotas, how strict auth is.

None of these change what the engine decides about data; they shape the protocol around it.
Defaults follow the real service (project spec §2.1-§2.3); each can be set from the ``serve``
config file, from :func:`emulator.api.create_app`, and (quotas) at run time through
``PUT /_emulator/quotas``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ONE_GB = 1 << 30
"""The documented upload limit is "1 GB" (spec §2.1); read generously as 2**30 bytes."""


@dataclass(frozen=True)
class QuotaSettings:
    """The request quotas of https://yandex.ru/dev/metrika/ru/intro/quotas (spec §2.3).

    Counted separately per method group (``client_read``, ``client_write``, ``report_read``);
    the per-IP rate over a sliding second of wall time, the daily counts per UTC day of the
    emulator's clock (so advancing the virtual clock past midnight resets them).
    """

    enabled: bool = True
    requests_per_second_per_ip: int = 30
    parallel_requests_per_user: int = 3
    requests_per_day_per_user: int = 5000
    requests_per_day_per_counter: int = 5000

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any] | None, base: QuotaSettings | None = None
    ) -> QuotaSettings:
        """Strictly typed update of ``base`` (unknown names and wrong types are errors)."""
        return _updated(base or cls(), values or {}, "quotas")

    def to_mapping(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ApiSettings:
    """Protocol-level options of one app.

    - ``max_upload_bytes``: largest multipart ``file`` part (and JSON or visits body); checked
      while the body streams in, so a larger upload is refused without being held anywhere.
    - ``lenient_auth``: also accept ``Authorization: Bearer <token>``, which third-party
      clients send though the docs show only ``OAuth`` (spec §2.2). ``False`` answers it 401.
    - ``query_token``: also accept the ``oauth_token`` query parameter. Off by default: a token
      in a URL ends up in logs and history, and lets any web page post uploads cross-site.
    - ``spool_memory_bytes``: how much of an upload stays in memory before it spills to a
      temporary file in ``spool_dir`` (the system default when ``None``).
    - ``upload_budget_bytes``: how many bytes of spooled large uploads the engine may work on
      at once (see :mod:`emulator.api.admission`).
    - ``body_timeout_seconds``: a request body that sends nothing for this long is answered
      408 (see :mod:`emulator.api.protect`).
    - ``allowed_hosts``, ``admin_token``, ``cors_origins``: the control-plane protection of
      :mod:`emulator.api.protect`; ``forwarded_allow_ips``: the proxies whose
      ``X-Forwarded-For`` is believed (none by default), used by ``crmemu serve``.
    """

    max_upload_bytes: int = ONE_GB
    lenient_auth: bool = True
    query_token: bool = False
    spool_memory_bytes: int = 1 << 20
    spool_dir: str | None = None
    upload_budget_bytes: int = 256 << 20
    body_timeout_seconds: float = 30.0
    allowed_hosts: tuple[str, ...] = ()
    admin_token: str | None = None
    cors_origins: tuple[str, ...] = ()
    forwarded_allow_ips: tuple[str, ...] = ()
    quotas: QuotaSettings = field(default_factory=QuotaSettings)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ApiSettings:
        """From the ``[server]`` table of a config file plus its ``[quotas]`` table."""
        values = dict(values or {})
        quotas = QuotaSettings.from_mapping(values.pop("quotas", None))
        return dataclasses.replace(_updated(cls(), values, "server"), quotas=quotas)


def _updated(base: Any, values: Mapping[str, Any], table: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(base) if f.name != "quotas"}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"[{table}]: unknown option(s) {', '.join(unknown)}")
    changes = {}
    for name, value in values.items():
        current = getattr(base, name)
        if isinstance(current, tuple) and isinstance(value, list | tuple):
            value = tuple(value)
            ok = all(isinstance(item, str) for item in value)
        elif isinstance(current, bool):
            ok = isinstance(value, bool)
        else:
            ok = _same_kind(value, current)
        if not ok:
            raise ValueError(f"[{table}] {name}: {value!r} is not like the default {current!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ValueError(f"[{table}] {name}: must be >= 0")
        changes[name] = value
    return dataclasses.replace(base, **changes)


def _same_kind(value: Any, current: Any) -> bool:
    if isinstance(value, bool):
        return False
    if current is None:
        return value is None or isinstance(value, str)
    if isinstance(current, float):
        return isinstance(value, int | float)
    return isinstance(value, type(current))
