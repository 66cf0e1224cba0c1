"""Parameter and input validation for the estimator, in one place.

``validate_parameters`` checks every constructor parameter against the table ``PARAMETERS`` and
returns the resolved settings (metric object, epochs, curve parameters...) without touching the
estimator's own attributes: a fitted estimator still reports exactly what the user passed.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from .curve import find_ab_params
from .init import INIT_METHODS
from .knn import KNN_METHODS, NeighborIndex
from .metrics import Metric, metric_names, resolve_metric, spec_of
from .sparse import canonical_csr
from .targets import LARGEST_COUNT


# scikit-learn is imported on first use rather than with this module: reading a saved model and
# the background compilation of :mod:`umapx._compile_ahead` need no scikit-learn (~0.9 s to
# import).
def validate_data(*args, **kwargs):
    """``sklearn.utils.validation.validate_data``, imported on the first call."""
    from sklearn.utils.validation import validate_data as sklearn_validate_data

    return sklearn_validate_data(*args, **kwargs)


def _check_random_state(value):
    """sklearn's ``check_random_state`` check of ``value`` (None needs no scikit-learn)."""
    if value is not None:
        from sklearn.utils import check_random_state

        check_random_state(value)


@dataclass(frozen=True)
class _Number:
    """A real (or integral) number in a range; ``None`` allowed when ``optional``."""

    low: float = -np.inf
    high: float = np.inf
    low_inclusive: bool = True
    high_inclusive: bool = True
    integral: bool = False
    optional: bool = False
    infinity: bool = False  # +inf allowed

    def check(self, name, value):
        if value is None and self.optional:
            return
        if self.infinity and isinstance(value, (float, np.floating)) and value == np.inf:
            return
        kind = numbers.Integral if self.integral else numbers.Real
        if isinstance(value, (bool, np.bool_)) and name == "verbose":
            return
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
            what = "an integer" if self.integral else "a number"
            none = " or None" if self.optional else ""
            raise ValueError(f"{name} must be {what}{none}, got {value!r}")
        too_low = value < self.low or (value == self.low and not self.low_inclusive)
        too_high = value > self.high or (value == self.high and not self.high_inclusive)
        if too_low or too_high or not np.isfinite(value):
            low = ("[" if self.low_inclusive else "(") + f"{self.low:g}"
            high = f"{self.high:g}" + ("]" if self.high_inclusive else ")")
            raise ValueError(f"{name} must be in {low}, {high}, got {value!r}")


@dataclass(frozen=True)
class _Boolean:
    def check(self, name, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")


@dataclass(frozen=True)
class _Choice:
    choices: tuple
    allow_array: bool = False

    def check(self, name, value):
        if self.allow_array and not isinstance(value, str):
            return  # checked against the data in ``resolve_init``
        if value not in self.choices:
            extra = " or an array of shape (n_samples, n_components)" if self.allow_array else ""
            raise ValueError(f"{name} must be one of {self.choices}{extra}, got {value!r}")


@dataclass(frozen=True)
class _Anything:
    def check(self, name, value):
        pass


#: Upper bounds on the parameters that set how long fit and transform run: a model (or a saved
#: file) cannot ask for a practically endless computation. Defaults are 200-500 and 5.
MAX_EPOCHS = 100_000
MAX_NEGATIVE_SAMPLE_RATE = 1_000
#: The curve ``1 / (1 + a d^(2b))`` is evaluated in float32: ``a`` and ``b`` beyond these
#: ranges overflow or vanish there (the fitted ones span 1e-17..1e22 and 0.79..1.93 for
#: ``spread`` in [1e-6, 1e4]).
A_RANGE = (1e-30, 1e30)
MAX_B = 10.0


@dataclass(frozen=True)
class _OptionalDict:
    def check(self, name, value):
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{name} must be a dict or None, got {value!r}")


@dataclass(frozen=True)
class _Epochs:
    """An int in [0, MAX_EPOCHS], None, or (umap-learn) a list of them: the layout runs the
    largest and keeps the embeddings after each listed number of epochs."""

    def check(self, name, value):
        single = _Number(low=0, high=MAX_EPOCHS, integral=True)
        if isinstance(value, (list, tuple, np.ndarray)):
            values = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) \
                else list(value)
            if not values:
                raise ValueError(f"{name} must not be an empty list")
            for item in values:
                single.check(f"every entry of {name}", item)
            return
        _Number(low=0, high=MAX_EPOCHS, integral=True, optional=True).check(name, value)


