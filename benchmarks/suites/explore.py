"""``run.py explore``: the explorer in a browser (``benchmarks/explore.py``)."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.suites.common import ROOT


def suite_explore(args, libs):
    """The explorer in a browser (benchmarks/explore.py, in a fresh process): no anchor has one."""
    command = [sys.executable, str(ROOT / "benchmarks" / "explore.py"), "latency",
               "--repeats", str(args.repeats)]
    subprocess.run(command, cwd=ROOT, check=True)
    return []
