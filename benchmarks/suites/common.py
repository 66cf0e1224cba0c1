"""What every ``run.py`` suite uses: the worker process, ratios, the text tables."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _children_cpu_s():
    """CPU seconds (user + system) of this process's finished and waited-for children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def worker(*args, env=None, timeout=7200):
    """Run one worker process; return its JSON result or {"error": ...}."""
    command = [sys.executable, "-m", "benchmarks.worker", *map(str, args)]
    began, children = time.perf_counter(), _children_cpu_s()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        # The killed process has been waited for, so its CPU time is in RUSAGE_CHILDREN.
        return {"error": f"timed out after {timeout} s",
                "cpu_s_at_limit": _children_cpu_s() - children}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - began
    return result


def ratio(anchor, ours):
    if anchor is None or ours is None or ours == 0:
        return "-"
    return f"{anchor / ours:.2f}x"


def table(rows, columns):
    """Print rows (dicts) as an aligned text table with the given (key, title, format)."""
    cells = [[title for _, title, _ in columns]]
    for row in rows:
        line = []
        for key, _, fmt in columns:
            value = row.get(key)
            line.append("-" if value is None else (fmt.format(value) if fmt else str(value)))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for n, line in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(line, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def brief(result, key):
    if "error" in result:
        return "error: " + result["error"]
    return f"{result.get(key, float('nan')):.3f} s"