@dataclass(frozen=True)
class _TargetNeighbors:
    def check(self, name, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) \
                and value == -1:
            return
        _Number(low=2, integral=True).check(f"{name} (or -1 for n_neighbors)", value)


#: ``target_metric`` values of umap-learn besides the metrics of the table.
TARGET_METRICS = ("categorical", "string", "ordinal", "count")


@dataclass(frozen=True)
class _TargetMetric:
    def check(self, name, value):
        if callable(value) or value in TARGET_METRICS:
            return
        if isinstance(value, str) and spec_of(value) is not None and spec_of(value).input \
                and value != "precomputed":
            return
        raise ValueError(f"{name} must be one of {TARGET_METRICS}, a metric name or a numba "
                         f"function, got {value!r}")


PARAMETERS = {
    "n_neighbors": _Number(low=2, integral=True),
    "n_components": _Number(low=1, integral=True),
    "metric": _Anything(),  # resolved by ``resolve_metric``
    "metric_kwds": _OptionalDict(),
    "output_metric": _Anything(),  # resolved by ``resolve_metric(..., role="output_metric")``
    "output_metric_kwds": _OptionalDict(),
    "n_epochs": _Epochs(),
    "learning_rate": _Number(low=0, low_inclusive=False),
    "init": _Choice(INIT_METHODS, allow_array=True),
    "min_dist": _Number(low=0),
    "spread": _Number(low=0, low_inclusive=False),
    "low_memory": _Boolean(),
    "n_jobs": _Number(integral=True, optional=True),
    "set_op_mix_ratio": _Number(low=0, high=1),
    "local_connectivity": _Number(low=0, low_inclusive=False),
    "repulsion_strength": _Number(low=0),
    "negative_sample_rate": _Number(low=0, high=MAX_NEGATIVE_SAMPLE_RATE, integral=True),
    "a": _Number(low=A_RANGE[0], high=A_RANGE[1], optional=True),
    "b": _Number(low=0, low_inclusive=False, high=MAX_B, optional=True),
    "random_state": _Anything(),  # checked by sklearn's check_random_state
    "transform_queue_size": _Number(low=0, low_inclusive=False),
    "angular_rp_forest": _Boolean(),
    "target_n_neighbors": _TargetNeighbors(),
    "target_metric": _TargetMetric(),
    "target_metric_kwds": _OptionalDict(),
    "target_weight": _Number(low=0, high=1),
    "transform_seed": _Number(low=0, high=2**32 - 1, integral=True),  # a numpy seed
    "transform_mode": _Choice(("embedding", "graph")),
    "force_approximation_algorithm": _Boolean(),
    "verbose": _Number(low=0, integral=True),  # bool or int, as in scikit-learn
    "tqdm_kwds": _OptionalDict(),
    "unique": _Boolean(),
    "densmap": _Boolean(),
    "dens_lambda": _Number(low=0),
    "dens_frac": _Number(low=0, high=1),
    "dens_var_shift": _Number(low=0),
    "output_dens": _Boolean(),
    "disconnection_distance": _Number(low=0, low_inclusive=False, optional=True,
                                      infinity=True),
    "precomputed_knn": _Anything(),  # checked against the data by ``check_precomputed_knn``
    "knn_method": _Choice(KNN_METHODS),
}


@dataclass(frozen=True)
class Settings:
    """Parameters resolved for one fit (the estimator's attributes are left as given)."""

    metric: Metric
    a: float
    b: float
    knn_method: str
    output_metric: Metric
    disconnection_distance: float
    n_epochs: int | None
    epoch_snapshots: tuple = ()


