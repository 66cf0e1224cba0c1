"""The ``umapx`` command: fit, transform, inverse, plot and the tutorial demo without Python.

Exit codes: 0 success; 2 bad usage (unknown option, missing argument); 3 a problem with the
input (missing or unreadable file, invalid data or parameters, corrupt model, dataset not
available); 1 an unexpected internal error. Progress and messages go to stderr; stdout stays
free for data (``-o -`` writes text to it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3

DEMO_DATASETS = ("digits", "mnist", "fashion-mnist")


class InputError(Exception):
    """A problem with what the user gave us (reported without a traceback, exit code 3)."""


def _say(message):
    print(f"umapx: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Reading and writing arrays
# ------------------------------------------------------------------------------------------------


def read_array(path, key=None, delimiter=None):
    """A 2-d float array from ``.npy``, ``.npz`` (``key`` or the only/``data`` array) or text."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = archive.files
                if key is None:
                    key = "data" if "data" in names else (names[0] if len(names) == 1 else None)
                if key not in names:
                    raise InputError(f"{path}: say which array to use with --key (it holds "
                                     f"{', '.join(names)})")
                array = archive[key]
        else:
            array = _read_text(path, delimiter)
    except InputError:
        raise
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: cannot read it as an array ({error})") from error
    if array.ndim == 1:
        array = array[:, None] if suffix in (".csv", ".tsv", ".txt") else array[None, :]
    if array.ndim != 2:
        raise InputError(f"{path}: expected a 2-d array, got shape {array.shape}")
    return array


def _read_text(path, delimiter):
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path) as handle:
        first = handle.readline()
    fields = first.strip().split(delimiter)
    try:
        [float(f) for f in fields if f.strip()]
        skip = 0
    except ValueError:
        skip = 1  # a header line
    return np.loadtxt(path, delimiter=delimiter, skiprows=skip, ndmin=2)


