"""Run umap-learn's own test suite against umapx through an import alias (the outside check).

    python benchmarks/umap_learn_api.py PATH/TO/umap/tests                 # against umapx
    python benchmarks/umap_learn_api.py PATH/TO/umap/tests --against umap-learn
    python benchmarks/umap_learn_api.py PATH --python /other/venv/bin/python -k "iris"
    python benchmarks/umap_learn_api.py PATH --against umap-learn --only-failed-in umapx.xml

``PATH`` is a folder of umap-learn's tests (its ``umap/tests/``, conftest included), checked
out by the user: the tests are umap-learn's and are not part of this repository. Against umapx,
pytest runs with the plugin ``benchmarks/umap_alias.py``, which makes ``import umap`` and every
``umap.<submodule>`` import the matching umapx module (the test files are not touched). Against
umap-learn the same folder runs with no alias, in an environment where ``import umap`` is
umap-learn 0.5.12 — the baseline.

Prints passed / failed / error / skipped per file and in total, then the failures grouped by
cause (exception type and the first line of its message) and one line per failing test. Exit
status: 0 when the run completed (whatever the counts), 1 when pytest could not run the folder.
``--only-failed-in REPORT`` runs only the tests that failed (or errored) in an earlier run's
JUnit report (``--junit``): e.g. umap-learn on exactly the tests umapx fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTCOMES = ("passed", "failed", "error", "skipped")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", type=Path, help="folder holding umap-learn's tests")
    parser.add_argument("--against", choices=("umapx", "umap-learn"), default="umapx",
                        help="umapx through the import alias (default) or umap-learn itself")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of the environment to run in (needs pytest)")
    parser.add_argument("--junit", type=Path, default=None,
                        help="also keep pytest's JUnit XML report here")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds before the whole run is stopped (default 3600)")
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument("--only-failed-in", type=Path, default=None, metavar="REPORT",
                        help="run only the tests failed or errored in this JUnit report")
    parser.add_argument("--cause-width", type=int, default=150,
                        help="characters of each failure cause to print")
    return parser.parse_args(argv)


def run_pytest(args, junit_path):
    """Run pytest on the folder in a fresh process; return its exit code."""
    tests = args.tests.resolve()
    selected = [str(tests)]
    if args.only_failed_in is not None:
        selected = failed_nodes(args.only_failed_in, tests)
        if not selected:
            raise SystemExit(f"{args.only_failed_in}: no failed tests to rerun")
    command = [args.python, "-m", "pytest", *selected, "--rootdir", str(tests),
               "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=",
               "--continue-on-collection-errors",
               f"--junitxml={junit_path}"]
    env = dict(os.environ)
    if args.against == "umapx":
        command += ["-p", "umap_alias"]
        env["PYTHONPATH"] = os.pathsep.join(
            [str(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if args.keyword:
        command += ["-k", args.keyword]
    # Run outside the repository so that neither its pytest settings nor its conftest apply.
    with tempfile.TemporaryDirectory(prefix="umap-learn-api-") as workdir:
        completed = subprocess.run(command, cwd=workdir, env=env, timeout=args.timeout,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout.strip() else []
    print(f"pytest exit code {completed.returncode}: {' '.join(tail)}")
    return completed.returncode


def cause_of(element):
    """Exception type and first message line of a <failure>/<error> element."""
    message = (element.get("message") or "").strip()
    first = message.splitlines()[0] if message else ""
    if first in ("", "collection failure") and element.text:
        lines = [line.strip() for line in element.text.splitlines() if line.startswith("E ")]
        first = lines[0][1:].strip() if lines else element.text.strip().splitlines()[-1]
    return " ".join(first.split())


def read_results(junit_path):
    """[(file, test, outcome, cause)] from pytest's JUnit XML."""
    results = []
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")[0]
        test = case.get("name")
        if not module:  # a file that could not be imported: pytest names the module only
            module, test = test.split(".")[-1], "<import>"
        file_name = f"{module}.py"
        outcome, cause = "passed", ""
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                outcome = "failed" if tag == "failure" else tag
                cause = cause_of(found) if tag != "skipped" else ""
                break
        results.append((file_name, test, outcome, cause))
    return results


def failed_nodes(junit_path, tests):
    """pytest node ids (absolute paths under ``tests``) of the failed and errored tests of a
    JUnit report; a file that could not be imported is rerun whole."""
    nodes = []
    for file_name, test, outcome, _ in read_results(junit_path):
        if outcome in ("failed", "error"):
            path = str(tests / file_name)
            nodes.append(path if test == "<import>" else f"{path}::{test}")
    return list(dict.fromkeys(nodes))


def report(results, against, width):
    per_file = defaultdict(Counter)
    for file_name, _, outcome, _ in results:
        per_file[file_name][outcome] += 1
    print(f"\numap-learn's tests against {against}")
    header = f"{'file':40s} " + " ".join(f"{o:>7s}" for o in OUTCOMES)
    print(header)
    print("-" * len(header))
    total = Counter()
    for file_name in sorted(per_file):
        counts = per_file[file_name]
        total.update(counts)
        print(f"{file_name:40s} " + " ".join(f"{counts[o]:7d}" for o in OUTCOMES))
    print("-" * len(header))
    print(f"{'total':40s} " + " ".join(f"{total[o]:7d}" for o in OUTCOMES))
    ran = total["passed"] + total["failed"] + total["error"]
    print(f"passed {total['passed']} of {ran} run ({total['skipped']} skipped by the suite)")

    failing = [(f, t, o, c) for f, t, o, c in results if o in ("failed", "error")]
    if not failing:
        return
    by_cause = defaultdict(list)
    for file_name, test, _, cause in failing:
        by_cause[cause[:width]].append(f"{file_name}::{test}")
    print(f"\nfailures by cause ({len(by_cause)} causes)")
    for cause, tests in sorted(by_cause.items(), key=lambda item: (-len(item[1]), item[0])):
        print(f"[{len(tests)}] {cause}")
    print("\nfailing tests")
    for file_name, test, outcome, cause in failing:
        print(f"{outcome:6s} {file_name}::{test}: {cause[:width]}")


def main(argv=None):
    args = parse_args(argv)
    if not (args.tests / "conftest.py").is_file():
        raise SystemExit(f"{args.tests}: no conftest.py here; pass umap-learn's umap/tests folder")
    with tempfile.TemporaryDirectory(prefix="umap-learn-api-junit-") as scratch:
        junit_path = args.junit.resolve() if args.junit else Path(scratch) / "report.xml"
        code = run_pytest(args, junit_path)
        if not junit_path.is_file():
            print("pytest wrote no report: it could not run the folder", file=sys.stderr)
            return 1
        report(read_results(junit_path), args.against, args.cause_width)
    return 0 if code in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
