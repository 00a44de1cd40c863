"""One config tree: a settings or scenario file may build on a simulator settings file.

``[simulation] base = "sim/dental_clinic.toml"`` (a path relative to the file that names it)
lays that file's ``[simulation]`` and ``[export]`` tables under this file's own: this file wins
key by key, tables merge table by table (named exporters, sources and pipelines merge by name),
and a base may have a base of its own. So a scenario names a world kept once under
``scenarios/sim/`` and changes only what makes it a scenario (fewer days, its expectations).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.sim.config import SettingsError

LAYERED = ("simulation", "export")


def merged(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: nested tables merge, anything else in ``top`` replaces."""
    result = dict(base)
    for key, value in top.items():
        below = result.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            result[key] = merged(below, value)
        else:
            result[key] = value
    return result


def with_base(document: Mapping[str, Any], folder: Path, seen: tuple[Path, ...] = ()) -> dict:
    """``document`` with its ``[simulation] base`` (if any) resolved from ``folder``."""
    simulation = document.get("simulation")
    if not isinstance(simulation, Mapping) or "base" not in simulation:
        return dict(document)
    name = simulation["base"]
    if not isinstance(name, str):
        raise SettingsError(f"simulation.base: expected a file name, got {name!r}")
    path = (folder / name).resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise SettingsError(f"simulation.base: the files name each other in a loop: {chain}")
    try:
        base = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"simulation.base: cannot read {name!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"simulation.base {name!r}: not valid TOML: {exc}") from None
    base = with_base(base, path.parent, (*seen, path))
    own = dict(document)
    own["simulation"] = {k: v for k, v in simulation.items() if k != "base"}
    below = {key: base[key] for key in LAYERED if key in base}
    return merged(below, own)