def validate_parameters(params):
    """Check every constructor parameter in ``params``; return the resolved :class:`Settings`.

    ``params`` is the estimator's ``get_params(deep=False)``.
    """
    for name, rule in PARAMETERS.items():
        rule.check(name, params[name])
    if params["n_jobs"] == 0:
        raise ValueError("n_jobs must be a non-zero integer (-1 for all CPUs) or None, got 0")
    if params["min_dist"] > params["spread"]:
        raise ValueError(
            f"min_dist ({params['min_dist']}) must be less than or equal to spread "
            f"({params['spread']})"
        )
    if (params["a"] is None) != (params["b"] is None):
        raise ValueError("a and b must be given together (or both left as None)")
    try:
        _check_random_state(params["random_state"])
    except ValueError:
        raise ValueError(
            "random_state must be None, an integer or a numpy RandomState, got "
            f"{params['random_state']!r}"
        ) from None
    metric = resolve_metric(params["metric"], params["metric_kwds"])
    output_metric = resolve_metric(params["output_metric"], params["output_metric_kwds"],
                                   role="output_metric").for_output(params["n_components"])
    if params["a"] is None:
        a, b = find_ab_params(params["spread"], params["min_dist"])
        check_curve(a, b, f"a (fitted to spread={params['spread']!r})", "b (fitted)")
    else:
        a, b = float(params["a"]), float(params["b"])
    knn_method = params["knn_method"]
    if params["force_approximation_algorithm"] and knn_method == "auto":
        knn_method = "nndescent"
    disconnection = params["disconnection_distance"]
    n_epochs, snapshots = params["n_epochs"], ()
    if isinstance(n_epochs, (list, tuple, np.ndarray)):
        snapshots = tuple(sorted({int(e) for e in np.ravel(n_epochs)}))
        n_epochs = snapshots[-1]
    return Settings(metric=metric, a=a, b=b, knn_method=knn_method, output_metric=output_metric,
                    disconnection_distance=float(metric.bound if disconnection is None
                                                 else disconnection),
                    n_epochs=None if n_epochs is None else int(n_epochs),
                    epoch_snapshots=snapshots)


def check_curve(a, b, name_a="a", name_b="b"):
    """Raise a ValueError unless ``a`` and ``b`` are numbers in the ranges float32 layout
    arithmetic holds in (``A_RANGE``, ``(0, MAX_B]``)."""
    PARAMETERS["a"].check(name_a, a)
    PARAMETERS["b"].check(name_b, b)
    if a is None or b is None:
        raise ValueError(f"{name_a} and {name_b} must be numbers, got {a!r} and {b!r}")


def check_variants(params):
    """Raise a ValueError for combinations of the variants (densMAP, ``output_dens``) that
    cannot work together with the other parameters."""
    output = params["output_metric"]
    if params["densmap"] and not (isinstance(output, str) and output in ("euclidean", "l2")):
        raise ValueError(f"densmap=True needs output_metric='euclidean' (its radii are "
                         f"euclidean), got output_metric={output!r}")
    if params["output_dens"] and params["transform_mode"] == "graph":
        raise ValueError("output_dens=True reports radii in the embedding, and "
                         "transform_mode='graph' builds none: use transform_mode='embedding'")


def check_unique(metric, X):
    """``unique=True`` compares rows of data (dense or sparse): not available for given
    distances."""
    if metric.is_precomputed:
        raise ValueError("unique=True finds duplicate rows of data, and metric='precomputed' "
                         "gives distances: remove duplicate samples from the distance matrix "
                         "instead, or leave unique=False")


def check_fit_data(estimator, X, metric, ensure_all_finite=True):
    """Validate training data: a finite, numeric 2-d array (dense, or scipy.sparse as canonical
    CSR, see :func:`umapx.sparse.canonical_csr`) with at least 1 sample, whose squared
    distances neither overflow nor underflow float32 (see also :func:`check_varied`).

    For ``metric="precomputed"``, a square matrix of distances (dense or sparse).
    ``ensure_all_finite`` (umap-learn's argument of ``fit``) lets NaN (``"allow-nan"``) or any
    non-finite value (False) through to a user metric function, whose business they are.
    """
    if metric.is_precomputed:
        return check_distances(estimator, X, reset=True)
    if scipy.sparse.issparse(X):
        X = _check_sparse(estimator, X, reset=True)
        check_magnitude(X, allow_tiny=False)
        return X
    return _checked_rows(estimator, X, metric, ensure_all_finite, reset=True)


