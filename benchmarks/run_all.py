"""Run every benchmark script in this folder and print one summary table.

    python benchmarks/run_all.py

A benchmark is any `*.py` here except this file and files starting with `_`. Each runs in its
own process (so one cannot warm another's caches), its output is shown as it is, and every line
it prints of the form `BENCH {"name": ..., <figure>: <value>, ...}` becomes a row of the summary.
A script's exit status says whether its targets were met (0) or not.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "BENCH "


def scripts() -> list[Path]:
    return sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name and not path.name.startswith("_")
    )


def run(script: Path) -> tuple[int, float, list[dict]]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent
    )
    seconds = time.perf_counter() - started
    print(f"=== {script.name} (exit {completed.returncode}, {seconds:.1f} s)")
    print(completed.stdout, end="")
    if completed.stderr:
        print(completed.stderr, end="", file=sys.stderr)
    figures = []
    for line in completed.stdout.splitlines():
        if line.startswith(PREFIX):
            try:
                figures.append(json.loads(line[len(PREFIX) :]))
            except ValueError:
                print(f"(ignored a malformed figure line: {line!r})", file=sys.stderr)
    return completed.returncode, seconds, figures


def summary(results: dict[str, tuple[int, float, list[dict]]]) -> str:
    lines = [f"{'script':<24} {'ok':<4} {'figure':<50} value", "-" * 96]
    for name, (code, seconds, figures) in results.items():
        status = "yes" if code == 0 else "NO"
        if not figures:
            lines.append(f"{name:<24} {status:<4} {'(total run time)':<50} {seconds:.2f} s")
        for figure in figures:
            label = str(figure.get("name", "?"))
            values = ", ".join(f"{k}={v}" for k, v in figure.items() if k != "name")
            lines.append(f"{name:<24} {status:<4} {label:<50} {values}")
    return "\n".join(lines)


def main() -> int:
    results = {script.name: run(script) for script in scripts()}
    print()
    print(summary(results))
    return 0 if all(code == 0 for code, _, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
