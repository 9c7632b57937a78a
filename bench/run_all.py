"""Run every benchmark in turn, each in its own interpreter, and summarise the verdicts.

`python bench/run_all.py [--quick]` from the repository root. Benchmarks report: this exits 0 whatever they find.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import threading
import time
from importlib.metadata import version

from common import BENCH_DIR, arg_parser

BENCHMARKS = ("cold_start", "call_latency", "http_load", "memory", "upstream")
TIMEOUT = 240.0  # seconds per benchmark; a full run takes a few minutes on 2 cores


def machine() -> str:
    return (
        f"{datetime.date.today()}  nproc {os.cpu_count()}  {platform.machine()}  Python {platform.python_version()}"
        f"  mcp {version('mcp')}  load avg {os.getloadavg()[0]:.2f}"
    )


def run(name: str, quick: bool) -> tuple[list[str], float]:
    """Run one benchmark, echoing its output; (its RESULT lines, seconds taken)."""
    command = [sys.executable, str(BENCH_DIR / f"{name}.py"), *(["--quick"] if quick else [])]
    print(f"\n=== {name} ===", flush=True)
    started = time.monotonic()
    results: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        # A hung benchmark is killed, which ends its output and so the loop below.
        watchdog = threading.Timer(TIMEOUT, process.kill)
        watchdog.start()
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("RESULT "):
                results.append(line.strip())
        watchdog.cancel()
    if process.returncode:
        results.append(f"RESULT {name}: ERROR - exit status {process.returncode}")
    return results, time.monotonic() - started


def main() -> None:
    args = arg_parser(__doc__ or "").parse_args()
    print(machine())
    summary: list[str] = []
    for name in BENCHMARKS:
        results, seconds = run(name, args.quick)
        summary.extend(results or [f"RESULT {name}: ERROR - no verdict"])
        print(f"({seconds:.0f}s)")
    print("\n=== summary ===")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
