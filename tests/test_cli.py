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


def test_inverse_on_the_default_grid_needs_no_matplotlib(workspace):
    """Only drawing needs the optional matplotlib; the default grid is plain geometry."""
    script = ("import sys; sys.modules['matplotlib'] = None; from umapx.cli import main; "
              "sys.exit(main(sys.argv[1:]))")
    model = str(workspace / "model.umapx")
    done = subprocess.run([sys.executable, "-c", script, "inverse", model, "--grid", "3", "-o",
                           str(workspace / "nomatplotlib.npy")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert np.load(workspace / "nomatplotlib.npy").shape == (9, 64)
    done = subprocess.run([sys.executable, "-c", script, "inverse", model, "--grid", "3",
                           "--png", str(workspace / "nomatplotlib.png")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 3 and "matplotlib" in done.stderr and "Traceback" not in done.stderr


# -- every output path is checked before the work (exit 3, no traceback) ---------------------
# In-process (``cli.main``: the same code path, without a process start each); the
# subprocess audit of the same classes of problems is in test_hostile.py.


@pytest.fixture
def umapx_cli(capsys):
    """``umapx_cli(*args)`` runs the command in-process; returns ``(exit code, stderr)``."""

    def call(*args):
        code = cli.main([str(arg) for arg in args])
        return code, capsys.readouterr().err

    return call


def assert_input_error(result, message):
    code, err = result
    assert code == cli.EXIT_INPUT, err
    assert "Traceback" not in err and message in err, err


def test_directory_outputs_are_refused_before_the_work(workspace, tmp_path, umapx_cli):
    (tmp_path / "d.npy").mkdir()
    fit = umapx_cli("fit", workspace / "train.npy", "-o", tmp_path)
    assert_input_error(fit, "is a directory")
    assert "fitting" not in fit[1]  # refused before reading and fitting
    assert_input_error(umapx_cli("transform", workspace / "model.umapx", workspace / "new.csv",
                                 "-o", tmp_path / "d.npy"), "is a directory")
    assert_input_error(umapx_cli("plot", workspace / "model.umapx", "-o", tmp_path),
                       "is a directory")


def test_unwritable_outputs_are_refused_before_the_work(workspace, tmp_path, umapx_cli):
    """A directory without write permission (refused even for root: umapx does not write
    into write-protected places), and a write-protected file."""
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o555)
    model = tmp_path / "m.umapx"
    try:
        for args in [("fit", workspace / "train.npy", "-o", readonly / "m.umapx"),
                     ("fit", workspace / "train.npy", "-o", model, "--embedding",
                      readonly / "e.npy"),
                     ("transform", workspace / "model.umapx", workspace / "new.csv", "-o",
                      readonly / "t.npy")]:
            assert_input_error(umapx_cli(*args), "not writable")
    finally:
        readonly.chmod(0o755)
    assert not model.exists()  # the model is not written when the embedding cannot be
    protected = tmp_path / "t.npy"
    protected.write_bytes(b"keep")
    protected.chmod(0o444)
    assert_input_error(umapx_cli("transform", workspace / "model.umapx", workspace / "new.csv",
                                 "-o", protected), "write-protected")
    assert protected.read_bytes() == b"keep"


def test_outputs_never_overwrite_inputs(workspace, tmp_path, umapx_cli):
    data = tmp_path / "x.npy"
    data.write_bytes((workspace / "train.npy").read_bytes())
    for args in [("fit", data, "-o", data),
                 ("fit", data, "-o", tmp_path / "m.umapx", "--embedding", data),
                 ("transform", workspace / "model.umapx", data, "-o", data),
                 ("transform", workspace / "model.umapx", data, "-o", tmp_path / "x")]:  # x.npy
        assert_input_error(umapx_cli(*args), "refusing to overwrite input data")
    assert data.read_bytes() == (workspace / "train.npy").read_bytes()
    assert_input_error(umapx_cli("inverse", workspace / "model.umapx", "-o", tmp_path / "a.npy",
                                 "--confidence", tmp_path / "a.npy"), "both write")


def test_grid_and_limit_are_bounded(workspace, tmp_path, umapx_cli):
    """``inverse --grid 20000`` used to allocate ~3 GB; ``demo --limit 0`` used all the data."""
    for grid in (20000, 101, 0, -1):
        assert_input_error(umapx_cli("inverse", workspace / "model.umapx", "--grid", grid),
                           "--grid must be between 1 and 100")
    for limit in (0, -5):
        assert_input_error(umapx_cli("demo", "--limit", limit, "-o", tmp_path / "demo.png"),
                           "--limit must be a positive number")


def test_one_text_line_is_one_sample(workspace, tmp_path, digits, umapx_cli):
    """A single numeric line is data (any delimiter); a header without rows is an error."""
    row = digits[0][700]
    for name, separator in {"one.csv": ",", "one.txt": " ", "one.tsv": "\t"}.items():
        (tmp_path / name).write_text(separator.join(f"{v:g}" for v in row) + "\n")
        code, err = umapx_cli("transform", workspace / "model.umapx", tmp_path / name, "-o",
                              tmp_path / f"{name}.npy")
        assert code == 0, err
        assert np.load(tmp_path / f"{name}.npy").shape == (1, 2)
    (tmp_path / "header.csv").write_text(",".join(f"f{i}" for i in range(64)) + "\n")
    assert_input_error(umapx_cli("transform", workspace / "model.umapx",
                                 tmp_path / "header.csv"),
                       "holds a header line but no data rows")


def test_a_closed_stdout_ends_quietly(workspace):
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "umapx.cli", "inverse",
                              str(workspace / "model.umapx"), "--grid", "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdout.readline()
    child.stdout.close()  # like `| head -1`
    stderr = child.stderr.read()
    assert child.wait(timeout=600) == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_internal_errors_are_one_line(workspace, monkeypatch, umapx_cli):
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "command_transform", broken)
    args = ["transform", workspace / "model.umapx", workspace / "new.csv"]
    code, err = umapx_cli(*args)
    assert code == cli.EXIT_INTERNAL
    assert "internal error: RuntimeError: a bug" in err and "Traceback" not in err
    code, err = umapx_cli(*args, "-v")
    assert code == cli.EXIT_INTERNAL and "Traceback" in err
