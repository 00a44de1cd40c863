"""The simulator: a SimPy world of visitors, leads, a CRM and its exporters, with ground truth.

Public surface::

    settings = load_settings_file("scenarios/sim/default.toml")   # or load_settings(mapping)
    result = simulate(settings, seed=1)                            # the world, run to its end
    result.timeline                                                # tuple[Upload, ...], in order
    write_run(result, "out/")                                      # files, truth and manifest
    send_timeline(result.timeline, httpx_client, token, counter_id,
                  visits=result.visits, counter=result.counter)    # replay to an emulator

The simulator talks to an emulator only as an integrator would, by uploads over HTTP (plus the
emulator's control routes for the clock, the counter and the visits, which can be switched off).
"""

from emulator.sim.config import SettingsError
from emulator.sim.output import truth_orders, write_run
from emulator.sim.pipelines import PipelineSpec, builtin
from emulator.sim.replay import Exchange, Replayer, ReplayError, ReplayReport, send_timeline
from emulator.sim.run import SimulationResult, simulate
from emulator.sim.settings import Settings, load_settings, load_settings_file
from emulator.sim.uploads import Upload, counter_config
from emulator.sim.visits import CONTROL_FIELDS, VisitTable

__all__ = [
    "CONTROL_FIELDS",
    "Exchange",
    "PipelineSpec",
    "ReplayError",
    "ReplayReport",
    "Replayer",
    "Settings",
    "SettingsError",
    "SimulationResult",
    "Upload",
    "VisitTable",
    "builtin",
    "counter_config",
    "load_settings",
    "load_settings_file",
    "send_timeline",
    "simulate",
    "truth_orders",
    "write_run",
]
