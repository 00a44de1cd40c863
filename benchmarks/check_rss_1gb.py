"""Peak memory of ``crmemu check`` on a ~1 GB simple-orders file, in a child process.

    python benchmarks/check_rss_1gb.py [--size-gb 1.0] [--file PATH] [--without-pandas]

The file is generated in a temporary directory (or ``--file`` is used as it is, e.g. to
repeat a run). The check runs as ``python -m emulator check`` with its output discarded;
the peak resident set size of the child comes from ``getrusage(RUSAGE_CHILDREN)``.

pandas is no dependency of this project, but when it is installed (the shared dev venv
has it) pyarrow imports it on first use, which costs about 40 MB. ``--without-pandas``
runs the child as an installation from ``pyproject.toml`` would: with pandas hidden.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simple_orders_data import write


def measure(path: Path, without_pandas: bool) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and the exit status of one check run."""
    command = [
        sys.executable,
        "-m",
        "emulator",
        "check",
        str(path),
        "--kind",
        "simple_orders",
        "--now",
        "2024-12-31T00:00",
        "--format",
        "text",
    ]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as hidden:
        if without_pandas:
            (Path(hidden) / "pandas").mkdir()
            (Path(hidden) / "pandas" / "__init__.py").write_text('raise ImportError("hidden")\n')
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [hidden, env.get("PYTHONPATH")]))
        start = time.perf_counter()
        done = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
        )
    seconds = time.perf_counter() - start
    if done.stderr:
        sys.stderr.write(done.stderr.decode())
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--file", type=Path, help="check this file instead of generating one")
    parser.add_argument("--without-pandas", action="store_true", help="hide pandas from the child")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = Path(folder) / "simple_orders_1gb.csv"
            start = time.perf_counter()
            rows = write(path, size_bytes=int(args.size_gb * 1e9))
            print(f"generated {rows:,} rows in {time.perf_counter() - start:.0f} s")
        size = path.stat().st_size
        seconds, peak_mb, status = measure(path, args.without_pandas)
    print(
        f"file: {size / 1e9:.2f} GB; check: {seconds:.1f} s ({size / 1e6 / seconds:.0f} MB/s), "
        f"exit status {status}; peak RSS of the child: {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