def check_varied(X, metric):
    """Refuse training rows that are all identical (there is nothing to embed). Called after
    the metric has checked the rows' domain and widths, whose errors say more."""
    n_samples = X.shape[0]
    if metric.is_precomputed or n_samples < 2:
        return
    if _rows_identical(X):
        raise ValueError(
            f"all {n_samples} samples of X are identical: there is no structure to embed"
        )


def _rows_identical(X):
    """Whether every row of ``X`` (dense, or sparse: compared a block of rows at a time) equals
    the first."""
    if not scipy.sparse.issparse(X):
        return np.array_equal(X, np.broadcast_to(X[0], X.shape))
    first = X[[0]]
    for start in range(0, X.shape[0], 4096):
        block = X[start:start + 4096]
        repeated = scipy.sparse.csr_matrix(np.ones((block.shape[0], 1), np.float32)) @ first
        if (block - repeated).count_nonzero():
            return False
    return True


def _checked_rows(estimator, X, metric, ensure_all_finite, reset):
    """Dense rows as float32, finite unless a user metric is allowed to see NaN / infinity;
    training rows (``reset``) must not be so small that squared distances underflow."""
    if ensure_all_finite not in (True, False, "allow-nan"):
        raise ValueError(f"ensure_all_finite must be True, False or 'allow-nan', got "
                         f"{ensure_all_finite!r}")
    lenient = ensure_all_finite is not True and metric is not None and \
        metric.user_function is not None
    try:
        X = validate_data(estimator, X, dtype=np.float32, order="C", ensure_min_samples=1,
                          reset=reset, ensure_all_finite=ensure_all_finite if lenient else True)
    except ValueError as error:
        if ensure_all_finite is True or lenient or "NaN" not in str(error) and \
                "infinity" not in str(error):
            raise
        raise ValueError(f"{error}; ensure_all_finite={ensure_all_finite!r} only lets "
                         "non-finite values through to a user metric function, and "
                         f"metric={metric.name!r} cannot compare them") from None
    if not lenient:
        check_magnitude(X, allow_tiny=not reset)
    return X


def effective_neighbors(n_neighbors, n_samples):
    """``n_neighbors``, or ``n_samples - 1`` (at least 2) with a warning when the data has no
    more samples than that, as umap-learn does."""
    if n_samples > n_neighbors:
        return n_neighbors
    effective = max(n_samples - 1, 2)
    warnings.warn(
        f"n_neighbors={n_neighbors} is not smaller than the number of samples ({n_samples}); "
        f"using n_neighbors={effective} instead", UserWarning, stacklevel=3)
    return effective


def check_distances(estimator, D, reset):
    """Validate a matrix of distances (``metric="precomputed"``), dense or sparse (CSR).

    For fitting (``reset``): square, finite, non-negative, zero diagonal. For transform: one
    column per training sample, finite, non-negative.
    """
    what = "the precomputed distance matrix"
    if not reset and len(getattr(D, "shape", ())) == 2 and D.shape[1] != estimator.n_features_in_:
        raise ValueError(f"metric='precomputed': transform takes the distances from each new "
                         f"point to the {estimator.n_features_in_} training points, got "
                         f"{D.shape[1]} columns")
    D = validate_data(estimator, D, dtype=np.float32, accept_sparse="csr",
                      ensure_min_samples=1, reset=reset)
    if scipy.sparse.issparse(D):
        D = D.copy()
        D.sum_duplicates()
        D.sort_indices()
        values = D.data
    else:
        D = np.ascontiguousarray(D)
        values = D
    if values.size and float(values.min()) < 0:
        raise ValueError(f"{what} has negative entries (as low as {float(values.min()):g}); "
                         "distances must be >= 0")
    if reset:
        if D.shape[0] != D.shape[1]:
            raise ValueError(f"metric='precomputed' needs a square (n_samples, n_samples) "
                             f"matrix of distances between the training samples, got shape "
                             f"{D.shape}")
        diagonal = D.diagonal()
        if np.any(diagonal != 0):
            first = int(np.flatnonzero(diagonal != 0)[0])
            raise ValueError(f"{what} must have a zero diagonal (the distance of each sample "
                             f"to itself); entry ({first}, {first}) is {diagonal[first]:g}")
    return D


