"""Run one scenario in the current (mutated) copy and print its outcome as one JSON line.

``python -m mutation.scenario_check scenarios/x.toml``, started by the harness with
``PYTHONPATH`` and ``MUTATION_ROOT`` set to the copy. Like ``crmemu run --check``: the
scenario's expectations, including ``goals.mismatch_total``, decide; an exception is reported
as an error, not as a miss.
"""

from __future__ import annotations

import json
import sys
import traceback

from mutation.guard import check_root


def main(argv: list[str]) -> int:
    check_root()
    from emulator.scenario import load_scenario, run_scenario

    (path,) = argv
    try:
        run = run_scenario(load_scenario(path))
    except Exception:  # the harness reports it; a crash is not an expectation miss
        outcome = {"error": traceback.format_exc(limit=3)}
    else:
        goals = run.scorecard["goals"]
        outcome = {"misses": run.misses, "mismatch_total": goals.get("mismatch_total")}
    print(json.dumps(outcome, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
