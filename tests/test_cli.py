"""The umapx command, run as a subprocess like a user would, plus in-process checks of details."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from umapx import cli


def run(*args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "umapx.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, digits):
    folder = tmp_path_factory.mktemp("cli")
    data, labels = digits
    np.save(folder / "train.npy", data[:600])
    np.savetxt(folder / "new.csv", data[600:640], delimiter=",",
               header=",".join(f"f{i}" for i in range(64)))
    np.save(folder / "labels.npy", labels[:600])
    done = run("fit", folder / "train.npy", "-o", folder / "model.umapx", "--embedding",
               folder / "embedding.npy", "--random-state", 0, "--n-epochs", 60)
    assert done.returncode == 0, done.stderr
    return folder


def test_help_and_version():
    done = run("--help")
    assert done.returncode == 0
    for command in ("fit", "transform", "inverse", "plot", "demo"):
        assert command in done.stdout
    assert run("--version").stdout.startswith("umapx ")


def test_fit_writes_model_and_embedding(workspace):
    embedding = np.load(workspace / "embedding.npy")
    assert embedding.shape == (600, 2)
    import umapx

    assert np.array_equal(umapx.load(workspace / "model.umapx").embedding_, embedding)


def test_transform_inverse_and_plot(workspace):
    done = run("transform", workspace / "model.umapx", workspace / "new.csv", "-o",
               workspace / "placed.csv")
    assert done.returncode == 0, done.stderr
    assert np.loadtxt(workspace / "placed.csv", delimiter=",").shape == (40, 2)

    done = run("inverse", workspace / "model.umapx", "--grid", 4, "-o", workspace / "grid.npy",
               "--confidence", workspace / "confidence.csv", "--png", workspace / "grid.png")
    assert done.returncode == 0, done.stderr
    assert np.load(workspace / "grid.npy").shape == (16, 64)
    confidence = np.loadtxt(workspace / "confidence.csv", delimiter=",")
    assert confidence.shape == (16,) and np.all((confidence > 0) & (confidence <= 1))
    assert (workspace / "grid.png").read_bytes()[:4] == b"\x89PNG"

    done = run("plot", workspace / "model.umapx", "-o", workspace / "points.png", "--labels",
               workspace / "labels.npy")
    assert done.returncode == 0, done.stderr
    assert (workspace / "points.png").stat().st_size > 1000


def test_demo_writes_the_tutorial_figure(tmp_path):
    done = run("demo", "-o", tmp_path / "demo.png", "--limit", 800)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"
    assert "inverse-transformed 100 grid points in" in done.stderr


def test_exit_codes(workspace, tmp_path):
    usage = run("fit")  # missing arguments
    assert usage.returncode == cli.EXIT_USAGE
    missing = run("transform", workspace / "model.umapx", tmp_path / "nothing.npy")
    assert missing.returncode == cli.EXIT_INPUT and "no such file" in missing.stderr
    corrupt = tmp_path / "corrupt.umapx"
    corrupt.write_bytes((workspace / "model.umapx").read_bytes()[:5000])
    broken = run("transform", corrupt, workspace / "new.csv")
    assert broken.returncode == cli.EXIT_INPUT and "umapx: error:" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_input_errors_are_reported_without_traceback(workspace, tmp_path, capsys):
    np.save(tmp_path / "narrow.npy", np.ones((5, 3)))
    code = cli.main(["transform", str(workspace / "model.umapx"), str(tmp_path / "narrow.npy")])
    assert code == cli.EXIT_INPUT and "3 features" in capsys.readouterr().err
    code = cli.main(["fit", str(workspace / "train.npy"), "-o", str(tmp_path / "m.umapx"),
                     "--n-neighbors", "1"])
    assert code == cli.EXIT_INPUT and "n_neighbors" in capsys.readouterr().err
    code = cli.main(["inverse", str(workspace / "model.umapx"), "--corners", "0,0", "1", "2,2",
                     "3,3"])
    assert code == cli.EXIT_INPUT and "--corners" in capsys.readouterr().err
    code = cli.main(["inverse", str(workspace / "model.umapx"), "--detail", "-1"])
    assert code == cli.EXIT_INPUT and "detail must be" in capsys.readouterr().err


def test_inverse_method_and_detail(workspace):
    done = run("inverse", workspace / "model.umapx", "--grid", 3, "--method", "refine",
               "--detail", "0.5", "-o", workspace / "refined.npy")
    assert done.returncode == 0, done.stderr
    import umapx
    from umapx.plot import default_corners, grid_points

    mapper = umapx.load(workspace / "model.umapx")
    grid = grid_points(default_corners(mapper.embedding_), 3)
    expected = mapper.inverse_transform(grid, method="refine", detail=0.5)
    assert np.array_equal(np.load(workspace / "refined.npy"), expected)
    assert run("inverse", workspace / "model.umapx", "--method", "best").returncode == \
        cli.EXIT_USAGE


def test_read_array_formats(tmp_path):
    data = np.arange(12.0).reshape(4, 3)
    np.savez(tmp_path / "a.npz", data=data, other=np.ones(2))
    np.savetxt(tmp_path / "a.tsv", data, delimiter="\t")
    assert np.array_equal(cli.read_array(tmp_path / "a.npz"), data)
    assert np.array_equal(cli.read_array(tmp_path / "a.tsv"), data)
    np.savez(tmp_path / "b.npz", x=data, y=data)
    with pytest.raises(cli.InputError, match="--key"):
        cli.read_array(tmp_path / "b.npz")
    assert np.array_equal(cli.read_array(tmp_path / "b.npz", key="y"), data)