def check_precomputed_knn(precomputed_knn, n_samples, n_neighbors, metric):
    """umap-learn's ``precomputed_knn=(indices, distances[, index])``, checked and normalised.

    Returns None when it is not given (``(None, None, None)``), or when umap-learn would ignore
    it (fewer neighbours than ``n_neighbors``, another number of rows: with a warning).
    Otherwise ``(indices, distances, index)``: int32 / float32 arrays of ``n_neighbors``
    columns, each row sorted by distance with the point itself first (``-1``: no neighbour),
    and the given :class:`~umapx.knn.NeighborIndex` or None.
    """
    name = "precomputed_knn"
    if precomputed_knn is None:
        return None
    if not isinstance(precomputed_knn, (tuple, list)) or len(precomputed_knn) not in (2, 3):
        raise ValueError(f"{name} must be a tuple (knn_indices, knn_dists) or (knn_indices, "
                         f"knn_dists, index), got {type(precomputed_knn).__name__}")
    indices, dists = precomputed_knn[0], precomputed_knn[1]
    index = precomputed_knn[2] if len(precomputed_knn) == 3 else None
    if indices is None and dists is None and index is None:
        return None
    for position, array in ((0, indices), (1, dists)):
        if not isinstance(array, np.ndarray) or array.ndim != 2:
            raise ValueError(f"{name}[{position}] must be a 2-d numpy array (one row per "
                             f"sample), got {type(array).__name__}")
    if indices.shape != dists.shape:
        raise ValueError(f"{name}[0] and {name}[1] must have the same shape, got "
                         f"{indices.shape} and {dists.shape}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"{name}[0] must hold integer indices, got dtype {indices.dtype}")
    if not np.issubdtype(dists.dtype, np.number) or np.any(np.isnan(dists)) \
            or np.any(dists < 0):
        raise ValueError(f"{name}[1] must hold distances >= 0 (no NaN)")
    if index is not None and not isinstance(index, NeighborIndex):
        raise ValueError(f"{name}[2] must be a umapx NeighborIndex (as returned by "
                         f"umapx.umap_.nearest_neighbors) or None, got {type(index).__name__}")
    if indices.shape[1] < n_neighbors:
        warnings.warn(f"{name} has {indices.shape[1]} neighbours per sample, fewer than "
                      f"n_neighbors={n_neighbors}: it is ignored and the neighbours are "
                      "computed", UserWarning, stacklevel=3)
        return None
    if indices.shape[0] != n_samples:
        warnings.warn(f"{name} has {indices.shape[0]} rows but the data has {n_samples} "
                      "samples: it is ignored and the neighbours are computed", UserWarning,
                      stacklevel=3)
        return None
    if indices.size and (indices.min() < -1 or indices.max() >= n_samples):
        raise ValueError(f"{name}[0] has indices outside [0, {n_samples}) (-1 marks a missing "
                         "neighbour)")
    if index is not None:
        if index.n_samples != n_samples or not index.metric == metric:
            raise ValueError(f"{name}[2] is an index over {index.n_samples} samples under "
                             f"metric {index.metric.name!r}; this model has {n_samples} "
                             f"samples under {metric.name!r}")
    return (*_self_first(indices[:, :n_neighbors], dists[:, :n_neighbors], name), index)


#: A self-distance above this fraction of the median row's farthest neighbour distance is not
#: rounding noise (the ~1e-3 seen from a float32 euclidean k-NN on MNIST, whose neighbour
#: distances are ~1500, is ~1e-6 of it).
_SELF_DISTANCE_NOISE = 0.01


def _self_first(indices, dists, name):
    """Rows sorted by distance with each point first in its own row, as the graph expects."""
    indices = np.array(indices, dtype=np.int32)
    dists = np.array(dists, dtype=np.float32)
    dists[indices < 0] = np.inf
    rows = np.arange(indices.shape[0])
    own = indices == rows[:, None]
    lacking = np.flatnonzero(~own.any(axis=1))
    if lacking.size:
        raise ValueError(f"{name}[0] must list each sample among its own neighbours, first "
                         f"(as umap-learn's nearest_neighbors does); row {lacking[0]} does not "
                         "contain its own index")
    # A point is at distance 0 from itself whatever rounding gave the caller (scikit-learn's
    # float32 euclidean k-NN reports up to ~1e-3 on MNIST), and umap-learn takes such rows.
    # A self-distance on the scale of the neighbours' distances is no rounding, though: the
    # rows likely belong to other data, so it is said, not silently zeroed.
    self_dists = np.where(own, dists, 0.0).max(axis=1)
    scale = np.median(np.where(own | ~np.isfinite(dists), -np.inf, dists).max(axis=1))
    suspicious = np.flatnonzero(self_dists > _SELF_DISTANCE_NOISE * max(scale, 0.0))
    if suspicious.size:
        warnings.warn(f"{name}[1] gives {suspicious.size} samples a distance to themselves "
                      f"of more than {_SELF_DISTANCE_NOISE:g} of the typical neighbour "
                      f"distance (row {suspicious[0]}: {self_dists[suspicious[0]]:g}); they "
                      "are taken as 0. Check that the neighbours were computed on this data.",
                      UserWarning, stacklevel=4)
    dists[own] = 0.0
    # Sort every row by (not self, distance, index): the point first, then by distance.
    order = np.lexsort((indices, dists, ~own), axis=1)
    return (np.ascontiguousarray(np.take_along_axis(indices, order, axis=1)),
            np.ascontiguousarray(np.take_along_axis(dists, order, axis=1)))


def check_tqdm_kwds(tqdm_kwds):
    """What of ``tqdm_kwds`` the progress bar honours: ``(disable, description, stream)``."""
    tqdm_kwds = tqdm_kwds or {}
    return (bool(tqdm_kwds.get("disable", False)), tqdm_kwds.get("desc"),
            tqdm_kwds.get("file"))


def check_target(y, n_samples, target_metric="categorical", target_metric_kwds=None):
    """Targets for supervised UMAP, checked for ``target_metric``; ``(None, None)`` without y.

    Returns ``(target, how)``: ``how`` is ``"categorical"`` (``target``: int codes, -1 for
    unlabelled samples), ``"ordinal"`` / ``"count"`` (float64 values), ``"string"`` (an array
    of str), or the resolved :class:`~umapx.metrics.Metric` bound to the targets (``target``:
    float32 array of shape (n_samples, n_outputs); a 1-d ``y`` is one column).
    """
    if y is None:
        return None, None
    what = f"y (target_metric={target_metric!r})" if isinstance(target_metric, str) else "y"
    y = np.asarray(y)
    if y.shape[:1] != (n_samples,) or y.ndim == 0:
        raise ValueError(f"{what} must have one entry per sample ({n_samples}), got shape "
                         f"{y.shape}")
    if isinstance(target_metric, str) and target_metric in TARGET_METRICS:
        if y.ndim != 1:
            raise ValueError(f"{what} must be a 1-d array of one value per sample, got shape "
                             f"{y.shape}")
        if target_metric == "categorical":
            return _labels(y, n_samples), target_metric
        if target_metric == "string":
            if not all(isinstance(item, str) for item in y.tolist()):
                raise ValueError(f"{what} must hold strings (str), got dtype {y.dtype}")
            return y.astype(str), target_metric
        if y.dtype.kind not in "iuf" or not np.all(np.isfinite(y)):
            raise ValueError(f"{what} must hold finite numbers, got dtype {y.dtype}")
        y = y.astype(np.float64)
        if target_metric == "count":
            if np.any(y < 0) or np.any(y != np.round(y)) or y.max() > LARGEST_COUNT:
                raise ValueError(f"{what} must hold counts: whole numbers in [0, "
                                 f"{LARGEST_COUNT:,}]")
        return y, target_metric
    if y.dtype.kind not in "iuf" or y.ndim > 2:
        raise ValueError(f"{what} must be numbers, 1-d or (n_samples, n_outputs), for the "
                         f"target metric, got dtype {y.dtype} and shape {y.shape}")
    target = np.ascontiguousarray(y.reshape(n_samples, -1), dtype=np.float32)
    if not np.all(np.isfinite(target)):
        raise ValueError(f"{what} contains NaN or infinity")
    try:
        metric = resolve_metric(target_metric, target_metric_kwds).bind(target)
    except ValueError as error:
        raise ValueError(f"target_metric={getattr(target_metric, '__name__', target_metric)!r}"
                         f" / target_metric_kwds: {error}") from error
    if metric.is_precomputed:
        raise ValueError("target_metric='precomputed' is not a target metric")
    return target, metric


def _labels(y, n_samples):
    """Class labels as int codes (-1: unlabelled)."""
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity; use -1 for unlabelled samples")
    unlabelled = (y == -1) if y.dtype.kind in "iuf" else np.zeros(n_samples, bool)
    try:
        _, codes = np.unique(y, return_inverse=True)
    except TypeError:  # objects that cannot be ordered: labels of mixed types, None...
        kinds = sorted({type(label).__name__ for label in y.ravel()})
        raise ValueError(
            f"y mixes label types that cannot be compared ({', '.join(kinds)}): give labels "
            "of one type (all numbers or all strings), and -1 for unlabelled samples"
        ) from None
    codes = codes.astype(np.int64)
    codes[unlabelled] = -1
    return codes


def check_new_data(estimator, X, metric=None, ensure_all_finite=True, sparse=False):
    """Validate data passed to transform: same checks, and the training number of features
    (for ``metric="precomputed"``: distances to every training sample).

    With ``sparse`` (a model fitted on sparse data) the result is canonical CSR whatever ``X``
    is; otherwise sparse ``X`` is densified (the model's own data is dense).
    """
    if metric is not None and metric.is_precomputed:
        return check_distances(estimator, X, reset=False)
    if scipy.sparse.issparse(X) and sparse:
        X = _check_sparse(estimator, X, reset=False)
        check_magnitude(X)
    else:
        if scipy.sparse.issparse(X):
            X = X.toarray()
        X = _checked_rows(estimator, X, metric, ensure_all_finite, reset=False)
        if sparse:
            X = canonical_csr(scipy.sparse.csr_matrix(X))
    if metric is not None:
        metric.check_data(X)
    return X


def _check_sparse(estimator, X, reset):
    """Canonical CSR of sparse ``X`` (never modified), with the estimator's feature count."""
    X = canonical_csr(X)
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    if X.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
                         "is required.")
    return X


