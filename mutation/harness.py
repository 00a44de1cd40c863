"""Applying each mutant to a copy of the project and running the killing suite there.

Every mutant gets its own temporary copy of the tracked files (``git ls-files``), patched,
and a ``pytest -x`` over :data:`KILL_SUITE` in that copy with ``PYTHONPATH`` pointing at it;
:mod:`mutation.guard` makes the child refuse to run if ``emulator`` is not the copy's. A
mutant is *killed* when a test fails. Goal-rule mutants also run the scenarios (their
expectations, as ``crmemu run --check``); once a scenario has killed a mutant it is not run
again unless ``full_matrix`` asks for every cell.

Before any mutant, the same suite and scenarios run on an unmutated copy: a kill only means
something when the unmutated code passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mutation.mutants import Mutant

ROOT = Path(__file__).resolve().parent.parent
KILL_SUITE: tuple[str, ...] = (
    "tests/test_rules.py",
    "tests/test_rules_docs_current.py",
    "tests/test_engine_windows.py",
    "tests/test_engine_examples.py",
    "tests/test_api_fidelity.py",
    "tests/test_api_docs_samples.py",
    "tests/test_api_reports.py",
    "tests/test_control_semantics.py",
    "tests/test_api_control.py",
    "tests/test_engine_stateful.py",
    "tests/test_rules_diff.py",
    "tests/test_engine_golden.py",
    "tests/test_scenarios.py",
)
"""The tests that state the engine's rules, in the order they run: one test per rule first
(a second or two per file), the end-to-end goldens and scenarios (a minute or more) last,
so most kills take seconds."""
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "mutation.guard")
SUITE_TIMEOUT = 1800
SCENARIO_TIMEOUT = 900
KILLED, SURVIVED = "killed", "survived"
HELD, SKIPPED, ERROR = "held", "skipped", "error"


class HarnessError(RuntimeError):
    """The harness itself cannot give a meaningful answer (a stale patch, a failing baseline,
    a child that imported the wrong tree)."""


@dataclass
class SuiteOutcome:
    status: str
    """``killed`` or ``survived``."""
    by: str
    """The first failing test (or how the run ended)."""
    seconds: float


@dataclass
class MutantResult:
    mutant: Mutant
    suite: SuiteOutcome
    scenarios: dict[str, str] = field(default_factory=dict)
    """Scenario name → ``killed``, ``held``, ``skipped`` or ``error``."""
    details: dict[str, str] = field(default_factory=dict)
    """Scenario name → the expectations that missed (or the error)."""


@dataclass
class Report:
    results: list[MutantResult]
    scenarios: list[str]
    seconds: float
    complete: bool
    """Every mutant ran (no ``only``), so the per-scenario requirement can be judged."""

    @property
    def killed(self) -> int:
        return sum(r.suite.status == KILLED for r in self.results)

    def survivors(self) -> list[str]:
        return [r.mutant.name for r in self.results if r.suite.status != KILLED]

    def scenario_kills(self) -> dict[str, list[str]]:
        """Scenario → the goal-rule mutants its expectations killed."""
        kills: dict[str, list[str]] = {name: [] for name in self.scenarios}
        for result in self.results:
            for name, status in result.scenarios.items():
                if status == KILLED:
                    kills[name].append(result.mutant.name)
        return kills

    @property
    def passed(self) -> bool:
        unguarded = [s for s, by in self.scenario_kills().items() if not by]
        return not self.survivors() and not (self.complete and self.scenarios and unguarded)


def tracked_files(root: Path = ROOT) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name]


def copy_project(dest: Path, files: Iterable[str], root: Path = ROOT) -> None:
    """The working-tree content of the tracked ``files`` (deleted ones skipped) under ``dest``."""
    for name in files:
        source = root / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def patched(mutant: Mutant, root: Path) -> dict[Path, str]:
    """The new text of every file ``mutant`` edits under ``root``; each snippet must occur
    exactly once, or the mutant no longer points at its rule."""
    texts: dict[Path, str] = {}
    for edit in mutant.edits:
        path = root / edit.path
        text = texts.get(path) or path.read_text(encoding="utf-8")
        found = text.count(edit.old)
        if found != 1:
            raise HarnessError(
                f"mutant {mutant.name}: {edit.path} holds {found} copies of the snippet "
                f"{edit.old.strip()!r} (exactly 1 needed); point the mutant at the rule again"
            )
        texts[path] = text.replace(edit.old, edit.new)
    return texts


def check_mutants(mutants: Iterable[Mutant], root: Path = ROOT) -> None:
    """Fail loudly, before anything runs, when a mutant's patch does not apply."""
    names = set()
    for mutant in mutants:
        if mutant.name in names:
            raise HarnessError(f"two mutants are called {mutant.name}")
        names.add(mutant.name)
        patched(mutant, root)


