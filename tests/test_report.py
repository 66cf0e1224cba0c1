"""Verbose reporting: stage timings with CPU time, progress bars and convergence estimates."""

from __future__ import annotations

import io
import re

import numpy as np

import umapx
from umapx._report import Report


def lines_of(stream):
    return stream.getvalue().splitlines()


def test_stage_records_wall_time_and_logs_cpu_time():
    stream = io.StringIO()
    report = Report(True, stream=stream)
    with report.stage("knn"):
        pass
    with report.stage("knn"):  # a stage entered twice adds up
        pass
    assert set(report.timings) == {"knn"} and report.timings["knn"] >= 0.0
    done = [line for line in lines_of(stream) if "knn done in" in line]
    assert len(done) == 2
    assert all(re.search(r"done in \d+\.\d\d s \(CPU \d+\.\d\d s\)", line) for line in done)


def test_silent_report_still_records_timings():
    stream = io.StringIO()
    report = Report(False, stream=stream)
    with report.stage("layout"):
        pass
    assert "layout" in report.timings
    assert report.progress(10, "epochs") is None and report.rounds(5, 10, "updates") is None
    assert stream.getvalue() == ""


def test_progress_bar_logs_tenths_with_time_left():
    stream = io.StringIO()  # not a terminal: one line per tenth, not a redrawn bar
    update = Report(True, stream=stream).progress(50, "epochs")
    for done in range(1, 51):
        update(done)
    lines = lines_of(stream)
    assert len(lines) == 11  # the first update, then one a tenth
    assert all(re.search(r"\d+/50 epochs \[ *\d+\.\ds elapsed, *\d+\.\ds left\]", line)
               for line in lines)
    assert "50/50 epochs" in lines[-1]


def estimate(line):
    """(rounds left, seconds left) of a convergence line, (0, 0) once it says done."""
    if line.endswith("(done)"):
        return 0, 0
    found = re.search(r"\((?:at most )?~(\d+) more, ~(\d+) s left\)$", line)
    assert found, line
    return int(found[1]), int(found[2])


def test_convergence_estimates_rounds_left_from_the_decay_of_changes():
    stream = io.StringIO()
    update = Report(True, stream=stream).rounds(20, 100, "updates")
    update(0, None)  # the rounds begin: nothing logged
    update(1, 100_000)  # nothing to extrapolate from yet: the most rounds that remain
    update(2, 10_000)  # falls 10x a round: 100 is two rounds away
    update(3, 1_000)
    update(4, 90)  # at most the threshold: converged
    lines = lines_of(stream)
    assert [estimate(line)[0] for line in lines] == [19, 2, 1, 0]
    assert "(at most ~19 more" in lines[0] and "at most" not in "".join(lines[1:])
    assert all(re.search(r"round \d+: \d+ updates in \d+\.\d s", line) for line in lines)


def test_convergence_estimate_never_exceeds_the_rounds_left():
    stream = io.StringIO()
    update = Report(True, stream=stream).rounds(6, 1, "updates")
    for round_, changes in enumerate([1000, 990, 985, 980, 979, 978], start=1):
        update(round_, changes)  # barely decaying: capped by the rounds that remain
    assert [estimate(line)[0] for line in lines_of(stream)] == [5, 4, 3, 2, 1, 0]


def test_verbose_fit_shows_knn_rounds_and_epochs_with_estimates(capsys, blobs):
    mapper = umapx.UMAP(verbose=True, n_epochs=20, random_state=0, knn_method="nndescent")
    mapper.fit(blobs[0])
    err = capsys.readouterr().err
    assert re.search(r"NN-descent: \d+ trees", err)
    assert re.search(r"\d+/\d+ trees \[.*left\]", err)
    rounds = [line for line in err.splitlines() if re.search(r"round \d+: \d+ neighbour", line)]
    assert rounds and all(re.search(r"\(((at most )?~\d+ more, ~\d+ s left|done)\)$", r)
                          for r in rounds)
    assert rounds[-1].endswith("(done)") or len(rounds) == max(5, round(np.log2(300)))
    assert "20/20 epochs" in err
    for stage in ("knn", "graph", "init", "layout"):
        assert re.search(rf"{stage} done in [\d.]+ s \(CPU [\d.]+ s\)", err)


def test_timings_cover_every_stage_in_order(blobs):
    mapper = umapx.UMAP(n_epochs=10, random_state=0).fit(blobs[0])
    assert list(mapper.timings_) == ["knn", "graph", "init", "layout"]
    assert all(isinstance(t, float) and t >= 0.0 for t in mapper.timings_.values())


def test_verbose_transform_logs_its_stages(capsys, blobs):
    mapper = umapx.UMAP(n_epochs=9, random_state=0).fit(blobs[0])
    mapper.set_params(verbose=True).transform(blobs[0][:20] + 0.5)
    err = capsys.readouterr().err
    assert "transforming 20 x 10 data (3 epochs)" in err
    for stage in ("knn", "graph", "init", "layout"):
        assert re.search(rf"transform {stage} done in [\d.]+ s \(CPU [\d.]+ s\)", err)