def check_metric_for_data(metric, X):
    """Raise a ValueError if ``metric`` has no kernel for sparse ``X`` (its values are checked
    by :meth:`umapx.metrics.Metric.check_data`)."""
    if metric.is_precomputed or not scipy.sparse.issparse(X) or metric.spec.sparse:
        return
    names = ", ".join(metric_names(lambda spec: spec.sparse))
    kind = "a user metric function" if metric.user_function is not None else \
        f"metric={metric.name!r}"
    raise ValueError(f"{kind} has no sparse kernel; with sparse input use one of {names} (or "
                     "densify the data)")


# Largest |value| for which sums of squared differences stay finite in float32.
_LARGEST_SAFE = 1e17
# Below this largest |value| squared differences fall towards float32's underflow (1e-38):
# distances lose their precision and then collapse to 0.
_SMALLEST_SAFE = 1e-15
#: Largest |coordinate| of an embedding; beyond it squared distances lose float32's range.
MAX_EMBEDDING_ABS = 1e10
# a * b * d^(2b) must stay below float32's maximum (3.4e38) for the layout's gradients.
_CURVE_PRODUCT_LIMIT = 1e36


def check_magnitude(X, what="X", allow_tiny=True):
    """Refuse values whose squared distances overflow (or, unless ``allow_tiny``, underflow)
    float32. ``X``: dense, or scipy.sparse (its stored values)."""
    n_features = X.shape[1]
    if scipy.sparse.issparse(X):
        X = X.data
    largest = float(np.abs(X).max()) if X.size else 0.0
    if largest * np.sqrt(n_features) > _LARGEST_SAFE:
        raise ValueError(
            f"{what} has values as large as {largest:.3g}: distances between such rows overflow "
            "float32. Rescale the data (for example divide it by its largest absolute value)"
        )
    if not allow_tiny and 0.0 < largest < _SMALLEST_SAFE:
        raise ValueError(
            f"{what} has no value larger than {largest:.3g} in magnitude: squared distances "
            "between such rows underflow float32 and collapse to 0. Rescale the data (for "
            "example divide it by its largest absolute value); UMAP's result does not depend "
            "on the data's scale"
        )


