"""Run every benchmark and print its figures: ``python bench/run_all.py``.

Each ``bench/*_bench.py`` is a standalone script that prints its own figures; this runs them one
after another (they share two cores: never in parallel) and then times a real browser.
``--quick`` passes ``--quick`` to benchmarks that accept it (smaller data, for a smoke run).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    scripts = sorted(HERE.glob("*_bench.py"))
    failures = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        takes_quick = "--quick" in script.read_text(encoding="utf-8")
        args = [sys.executable, str(script)] + (["--quick"] if quick and takes_quick else [])
        result = subprocess.run(args, cwd=HERE.parent)
        print(
            f"--- {script.name}: exit {result.returncode}, {time.perf_counter() - started:.1f} s wall",
            flush=True,
        )
        failures += result.returncode != 0
    print(f"\n{len(scripts)} benchmarks, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
