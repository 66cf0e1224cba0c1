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


@pytest.fixture(scope="module")
def sparse_workspace(tmp_path_factory):
    """A small TF-IDF corpus saved with scipy.sparse.save_npz, and a cosine model fitted on it
    by the command."""
    import scipy.sparse
    from sklearn.feature_extraction.text import TfidfTransformer

    from umapx.datasets import make_topic_corpus

    folder = tmp_path_factory.mktemp("cli-sparse")
    counts, _ = make_topic_corpus(n_documents=340, n_words=800, n_topics=3, document_length=40,
                                  words_per_topic=60, random_state=0)
    tfidf = TfidfTransformer().fit_transform(counts).astype(np.float32).tocsr()
    scipy.sparse.save_npz(folder / "train.npz", tfidf[:300])
    scipy.sparse.save_npz(folder / "new.npz", tfidf[300:])
    done = run("fit", folder / "train.npz", "-o", folder / "model.umapx", "--embedding",
               folder / "embedding.npy", "--metric", "cosine", "--random-state", 0,
               "--n-epochs", 40)
    assert done.returncode == 0, done.stderr
    return folder, tfidf


def test_sparse_input_fit_transform_inverse(sparse_workspace):
    import scipy.sparse

    import umapx

    folder, tfidf = sparse_workspace
    model = umapx.load(folder / "model.umapx")
    assert model.fitted_state.sparse
    expected = umapx.UMAP(metric="cosine", random_state=0, n_epochs=40).fit(tfidf[:300])
    assert np.array_equal(np.load(folder / "embedding.npy"), expected.embedding_)

    done = run("transform", folder / "model.umapx", folder / "new.npz", "-o",
               folder / "placed.npy")
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(folder / "placed.npy"), model.transform(tfidf[300:]))

    # inverse of a sparse model: sparse rows, as .npz (suffix added), or dense where asked
    done = run("inverse", folder / "model.umapx", "--grid", 3, "-o", folder / "grid")
    assert done.returncode == 0, done.stderr
    samples = scipy.sparse.load_npz(folder / "grid.npz")
    assert samples.shape == (9, tfidf.shape[1])
    done = run("inverse", folder / "model.umapx", "--grid", 3, "-o", folder / "grid.npy")
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(folder / "grid.npy"), samples.toarray())
    done = run("inverse", folder / "model.umapx", "--points", folder / "placed.npy", "-o",
               folder / "back.npz", "--png", folder / "back.png", "--image-shape", "20x40")
    assert done.returncode == 0, done.stderr
    assert scipy.sparse.load_npz(folder / "back.npz").shape == (40, tfidf.shape[1])
    assert (folder / "back.png").stat().st_size > 0


def test_sparse_files_where_dense_arrays_are_needed(sparse_workspace):
    folder, _ = sparse_workspace
    done = run("inverse", folder / "model.umapx", "--points", folder / "new.npz")
    assert done.returncode == 3
    assert "sparse matrix" in done.stderr and "Traceback" not in done.stderr
    (folder / "broken.npz").write_bytes((folder / "new.npz").read_bytes()[:200])
    done = run("transform", folder / "model.umapx", folder / "broken.npz")
    assert done.returncode == 3 and "Traceback" not in done.stderr
