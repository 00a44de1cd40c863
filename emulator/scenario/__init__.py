"""Scenarios: named real-life situations, run end to end and scored against the ground truth.

scenario = load_scenario("scenarios/dental_clinic.toml")
run = run_scenario(scenario, seed=1, out="out/dental")   # in-process, or via="http"
run.scorecard, run.misses
"""

from emulator.scenario.expectations import evaluate, lookup
from emulator.scenario.runner import RunResult, run_scenario
from emulator.scenario.spec import Expectation, Scenario, ScenarioError, load_scenario

__all__ = [
    "Expectation",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "evaluate",
    "load_scenario",
    "lookup",
    "run_scenario",
]
