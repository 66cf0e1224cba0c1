"""The benchmark command line and the scale figure's reading of result files (no timing)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import plot_scale  # noqa: E402


def _results(path, rows, suite="scale"):
    path.write_text(json.dumps({"suite": suite, "args": {}, "rows": rows}))
    return str(path)


@pytest.fixture
def two_runs(tmp_path):
    first = _results(tmp_path / "first.json", [
        {"dataset": "blobs", "rows": 100000, "library": "umapx", "fit_s": 10.0, "fit_cpu_s": 18.0},
        {"dataset": "blobs", "rows": 1000000, "library": "umap-learn",
         "error": "timed out after 1800 s", "cpu_s_at_limit": 1500.0},
        {"dataset": "fashion1m", "rows": 1000000, "library": "umap-learn",
         "error": "timed out after 3000 s"},
        {"dataset": "blobs", "rows": 300000, "library": "umap-learn", "knn_s": 40.0},
    ])
    second = _results(tmp_path / "second.json", [
        {"dataset": "blobs", "rows": "100000", "library": "umapx", "fit_s": 12.0,
         "fit_cpu_s": 20.0},
        {"dataset": "fashion1m", "rows": 1000000, "library": "umap-learn",
         "init": "umapx's spectral start", "fit_s": 5000.0, "fit_cpu_s": 900.0},
    ])
    other = _results(tmp_path / "fit.json", [{"dataset": "blobs", "rows": 5, "library": "umapx",
                                              "fit_s": 1.0}], suite="fit")
    return first, second, other


def test_scale_points_merge_runs_in_order_and_keep_variants_apart(two_runs):
    first, second, other = two_runs
    points = plot_scale.scale_points([first, second, other])
    assert points[("umapx", "blobs", "")] == {100000: (12.0, True)}
    assert points[("umap-learn", "blobs", "")] == {1000000: (1800.0, False)}
    assert points[("umap-learn", "fashion1m", "")] == {1000000: (3000.0, False)}
    assert points[("umap-learn", "fashion1m", "start supplied: umapx's spectral start")] == {
        1000000: (5000.0, True)}
    assert len(points) == 4  # the k-NN-only row and the other suite's file are left out
    assert plot_scale.scale_points([second, first])[("umapx", "blobs", "")] == {
        100000: (10.0, True)}


def test_scale_points_in_cpu_seconds(two_runs):
    first, second, _ = two_runs
    points = plot_scale.scale_points([first, second], cpu=True)
    assert points[("umapx", "blobs", "")] == {100000: (20.0, True)}
    assert points[("umap-learn", "blobs", "")] == {1000000: (1500.0, False)}
    # A stopped run whose CPU was not recorded has no point to draw.
    assert ("umap-learn", "fashion1m", "") not in points


def test_variant_labels_apply_to_rows_without_their_own(two_runs):
    first, second, _ = two_runs
    points = plot_scale.scale_points([first, second], labels={second: "after"})
    assert points[("umapx", "blobs", "after")] == {100000: (12.0, True)}
    assert points[("umapx", "blobs", "")] == {100000: (10.0, True)}
    assert ("umap-learn", "fashion1m", "start supplied: umapx's spectral start") in points


def test_the_figure_is_drawn(two_runs, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "scale.png"
    plot_scale.main([*two_runs[:2], "--cpu", "--note", "provisional", "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit):
        plot_scale.main([two_runs[2], "--out", str(out)])  # no scale rows in it


def test_every_suite_is_on_the_command_line():
    from benchmarks import run

    assert set(run.SUITES) == set(run.DEFAULT_DATASETS)
    assert all(callable(suite) for suite in run.SUITES.values())
    shown = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--help"],
                           capture_output=True, text=True, check=True).stdout
    assert "{" + ",".join(sorted(run.SUITES)) + "}" in shown


def test_transform_quality_summarises_unseeded_runs(capsys):
    from benchmarks import transform_quality

    def run(library, seed, accuracy, index=0):
        return {"dataset": "fashion", "pixel_scale": 1.0, "library": library, "seed": seed,
                "run": index, "transform_accuracy": accuracy, "transform_trustworthiness": 0.97,
                "trustworthiness": 0.97, "knn_accuracy": 0.78, "transform_median_s": 1.0,
                "transform_cpu_median_s": 1.0}

    rows = [run("umapx", None, a, i) for i, a in enumerate([0.76, 0.77, 0.78])]
    rows += [run("umap-learn", None, a, i) for i, a in enumerate([0.77, 0.77])]
    rows += [run("umapx", seed, a) for seed, a in [(0, 0.80), (1, 0.81)]]
    summary = transform_quality.summarise(rows, ["fashion"], [1.0], ["umapx", "umap-learn"])
    unseeded = {line["library"]: line for line in summary if "unseeded_runs" in line}
    assert unseeded["umapx"]["unseeded_runs"] == 3
    assert unseeded["umapx"]["transform_accuracy"] == pytest.approx((0.77, 0.01 / 3 ** 0.5))
    gaps = {line["difference"]: line["transform_accuracy"] for line in summary
            if "runs" in line}
    assert gaps["umapx - umap-learn, unseeded"][0] == pytest.approx(0.0)
    assert gaps["umapx unseeded - seeded"][0] == pytest.approx(-0.035)
    assert gaps["umapx unseeded - seeded"][1] == pytest.approx(
        ((0.01 / 3 ** 0.5) ** 2 + 0.005 ** 2) ** 0.5)
    assert "umap-learn unseeded - seeded" not in gaps  # no seeded umap-learn run
    assert "unpaired differences" in capsys.readouterr().out


def test_transform_stages_pairs_pixel_scales_by_seed():
    from benchmarks import transform_stages

    def case(scale, seed, fit_trust, accuracy, placed):
        return {"dataset": "fashion", "pixel_scale": scale, "seed": seed, "fit": "default",
                "recall": None, "recall_wide": None, "fit_trust": [fit_trust, None],
                "variants": {"transform()": [accuracy, placed, 1.0]}}

    rows = [case(1.0, 0, 0.970, 0.77, 0.971), case(1.0, 1, 0.972, 0.78, 0.973),
            case(255.0, 0, 0.969, 0.77, 0.972), case(255.0, 1, 0.969, 0.79, 0.973),
            case(255.0, 2, 0.900, 0.50, 0.900)]  # seed 2 has no 0-1 pair: left out
    text = transform_stages.summary(rows)
    line = next(line for line in text.splitlines() if "x255 less x1" in line)
    assert "fit trust@15 -0.0020 (0.0010) [2 of 2 lower]" in line
    assert "transform acc +0.0050 (0.0050) [0 of 2 lower]" in line
    assert "placed trust@15 +0.0005 (0.0005) [0 of 2 lower]" in line


def test_transform_stages_pairs_fit_variants_with_the_default_fit():
    from benchmarks import transform_stages

    def case(fit, seed, fit_trust, accuracy, placed):
        return {"dataset": "fashion", "pixel_scale": 1.0, "seed": seed, "fit": fit,
                "recall": None, "recall_wide": None, "fit_trust": [fit_trust, None],
                "variants": {"transform()": [accuracy, placed, 1.0]}}

    rows = [case("default", 0, 0.970, 0.77, 0.971), case("default", 1, 0.972, 0.78, 0.973),
            case("block-rows=256", 0, 0.971, 0.78, 0.970),
            case("block-rows=256", 1, 0.975, 0.78, 0.975),
            case("block-rows=256", 2, 0.900, 0.50, 0.900)]  # no default fit of seed 2
    text = transform_stages.summary(rows)
    line = next(line for line in text.splitlines() if "less the default fit" in line)
    assert line.startswith("fashion, pixels x1, block-rows=256 fit")
    assert "fit trust@15 +0.0020 (0.0010) [0 of 2 lower]" in line
    assert "transform acc +0.0050 (0.0050) [0 of 2 lower]" in line
    assert "placed trust@15 +0.0005 (0.0015) [1 of 2 lower]" in line
    assert "less umap-learn's fit" not in text  # no --anchor in these rows
    for row, (trust, accuracy, placed) in zip(rows[:2], [(0.972, 0.76, 0.972),
                                                        (0.971, 0.77, 0.974)]):
        row["fit_trust"][1] = trust
        row["variants"][transform_stages.ANCHOR] = [accuracy, placed, None]
    text = transform_stages.summary(rows)
    line = next(line for line in text.splitlines() if "block-rows=256 fit less umap-learn" in line)
    assert "fit trust@15 +0.0015 (0.0025) [1 of 2 lower]" in line
    assert "transform acc +0.0150 (0.0050)* [0 of 2 lower]" in line  # beyond 2 s.e.
    assert "placed trust@15 -0.0005 (0.0015) [1 of 2 lower]" in line


def test_transform_stages_fit_variants_set_layout_constants():
    from benchmarks.transform_stages import fit_switches

    assert fit_switches("default") == {}
    assert fit_switches("both") == {"BOTH_ENDS_ROWS": 0}
    assert fit_switches("block-rows=1024") == {"BLOCK_ROWS": 1024}
    assert fit_switches("both+block-rows=512") == {"BOTH_ENDS_ROWS": 0, "BLOCK_ROWS": 512}
    assert fit_switches("attr=2+block-rows=256") == {"HEAD_ATTRACTION": 2.0, "BLOCK_ROWS": 256}
    for wrong in ("block-rows=0", "block-rows=x", "blocks=4", "sequential", "both+default",
                  "attr=0", "attr=strong"):
        with pytest.raises(ValueError, match="unknown fit"):
            fit_switches(wrong)


def test_transform_stages_place_defaults_to_the_models_transform():
    """The variants' placement with no setting changed is ``UMAP.transform`` itself (the same
    kernel, schedule and streams), so a variant's difference is its settings' alone."""
    from benchmarks.transform_stages import place
    from sklearn.datasets import load_digits

    import umapx

    data = load_digits().data.astype(np.float32)
    model = umapx.UMAP(n_neighbors=10, n_epochs=30, random_state=0).fit(data[:600])
    test = data[600:700]
    state = model.fitted_state
    indices, dists = state.index.query(test, state.n_neighbors, epsilon=model._search_slack())
    np.testing.assert_array_equal(place(model, test, indices, dists), model.transform(test))
    other = place(model, test, indices, dists, attraction=2.0, learning_rate=0.25)
    assert other.shape == (100, 2) and not np.array_equal(other, model.transform(test))
