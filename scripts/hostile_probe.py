"""An outside-style hostile probe of umapx: several hundred odd inputs, each in its own process.

    python scripts/hostile_probe.py [--jobs 3] [--timeout 120] [--only SUBSTRING] [--list]

Each case runs in a fresh process with a time limit and gets one verdict:

* ``ok``: a result, every number in it finite (or, from the command line, exit 0 with finite
  arrays written);
* ``refused``: a clear error (``ValueError`` / ``TypeError`` / ``NotImplementedError`` /
  ``ModelFormatError``, or an ``OSError`` for a path, with a message; from the command line exit 2 or 3 and no traceback);
* ``crash``: a signal, any other exception, or numba's own errors (a ``TypingError`` or a
  compiler traceback reaching the user);
* ``traceback``: the command line exited 1 or printed a traceback;
* ``hang``: the time limit ran out;
* ``nan``: a result with NaN or infinity in it, silently.

The goal is 0 of the last four. The cases cover the estimator's every parameter, every metric
and output metric, precomputed distances, labels, the compatibility submodules (``umap_``,
``distances``, ``spectral``, ``utils``, ``validation``), ``evaluation``, model files, and the
command line (``fit``, ``transform``, ``inverse``, ``plot``, ``explore --export``, ``demo`` and
the dask options). The counts per verdict are printed at the end; ``--only`` runs the cases
whose name contains a substring.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAD_VERDICTS = ("crash", "traceback", "hang", "nan")

NUMBA_INTERNAL = ("nopython", "Failed in ", "TypingError", "numba.core")


def _finite(value):
    """Whether every number in ``value`` (arrays, models, containers) is finite."""
    import numpy as np

    if value is None or isinstance(value, (str, bytes, bool, int)):
        return True
    if isinstance(value, float):
        return bool(np.isfinite(value))
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return all(_finite(v) for v in value)
    if hasattr(value, "toarray"):
        value = value.toarray()
    if hasattr(value, "embedding_"):
        return _finite(value.embedding_)
    array = np.asarray(value)
    return array.dtype.kind not in "fc" or bool(np.all(np.isfinite(array)))


def _python_case(code, folder):
    """Run an API case (in the forked child); return (verdict, detail)."""
    import warnings

    import numpy as np

    import umapx

    namespace = {"np": np, "umapx": umapx, "X": np.load(folder + "/data.npy"), "F": folder,
                 "rng": np.random.RandomState(0)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, namespace)
    except BaseException as error:  # judged below
        message = f"{type(error).__name__}: {error}"
        # OSError: a file that is missing, a directory, not writable (the message names it)
        clear = isinstance(error, (ValueError, TypeError, NotImplementedError, OSError)) \
            or type(error).__name__ == "ModelFormatError"
        numba_internal = (type(error).__module__ or "").startswith("numba") \
            or any(text in str(error) for text in NUMBA_INTERNAL)
        if clear and not numba_internal and str(error).strip():
            return "refused", message
        import traceback

        traceback.print_exc()
        return "crash", message
    result = namespace.get("result")
    return ("ok" if _finite(result) else "nan"), type(result).__name__


def _cli_case(payload, folder, out):
    """Run a command-line case (in the forked child) through ``umapx.cli.main``."""
    import numpy as np

    from umapx import cli

    arguments, check = payload
    try:
        code = cli.main([a.replace("{f}", folder).replace("{o}", out) for a in arguments])
    except SystemExit as exit:  # argparse: usage errors and --help / --version
        code = exit.code if isinstance(exit.code, int) else 2
    sys.stdout.flush()
    sys.stderr.flush()
    with open(out + "/.stderr", errors="replace") as handle:
        stderr = handle.read()
    if code not in (0, 2, 3):
        return "traceback", f"exit {code}: {stderr.strip()[-300:]}"
    if "Traceback" in stderr or any(text in stderr for text in NUMBA_INTERNAL):
        return "traceback", stderr.strip()[-300:]
    if code != 0:
        lines = stderr.strip().splitlines()
        if not lines:
            return "traceback", f"exit {code} without a message"
        return "refused", lines[-1][:300]
    if check is not None:
        path = Path(check.replace("{o}", out))
        if path.exists():
            array = np.load(path)
            if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                return "nan", f"{path.name} has non-finite values"
    return "ok", ""


# Files the cases use, written once by a setup process.
SETUP = r'''
import os, sys, zipfile, numpy as np, umapx
F = sys.argv[1]
rng = np.random.RandomState(0)
X = np.concatenate([rng.normal(c, 1.0, size=(20, 6)) for c in (0, 4, 8)])
np.save(F + "/data.npy", X)
np.save(F + "/labels.npy", np.repeat(np.arange(3), 20))
np.save(F + "/labels-short.npy", np.arange(5))
model = umapx.UMAP(n_neighbors=8, n_epochs=30, random_state=0).fit(X)
model.save(F + "/model.umapx")
umapx.UMAP(n_neighbors=8, n_components=3, n_epochs=30, random_state=0).fit(X).save(
    F + "/model3.umapx")
umapx.UMAP(n_neighbors=8, n_epochs=30, random_state=0, metric="cosine").fit(X).save(
    F + "/cosine.umapx")
np.save(F + "/points.npy", model.embedding_[:5])
arrays = {"nan.npy": np.full((20, 6), np.nan), "inf.npy": np.full((20, 6), np.inf),
          "big.npy": X * 1e300, "tiny.npy": X * 1e-300, "zeros.npy": np.zeros((20, 6)),
          "const.npy": np.ones((30, 6)), "one-row.npy": X[:1], "two-rows.npy": X[:2],
          "wide.npy": np.ones((5, 7)), "narrow.npy": np.ones((5, 5)), "cube.npy": np.ones((3, 3, 3)),
          "scalar.npy": np.float64(1.0), "empty.npy": np.empty((0, 6)),
          "bool.npy": X > 0, "int8.npy": X.astype(np.int8), "complex.npy": X.astype(complex),
          "f16.npy": X.astype(np.float16), "points-nan.npy": np.full((3, 2), np.nan),
          "points-far.npy": np.full((3, 2), 1e30), "points-3.npy": np.ones((3, 3)),
          "points-empty.npy": np.empty((0, 2)), "text.npy": np.array([["a"] * 6] * 20)}
for name, array in arrays.items():
    np.save(F + "/" + name, array)
np.save(F + "/object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
np.savez(F + "/two.npz", a=X, b=X)
np.savez(F + "/none.npz")
texts = {"empty.csv": "", "header.csv": "a,b,c\n", "ragged.csv": "1,2\n3\n",
         "words.txt": "hello world\n", "one-line.csv": "1,2,3,4,5,6\n",
         "semicolons.csv": "\n".join(";".join(str(v) for v in row) for row in X) + "\n",
         "nan.csv": "\n".join(",".join("nan" for v in row) for row in X) + "\n",
         "binary.csv": "\x00\xff\xfe\n", "labels.txt": "\n".join("abc"[i % 3] for i in range(60))}
for name, text in texts.items():
    with open(F + "/" + name, "w", encoding="latin-1") as handle:
        handle.write(text)
content = open(F + "/model.umapx", "rb").read()
open(F + "/truncated.umapx", "wb").write(content[: len(content) // 2])
open(F + "/empty.umapx", "wb").write(b"")
open(F + "/notes.umapx", "w").write("not a model\n")
with zipfile.ZipFile(F + "/plain.umapx", "w") as archive:
    archive.writestr("x.npy", b"")
os.mkfifo(F + "/fifo.npy")
os.mkfifo(F + "/fifo.umapx")
os.symlink("/dev/zero", F + "/zero.umapx")
os.symlink("/dev/zero", F + "/zero.npy")
os.mkdir(F + "/dir.npy")
os.mkdir(F + "/ro")
os.chmod(F + "/ro", 0o555)
'''


def python_cases():
    """The API cases: name -> code that sets ``result``."""
    cases = {}
    fit = "umapx.UMAP(n_neighbors=8, n_epochs=20, random_state=0"

    # every constructor parameter with hostile values
    import umapx
    hostile = {"nan": "float('nan')", "neg": "-1", "bigint": "2**70", "str": "'x'",
               "none": "None", "list": "[1, 2]"}
    for name in sorted(umapx.UMAP().get_params()):
        for label, value in hostile.items():
            if label in ("bigint", "list") and name not in ("n_neighbors", "n_epochs",
                                                            "n_components", "random_state",
                                                            "precomputed_knn", "init"):
                continue
            params = {"n_neighbors": "8", "n_epochs": "20", "random_state": "0", name: value}
            arguments = ", ".join(f"{key}={text}" for key, text in params.items())
            cases[f"param {name}={label}"] = (f"m = umapx.UMAP({arguments}).fit(X)\n"
                                             "result = (m.embedding_, m.transform(X[:4]))")

    # every metric on ordinary, zero-row, negative, binary and tiny data
    from umapx.metrics import OUTPUT_METRICS, metric_names
    data = {"normal": "X", "zero-row": "np.vstack([np.zeros((1, 6)), X])",
            "negative": "-np.abs(X)"}
    for metric in metric_names():
        for label, expression in data.items():
            cases[f"metric {metric} {label}"] = (
                f"D = {expression}\n"
                f"m = {fit}, metric='{metric}').fit(D)\n"
                "out = [m.embedding_, m.transform(D[:4])]\n"
                "try:\n    out.append(m.inverse_transform(m.embedding_[:3]))\n"
                "except (ValueError, NotImplementedError):\n    pass\n"
                "result = out")
    for metric in ("haversine", "haversine_polar"):
        cases[f"metric {metric} 3 columns"] = f"result = {fit}, metric='{metric}').fit(X[:, :3])"
    for metric, kwds in [("minkowski", "{'p': 0.5}"), ("minkowski", "{'p': float('inf')}"),
                         ("wminkowski", "{'w': np.zeros(6)}"), ("wminkowski", "{'w': -np.ones(6)}"),
                         ("wminkowski", "{'w': np.ones(5)}"), ("seuclidean", "{'V': np.zeros(6)}"),
                         ("seuclidean", "{'V': -np.ones(6)}"), ("seuclidean", "{'V': 'x'}"),
                         ("mahalanobis", "{'VI': np.zeros((6, 6))}"),
                         ("mahalanobis", "{'VI': -np.eye(6)}"),
                         ("mahalanobis", "{'VI': np.full((6, 6), np.nan)}"),
                         ("mahalanobis", "{'VI': np.eye(5)}"),
                         ("symmetric_kl", "{'z': -1.0}"), ("minkowski", "{'p': 'x'}"),
                         ("minkowski", "{'p': [1, 2]}"), ("euclidean", "{'unknown': 1}")]:
        cases[f"metric_kwds {metric} {kwds}"] = (
            f"m = {fit}, metric='{metric}', metric_kwds={kwds}).fit(X)\n"
            "result = (m.embedding_, m.transform(X[:4]))")

    # output metrics, with transform and inverse
    for metric in OUTPUT_METRICS:
        for n in (2, 3) if metric in ("euclidean", "haversine", "hyperboloid", "minkowski",
                                       "mahalanobis", "correlation") else (2,):
            cases[f"output_metric {metric} n_components={n}"] = (
                f"m = {fit}, output_metric='{metric}', n_components={n}).fit(X)\n"
                "out = [m.embedding_, m.transform(X[:4])]\n"
                "try:\n    out.append(m.inverse_transform(m.embedding_[:3]))\n"
                "except (ValueError, NotImplementedError):\n    pass\n"
                "result = out")
    for metric in ("haversine", "hyperboloid", "poincare", "gaussian_energy", "nope", 3):
        cases[f"output_metric {metric!r} 1 component"] = (
            f"result = {fit}, output_metric={metric!r}, n_components=1).fit(X)")
    cases["output_metric user numba"] = (
        "import numba\n@numba.njit\ndef d(x, y):\n    return np.sum(np.abs(x - y)), x - y\n"
        f"result = {fit}, output_metric=d).fit(X)")
    cases["output_metric user python"] = (
        f"result = {fit}, output_metric=lambda x, y: 0.0).fit(X)")

    # user metrics that misbehave
    user = {
        "three args": "def d(x, y, z):\n    return 0.0",
        "returns tuple of 3": "def d(x, y):\n    return 0.0, x, y",
        "returns array": "def d(x, y):\n    return x - y",
        "returns nan": "def d(x, y):\n    return np.nan",
        "returns negative": "def d(x, y):\n    return -np.sum(np.abs(x - y))",
        "returns int": "def d(x, y):\n    return 1",
        "returns str": "def d(x, y):\n    return 'x'",
        "raises": "def d(x, y):\n    raise ValueError('boom')",
        "wrong gradient shape": "def d(x, y):\n    return np.sum(np.abs(x - y)), x[:2]",
        "zero everywhere": "def d(x, y):\n    return 0.0",
        "huge": "def d(x, y):\n    return 1e300",
    }
    for label, body in user.items():
        cases[f"user metric {label}"] = (
            f"import numba\n{body}\nd = numba.njit(d)\n"
            f"m = {fit}, metric=d).fit(X)\n"
            "result = (m.embedding_, m.transform(X[:4]))")
    cases["user metric python function"] = f"result = {fit}, metric=lambda x, y: 0.0).fit(X)"

    # precomputed distances
    square = "np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))"
    pre = {
        "valid": square, "non-square": f"{square}[:, :50]", "negative": f"-{square}",
        "nan": f"np.where(np.eye(60, dtype=bool), np.nan, {square})",
        "asymmetric": f"np.triu({square})", "zeros": "np.zeros((60, 60))",
        "inf": f"np.where(np.eye(60, k=1, dtype=bool), np.inf, {square})",
        "non-zero diagonal": f"{square} + 1", "1-d": "np.ones(60)",
        "sparse": f"__import__('scipy.sparse').sparse.csr_matrix({square})",
        "sparse empty": "__import__('scipy.sparse').sparse.csr_matrix((60, 60))",
        "sparse negative": f"__import__('scipy.sparse').sparse.csr_matrix(-{square})",
        "sparse non-square": "__import__('scipy.sparse').sparse.random(60, 50, 0.5, random_state=0)",
        "int": f"{square}.astype(int)", "huge": f"{square} * 1e300",
    }
    for label, expression in pre.items():
        cases[f"precomputed {label}"] = (
            f"D = {expression}\nm = {fit}, metric='precomputed').fit(D)\n"
            "result = m.embedding_")
    for label, expression in {"wrong width": f"{square}[:4, :50]", "nan": "np.full((4, 60), np.nan)",
                              "negative": f"-{square}[:4]", "features": "X[:4]",
                              "sparse": f"__import__('scipy.sparse').sparse.csr_matrix({square}[:4])"
                              }.items():
        cases[f"precomputed transform {label}"] = (
            f"m = {fit}, metric='precomputed').fit({square})\n"
            f"result = m.transform({expression})")
    cases["precomputed inverse"] = (
        f"m = {fit}, metric='precomputed').fit({square})\n"
        "result = m.inverse_transform(m.embedding_[:3])")

    # precomputed_knn
    knn = {"valid": "(lambda i, d: (i, d, None))(*umapx.umap_.nearest_neighbors(X, 8, 'euclidean', {}, False, 0)[:2])",
           "indices out of range": "(np.full((60, 8), 99), np.ones((60, 8)), None)",
           "negative distances": "(np.tile(np.arange(8), (60, 1)), -np.ones((60, 8)), None)",
           "nan distances": "(np.tile(np.arange(8), (60, 1)), np.full((60, 8), np.nan), None)",
           "wrong rows": "(np.tile(np.arange(8), (10, 1)), np.ones((10, 8)), None)",
           "shape mismatch": "(np.tile(np.arange(8), (60, 1)), np.ones((60, 7)), None)",
           "float indices": "(np.tile(np.arange(8.5), (60, 1)), np.ones((60, 9)), None)",
           "too few neighbours": "(np.tile(np.arange(3), (60, 1)), np.ones((60, 3)), None)",
           "strings": "('a', 'b', None)", "one element": "(np.ones((60, 8)),)"}
    for label, expression in knn.items():
        cases[f"precomputed_knn {label}"] = (
            f"m = {fit}, precomputed_knn={expression}).fit(X)\nresult = m.embedding_")

    # labels
    labels = {"nan": "np.full(60, np.nan)", "mixed": "np.array([1, 'a', None] * 20, dtype=object)",
              "short": "np.arange(5)", "2-d": "np.ones((60, 2))", "huge ints": "np.arange(60) * 10**18",
              "all -1": "np.full(60, -1)", "strings": "np.array(list('abc') * 20)",
              "float": "rng.rand(60)", "inf": "np.full(60, np.inf)", "scalar": "3",
              "sparse": "__import__('scipy.sparse').sparse.csr_matrix(np.ones((60, 1)))"}
    for label, expression in labels.items():
        for target in ("categorical", "euclidean"):
            cases[f"labels {label} target_metric={target}"] = (
                f"m = {fit}, target_metric='{target}').fit(X, {expression})\n"
                "result = m.embedding_")

    # transform and inverse_transform of odd input with a saved model
    odd = {"nan": "np.full((3, 6), np.nan)", "inf": "np.full((3, 6), np.inf)",
           "huge": "X[:3] * 1e300", "tiny": "X[:3] * 1e-300", "empty": "np.empty((0, 6))",
           "1-d": "X[0]", "wide": "np.ones((3, 7))", "object": "np.array([[1, 'a']] * 3, dtype=object)",
           "complex": "X[:3].astype(complex)", "list": "X[:3].tolist()", "far": "X[:3] + 1e6",
           "sparse": "__import__('scipy.sparse').sparse.csr_matrix(X[:3])", "bool": "X[:3] > 0",
           "float16": "X[:3].astype(np.float16)", "int": "X[:3].astype(int)"}
    for label, expression in odd.items():
        cases[f"transform {label}"] = (
            f"m = umapx.load(F + '/model.umapx')\nresult = m.transform({expression})")
    points = {"nan": "np.full((3, 2), np.nan)", "inf": "np.full((3, 2), np.inf)",
              "far": "np.full((3, 2), 1e30)", "huge": "np.full((3, 2), 1e300)",
              "empty": "np.empty((0, 2))", "1-d": "np.ones(2)", "3 columns": "np.ones((3, 3))",
              "object": "np.array([['a', 'b']] * 3, dtype=object)", "int": "np.ones((3, 2), int)",
              "many": "rng.rand(20000, 2) * 10", "float16": "np.ones((3, 2), np.float16)"}
    for label, expression in points.items():
        cases[f"inverse {label}"] = (
            f"m = umapx.load(F + '/model.umapx')\n"
            f"result = m.inverse_transform({expression}, return_confidence=True)")
    for value in ("0", "-1", "61", "10**9", "2.5", "np.nan", "'x'", "None", "True"):
        cases[f"inverse n_neighbors={value}"] = (
            f"m = umapx.load(F + '/model.umapx')\n"
            f"result = m.inverse_transform(m.embedding_[:3], n_neighbors={value})")
    cases["cosine model inverse"] = (
        "m = umapx.load(F + '/cosine.umapx')\nresult = m.inverse_transform(m.embedding_[:3])")
    cases["3-d model inverse 2-d points"] = (
        "m = umapx.load(F + '/model3.umapx')\nresult = m.inverse_transform(np.ones((3, 2)))")
    cases["embedding_ set nan"] = (
        "m = umapx.load(F + '/model.umapx')\nm.embedding_ = np.full_like(m.embedding_, np.nan)\n"
        "result = m.transform(X[:3])")
    cases["embedding_ set wrong shape"] = (
        "m = umapx.load(F + '/model.umapx')\nm.embedding_ = np.ones((3, 2))\nresult = m.embedding_")
    cases["unfitted transform"] = "result = umapx.UMAP().transform(X)"
    cases["unfitted inverse"] = "result = umapx.UMAP().inverse_transform(np.ones((2, 2)))"
    cases["unfitted save"] = "umapx.UMAP().save(F + '/never.umapx')"
    cases["fit_transform then fit again smaller"] = (
        f"m = {fit})\nm.fit(X)\nm.fit(X[:20])\nresult = (m.embedding_, m.transform(X[:3]))")
    cases["densmap output_dens"] = f"result = {fit}, densmap=True, output_dens=True).fit_transform(X)"
    cases["unique duplicates"] = (f"result = {fit}, unique=True).fit_transform("
                                  "np.repeat(X[:20], 3, axis=0))")
    cases["init array nan"] = f"result = {fit}, init=np.full((60, 2), np.nan)).fit(X)"
    cases["init array wrong shape"] = f"result = {fit}, init=np.ones((60, 3))).fit(X)"
    cases["init array huge"] = f"result = {fit}, init=np.full((60, 2), 1e300)).fit(X)"
    cases["init array constant"] = f"result = {fit}, init=np.ones((60, 2))).fit(X)"
    cases["init callable"] = f"result = {fit}, init=lambda *a: 0).fit(X)"
    cases["n_components 0"] = f"result = {fit}, n_components=0).fit(X)"
    cases["n_components 100"] = f"result = {fit}, n_components=100).fit(X)"
    cases["min_dist > spread"] = f"result = {fit}, min_dist=5.0, spread=1.0).fit(X)"
    cases["fit 3 samples"] = f"result = {fit}).fit(X[:3])"
    cases["fit 1 sample"] = f"result = {fit}).fit(X[:1])"
    cases["fit 10k identical"] = f"result = {fit}).fit(np.ones((10000, 6)))"
    cases["fit 1e-30 scaled"] = f"result = {fit}).fit(X * 1e-30)"
    cases["fit 1e30 scaled"] = f"result = {fit}).fit(X * 1e30)"
    cases["fit float32 max"] = f"result = {fit}).fit(np.full((60, 6), 3.4e38) * rng.rand(60, 6))"
    cases["fit sparse"] = (f"result = {fit}).fit("
                           "__import__('scipy.sparse').sparse.random(60, 20, 0.3, random_state=0))")
    cases["fit sparse nan"] = (f"S = __import__('scipy.sparse').sparse.csr_matrix(X)\n"
                               f"S.data[0] = np.nan\nresult = {fit}).fit(S)")
    cases["fit dataframe"] = (f"import pandas\nresult = {fit}).fit(pandas.DataFrame(X))")
    cases["fit ensure_all_finite=False nan"] = (
        f"D = X.copy()\nD[0, 0] = np.nan\nresult = {fit}).fit(D, ensure_all_finite=False)")
    cases["fit 1 column"] = f"result = {fit}).fit(X[:, :1])"
    cases["fit 1000 columns"] = f"result = {fit}).fit(rng.rand(60, 1000))"
    cases["fit fortran"] = f"result = {fit}).fit(np.asfortranarray(X))"
    cases["fit strided"] = f"result = {fit}).fit(np.repeat(X, 2, axis=1)[:, ::2])"
    cases["fit readonly"] = f"D = X.copy()\nD.setflags(write=False)\nresult = {fit}).fit(D)"
    cases["fit n_jobs=0"] = f"result = {fit}, n_jobs=0).fit(X)"
    cases["fit n_jobs=1000"] = f"result = {fit}, n_jobs=1000).fit(X)"
    cases["fit memmap"] = (f"np.save(F + '/mm.npy', X)\n"
                           f"result = {fit}).fit(np.load(F + '/mm.npy', mmap_mode='r'))")

    # model files
    for name in ("truncated", "empty", "notes", "plain", "fifo", "zero"):
        cases[f"load {name}.umapx"] = f"result = umapx.load(F + '/{name}.umapx').embedding_"
    cases["load directory"] = "result = umapx.load(F)"
    cases["load missing"] = "result = umapx.load(F + '/missing.umapx')"
    cases["load None"] = "result = umapx.load(None)"
    cases["load bytes"] = "result = umapx.load(b'xyz')"
    cases["save to directory"] = "umapx.load(F + '/model.umapx').save(F)"
    cases["save to read-only folder"] = "umapx.load(F + '/model.umapx').save(F + '/ro/m.umapx')"
    cases["save to missing folder"] = "umapx.load(F + '/model.umapx').save(F + '/no/m.umapx')"
    cases["save round trip"] = (
        "import os, tempfile\nm = umapx.load(F + '/model.umapx')\n"
        "p = tempfile.mkdtemp() + '/m.umapx'\nm.save(p)\n"
        "result = umapx.load(p).inverse_transform(m.embedding_[:3])")
    for index in range(12):
        cases[f"load flipped byte {index}"] = (
            "import os, tempfile\n"
            "content = bytearray(open(F + '/model.umapx', 'rb').read())\n"
            f"position = int(len(content) * {(index + 0.5) / 12:.4f})\n"
            f"content[position] ^= 1 << {index % 8}\n"
            "p = tempfile.mkdtemp() + '/m.umapx'\nopen(p, 'wb').write(bytes(content))\n"
            "m = umapx.load(p)\n"
            "result = (m.transform(X[:3]), m.inverse_transform(m.embedding_[:3]))")

    # compatibility submodules
    compat = {
        "umap_.find_ab_params nan": "umapx.umap_.find_ab_params(np.nan, 0.1)",
        "umap_.find_ab_params neg": "umapx.umap_.find_ab_params(1.0, -1.0)",
        "umap_.find_ab_params 0 0": "umapx.umap_.find_ab_params(0.0, 0.0)",
        "umap_.find_ab_params str": "umapx.umap_.find_ab_params('a', 'b')",
        "umap_.find_ab_params min_dist>spread": "umapx.umap_.find_ab_params(1.0, 10.0)",
        "umap_.nearest_neighbors k=0": "umapx.umap_.nearest_neighbors(X, 0, 'euclidean', {}, False, 0)",
        "umap_.nearest_neighbors k>n": "umapx.umap_.nearest_neighbors(X, 100, 'euclidean', {}, False, 0)",
        "umap_.nearest_neighbors nan": "umapx.umap_.nearest_neighbors(np.full((10, 3), np.nan), 3, 'euclidean', {}, False, 0)",
        "umap_.nearest_neighbors metric": "umapx.umap_.nearest_neighbors(X, 5, 'nope', {}, False, 0)",
        "umap_.nearest_neighbors 1-d": "umapx.umap_.nearest_neighbors(X[0], 5, 'euclidean', {}, False, 0)",
        "umap_.smooth_knn_dist nan": "umapx.umap_.smooth_knn_dist(np.full((10, 5), np.nan), 5.0)",
        "umap_.smooth_knn_dist neg": "umapx.umap_.smooth_knn_dist(-np.ones((10, 5)), 5.0)",
        "umap_.smooth_knn_dist k=0": "umapx.umap_.smooth_knn_dist(np.ones((10, 5)), 0.0)",
        "umap_.smooth_knn_dist 1-d": "umapx.umap_.smooth_knn_dist(np.ones(5), 5.0)",
        "umap_.smooth_knn_dist inf": "umapx.umap_.smooth_knn_dist(np.full((10, 5), np.inf), 5.0)",
        "umap_.smooth_knn_dist empty": "umapx.umap_.smooth_knn_dist(np.empty((0, 5)), 5.0)",
        "umap_.smooth_knn_dist local_connectivity 10": "umapx.umap_.smooth_knn_dist(rng.rand(10, 5), 5.0, local_connectivity=10.0)",
        "umap_.smooth_knn_dist local_connectivity nan": "umapx.umap_.smooth_knn_dist(rng.rand(10, 5), 5.0, local_connectivity=np.nan)",
        "umap_.compute_membership_strengths bad index": "umapx.umap_.compute_membership_strengths(np.full((10, 5), 99), rng.rand(10, 5), np.ones(10), np.ones(10))",
        "umap_.compute_membership_strengths shapes": "umapx.umap_.compute_membership_strengths(np.zeros((10, 5), int), rng.rand(10, 4), np.ones(10), np.ones(10))",
        "umap_.compute_membership_strengths sigma 0": "umapx.umap_.compute_membership_strengths(np.tile(np.arange(5), (10, 1)), rng.rand(10, 5), np.zeros(10), np.zeros(10))",
        "umap_.fuzzy_simplicial_set k=0": "umapx.umap_.fuzzy_simplicial_set(X, 0, 0, 'euclidean')",
        "umap_.fuzzy_simplicial_set nan": "umapx.umap_.fuzzy_simplicial_set(np.full((10, 3), np.nan), 3, 0, 'euclidean')",
        "umap_.fuzzy_simplicial_set bad knn": "umapx.umap_.fuzzy_simplicial_set(X, 5, 0, 'euclidean', knn_indices=np.full((60, 5), 99), knn_dists=np.ones((60, 5)))",
        "umap_.fuzzy_simplicial_set knn shapes": "umapx.umap_.fuzzy_simplicial_set(X, 5, 0, 'euclidean', knn_indices=np.zeros((60, 5), int), knn_dists=np.ones((60, 4)))",
        "umap_.fuzzy_simplicial_set str X": "umapx.umap_.fuzzy_simplicial_set('X', 5, 0, 'euclidean')",
        "umap_.make_epochs_per_sample zeros": "umapx.umap_.make_epochs_per_sample(np.zeros(10), 10)",
        "umap_.make_epochs_per_sample nan": "umapx.umap_.make_epochs_per_sample(np.full(10, np.nan), 10)",
        "umap_.make_epochs_per_sample neg": "umapx.umap_.make_epochs_per_sample(-np.ones(10), 10)",
        "umap_.make_epochs_per_sample n=0": "umapx.umap_.make_epochs_per_sample(np.ones(10), 0)",
        "umap_.make_epochs_per_sample empty": "umapx.umap_.make_epochs_per_sample(np.empty(0), 10)",
        "umap_.simplicial_set_embedding nan graph": "__import__('scipy.sparse'); g = __import__('scipy.sparse').sparse.csr_matrix(np.full((60, 60), np.nan)); result = umapx.umap_.simplicial_set_embedding(X, g, 2, 1.0, 1.577, 0.895, 1.0, 5, 20, 'spectral', rng, 'euclidean', {}, False, {}, False)",
        "umap_.simplicial_set_embedding wrong size graph": "g = __import__('scipy.sparse').sparse.identity(10, format='csr'); result = umapx.umap_.simplicial_set_embedding(X, g, 2, 1.0, 1.577, 0.895, 1.0, 5, 20, 'spectral', rng, 'euclidean', {}, False, {}, False)",
        "umap_.simplicial_set_embedding empty graph": "g = __import__('scipy.sparse').sparse.csr_matrix((60, 60)); result = umapx.umap_.simplicial_set_embedding(X, g, 2, 1.0, 1.577, 0.895, 1.0, 5, 20, 'spectral', rng, 'euclidean', {}, False, {}, False)",
        "umap_.simplicial_set_embedding a=nan": "g = umapx.umap_.fuzzy_simplicial_set(X, 8, 0, 'euclidean')[0]; result = umapx.umap_.simplicial_set_embedding(X, g, 2, 1.0, np.nan, 0.895, 1.0, 5, 20, 'spectral', rng, 'euclidean', {}, False, {}, False)",
        "umap_.simplicial_set_embedding n_epochs=-1": "g = umapx.umap_.fuzzy_simplicial_set(X, 8, 0, 'euclidean')[0]; result = umapx.umap_.simplicial_set_embedding(X, g, 2, 1.0, 1.577, 0.895, 1.0, 5, -1, 'spectral', rng, 'euclidean', {}, False, {}, False)",
        "spectral.spectral_layout nan graph": "umapx.spectral.spectral_layout(X, __import__('scipy.sparse').sparse.csr_matrix(np.full((60, 60), np.nan)), 2, rng)",
        "spectral.spectral_layout empty graph": "umapx.spectral.spectral_layout(X, __import__('scipy.sparse').sparse.csr_matrix((60, 60)), 2, rng)",
        "spectral.spectral_layout dim 0": "umapx.spectral.spectral_layout(X, __import__('scipy.sparse').sparse.identity(60, format='csr'), 0, rng)",
        "spectral.spectral_layout dim 100": "umapx.spectral.spectral_layout(X, umapx.umap_.fuzzy_simplicial_set(X, 8, 0, 'euclidean')[0], 100, rng)",
        "spectral.spectral_layout non-square": "umapx.spectral.spectral_layout(X, __import__('scipy.sparse').sparse.random(60, 50, 0.3, random_state=0, format='csr'), 2, rng)",
        "spectral.spectral_layout negative": "umapx.spectral.spectral_layout(X, -umapx.umap_.fuzzy_simplicial_set(X, 8, 0, 'euclidean')[0], 2, rng)",
        "spectral.spectral_layout dense graph": "umapx.spectral.spectral_layout(X, np.ones((60, 60)), 2, rng)",
        "spectral.tswspectral_layout nan": "umapx.spectral.tswspectral_layout(X, __import__('scipy.sparse').sparse.csr_matrix(np.full((60, 60), np.nan)), 2, rng)",
        "utils.fast_knn_indices k=0": "umapx.utils.fast_knn_indices(X, 0)",
        "utils.fast_knn_indices k>n": "umapx.utils.fast_knn_indices(X, 100)",
        "utils.fast_knn_indices nan": "umapx.utils.fast_knn_indices(np.full((10, 3), np.nan), 3)",
        "utils.fast_knn_indices 1-d": "umapx.utils.fast_knn_indices(X[0], 3)",
        "utils.deheap_sort mismatched": "umapx.utils.deheap_sort(np.zeros((5, 3), int), np.zeros((5, 4)))",
        "utils.deheap_sort 1-d": "umapx.utils.deheap_sort(np.zeros(5, int), np.zeros(5))",
        "utils.submatrix bad index": "umapx.utils.submatrix(X, np.full((60, 3), 99), 3)",
        "utils.submatrix k>cols": "umapx.utils.submatrix(X, np.zeros((60, 3), int), 10)",
        "utils.submatrix float index": "umapx.utils.submatrix(X, np.zeros((60, 3)), 3)",
        "utils.csr_unique nan": "umapx.utils.csr_unique(__import__('scipy.sparse').sparse.csr_matrix(np.full((5, 3), np.nan)))",
        "utils.csr_unique dense": "umapx.utils.csr_unique(X)",
        "utils.average_nn_distance nan": "umapx.utils.average_nn_distance(np.full((10, 3), np.nan))",
        "utils.disconnected_vertices unfitted": "umapx.utils.disconnected_vertices(umapx.UMAP())",
        "utils.disconnected_vertices str": "umapx.utils.disconnected_vertices('model')",
        "utils.ts": "umapx.utils.ts()",
        "validation.trustworthiness_vector shapes": "umapx.validation.trustworthiness_vector(X, X[:10, :2], 5)",
        "validation.trustworthiness_vector k=0": "umapx.validation.trustworthiness_vector(X, X[:, :2], 0)",
        "validation.trustworthiness_vector k>n": "umapx.validation.trustworthiness_vector(X, X[:, :2], 100)",
        "validation.trustworthiness_vector nan": "umapx.validation.trustworthiness_vector(np.full((60, 3), np.nan), X[:, :2], 5)",
        "validation.trustworthiness_vector_bulk shapes": "umapx.validation.trustworthiness_vector_bulk(np.zeros((60, 5), int), np.zeros((60, 4), int), 5)",
        "validation.trustworthiness_vector_bulk bad index": "umapx.validation.trustworthiness_vector_bulk(np.full((60, 5), 99), np.full((60, 5), 99), 5)",
        "distances.pairwise_special_metric nan": "umapx.distances.pairwise_special_metric(np.full((5, 3), np.nan))",
        "distances.pairwise_special_metric unknown": "umapx.distances.pairwise_special_metric(X[:5], metric='nope')",
        "distances.pairwise_special_metric 1-d": "umapx.distances.pairwise_special_metric(X[0])",
        "distances.euclidean mismatched": "umapx.distances.euclidean(np.ones(3), np.ones(4))",
        "distances.euclidean 2-d": "umapx.distances.euclidean(np.ones((3, 3)), np.ones((3, 3)))",
        "distances.euclidean ints": "umapx.distances.euclidean(np.arange(3), np.arange(3))",
        "distances.euclidean str": "umapx.distances.euclidean('abc', 'abd')",
        "distances.minkowski p=0": "umapx.distances.minkowski(np.ones(3), np.zeros(3), 0.0)",
        "distances.minkowski_grad p=0": "umapx.distances.minkowski_grad(np.ones(3), np.zeros(3), 0.0)",
        "distances.hellinger negative": "umapx.distances.hellinger(-np.ones(3), np.ones(3))",
        "distances.hellinger_grad zeros": "umapx.distances.hellinger_grad(np.zeros(3), np.zeros(3))",
        "distances.cosine_grad zeros": "umapx.distances.cosine_grad(np.zeros(3), np.zeros(3))",
        "distances.correlation_grad constant": "umapx.distances.correlation_grad(np.ones(3), np.ones(3))",
        "distances.poincare outside ball": "umapx.distances.poincare(np.full(2, 2.0), np.zeros(2))",
        "distances.poincare_grad outside ball": "umapx.distances.poincare_grad(np.full(2, 2.0), np.zeros(2))",
        "distances.haversine 3-d": "umapx.distances.haversine(np.ones(3), np.ones(3))",
        "distances.haversine_grad 3-d": "umapx.distances.haversine_grad(np.ones(3), np.ones(3))",
        "distances.hyperboloid_grad 3-d": "umapx.distances.hyperboloid_grad(np.ones(3), np.ones(3))",
        "distances.mahalanobis no vinv": "umapx.distances.mahalanobis(np.ones(3), np.zeros(3))",
        "distances.mahalanobis wrong vinv": "umapx.distances.mahalanobis(np.ones(3), np.zeros(3), np.eye(2))",
        "distances.standardised_euclidean zero sigma": "umapx.distances.standardised_euclidean(np.ones(3), np.zeros(3), np.zeros(3))",
        "distances.weighted_minkowski short w": "umapx.distances.weighted_minkowski(np.ones(3), np.zeros(3), np.ones(2))",
        "distances.symmetric_kl negative": "umapx.distances.symmetric_kl(-np.ones(3), np.ones(3))",
        "distances.symmetric_kl_grad zeros": "umapx.distances.symmetric_kl_grad(np.zeros(3), np.zeros(3))",
        "distances.ll_dirichlet zeros": "umapx.distances.ll_dirichlet(np.zeros(3), np.zeros(3))",
        "distances.ll_dirichlet negative": "umapx.distances.ll_dirichlet(-np.ones(3), np.ones(3))",
        "distances.canberra_grad zeros": "umapx.distances.canberra_grad(np.zeros(3), np.zeros(3))",
        "distances.bray_curtis_grad zeros": "umapx.distances.bray_curtis_grad(np.zeros(3), np.zeros(3))",
        "distances.yule zeros": "umapx.distances.yule(np.zeros(3), np.zeros(3))",
        "distances.jaccard zeros": "umapx.distances.jaccard(np.zeros(3), np.zeros(3))",
        "distances.dice zeros": "umapx.distances.dice(np.zeros(3), np.zeros(3))",
        "distances.sokal_sneath zeros": "umapx.distances.sokal_sneath(np.zeros(3), np.zeros(3))",
        "distances.named_distances call": "umapx.distances.named_distances['euclidean'](np.ones(3), np.zeros(3))",
        "evaluation.trustworthiness nan": "umapx.evaluation.trustworthiness(X, np.full((60, 2), np.nan))",
        "evaluation.trustworthiness k=59": "umapx.evaluation.trustworthiness(X, X[:, :2], n_neighbors=59)",
        "evaluation.trustworthiness 3 rows": "umapx.evaluation.trustworthiness(X[:3], X[:3, :2])",
        "evaluation.knn_accuracy 2 rows": "umapx.evaluation.knn_accuracy(X[:2, :2], np.arange(2))",
        "evaluation.knn_accuracy strings": "umapx.evaluation.knn_accuracy(X[:, :2], np.array(list('ab') * 30))",
        "evaluation.local_dimension nan": "umapx.evaluation.local_dimension(np.full((60, 3), np.nan), np.zeros((60, 5), int))",
        "evaluation.embedding_spacing constant": "umapx.evaluation.embedding_spacing(np.ones((60, 2)))",
        "evaluation.embedding_spacing 2 rows": "umapx.evaluation.embedding_spacing(np.ones((2, 2)))",
        "evaluation.reconstruction_mse nan": "umapx.evaluation.reconstruction_mse(X, np.full_like(X, np.nan))",
    }
    for label, expression in compat.items():
        code = expression if "result =" in expression else f"result = {expression}"
        cases[f"compat {label}"] = code
    return cases


def cli_cases():
    """The command-line cases: name -> (arguments, path of an output array to check)."""
    f = "{f}"
    cases = {
        "no command": ([], None), "--version": (["--version"], None),
        "fit ok": (["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--embedding",
                    "{o}/e.npy", "--n-epochs", "20"], "{o}/e.npy"),
        "transform ok": (["transform", f"{f}/model.umapx", f"{f}/data.npy", "-o", "{o}/t.npy"],
                         "{o}/t.npy"),
        "inverse ok": (["inverse", f"{f}/model.umapx", "--points", f"{f}/points.npy", "-o",
                        "{o}/i.npy", "--confidence", "{o}/c.npy"], "{o}/i.npy"),
        "inverse grid ok": (["inverse", f"{f}/model.umapx", "--grid", "5", "-o", "{o}/g.npy"],
                            "{o}/g.npy"),
    }
    for name in ("nan", "inf", "big", "tiny", "zeros", "const", "one-row", "two-rows", "cube",
                 "scalar", "empty", "bool", "int8", "complex", "f16", "text", "object", "fifo",
                 "zero", "dir", "missing"):
        cases[f"fit {name}.npy"] = (["fit", f"{f}/{name}.npy", "-o", "{o}/m.umapx",
                                     "--embedding", "{o}/e.npy", "--n-epochs", "20"], "{o}/e.npy")
    for name in ("empty.csv", "header.csv", "ragged.csv", "words.txt", "one-line.csv",
                 "semicolons.csv", "nan.csv", "binary.csv", "two.npz", "none.npz"):
        cases[f"fit {name}"] = (["fit", f"{f}/{name}", "-o", "{o}/m.umapx", "--embedding",
                                 "{o}/e.npy", "--n-epochs", "20"], "{o}/e.npy")
    cases["fit npz --key b"] = (["fit", f"{f}/two.npz", "--key", "b", "-o", "{o}/m.umapx",
                                 "--n-epochs", "20"], None)
    cases["fit npz --key missing"] = (["fit", f"{f}/two.npz", "--key", "zz", "-o",
                                       "{o}/m.umapx"], None)
    cases["fit semicolons --delimiter ;"] = (["fit", f"{f}/semicolons.csv", "--delimiter", ";",
                                              "-o", "{o}/m.umapx", "--n-epochs", "20",
                                              "--embedding", "{o}/e.npy"], "{o}/e.npy")
    cases["fit --delimiter empty"] = (["fit", f"{f}/semicolons.csv", "--delimiter", "",
                                       "-o", "{o}/m.umapx"], None)
    options = {"--n-neighbors": ["0", "1", "-5", "1000", "x", "1e3", "nan"],
               "--n-components": ["0", "-1", "100", "2.5"],
               "--min-dist": ["-1", "nan", "inf", "1e300", "x"],
               "--metric": ["nope", "precomputed", "haversine", "hellinger", "", "wminkowski",
                            "mahalanobis", "jaccard"],
               "--n-epochs": ["0", "-1", "1000000000000", "x"],
               "--random-state": ["-1", "2**40", "99999999999999999999", "x"],
               "--n-jobs": ["0", "-100", "1000", "x"]}
    for option, values in options.items():
        for value in values:
            cases[f"fit {option} {value!r}"] = (
                ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--embedding", "{o}/e.npy",
                 "--n-epochs" if option != "--n-epochs" else "--n-neighbors",
                 "20" if option != "--n-epochs" else "8", option, value], "{o}/e.npy")
    outputs = {"directory": f"{f}", "read-only": f"{f}/ro/m.umapx", "input": f"{f}/data.npy",
               "missing folder": f"{f}/no/m.umapx", "empty": ""}
    for label, path in outputs.items():
        cases[f"fit -o {label}"] = (["fit", f"{f}/data.npy", "-o", path, "--n-epochs", "20"],
                                    None)
        cases[f"fit --embedding {label}"] = (["fit", f"{f}/data.npy", "-o", "{o}/m.umapx",
                                              "--embedding", path, "--n-epochs", "20"], None)
        cases[f"transform -o {label}"] = (["transform", f"{f}/model.umapx", f"{f}/data.npy",
                                           "-o", path], None)
        cases[f"inverse -o {label}"] = (["inverse", f"{f}/model.umapx", "-o", path], None)
        cases[f"plot -o {label}"] = (["plot", f"{f}/model.umapx", "-o", path], None)
    for name in ("truncated", "empty", "notes", "plain", "fifo", "zero", "missing"):
        cases[f"transform {name}.umapx"] = (["transform", f"{f}/{name}.umapx", f"{f}/data.npy",
                                             "-o", "{o}/t.npy"], None)
        cases[f"inverse {name}.umapx"] = (["inverse", f"{f}/{name}.umapx", "-o", "{o}/i.npy"],
                                          None)
    for name in ("nan", "inf", "big", "tiny", "wide", "narrow", "cube", "empty", "complex",
                 "text", "object", "one-row", "fifo", "zero"):
        cases[f"transform {name}.npy"] = (["transform", f"{f}/model.umapx", f"{f}/{name}.npy",
                                           "-o", "{o}/t.npy"], "{o}/t.npy")
    for name in ("points-nan", "points-far", "points-3", "points-empty", "nan", "scalar",
                 "text", "fifo"):
        cases[f"inverse --points {name}"] = (["inverse", f"{f}/model.umapx", "--points",
                                              f"{f}/{name}.npy", "-o", "{o}/i.npy"], "{o}/i.npy")
    for value in ("0", "-1", "101", "20000", "x", "2.5"):
        cases[f"inverse --grid {value}"] = (["inverse", f"{f}/model.umapx", "--grid", value,
                                             "-o", "{o}/i.npy"], "{o}/i.npy")
    for corners in (["0,0", "1,0", "0,1"], ["a,b", "1,0", "0,1", "1,1"],
                    ["nan,0", "1,0", "0,1", "1,1"], ["1e300,0", "1,0", "0,1", "1,1"],
                    ["0,0,0", "1,0,0", "0,1,0", "1,1,0"], ["0,0", "0,0", "0,0", "0,0"]):
        cases[f"inverse --corners {' '.join(corners)}"] = (
            ["inverse", f"{f}/model.umapx", "--corners", *corners, "-o", "{o}/i.npy"],
            "{o}/i.npy")
    cases["inverse --corners on 3-d model"] = (["inverse", f"{f}/model3.umapx", "--grid", "3",
                                                "-o", "{o}/i.npy"], "{o}/i.npy")
    for shape in ("2x3", "0x6", "-2x-3", "axb", "1000000x1000000", "6"):
        cases[f"inverse --png --image-shape {shape}"] = (
            ["inverse", f"{f}/model.umapx", "--grid", "3", "--png", "{o}/g.png",
             "--image-shape", shape], None)
    cases["inverse --png directory"] = (["inverse", f"{f}/model.umapx", "--png", f"{f}"], None)
    for labels in ("labels-short.npy", "labels.txt", "nan.npy", "missing.npy", "fifo.npy"):
        cases[f"plot --labels {labels}"] = (["plot", f"{f}/model.umapx", "-o", "{o}/p.png",
                                             "--labels", f"{f}/{labels}"], None)
    for kind in ("points", "connectivity", "diagnostic-pca", "diagnostic-local_dim",
                 "diagnostic-neighborhood_jaccard", "nope"):
        cases[f"plot --kind {kind}"] = (["plot", f"{f}/model.umapx", "-o", "{o}/p.png",
                                         "--kind", kind], None)
    cases["plot --theme nope"] = (["plot", f"{f}/model.umapx", "-o", "{o}/p.png", "--theme",
                                   "nope"], None)
    cases["plot -o .txt"] = (["plot", f"{f}/model.umapx", "-o", "{o}/p.txt"], None)
    cases["plot 3-d model"] = (["plot", f"{f}/model3.umapx", "-o", "{o}/p.png"], None)
    explore = {"ok": [], "--export-grid 0": ["--export-grid", "0"],
               "--export-grid 1000": ["--export-grid", "1000"],
               "--export-grid x": ["--export-grid", "x"],
               "--image-shape bad": ["--image-shape", "7x7"],
               "--labels short": ["--labels", f"{f}/labels-short.npy"],
               "--labels text": ["--labels", f"{f}/labels.txt"],
               "--labels fifo": ["--labels", f"{f}/fifo.npy"]}
    for label, extra in explore.items():
        cases[f"explore --export {label}"] = (["explore", f"{f}/model.umapx", "--export",
                                               "{o}/page.html", *extra], None)
    for label, path in outputs.items():
        cases[f"explore --export {label} path"] = (["explore", f"{f}/model.umapx", "--export",
                                                    path], None)
    cases["explore --export 3-d model"] = (["explore", f"{f}/model3.umapx", "--export",
                                            "{o}/page.html"], None)
    cases["explore --port -1"] = (["explore", f"{f}/model.umapx", "--no-browser", "--port",
                                   "-1"], None)
    cases["explore --port 99999"] = (["explore", f"{f}/model.umapx", "--no-browser", "--port",
                                      "99999"], None)
    cases["explore --host bad"] = (["explore", f"{f}/model.umapx", "--no-browser", "--host",
                                    "no.such.host.invalid"], None)
    cases["explore cosine model --export"] = (["explore", f"{f}/cosine.umapx", "--export",
                                               "{o}/page.html"], None)
    for label, extra in {"--limit 0": ["--limit", "0"], "--limit -3": ["--limit", "-3"],
                         "--grid 0": ["--grid", "0"], "--data-path missing":
                         ["--dataset", "mnist", "--data-path", f"{f}/missing"],
                         "--data-path file": ["--dataset", "fashion-mnist", "--data-path",
                                              f"{f}/data.npy"],
                         "--corners bad": ["--corners", "x"], "-o directory": ["-o", f"{f}"],
                         "--save-model read-only": ["--save-model", f"{f}/ro/m.umapx"],
                         "--n-jobs 0": ["--n-jobs", "0"]}.items():
        cases[f"demo {label}"] = (["demo", "--dataset", "digits", "--limit", "100", "-o",
                                   "{o}/demo.png", *extra] if "--dataset" not in extra else
                                  ["demo", "--limit", "100", "-o", "{o}/demo.png", *extra], None)
    dask = {"fit --dask nope": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask", "nope"],
            "fit --dask local:0": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                   "local:0"],
            "fit --dask local:x": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                   "local:x"],
            "fit --dask tcp unreachable": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                           "tcp://127.0.0.1:1"],
            "fit --sample-size 0": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                    "local:1", "--sample-size", "0"],
            "fit --sample-size -5": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                     "local:1", "--sample-size", "-5"],
            "fit --sample-fraction 2": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                        "local:1", "--sample-fraction", "2"],
            "fit --sample-fraction nan": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                          "local:1", "--sample-fraction", "nan"],
            "fit --sample-size without --dask": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx",
                                                 "--sample-size", "10"],
            "fit --columns on npy": ["fit", f"{f}/data.npy", "-o", "{o}/m.umapx", "--dask",
                                     "local:1", "--columns", "a,b"],
            "transform --dask nope": ["transform", f"{f}/model.umapx", f"{f}/data.npy", "-o",
                                      "{o}/t.npy", "--dask", "nope"],
            "transform --dask without -o": ["transform", f"{f}/model.umapx", f"{f}/data.npy",
                                            "--dask", "local:1"],
            "transform --dask nan input": ["transform", f"{f}/model.umapx", f"{f}/nan.npy",
                                           "-o", "{o}/t.npy", "--dask", "local:1"],
            "transform --dask wide input": ["transform", f"{f}/model.umapx", f"{f}/wide.npy",
                                            "-o", "{o}/t.npy", "--dask", "local:1"],
            "transform --columns without --dask": ["transform", f"{f}/model.umapx",
                                                   f"{f}/data.npy", "--columns", "a"],
            "inverse --dask without points": ["inverse", f"{f}/model.umapx", "-o", "{o}/i.npy",
                                              "--dask", "local:1"],
            "inverse --dask nan points": ["inverse", f"{f}/model.umapx", "--points",
                                          f"{f}/points-nan.npy", "-o", "{o}/i.npy", "--dask",
                                          "local:1"]}
    for label, arguments in dask.items():
        cases[f"dask {label}"] = (arguments, None)
    return cases


def start_case(case, folder):
    """Fork a process that runs ``case``; return (pid, folder of its files)."""
    out = tempfile.mkdtemp(prefix="case-", dir=folder + "/out")
    pid = os.fork()
    if pid:
        return pid, out
    verdict = ("crash", "the case did not finish")
    try:
        descriptor = os.open(out + "/.stderr", os.O_WRONLY | os.O_CREAT, 0o644)
        os.dup2(descriptor, 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        kind, payload = case
        verdict = (_python_case(payload, folder) if kind == "py"
                   else _cli_case(payload, folder, out))
    except BaseException as error:  # the probe's own failure: reported as a crash
        verdict = ("crash", f"{type(error).__name__}: {error}")
    finally:
        with open(out + "/.verdict", "w") as handle:
            json.dump(verdict, handle)
        os._exit(0)


def finish_case(status, out):
    """The verdict of a case whose process ended with ``status``."""
    try:
        with open(out + "/.verdict") as handle:
            return tuple(json.load(handle))
    except (OSError, ValueError):
        with open(out + "/.stderr", errors="replace") as handle:
            stderr = handle.read().strip()[-300:]
        return "crash", f"status {status} (signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else '-'}): {stderr}"


def run_all(cases, folder, jobs, timeout, report):
    """Run every case in its own forked process, ``jobs`` at a time; ``report(name, verdict,
    detail)`` is called as each ends."""
    import signal

    pending = list(cases.items())
    running = {}  # pid -> (name, out, start time)
    while pending or running:
        while pending and len(running) < jobs:
            name, case = pending.pop(0)
            pid, out = start_case(case, folder)
            running[pid] = (name, out, time.time())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            name, out, _ = running.pop(pid)
            report(name, *finish_case(status, out))
            continue
        for pid, (name, _, began) in list(running.items()):
            if time.time() - began > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                running.pop(pid)
                report(name, "hang", f"no answer in {timeout} s")
        time.sleep(0.02)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per case")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--exclude", default="",
                        help="comma-separated: skip the cases whose name contains any of these "
                             "(e.g. 'metric' where compiling every metric's kernels does not "
                             "fit the time: a first compilation takes ~20 s of CPU per metric)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--json", default=None, help="write every case's verdict here")
    args = parser.parse_args(argv)
    cases = {f"api: {k}": ("py", v) for k, v in python_cases().items()}
    cases.update({f"cli: {k}": ("cli", v) for k, v in cli_cases().items()})
    excluded = [text for text in args.exclude.split(",") if text]
    cases = {k: v for k, v in cases.items()
             if args.only in k and not any(text in k for text in excluded)}
    if args.list:
        print("\n".join(cases))
        print(f"{len(cases)} cases")
        return 0
    folder = tempfile.mkdtemp(prefix="umapx-probe-")
    os.mkdir(folder + "/out")
    subprocess.run([sys.executable, "-c", SETUP, folder], check=True)
    # imported once here, before any thread starts: each case is a fork of this process
    import matplotlib

    matplotlib.use("Agg")
    from umapx import cli, distances, evaluation, spectral, umap_, utils, validation  # noqa: F401

    start = time.time()
    results = {}
    counts = collections.Counter()

    def report(name, verdict, detail):
        results[name] = (verdict, detail)
        counts[verdict] += 1
        if verdict in BAD_VERDICTS:
            print(f"{verdict.upper():9s} {name}: {detail}", flush=True)

    run_all(cases, folder, args.jobs, args.timeout, report)
    os.chmod(Path(folder) / "ro", 0o755)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{len(cases)} cases in {time.time() - start:.0f} s: "
          + ", ".join(f"{k} {counts.get(k, 0)}" for k in ("ok", "refused", *BAD_VERDICTS)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 1 if any(counts.get(k) for k in BAD_VERDICTS) else 0


if __name__ == "__main__":
    sys.exit(main())
