"""The ``umapx`` command: fit, transform, inverse, plot, explore and the tutorial demo.

Exit codes: 0 success; 2 bad usage (unknown option, missing argument, a value of the wrong
type, options that do not go together); 3 a problem with the input or the output (missing or
unreadable file, invalid data or parameters, corrupt model, dataset not available, dask
scheduler unreachable, an output path that is a directory, not writable, write-protected or
one of the input files, not enough memory); 1 an unexpected internal error (one line; ``-v``
adds the traceback); 130 interrupted. Every output path is checked before the work starts, so
a long fit never ends in an unwritable path. Progress and messages go to stderr; stdout stays
free for data (``-o -`` writes text to it; a reader that closes it early, such as ``| head``,
ends the command quietly).

With ``--dask ADDRESS`` (``umapx[dask]``), ``fit``, ``transform`` and ``inverse`` read and write
chunked storage (zarr stores, parquet datasets) on a dask cluster, block by block.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .geometry import MAX_GRID_SIDE
from .inverse import LOW_CONFIDENCE

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

DEMO_DATASETS = ("digits", "mnist", "fashion-mnist")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


class InputError(Exception):
    """A problem with what the user gave us (reported without a traceback, exit code 3)."""


class UsageError(Exception):
    """Options that do not go together (reported like argparse's errors, exit code 2)."""


def _say(message):
    print(f"umapx: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Reading and writing arrays
# ------------------------------------------------------------------------------------------------


def read_array(path, key=None, delimiter=None, numeric=True, allow_sparse=False):
    """A 2-d array from ``.npy``, ``.npz`` (``key`` or the only/``data`` array) or text.

    With ``numeric`` (data) the values must be real numbers; labels may be strings. With
    ``allow_sparse``, an ``.npz`` written by ``scipy.sparse.save_npz`` is read as that sparse
    matrix (CSR, never densified); otherwise it is refused.

    Text (any other suffix) holds one sample per line; ``#`` starts a comment; a first line
    that is not all numbers is a header and is skipped. The delimiter is a tab for ``.tsv``, a
    comma for ``.csv``, and otherwise found from the first line (comma, tab or whitespace).
    """
    path = Path(path)
    _check_readable(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = archive.files
                if _SPARSE_NPZ_KEYS <= set(names):
                    return _read_sparse(path, allow_sparse)
                if key is None:
                    key = "data" if "data" in names else (names[0] if len(names) == 1 else None)
                if key not in names:
                    raise InputError(f"{path}: say which array to use with --key (it holds "
                                     f"{', '.join(names) or 'no arrays'})")
                array = archive[key]
        else:
            array = _read_text(path, delimiter)
    except InputError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as error:
        raise InputError(f"{path}: cannot read it as an array ({error})") from error
    except MemoryError as error:
        raise InputError(f"{path}: not enough memory to read it ({error})") from error
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path}: expected an array")
    if numeric and array.dtype.kind not in "biuf":
        raise InputError(f"{path}: holds values of type {array.dtype}, not real numbers")
    if array.ndim == 1:
        array = array[None, :]  # one sample
    if array.ndim != 2:
        raise InputError(f"{path}: expected a 2-d array, got shape {array.shape}")
    return array


#: The arrays ``scipy.sparse.save_npz`` writes (with ``indices`` or ``row``/``col``).
_SPARSE_NPZ_KEYS = {"format", "shape", "data"}


def _read_sparse(path, allow_sparse):
    """A scipy.sparse ``.npz`` as a CSR matrix of real numbers (see :func:`read_array`)."""
    import scipy.sparse

    if not allow_sparse:
        raise InputError(f"{path}: holds a sparse matrix; this input must be a dense array")
    try:
        matrix = scipy.sparse.load_npz(path)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise InputError(f"{path}: cannot read it as a sparse matrix ({error})") from error
    if matrix.ndim != 2:
        raise InputError(f"{path}: expected a 2-d sparse matrix, got shape {matrix.shape}")
    if matrix.dtype.kind not in "biuf":
        raise InputError(f"{path}: holds values of type {matrix.dtype}, not real numbers")
    return matrix.tocsr()


def _check_readable(path):
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file (a directory, FIFO or device)")


def _read_text(path, delimiter):
    """Numeric text, one sample per line (see :func:`read_array`)."""
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in (raw.split("#", 1)[0].strip() for raw in handle) if line]
    if not lines:
        raise InputError(f"{path}: holds no data (the file is empty)")
    if delimiter is None:
        delimiter = {".tsv": "\t", ".csv": ","}.get(path.suffix.lower())
    if delimiter is None:
        delimiter = "," if "," in lines[0] else ("\t" if "\t" in lines[0] else None)
    header = not _all_numbers(lines[0], delimiter)
    if header and len(lines) == 1:
        raise InputError(f"{path}: holds a header line but no data rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loadtxt warns about empty input: refused above
        return np.loadtxt(lines[1:] if header else lines, delimiter=delimiter, ndmin=2,
                          dtype=np.float64)


def _all_numbers(line, delimiter):
    try:
        [float(field) for field in line.split(delimiter) if field.strip()]
    except ValueError:
        return False
    return True


def _array_target(path, sparse=False):
    """Where :func:`write_array` writes ``path``: ``.npy`` appended as ``np.save`` would, or
    for a ``sparse`` result ``.npz`` as ``scipy.sparse.save_npz`` would (unless ``path`` names
    text or ``.npy``, which are written dense)."""
    path = Path(path)
    kept = _TEXT_SUFFIXES + (".npy", ".npz") if sparse else _TEXT_SUFFIXES + (".npy",)
    if path.suffix.lower() in kept or path.is_dir():
        return path  # (a directory is refused by check_outputs)
    return path.with_name(path.name + (".npz" if sparse else ".npy"))


def write_array(array, path):
    """Write ``.npy``, or text for ``.csv``/``.tsv``/``.txt`` or ``-`` (stdout).

    A scipy.sparse ``array`` is written with ``scipy.sparse.save_npz`` (``.npz``), or dense
    where ``path`` names text, stdout or ``.npy``.
    """
    import scipy.sparse

    sparse = scipy.sparse.issparse(array)
    target = "-" if str(path) == "-" else _array_target(path, sparse)
    if sparse and (target == "-" or target.suffix.lower() != ".npz"):
        array, sparse = array.toarray(), False
    if target == "-":
        np.savetxt(sys.stdout, array, delimiter=",", fmt="%.7g")
        return
    if target.suffix.lower() in _TEXT_SUFFIXES:
        np.savetxt(target, array, delimiter="\t" if target.suffix == ".tsv" else ",",
                   fmt="%.7g")
    elif sparse:
        scipy.sparse.save_npz(target, scipy.sparse.csr_matrix(array))
    else:
        np.save(target, array)
    _say(f"wrote {target}")


def check_outputs(outputs, inputs=()):
    """Check output paths before any work: each names a file that can be written, none is a
    directory, write-protected, one of the ``inputs`` or another output.

    Parameters
    ----------
    outputs : dict
        Option name -> the path it writes (``None``: not given; ``"-"``: stdout).
    inputs : iterable of str
        Files the command reads.

    Raises
    ------
    InputError
    """
    from .persistence import is_writable

    seen = {}
    readers = [Path(path) for path in inputs if path is not None]
    for option, path in outputs.items():
        if path is None or str(path) == "-":
            continue
        path = Path(path)
        parent = path.parent
        if path.is_dir():
            raise InputError(f"{option} {path}: is a directory; give a file name")
        if not parent.is_dir():
            raise InputError(f"{option} {path}: the directory {parent} does not exist")
        if path.exists() and not is_writable(path):
            raise InputError(f"{option} {path}: the file is write-protected (umapx does not "
                             "replace it; remove it or choose another name)")
        if not is_writable(parent):
            raise InputError(f"{option} {path}: cannot write into {parent} (not writable)")
        for source in readers:
            if _same_file(path, source):
                raise InputError(f"{option} {path}: is the input file {source}; refusing to "
                                 "overwrite input data (choose another output path)")
        for other_option, other in seen.items():
            if _same_file(path, other):
                raise InputError(f"{option} and {other_option} both write {path}")
        seen[option] = path


def _same_file(first, second):
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def _figure_target(path):
    """The file a figure is saved to (``.png`` added when there is no suffix), checked to be a
    format matplotlib writes."""
    path = Path(path)
    if path.is_dir():
        return path  # refused by check_outputs
    if not path.suffix:
        return path.with_name(path.name + ".png")
    plot = _plotting()
    formats = plot.supported_figure_formats()
    if path.suffix.lower().lstrip(".") not in formats:
        raise InputError(f"{path}: cannot write a figure in format {path.suffix!r} (use one of "
                         f".{', .'.join(sorted(formats))})")
    return path


def _load_model(path):
    from .estimator import load

    _check_readable(Path(path))
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
        shape = tuple(int(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise InputError(f"--image-shape: expected positive sizes like 28x28, got {text!r}")
    return shape


def _grid_side(value, option="--grid"):
    if not 1 <= value <= MAX_GRID_SIDE:
        raise InputError(f"{option} must be between 1 and {MAX_GRID_SIDE} (a grid of at most "
                         f"{MAX_GRID_SIDE ** 2} points), got {value}")
    return value


def _plotting():
    """:mod:`umapx.plot` with matplotlib drawing off screen (matplotlib is an optional extra)."""
    try:
        import matplotlib
    except ImportError as error:
        raise InputError("drawing figures needs matplotlib: pip install umapx[plot]") from error
    matplotlib.use("Agg")
    from . import plot

    return plot


def _save_figure(figure, path):
    path = _figure_target(path)
    figure.savefig(path, dpi=100)
    _say(f"wrote {path}")


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


# UMAP parameters the commands set from options of the same name (unset options keep UMAP's
# defaults).
_UMAP_OPTIONS = {"n_neighbors": int, "n_components": int, "min_dist": float, "metric": str,
                 "n_epochs": int, "random_state": int, "n_jobs": int}


def _estimator_params(args):
    params = {name: getattr(args, name) for name in _UMAP_OPTIONS
              if getattr(args, name) is not None}
    params["verbose"] = args.verbose
    return params


def command_fit(args):
    from ._validation import validate_parameters
    from .estimator import UMAP

    if args.dask:
        return _fit_dask(args)
    if args.sample_size is not None or args.sample_fraction is not None:
        raise UsageError("--sample-size and --sample-fraction go with --dask")
    if args.output == "-":
        raise InputError("-o: a model is a file, it cannot be written to stdout")
    embedding = None if args.embedding is None else _array_target(args.embedding)
    check_outputs({"-o": args.output, "--embedding": embedding}, inputs=[args.input])
    mapper = UMAP(**_estimator_params(args))
    validate_parameters(mapper.get_params())  # before reading the data
    data = read_array(args.input, args.key, args.delimiter, allow_sparse=True)
    _say(f"fitting {data.shape[0]} x {data.shape[1]} from {args.input}")
    began = time.perf_counter()
    mapper.fit(data)
    _say(f"fitted in {time.perf_counter() - began:.1f} s")
    mapper.save(args.output)
    _say(f"wrote {args.output}")
    if args.embedding:
        write_array(mapper.embedding_, args.embedding)


def command_transform(args):
    if args.dask:
        return _transform_dask(args)
    output = args.output if args.output == "-" else _array_target(args.output)
    check_outputs({"-o": output}, inputs=[args.model, args.input])
    mapper = _load_model(args.model)
    data = read_array(args.input, args.key, args.delimiter, allow_sparse=True)
    write_array(mapper.transform(data), args.output)


def command_inverse(args):
    if args.dask:
        return _inverse_dask(args)
    _grid_side(args.grid)
    image_shape = _image_shape(args.image_shape)
    mapper = _load_model(args.model)
    sparse = mapper.fitted_state.sparse  # samples come back as sparse rows (.npz)
    check_outputs({"-o": args.output and _array_target(args.output, sparse),
                   "--confidence": args.confidence and _array_target(args.confidence),
                   "--png": args.png and _figure_target(args.png)},
                  inputs=[args.model, args.points])
    if args.points:
        points = read_array(args.points)
        if args.png and len(points) > MAX_GRID_SIDE ** 2:
            raise InputError(f"--png draws at most {MAX_GRID_SIDE ** 2} samples; --points "
                             f"holds {len(points)}")
    else:
        points = _grid(mapper, args.corners, args.grid)
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
        plot = _plotting()
        data = mapper.fitted_state.training_data
        dense = samples.toarray() if sparse else samples  # at most MAX_GRID_SIDE ** 2 rows
        figure = plot.sample_grid(dense, image_shape,
                                  n_columns=None if args.points else args.grid,
                                  value_range=(float(data.min()), float(data.max())),
                                  outside=confidence < LOW_CONFIDENCE)
        _save_figure(figure, args.png)
    if not (args.output or args.png or args.confidence):
        write_array(samples, "-")


def _grid(mapper, corners, n):
    """The ``n`` x ``n`` grid between ``--corners`` (default: inside the embedding)."""
    from .geometry import default_corners, grid_points

    dim = mapper.fitted_state.n_components
    if dim != 2 and corners is None:
        raise InputError(f"the default grid needs a 2-d embedding (this model has "
                         f"n_components={dim}): give --points or --corners")
    corners = (_parse_pairs(corners, "--corners") if corners
               else default_corners(mapper.embedding_))
    if corners.ndim != 2 or corners.shape != (4, dim):
        raise InputError(f"--corners: give four points of {dim} coordinates")
    return grid_points(corners, n)


def command_plot(args):
    plot = _plotting()
    check_outputs({"-o": _figure_target(args.output)}, inputs=[args.model, args.labels])
    mapper = _load_model(args.model)
    labels = read_array(args.labels, numeric=False).ravel() if args.labels else None
    if args.kind == "points":
        ax = plot.points(mapper, labels=labels, theme=args.theme)
    elif args.kind == "connectivity":
        ax = plot.connectivity(mapper, labels=labels, theme=args.theme)
    else:
        ax = plot.diagnostic(mapper, diagnostic_type=args.kind.replace("diagnostic-", ""))
    _save_figure(ax.figure, args.output)


def command_explore(args):
    """Serve the live explorer until Ctrl-C, or write it as one offline HTML file."""
    from .explorer import Explorer, ExplorerSession, export_html
    from .explorer.session import read_labels

    mapper = _load_model(args.model)
    labels = read_labels(args.labels) if args.labels else None
    _say("preparing the explorer")
    session = ExplorerSession(mapper, labels=labels, image_shape=_image_shape(args.image_shape))
    if args.export:
        export_html(mapper, args.export, session=session, grid=args.export_grid)
        _say(f"wrote {args.export}")
        return
    try:
        explorer = Explorer(session, host=args.host, port=args.port, verbose=args.verbose)
    except OSError as error:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") \
            from error
    try:
        print(explorer.url, flush=True)
        _say("serving the explorer at the URL above; press Ctrl-C to stop")
        if not args.no_browser and not explorer.open_browser():
            _say("no graphical browser to open here: open the URL above in one")
        explorer.wait()
    except KeyboardInterrupt:
        _say("stopped")
    finally:
        explorer.stop()


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
    from .estimator import UMAP

    plot = _plotting()
    _grid_side(args.grid)
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be a positive number of samples, got {args.limit}")
    check_outputs({"-o": _figure_target(args.output), "--save-model": args.save_model},
                  inputs=[args.data_path] if args.data_path else ())
    try:
        data, labels, image_shape = load_demo_data(args.dataset, args.data_path)
    except FileNotFoundError as error:
        raise InputError(str(error)) from error
    if args.limit is not None:
        data, labels = data[: args.limit], labels[: args.limit]
    _say(f"{args.dataset}: {data.shape[0]} samples x {data.shape[1]} features; fitting UMAP "
         "(random_state=42)")
    began = time.perf_counter()
    mapper = UMAP(random_state=42, verbose=args.verbose, n_jobs=args.n_jobs).fit(data)
    _say(f"fitted in {time.perf_counter() - began:.1f} s")
    grid = _grid(mapper, args.corners, args.grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # grid points between clusters are expected
        began = time.perf_counter()
        samples, confidence = mapper.inverse_transform(grid, return_confidence=True)
    _say(f"inverse-transformed {len(grid)} grid points in "
         f"{1000 * (time.perf_counter() - began):.1f} ms; "
         f"{np.count_nonzero(confidence < LOW_CONFIDENCE)} lie outside the embedded data "
         "(confidence < 0.37, framed in orange in the figure)")
    figure = plot.draw_inverse_grid(mapper, grid, samples, confidence, args.grid,
                                    image_shape=image_shape, labels=labels)
    _save_figure(figure, args.output)
    if args.save_model:
        mapper.save(args.save_model)
        _say(f"wrote {args.save_model}")


# ------------------------------------------------------------------------------------------------
# On a dask cluster, with chunked storage
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(address):
    """A distributed client for ``address``, or a LocalCluster of single-threaded workers for
    ``local`` / ``local:N``; closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise InputError("--dask needs dask: pip install 'umapx[dask]'") from error
    cluster = None
    try:
        if address == "local" or address.startswith("local:"):
            count = address.partition(":")[2]
            if count and not (count.isdigit() and int(count) > 0):
                raise UsageError(f"--dask {address}: say local or local:N (N workers)")
            cluster = LocalCluster(n_workers=int(count) if count else None, threads_per_worker=1,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise InputError(f"cannot reach the dask scheduler at {address} ({error})") from error
    try:
        with client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _chunked_path(path, option, must_exist):
    """Check a --dask path names zarr or parquet storage (and exists, for local input)."""
    from .dask import storage_format

    if path is None or str(path) == "-":
        raise UsageError(f"with --dask, {option} must name a .zarr or .parquet path")
    try:
        kind = storage_format(path)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from error
    if must_exist and "://" not in str(path) and not Path(path).exists():
        raise InputError(f"{path}: no such file or directory")
    return kind


def _read_chunked(path, columns, kind):
    from .dask import read_chunked

    names = [c for c in columns.split(",") if c] if columns else None
    try:
        data = read_chunked(path, columns=names, kind=kind)
    except Exception as error:  # zarr, pyarrow and fsspec raise many types: all mean "input"
        raise InputError(f"{path}: cannot read it ({type(error).__name__}: {error})") from error
    if data.ndim != 2:
        raise InputError(f"{path}: expected a 2-d array (rows x columns), got shape "
                         f"{data.shape}")
    return data


def _run_on_cluster(function):
    """Run a computation; failures of the cluster itself are reported, not raised."""
    try:
        return function()
    except (InputError, UsageError, ValueError, FileNotFoundError):
        raise
    except Exception as error:
        if type(error).__module__.split(".")[0] != "distributed":
            raise
        raise InputError(f"the dask cluster failed ({type(error).__name__}: {error})") \
            from error


def _input_kind_for(output_kind):
    return "array" if output_kind == "zarr" else None


def _transform_dask(args):
    from .dask import write_chunked

    _chunked_path(args.input, "INPUT", must_exist=True)
    out_kind = _chunked_path(args.output, "-o", must_exist=False)
    mapper = _load_model(args.model)
    with dask_client(args.dask):
        data = _read_chunked(args.input, args.columns, _input_kind_for(out_kind))
        began = time.perf_counter()
        embedding = mapper.transform(data)
        names = [f"umap{i}" for i in range(mapper.n_components)]
        _run_on_cluster(lambda: write_chunked(embedding, args.output, columns=names))
    _say(f"wrote {args.output} in {time.perf_counter() - began:.1f} s")


def _inverse_dask(args):
    import warnings

    import dask

    from .dask import write_chunked

    if args.corners or args.png:
        raise UsageError("with --dask, give --points (and -o / --confidence), not --corners or "
                         "--png")
    _chunked_path(args.points, "--points", must_exist=True)
    out_kind = _chunked_path(args.output, "-o", must_exist=False)
    if args.confidence:
        _chunked_path(args.confidence, "--confidence", must_exist=False)
    mapper = _load_model(args.model)
    with dask_client(args.dask):
        points = _read_chunked(args.points, None, _input_kind_for(out_kind))
        began = time.perf_counter()
        result = mapper.inverse_transform(points, return_confidence=bool(args.confidence),
                                          method=args.method, detail=args.detail)
        samples, confidence = result if args.confidence else (result, None)
        names = (list(mapper.feature_names_in_) if hasattr(mapper, "feature_names_in_")
                 else None)
        writes = [write_chunked(samples, args.output, columns=names, compute=False)]
        if confidence is not None:
            writes.append(write_chunked(confidence, args.confidence, columns=["confidence"],
                                        compute=False))
        with warnings.catch_warnings():  # zarr (graph) and parquet (expression) writes together
            warnings.filterwarnings("ignore", message="Computing mixed collections")
            _run_on_cluster(lambda: dask.compute(*writes))
    _say(f"wrote {' and '.join(p for p in (args.output, args.confidence) if p)} in "
         f"{time.perf_counter() - began:.1f} s")


def _fit_dask(args):
    from .dask import fit_sample, write_chunked
    from .estimator import UMAP

    if (args.sample_size is None) == (args.sample_fraction is None):
        raise UsageError("with --dask, give --sample-size or --sample-fraction")
    _chunked_path(args.input, "INPUT", must_exist=True)
    out_kind = _chunked_path(args.embedding, "--embedding", must_exist=False) \
        if args.embedding else None
    with dask_client(args.dask):
        data = _read_chunked(args.input, args.columns, _input_kind_for(out_kind))
        began = time.perf_counter()
        mapper, embedding = _run_on_cluster(lambda: fit_sample(
            UMAP(**_estimator_params(args)), data, sample_size=args.sample_size,
            sample_fraction=args.sample_fraction, random_state=args.sample_seed))
        _say(f"fitted on {mapper.embedding_.shape[0]} sampled rows in "
             f"{time.perf_counter() - began:.1f} s")
        mapper.save(args.output)
        _say(f"wrote {args.output}")
        if args.embedding:
            names = [f"umap{i}" for i in range(mapper.n_components)]
            _run_on_cluster(lambda: write_chunked(embedding, args.embedding, columns=names))
            _say(f"wrote {args.embedding}")


# ------------------------------------------------------------------------------------------------
# Argument parsing
# ------------------------------------------------------------------------------------------------


def _add_umap_options(parser):
    from .estimator import UMAP

    defaults = UMAP().get_params()
    group = parser.add_argument_group("UMAP parameters (default: UMAP's)")
    notes = {"random_state": "seed: same seed, same result, whatever --n-jobs is"}
    for name, kind in _UMAP_OPTIONS.items():
        note = notes.get(name, "")
        group.add_argument("--" + name.replace("_", "-"), type=kind, default=None,
                           help=f"{note}{'; ' if note else ''}default {defaults[name]}")


def _add_input_options(parser):
    parser.add_argument("--key", help="array name inside an .npz input")
    parser.add_argument("--delimiter", help="field separator of text input (default , or tab)")


def _add_dask_options(parser, columns=True):
    group = parser.add_argument_group(
        "on a dask cluster (pip install 'umapx[dask]'): inputs and outputs are zarr stores "
        "(.zarr) or parquet datasets (.parquet), read and written block by block")
    group.add_argument("--dask", metavar="ADDRESS",
                       help="scheduler address (tcp://host:8786), or local[:N] for N "
                            "single-threaded workers on this machine")
    if columns:
        group.add_argument("--columns", help="comma-separated parquet columns to use")
    return group


def build_parser():
    parser = argparse.ArgumentParser(
        prog="umapx",
        description="Fast, reproducible UMAP with an inverse transform.",
        epilog="Exit codes: 0 success, 2 usage error, 3 input or output error (bad data, "
               "parameters or model file; an output path that is a directory, not writable or "
               "an input), 1 internal error, 130 interrupted. Input arrays: .npy, .npz, or "
               "numeric text (.csv, .tsv, anything else; a header line is skipped); fit and "
               "transform also read a sparse matrix saved by scipy.sparse.save_npz.",
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
    group = _add_dask_options(fit)
    group.add_argument("--sample-size", type=int, help="fit on this many rows drawn at random")
    group.add_argument("--sample-fraction", type=float, help="or on this fraction of the rows")
    group.add_argument("--sample-seed", type=int, default=0,
                       help="seed of the sample (default 0)")
    fit.set_defaults(run=command_fit)

    transform = commands.add_parser("transform", parents=[common],
                                    help="embed new samples with a saved model")
    transform.add_argument("model")
    transform.add_argument("input")
    transform.add_argument("-o", "--output", default="-", help=".npy/.csv file, or - for stdout")
    _add_input_options(transform)
    _add_dask_options(transform)
    transform.set_defaults(run=command_transform)

    inverse = commands.add_parser(
        "inverse", parents=[common],
        help="generate samples for embedding points or a grid between corners")
    inverse.add_argument("model")
    source = inverse.add_mutually_exclusive_group()
    source.add_argument("--points", help="array of embedding points (n x n_components)")
    source.add_argument("--corners", nargs=4, metavar="X,Y",
                        help="four corners of a grid (default: picked inside the embedding)")
    inverse.add_argument("--grid", type=int, default=10,
                         help=f"grid side, 1 to {MAX_GRID_SIDE} (default 10)")
    inverse.add_argument("-o", "--output", help="samples (.npy or .csv; a model fitted on "
                         "sparse data writes sparse rows as .npz, dense for .npy or text)")
    inverse.add_argument("--confidence", help="per-point confidence (.npy or .csv)")
    inverse.add_argument("--png", help="the samples drawn as an image grid")
    inverse.add_argument("--image-shape", help="e.g. 28x28 (default: square)")
    inverse.add_argument("--method", choices=("blend", "refine"), default="blend",
                         help="blend (default, fast) or refine (lands where asked; slower)")
    inverse.add_argument("--detail", type=float, default=0.0,
                         help="residual detail added back, >= 0 (default 0; 1: as much as "
                              "real samples have)")
    _add_dask_options(inverse, columns=False)
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

    explore = commands.add_parser(
        "explore", parents=[common],
        help="the live explorer: hover the embedding, see generated samples (browser)")
    explore.add_argument("model")
    explore.add_argument("--labels", help="one label per training sample (.npy, .npz or text, "
                                          "one per line)")
    explore.add_argument("--image-shape", help="draw samples as images, e.g. 28x28 or 32x32x3")
    explore.add_argument("--host", default="127.0.0.1",
                         help="address to bind (default: this machine only; any other "
                              "address requires the random token in the printed URL)")
    explore.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    explore.add_argument("--no-browser", action="store_true",
                         help="only print the URL; do not open a browser")
    explore.add_argument("--export", metavar="PAGE.html",
                         help="write one self-contained offline HTML file instead of serving")
    explore.add_argument("--export-grid", type=int, default=48,
                         help="with --export: samples precomputed on an N x N grid (default 48)")
    explore.set_defaults(run=command_explore)

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
    demo.add_argument("--grid", type=int, default=10,
                      help=f"grid side, 1 to {MAX_GRID_SIDE} (default 10)")
    demo.add_argument("--limit", type=int, help="use only the first N samples (N >= 1)")
    demo.add_argument("--n-jobs", type=int, default=-1)
    demo.add_argument("--save-model", help="also save the fitted model")
    demo.set_defaults(run=command_demo)
    return parser


def _version():
    from ._version import __version__

    return f"umapx {__version__}"


def main(argv=None):
    """Entry point of the ``umapx`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 on bad usage
    from .persistence import ModelFormatError

    try:
        args.run(args)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        _say(f"error: {error}")
        return EXIT_USAGE
    except (InputError, ModelFormatError, ValueError, TypeError) as error:
        _say(f"error: {error}")
        return EXIT_INPUT
    except BrokenPipeError:  # the reader of stdout stopped early (| head): end quietly
        _silence_stdout()
        return EXIT_OK
    except OSError as error:
        _say(f"error: {error}")
        return EXIT_INPUT
    except MemoryError as error:
        _say(f"error: not enough memory for this input ({error or 'MemoryError'})")
        return EXIT_INPUT
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug: one line, the traceback on request
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        _say(f"internal error: {type(error).__name__}: {error} (please report it; -v shows "
             "the traceback)")
        return EXIT_INTERNAL
    return EXIT_OK


def _silence_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
