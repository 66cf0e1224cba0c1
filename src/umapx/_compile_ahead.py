"""Compile the kernels of later stages in a second process while this one runs its first.

With an empty numba cache (the first run after installing), a fit spends most of its time
compiling: first the k-NN kernels, then the graph's, then the layout's, one after the other on
one core. When the layout kernel is not in the cache, :func:`for_fit` starts
``python -m umapx.precompile --background ...``, which compiles the graph and layout kernels
(then those of ``transform`` and ``inverse_transform``) on synthetic data into numba's on-disk
cache while this process compiles and runs its k-NN search; before each of those stages the
fit waits until the other process reports the stage's kernels cached, and then loads them
from the cache instead of compiling them again. :func:`for_transform` does the same for the
first ``transform`` of a model (the other process compiles the graph, layout and inverse
kernels while this one compiles the neighbour search); :func:`for_saved_model` starts that
one already when :func:`umapx.load` begins reading a model, so it compiles while this process
imports scikit-learn and reads the file; for a model with an NN-descent index it compiles the
search of new points first (the kernel this process reaches first after the load) and leaves
the graph kernels to this process. In a fit, the layout kernel is compiled by whichever
process is free first (see :class:`BackgroundCompile`).

The compiled code is the same whichever process compiles it (same compiler, flags and CPU), so
results do not change. This process never compiles a kernel while the other one may be
compiling it: it waits for the stage first, and the stages it runs meanwhile (the neighbour
search) share no cached kernel with the other process's, so the two never write the same
cache index at once. The other process is started only when the cache lacks the layout
(or transform) kernel, so a warm cache costs one small file read per fit. It writes nothing
but numba's cache, inherits the environment (``NUMBA_CACHE_DIR``, ``NUMBA_CPU_NAME``, ...),
and keeps running to the end of its list if this process exits first. Set
``UMAPX_BACKGROUND_COMPILE=0`` to switch it off (each process then compiles what it uses).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np

ENVIRONMENT_SWITCH = "UMAPX_BACKGROUND_COMPILE"
# The stages the other process can compile, in its order; it prints ``ready <stage>`` after
# each. ``search``: the approximate search of new points (a loaded model's, see
# :func:`for_saved_model`).
STAGES = ("search", "graph", "layout", "transform", "inverse")
# A fit's (its own neighbour search is compiled in its process) and a transform's.
_FIT_STAGES = ("graph", "layout", "transform", "inverse")
_TRANSFORM_STAGES = ("graph", "transform", "inverse")
# How long a stage waits for the other process before compiling on its own (seconds).
_WAIT_LIMIT = 180.0

_running = None  # the one background compilation of this process, if any
# The largest metadata entry of a model file that for_saved_model reads.
_METADATA_MAX_BYTES = 1 << 24


def enabled():
    """Whether background compilation is switched on (``UMAPX_BACKGROUND_COMPILE`` != "0")."""
    return os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() not in ("0", "false", "no",
                                                                           "off")


def is_cached(dispatcher):
    """Whether numba's on-disk cache holds ``dispatcher`` compiled for this CPU (any types).

    Also True when the kernel is already compiled in this process, or when the cache cannot
    be read (then nothing is started: the normal path compiles as it always did).
    """
    try:
        if dispatcher.signatures:
            return True
        cache_file = dispatcher._cache._cache_file
        magic = dispatcher.targetctx.codegen().magic_tuple()
        return any(key[1] == magic for key in cache_file._load_index())
    except Exception:  # no cache (NUMBA_DISABLE_JIT...), another numba: behave as before
        return True


class _NotStarted:
    """Stands in for a background compilation that was not needed: nothing to wait for."""

    def wait(self, stage):
        return False


NOT_STARTED = _NotStarted()


class BackgroundCompile:
    """A running ``python -m umapx.precompile --background``: wait for its stages.

    When its stages include the layout, the layout kernel is compiled by whichever process is
    free first: at its wait for the graph (:meth:`wait`), this process compiles it itself if
    the graph is not ready yet (it would only wait), and otherwise tells the other process to
    (``--ask-layout``: the other process reads the answer once its graph is ready, so the two
    never compile it both). When its stages include the search but not the graph (a loaded
    model's first transform), this process compiles the graph kernels itself, at its wait for
    the search if the search is not ready yet (else when it reaches its graph stage).
    """

    def __init__(self, stages, dtype, readonly, n_components=2):
        environment = dict(os.environ)
        environment[ENVIRONMENT_SWITCH] = "0"  # it never starts one of its own
        environment.setdefault("NUMBA_NUM_THREADS", "1")  # it compiles; its data is tiny
        # Set in this process, perhaps not in the environment (numba not imported yet: only
        # the environment can have set it).
        config = sys.modules.get("numba.core.config")
        if config is not None and config.CACHE_DIR:
            environment["NUMBA_CACHE_DIR"] = config.CACHE_DIR
        self._ask_layout = "layout" in stages
        self._graph_here = "search" in stages and "graph" not in stages
        self._asking = threading.Lock()  # the layout is decided once, whichever thread asks
        command = [sys.executable, "-m", "umapx.precompile", "--background", ",".join(stages),
                   "--dtype", np.dtype(dtype).name, "--components", str(int(n_components))] \
            + (["--readonly"] if readonly else []) + (["--ask-layout"] if self._ask_layout else [])
        self._n_components = int(n_components)
        self._ready = {stage: threading.Event() for stage in STAGES}
        for stage in set(STAGES) - set(stages):  # nothing to wait for
            self._ready[stage].set()
        self.cpu_seconds = {}  # the other process's CPU seconds when each stage was ready
        self.waited = {}  # seconds this process waited for each stage
        self.compiled_here = {}  # CPU seconds this process spent compiling a stage's kernels
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE if self._ask_layout else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="umapx-compile-ahead")
        self._reader.start()

    def _read(self):
        try:
            for line in self._process.stdout:
                words = line.split()  # "ready STAGE CPU_SECONDS"
                if len(words) == 3 and words[0] == "ready" and words[1] in self._ready:
                    self.cpu_seconds[words[1]] = float(words[2])
                    self._ready[words[1]].set()
        finally:  # it ended (done, failed or killed): nobody waits any longer
            for event in self._ready.values():
                event.set()
            self._process.stdout.close()
            self._process.wait()

    def _share_layout(self):
        """Decide, once, which process compiles the layout kernel (see the class docstring)."""
        with self._asking:
            if not self._ask_layout:
                return
            self._ask_layout = False
        here = not self._ready["graph"].is_set()
        try:
            self._process.stdin.write("skip\n" if here else "layout\n")
            self._process.stdin.close()
        except OSError:  # it has ended: the layout compiles on first use, as without it
            return
        if here:
            began = time.process_time()
            compile_layout(self._n_components)
            self.compiled_here["layout"] = time.process_time() - began
            self._ready["layout"].set()

    def wait(self, stage):
        """Block until ``stage``'s kernels are cached or the other process has ended.

        Returns whether it had to wait (False when the stage was already ready). Before the
        graph, this process may compile the layout kernel meanwhile (see the class docstring).
        """
        if stage == "graph":
            self._share_layout()
        event = self._ready[stage]
        if stage == "search" and self._graph_here and not event.is_set():
            self._graph_here = False
            began = time.process_time()
            compile_transform_graph()
            self.compiled_here["graph"] = time.process_time() - began
        if event.is_set():
            return False
        began = time.perf_counter()
        event.wait(_WAIT_LIMIT)
        self.waited[stage] = time.perf_counter() - began
        return True

    def join(self):
        """Wait until the other process has ended (benchmarks, tests)."""
        with self._asking:
            unasked, self._ask_layout = self._ask_layout, False
        if unasked:  # never asked (the fit failed before its graph): let it finish
            try:
                self._process.stdin.close()
            except OSError:
                pass
        self._reader.join()

    def finished(self):
        return all(event.is_set() for event in self._ready.values())


def compile_transform_graph():
    """Compile the graph kernels of a ``transform``: the memberships of a few new points, with
    the argument types ``transform`` passes (its neighbours as the search returns them)."""
    from .graph import transform_graph

    n_new, k, n_train = 8, 5, 64
    rng = np.random.default_rng(0)
    indices = np.ascontiguousarray(rng.integers(0, n_train, (n_new, k)), dtype=np.int32)
    distances = np.sort(rng.uniform(0.5, 2.0, (n_new, k)).astype(np.float32), axis=1)
    transform_graph(indices, distances, k, 1.0, n_train)


def compile_layout(n_components):
    """Compile the layout kernel of a fit into ``n_components`` euclidean dimensions: two
    epochs of :func:`umapx.layout.optimize_layout` on a small ring graph, with the argument
    types a fit passes (``optimize_layout`` converts its inputs to the kernel's types)."""
    import numpy as np
    import scipy.sparse

    from .layout import optimize_layout

    n = 64
    rows = np.repeat(np.arange(n), 2)
    columns = np.stack([(np.arange(n) + 1) % n, (np.arange(n) - 1) % n], axis=1).ravel()
    graph = scipy.sparse.csr_matrix((np.ones(2 * n, np.float32), (rows, columns)),
                                    shape=(n, n))
    start = np.random.default_rng(0).uniform(0.0, 10.0, (n, n_components)).astype(np.float32)
    optimize_layout(start, graph, n_epochs=2, a=1.58, b=0.9, repulsion_strength=1.0,
                    learning_rate=1.0, negative_sample_rate=5, seed=0)


def _start(stages, dtype, readonly, cached, n_components):
    """The running background compilation, started if ``cached()`` (whether the stages'
    kernels are in the cache) is False."""
    global _running
    if _running is not None and not _running.finished():
        return _running
    if not enabled() or np.dtype(dtype) not in (np.float32, np.float64) or cached():
        return NOT_STARTED
    try:
        _running = BackgroundCompile(stages, dtype, readonly, n_components)
    except OSError:  # no interpreter to start (a frozen application, a sandbox...)
        return NOT_STARTED
    return _running


def _default_case(X, metric, output_metric):
    """Whether a fit / transform uses the kernels the other process compiles: dense float
    rows, a built-in input metric, the euclidean output space."""
    from .metrics import EUCLIDEAN

    return (isinstance(X, np.ndarray) and not metric.is_precomputed
            and metric.user_function is None and output_metric.code == EUCLIDEAN
            and output_metric.user_function is None)


def _layout_kernels(n_components):
    """The ``(fit epoch, transform)`` kernels of euclidean embeddings in ``n_components``."""
    from . import layout

    if n_components == 2:
        return layout._fit_epoch_2d, layout._transform_points_2d
    return layout._fit_epoch_nd, layout._transform_points_nd


def for_fit(X, metric, settings, densmap, n_components):
    """Start compiling the graph and layout kernels of a fit of ``X`` into ``n_components``
    dimensions if they are not cached.

    Returns an object whose ``wait(stage)`` the fit calls before its ``"graph"`` and
    ``"layout"`` stages.
    """
    if densmap or not _default_case(X, metric, settings.output_metric):
        return NOT_STARTED
    return _start(_FIT_STAGES, X.dtype, False,
                  lambda: is_cached(_layout_kernels(n_components)[0]), n_components)


def for_transform(X, state):
    """Start compiling the graph, transform-layout and inverse kernels of a model's first
    ``transform`` of ``X`` if they are not cached (see :func:`for_fit`)."""
    if not _default_case(X, state.metric, state.output_metric) or state.training_data is None \
            or state.embedding is None:
        return NOT_STARTED
    readonly = not state.embedding.flags.writeable
    n_components = state.embedding.shape[1]
    return _start(_TRANSFORM_STAGES, state.training_data.dtype, readonly,
                  lambda: is_cached(_layout_kernels(n_components)[1]), n_components)


def plain_saved_model(path):
    """``(n_components, approximate)`` of the model saved at ``path`` if its first
    ``transform`` uses the kernels the other process compiles (dense data, a built-in input
    metric, a euclidean embedding, transform epochs), else None: the embedding's width, and
    whether new points are searched in an NN-descent index (a large model's).

    Reads only the file's ``metadata.json``, without the checks of :mod:`umapx.persistence`
    (the load makes them): a file that is not a readable model gives None.
    """
    try:
        import json
        import stat
        import zipfile

        # Never blocks (a FIFO) nor reads without bound (a device, a crafted entry).
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        with open(os.open(path, flags), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            with zipfile.ZipFile(file) as archive:
                if archive.getinfo("metadata.json").file_size > _METADATA_MAX_BYTES:
                    return None
                metadata = json.loads(archive.read("metadata.json"))
        params = metadata["params"]
        n_components = params.get("n_components", 2)
        n_epochs = params.get("n_epochs")
        plain = (metadata.get("format") == "umapx-model"
                 and "sparse_training_data" not in metadata
                 and metadata["metric"]["name"] != "precomputed"
                 and metadata["output_metric"]["name"] == "euclidean"
                 and metadata["fitted"].get("has_embedding", True) is True
                 and params.get("transform_mode", "embedding") == "embedding"
                 and (n_epochs is None or int(np.max(n_epochs)) // 3 > 0)
                 and isinstance(n_components, int) and 1 <= n_components <= 1024)
        approximate = metadata.get("knn_index", {}).get("method") == "nndescent"
    except Exception:  # not a readable model file: the load says what is wrong
        return None
    return (n_components, approximate) if plain else None


def for_saved_model(path):
    """Start compiling the kernels of the first ``transform`` of the model saved at ``path``
    (as :func:`for_transform` does) before the model is read, if they are not cached.

    Called at the start of :func:`umapx.load`, so that the other process compiles while this
    one imports scikit-learn and reads and checks the file (see :func:`plain_saved_model`).
    """
    if not enabled():
        return NOT_STARTED
    plain = plain_saved_model(path)
    if plain is None:
        return NOT_STARTED
    n_components, approximate = plain
    # With an NN-descent index the other process compiles the search of new points first,
    # which this process reaches just after the load, and leaves the graph stage to this
    # process (compiling it while it would wait for the search).
    stages = ("search", "transform", "inverse") if approximate else _TRANSFORM_STAGES
    # An empty cache is seen from its file names: the other process starts without waiting
    # for this one to import numba (~0.3 s).
    marker = "_transform_points_2d" if n_components == 2 else "_transform_points_nd"
    return _start(stages, np.float32, False, lambda: not _surely_uncached("layout", marker)
                  and is_cached(_layout_kernels(n_components)[1]), n_components)


def _surely_uncached(module, qualname):
    """Whether numba's on-disk cache surely holds no index of the kernel ``qualname`` of
    ``umapx.<module>`` (for any of its line numbers), judged from file names without
    importing numba; False whenever unsure.

    Looks where numba's cache locators would (``$NUMBA_CACHE_DIR``, else the package's
    ``__pycache__`` and numba's user-wide cache folder), on Linux only, without custom
    locators.
    """
    import glob
    import hashlib

    config = sys.modules.get("numba.core.config")
    if not sys.platform.startswith("linux") or os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES") \
            or os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0") \
            or (config is not None and config.DISABLE_JIT):
        return False  # unsure, or no compilation at all
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), module + ".py")
    if not os.path.isfile(source):
        return False
    folder = os.path.dirname(source)
    # numba's subfolder of a cache directory for the sources of one folder.
    subfolder = f"{os.path.basename(folder)}_{hashlib.sha1(folder.encode()).hexdigest()}"
    cache_dir = config.CACHE_DIR if config is not None else os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        places = [os.path.join(cache_dir, subfolder)]
    else:
        user_wide = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        places = [os.path.join(folder, "__pycache__"),
                  os.path.join(user_wide, "numba", subfolder)]
    index = f"{module}.{qualname}-*.py{sys.version_info[0]}{sys.version_info[1]}*.nbi"
    return not any(glob.glob(os.path.join(glob.escape(place), index)) for place in places)


def wait(stage):
    """Wait for ``stage`` of this process's running background compilation, if any."""
    return _running.wait(stage) if _running is not None else False