def in_copy(copy: Path, args: list[str], timeout: int) -> subprocess.CompletedProcess[str] | None:
    """``python args`` run in ``copy`` with the copy first on the path; ``None`` on timeout."""
    env = dict(os.environ)
    env.update(PYTHONPATH=str(copy), MUTATION_ROOT=str(copy), PYTHONDONTWRITEBYTECODE="1")
    try:
        return subprocess.run(
            [sys.executable, *args],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None


FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def run_suite(copy: Path, files: Iterable[str] = KILL_SUITE) -> SuiteOutcome:
    """``pytest -x`` over ``files`` in ``copy``."""
    started = time.monotonic()
    done = in_copy(copy, [*PYTEST, "-m", "not slow", *files], SUITE_TIMEOUT)
    seconds = time.monotonic() - started
    if done is None:
        return SuiteOutcome(KILLED, f"timeout after {SUITE_TIMEOUT} s", seconds)
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return SuiteOutcome(SURVIVED, "", seconds)
    failed = FAILED_LINE.search(output)
    if done.returncode in (1, 2) and failed:
        how = "" if done.returncode == 1 else " (collection error)"
        return SuiteOutcome(KILLED, failed[1] + how, seconds)
    raise HarnessError(f"pytest in {copy} ended with {done.returncode}:\n{output[-3000:]}")


def run_scenario(copy: Path, scenario: str) -> tuple[str, str]:
    """``(status, detail)`` of one scenario's check in ``copy``."""
    done = in_copy(copy, ["-m", "mutation.scenario_check", scenario], SCENARIO_TIMEOUT)
    if done is None:
        return ERROR, f"timeout after {SCENARIO_TIMEOUT} s"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise HarnessError(f"scenario check of {scenario} failed:\n{done.stderr[-3000:]}")
    outcome = json.loads(lines[-1])
    if "error" in outcome:
        return ERROR, outcome["error"]
    misses = outcome["misses"]
    return (KILLED, "; ".join(misses)) if misses else (HELD, "")


def scenario_paths(root: Path = ROOT) -> list[str]:
    return [str(p.relative_to(root)) for p in sorted((root / "scenarios").glob("*.toml"))]


def scenario_name(path: str) -> str:
    return Path(path).stem


class _Run:
    """One harness run: the copies, the scenarios still to kill, the progress lines."""

    def __init__(self, full_matrix: bool, say: Callable[[str], None]) -> None:
        self.files = tracked_files()
        self.full_matrix = full_matrix
        self.say = say
        self.killed: set[str] = set()
        self.lock = threading.Lock()

    def copy(self, workdir: str, mutant: Mutant | None) -> Path:
        copy = Path(workdir) / "project"
        copy_project(copy, self.files)
        if mutant is not None:
            for path, text in patched(mutant, copy).items():
                path.write_text(text, encoding="utf-8")
        return copy

    def baseline_suite(self) -> None:
        with tempfile.TemporaryDirectory(prefix="mutation-") as workdir:
            outcome = run_suite(self.copy(workdir, None))
        if outcome.status != SURVIVED:
            raise HarnessError(f"the unmutated suite fails ({outcome.by}): fix that first")
        self.say(f"baseline suite passes ({outcome.seconds:.0f} s)")

    def baseline_scenarios(self, scenarios: list[str]) -> None:
        with tempfile.TemporaryDirectory(prefix="mutation-") as workdir:
            copy = self.copy(workdir, None)
            for scenario in scenarios:
                status, detail = run_scenario(copy, scenario)
                if status != HELD:
                    raise HarnessError(f"unmutated {scenario} does not pass: {detail}")
        self.say(f"baseline scenarios pass ({len(scenarios)})")

    def mutant(self, mutant: Mutant, scenarios: list[str]) -> MutantResult:
        with tempfile.TemporaryDirectory(prefix=f"mutation-{mutant.name}-") as workdir:
            copy = self.copy(workdir, mutant)
            result = MutantResult(mutant, run_suite(copy))
            for scenario in scenarios if mutant.goal else []:
                name = scenario_name(scenario)
                with self.lock:
                    done = name in self.killed and not self.full_matrix
                if done:
                    result.scenarios[name] = SKIPPED
                    continue
                status, detail = run_scenario(copy, scenario)
                result.scenarios[name], result.details[name] = status, detail
                if status == KILLED:
                    with self.lock:
                        self.killed.add(name)
                elif status == ERROR:
                    self.say(f"  {mutant.name}: {name} crashed: {detail.strip()[-300:]}")
        suite = result.suite
        self.say(f"{mutant.name}: {suite.status} {suite.by} ({suite.seconds:.0f} s)")
        return result


def run(
    mutants: list[Mutant],
    jobs: int = 1,
    scenarios: bool = True,
    baseline: bool = True,
    full_matrix: bool = False,
    complete: bool = True,
    say: Callable[[str], None] = print,
) -> Report:
    """Run ``mutants`` (``jobs`` at a time) and return the report."""
    check_mutants(mutants)
    started = time.monotonic()
    state = _Run(full_matrix, say)
    paths = scenario_paths() if scenarios else []
    goal_first = sorted(mutants, key=lambda m: not m.goal)  # scenario kills settle early
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        if baseline:
            checks = [pool.submit(state.baseline_suite)]
            if paths:
                checks.append(pool.submit(state.baseline_scenarios, paths))
            for check in checks:
                check.result()
        results = list(pool.map(lambda m: state.mutant(m, paths), goal_first))
    order = {m.name: i for i, m in enumerate(mutants)}
    results.sort(key=lambda r: order[r.mutant.name])
    names = [scenario_name(p) for p in paths]
    return Report(results, names, time.monotonic() - started, complete)