def check_layout(embedding, a, b, what="the embedding", hint=""):
    """Raise a ValueError unless the layout's arithmetic holds on ``embedding``: finite
    coordinates of at most ``MAX_EMBEDDING_ABS``, and ``a * b * d^(2b)`` finite in float32 up
    to twice the largest coordinate (``transform`` places new points among these).

    ``hint`` (what to do about it) ends the message.
    """
    if embedding.size == 0:
        return
    problem = None
    largest = float(np.abs(embedding).max())
    if not np.isfinite(largest):
        problem = f"{what} holds NaN or infinite coordinates"
    elif largest > MAX_EMBEDDING_ABS:
        problem = (f"{what} has coordinates as large as {largest:.3g} (more than "
                   f"{MAX_EMBEDDING_ABS:g})")
    else:
        squared_reach = (2.0 * largest) ** 2 * embedding.shape[1]
        if squared_reach > 0 and (np.log(a) + np.log(b) + b * np.log(squared_reach)
                                  > np.log(_CURVE_PRODUCT_LIMIT)):
            problem = (f"a={a:.3g} and b={b:.3g} overflow float32 at the distances of {what} "
                       f"(coordinates up to {largest:.3g})")
    if problem is not None:
        raise ValueError(problem + (f": {hint}" if hint else ""))


