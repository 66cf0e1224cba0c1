"""Verbose reporting: stage timings and a progress bar, written to stderr.

Silent unless asked; the timings are always recorded (the estimator keeps them in
``timings_``), so benchmarks can print them without turning on verbose output.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time


class Report:
    """Times pipeline stages and, when ``verbose``, prints them as they happen.

    Parameters
    ----------
    verbose : bool
    name : str
        Prefix of every line.
    stream : file-like or None
        Where to write (stderr by default).
    """

    def __init__(self, verbose, name="umapx", stream=None):
        self.verbose = bool(verbose)
        self.name = name
        self.stream = stream if stream is not None else sys.stderr
        self.timings = {}

    def log(self, message):
        if self.verbose:
            print(f"[{self.name}] {message}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def stage(self, name):
        """Time the enclosed block as stage ``name``."""
        self.log(f"{name} ...")
        start, cpu_start = time.perf_counter(), time.process_time()
        yield
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        # CPU time of the process beside the wall time: on a busy machine their ratio says
        # how many cores the stage actually got.
        self.log(f"{name} done in {elapsed:.2f} s (CPU {time.process_time() - cpu_start:.2f} s)")

    def progress(self, total, unit, description=None, disable=False):
        """A callable ``update(done)`` drawing a progress bar over ``total`` ``unit``.

        ``description`` replaces the report's name at the start of the bar; ``disable`` turns
        the bar off (umap-learn's ``tqdm_kwds`` ``desc`` and ``disable``).
        """
        if not self.verbose or total <= 0 or disable:
            return None
        return _ProgressBar(total, unit, description or self.name, self.stream)

    def rounds(self, most, threshold, unit):
        """A callable ``update(round, changes)`` for an iteration that stops when a round
        makes at most ``threshold`` changes (or after ``most`` rounds).

        Each round is logged with its changes and an estimate of the rounds and time left,
        from the geometric decay of the changes so far and the last round's duration; before
        two rounds have shown a decay, the estimate is the most rounds that may remain.
        ``update(0, None)`` restarts the clock (the iteration begins after some set-up).
        """
        if not self.verbose:
            return None
        return _Convergence(most, threshold, unit, self)


class _ProgressBar:
    _WIDTH = 30

    def __init__(self, total, unit, name, stream):
        self.total = total
        self.unit = unit
        self.name = name
        self.stream = stream
        self.start = time.perf_counter()
        self.last_draw = -1.0
        self.interactive = getattr(stream, "isatty", lambda: False)()
        self.last_decile = -1

    def __call__(self, done):
        now = time.perf_counter()
        finished = done >= self.total
        if self.interactive:
            if not finished and now - self.last_draw < 0.1:
                return
        else:  # logs: one line per tenth
            decile = (10 * done) // self.total
            if decile == self.last_decile and not finished:
                return
            self.last_decile = decile
        self.last_draw = now
        elapsed = now - self.start
        fraction = done / self.total
        remaining = elapsed / fraction - elapsed if fraction > 0 else 0.0
        filled = int(self._WIDTH * fraction)
        bar = "#" * filled + "-" * (self._WIDTH - filled)
        line = (f"[{self.name}] |{bar}| {done}/{self.total} {self.unit} "
                f"[{elapsed:5.1f}s elapsed, {remaining:5.1f}s left]")
        end = "\n" if finished or not self.interactive else ""
        prefix = "\r" if self.interactive else ""
        print(prefix + line, end=end, file=self.stream, flush=True)


class _Convergence:
    def __init__(self, most, threshold, unit, report):
        self.most = most
        self.threshold = threshold
        self.unit = unit
        self.report = report
        self.last_time = time.perf_counter()
        self.last_changes = None

    def __call__(self, round_, changes):
        now = time.perf_counter()
        took, self.last_time = now - self.last_time, now
        if round_ == 0:
            return
        bound = ""
        if changes <= self.threshold or round_ >= self.most:
            left = 0
        elif self.last_changes:
            decay = min(max(changes / self.last_changes, 0.05), 0.95)
            left = math.ceil(math.log(self.threshold / changes) / math.log(decay))
            left = min(left, self.most - round_)
        else:
            left, bound = self.most - round_, "at most "
        self.last_changes = changes
        estimate = f"{bound}~{left} more, ~{left * took:.0f} s left" if left else "done"
        self.report.log(f"  round {round_}: {changes} {self.unit} in {took:.1f} s ({estimate})")