def write_array(array, path):
    """Write ``.npy``, or text for ``.csv``/``.tsv``/``.txt`` or ``-`` (stdout)."""
    if str(path) == "-":
        np.savetxt(sys.stdout, array, delimiter=",", fmt="%.7g")
        return
    path = Path(path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        np.savetxt(path, array, delimiter="\t" if path.suffix == ".tsv" else ",", fmt="%.7g")
    else:
        if path.suffix != ".npy":
            path = path.with_name(path.name + ".npy")  # what np.save would do silently
        np.save(path, array)
    _say(f"wrote {path}")


def _load_model(path):
    from .persistence import load

    if not Path(path).is_file():
        raise InputError(f"{path}: no such model file")
    return load(path)


def _parse_pairs(values, option):
    """``["x,y", ...]`` into an array of points."""
    try:
        return np.array([[float(v) for v in value.split(",")] for value in values])
    except ValueError as error:
        raise InputError(f"{option}: expected comma-separated numbers like 1.5,-2 ({error})") \
            from error


def _image_shape(text):
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError as error:
        raise InputError(f"--image-shape: expected e.g. 28x28, got {text!r}") from error


def _save_figure(figure, path):
    figure.savefig(path, dpi=100)
    _say(f"wrote {path}")


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


def _estimator_params(args):
    params = {"n_neighbors": args.n_neighbors, "n_components": args.n_components,
              "min_dist": args.min_dist, "metric": args.metric, "n_jobs": args.n_jobs,
              "verbose": args.verbose, "random_state": args.random_state}
    if args.n_epochs is not None:
        params["n_epochs"] = args.n_epochs
    return params


def command_fit(args):
    from .estimator import UMAP

    data = read_array(args.input, args.key, args.delimiter)
    _say(f"fitting {data.shape[0]} x {data.shape[1]} from {args.input}")
    began = time.perf_counter()
    mapper = UMAP(**_estimator_params(args)).fit(data)
    _say(f"fitted in {time.perf_counter() - began:.1f} s")
    mapper.save(args.output)
    _say(f"wrote {args.output}")
    if args.embedding:
        write_array(mapper.embedding_, args.embedding)


def command_transform(args):
    mapper = _load_model(args.model)
    data = read_array(args.input, args.key, args.delimiter)
    write_array(mapper.transform(data), args.output)


def command_inverse(args):
    import warnings

    mapper = _load_model(args.model)
    if args.points:
        points = read_array(args.points)
    else:
        from .plot import default_corners, grid_points

        corners = (_parse_pairs(args.corners, "--corners") if args.corners
                   else default_corners(mapper.embedding_))
        if len(corners) != 4:
            raise InputError("--corners: give exactly four points")
        points = grid_points(corners, args.grid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples, confidence = mapper.inverse_transform(points, return_confidence=True,
                                                       method=args.method, detail=args.detail)
    for warning in caught:
        _say(f"warning: {warning.message}")
    if args.output:
        write_array(samples, args.output)
    if args.confidence:
        write_array(confidence[:, None], args.confidence)
    if args.png:
        _save_figure(_sample_grid(samples, _image_shape(args.image_shape), args.grid
                                  if not args.points else None), args.png)
    if not (args.output or args.png or args.confidence):
        write_array(samples, "-")


def _sample_grid(samples, image_shape, n):
    """A figure of the generated samples as images, ``n`` per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shape = image_shape
    if shape is None:
        side = int(round(np.sqrt(samples.shape[1])))
        if side * side != samples.shape[1]:
            raise InputError(f"samples have {samples.shape[1]} features, not a square image: "
                             "give --image-shape")
        shape = (side, side)
    if int(np.prod(shape)) != samples.shape[1]:
        raise InputError(f"--image-shape {shape} does not hold {samples.shape[1]} features")
    columns = n or int(np.ceil(np.sqrt(len(samples))))
    rows = int(np.ceil(len(samples) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8),
                                squeeze=False)
    low, high = float(samples.min()), float(samples.max())
    for index, ax in enumerate(axes.ravel()):
        ax.set(xticks=[], yticks=[])
        if index < len(samples):
            ax.imshow(samples[index].reshape(shape), cmap="gray_r", vmin=low, vmax=high)
        else:
            ax.axis("off")
    return figure


def command_plot(args):
    import matplotlib

    matplotlib.use("Agg")
    from . import plot

    mapper = _load_model(args.model)
    labels = np.asarray(read_array(args.labels)).ravel() if args.labels else None
    if args.kind == "points":
        ax = plot.points(mapper, labels=labels, theme=args.theme)
    elif args.kind == "connectivity":
        ax = plot.connectivity(mapper, labels=labels, theme=args.theme)
    else:
        ax = plot.diagnostic(mapper, diagnostic_type=args.kind.replace("diagnostic-", ""))
    _save_figure(ax.figure, args.output)


def load_demo_data(dataset, path=None):
    """``(data, labels, image_shape)`` of a demo dataset (``digits`` needs no download)."""
    from . import datasets

    if dataset == "digits":
        data, labels = datasets.load_digits()
        return data, labels, (8, 8)
    loader = datasets.load_mnist if dataset == "mnist" else datasets.load_fashion_mnist
    data, labels = loader(path=path)
    return data, labels, (28, 28)


def command_demo(args):
    """The tutorial: fit with random_state=42, inverse-transform a 10 x 10 grid, draw it."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from . import plot
    from .estimator import UMAP

    try:
        data, labels, image_shape = load_demo_data(args.dataset, args.data_path)
    except FileNotFoundError as error:
        raise InputError(str(error)) from error
    if args.limit:
        data, labels = data[: args.limit], labels[: args.limit]
    _say(f"{args.dataset}: {data.shape[0]} samples x {data.shape[1]} features; fitting UMAP "
         "(random_state=42)")
    began = time.perf_counter()
    mapper = UMAP(random_state=42, verbose=args.verbose, n_jobs=args.n_jobs).fit(data)
    _say(f"fitted in {time.perf_counter() - began:.1f} s")
    corners = _parse_pairs(args.corners, "--corners") if args.corners else None
    grid = plot.grid_points(plot.default_corners(mapper.embedding_) if corners is None
                            else corners, args.grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # grid points between clusters are expected
        began = time.perf_counter()
        _, confidence = mapper.inverse_transform(grid, return_confidence=True)
    _say(f"inverse-transformed {len(grid)} grid points in "
         f"{1000 * (time.perf_counter() - began):.1f} ms; "
         f"{np.count_nonzero(confidence < np.exp(-1))} lie outside the embedded data "
         "(confidence < 0.37, framed in orange in the figure)")
    figure = plot.inverse_grid(mapper, corners=corners, n=args.grid, image_shape=image_shape,
                               labels=labels)
    _save_figure(figure, args.output)
    if args.save_model:
        mapper.save(args.save_model)
        _say(f"wrote {args.save_model}")


# ------------------------------------------------------------------------------------------------
# Argument parsing
# ------------------------------------------------------------------------------------------------


def _add_umap_options(parser):
    group = parser.add_argument_group("UMAP parameters")
    group.add_argument("--n-neighbors", type=int, default=15)
    group.add_argument("--n-components", type=int, default=2)
    group.add_argument("--min-dist", type=float, default=0.1)
    group.add_argument("--metric", default="euclidean")
    group.add_argument("--n-epochs", type=int, default=None)
    group.add_argument("--random-state", type=int, default=None,
                       help="seed: same seed, same result, whatever --n-jobs is")
    group.add_argument("--n-jobs", type=int, default=-1)


def _add_input_options(parser):
    parser.add_argument("--key", help="array name inside an .npz input")
    parser.add_argument("--delimiter", help="field separator of text input (default , or tab)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="umapx",
        description="Fast, reproducible UMAP with an inverse transform.",
        epilog="Exit codes: 0 success, 2 usage error, 3 input error, 1 internal error. "
               "Input arrays: .npy, .npz, .csv/.tsv/.txt (numeric; a header line is skipped).",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true",
                        help="report each stage and a progress bar (stderr)")

    fit = commands.add_parser("fit", parents=[common],
                              help="fit a model; write it (and the embedding)")
    fit.add_argument("input", help="data array (samples x features)")
    fit.add_argument("-o", "--output", required=True, help="model file to write")
    fit.add_argument("--embedding", help="also write the embedding (.npy or .csv)")
    _add_input_options(fit)
    _add_umap_options(fit)
    fit.set_defaults(run=command_fit)

    transform = commands.add_parser("transform", parents=[common],
                                    help="embed new samples with a saved model")
    transform.add_argument("model")
    transform.add_argument("input")
    transform.add_argument("-o", "--output", default="-", help=".npy/.csv file, or - for stdout")
    _add_input_options(transform)
    transform.set_defaults(run=command_transform)

    inverse = commands.add_parser(
        "inverse", parents=[common],
        help="generate samples for embedding points or a grid between corners")
    inverse.add_argument("model")
    source = inverse.add_mutually_exclusive_group()
    source.add_argument("--points", help="array of embedding points (n x n_components)")
    source.add_argument("--corners", nargs=4, metavar="X,Y",
                        help="four corners of a grid (default: picked inside the embedding)")
    inverse.add_argument("--grid", type=int, default=10, help="grid side (default 10)")
    inverse.add_argument("-o", "--output", help="samples (.npy or .csv)")
    inverse.add_argument("--confidence", help="per-point confidence (.npy or .csv)")
    inverse.add_argument("--png", help="the samples drawn as an image grid")
    inverse.add_argument("--image-shape", help="e.g. 28x28 (default: square)")
    inverse.add_argument("--method", choices=("blend", "refine"), default="blend",
                         help="blend (default, fast) or refine (lands where asked; slower)")
    inverse.add_argument("--detail", type=float, default=0.0,
                         help="residual detail added back, >= 0 (default 0; 1: as much as "
                              "real samples have)")
    inverse.set_defaults(run=command_inverse)

    plot = commands.add_parser("plot", parents=[common],
                               help="draw a saved model's embedding to a PNG")
    plot.add_argument("model")
    plot.add_argument("-o", "--output", required=True, help="PNG file")
    plot.add_argument("--labels", help="labels array (one per training sample)")
    plot.add_argument("--kind", default="points",
                      choices=["points", "connectivity", "diagnostic-pca", "diagnostic-local_dim",
                               "diagnostic-neighborhood_jaccard"])
    plot.add_argument("--theme")
    plot.set_defaults(run=command_plot)

    demo = commands.add_parser(
        "demo", parents=[common],
        help="the tutorial: fit, inverse-transform a 10 x 10 grid, write the figure")
    demo.add_argument("--dataset", choices=DEMO_DATASETS, default="digits",
                      help="digits is bundled; mnist / fashion-mnist need local files or "
                           "internet (see umapx.datasets)")
    demo.add_argument("--data-path", help="directory or .npz file of the dataset")
    demo.add_argument("-o", "--output", default="umapx-demo.png", help="figure (PNG)")
    demo.add_argument("--corners", nargs=4, metavar="X,Y",
                      help="grid corners (default: picked inside the embedding)")
    demo.add_argument("--grid", type=int, default=10)
    demo.add_argument("--limit", type=int, help="use only the first N samples")
    demo.add_argument("--n-jobs", type=int, default=-1)
    demo.add_argument("--save-model", help="also save the fitted model")
    demo.set_defaults(run=command_demo)
    return parser


def _version():
    from . import __version__

    return f"umapx {__version__}"


def main(argv=None):
    """Entry point of the ``umapx`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on bad usage
    from .persistence import ModelFormatError

    try:
        args.run(args)
    except (InputError, ModelFormatError, FileNotFoundError, ValueError) as error:
        _say(f"error: {error}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