def check_embedding_points(estimator, Y):
    """Validate points of the embedding space (inverse_transform input)."""
    from sklearn.utils import check_array

    Y = check_array(Y, dtype=np.float64, order="C", ensure_min_samples=1,
                    input_name="embedding points")
    if Y.shape[1] != estimator.n_components:
        raise ValueError(
            f"embedding points have {Y.shape[1]} coordinates, but this UMAP embeds into "
            f"n_components={estimator.n_components} dimensions"
        )
    return Y


def resolve_init(init, n_samples, n_components):
    """Validate an array ``init`` against the data; pass strings through."""
    if isinstance(init, str):
        return init
    array = np.asarray(init)
    if array.shape != (n_samples, n_components):
        raise ValueError(
            f"init array must have shape (n_samples, n_components) = ({n_samples}, "
            f"{n_components}), got {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise ValueError("init array must be numeric and finite")
    return array.astype(np.float64)


def check_index_array(values, name, bound, min_columns=1):
    """``values`` as a 2-d int64 array of indices in ``[0, bound)`` with at least
    ``min_columns`` columns, or a clear ValueError / TypeError naming ``name``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of integer indices, got dtype {values.dtype}")
    if values.ndim != 2 or values.shape[1] < min_columns:
        raise ValueError(f"{name} must be 2-d with at least {min_columns} column(s), got shape "
                         f"{values.shape}")
    if values.size and (values.min() < 0 or values.max() >= bound):
        raise ValueError(f"{name} holds indices outside [0, {bound}): from {values.min()} to "
                         f"{values.max()}")
    return values.astype(np.int64, copy=False)
