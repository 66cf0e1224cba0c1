"""Parameter and input validation for the estimator, in one place.

``validate_parameters`` checks every constructor parameter against the table ``PARAMETERS`` and
returns the resolved settings (metric object, epochs, curve parameters...) without touching the
estimator's own attributes: a fitted estimator still reports exactly what the user passed.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .curve import find_ab_params
from .init import INIT_METHODS
from .knn import KNN_METHODS
from .metrics import Metric, resolve_metric


@dataclass(frozen=True)
class _Number:
    """A real (or integral) number in a range; ``None`` allowed when ``optional``."""

    low: float = -np.inf
    high: float = np.inf
    low_inclusive: bool = True
    high_inclusive: bool = True
    integral: bool = False
    optional: bool = False

    def check(self, name, value):
        if value is None and self.optional:
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

PARAMETERS = {
    "n_neighbors": _Number(low=2, integral=True),
    "n_components": _Number(low=1, integral=True),
    "metric": _Anything(),  # resolved by ``resolve_metric``
    "metric_kwds": _Anything(),
    "n_epochs": _Number(low=0, high=MAX_EPOCHS, integral=True, optional=True),
    "learning_rate": _Number(low=0, low_inclusive=False),
    "init": _Choice(INIT_METHODS, allow_array=True),
    "min_dist": _Number(low=0),
    "spread": _Number(low=0, low_inclusive=False),
    "low_memory": _Boolean(),
    "set_op_mix_ratio": _Number(low=0, high=1),
    "local_connectivity": _Number(low=0, low_inclusive=False),
    "repulsion_strength": _Number(low=0),
    "negative_sample_rate": _Number(low=0, high=MAX_NEGATIVE_SAMPLE_RATE, integral=True),
    "a": _Number(low=A_RANGE[0], high=A_RANGE[1], optional=True),
    "b": _Number(low=0, low_inclusive=False, high=MAX_B, optional=True),
    "random_state": _Anything(),  # checked by sklearn's check_random_state
    "transform_seed": _Number(low=0, high=2**32 - 1, integral=True),  # a numpy seed
    "transform_queue_size": _Number(low=0, low_inclusive=False),
    "n_jobs": _Number(integral=True, optional=True),
    "verbose": _Number(low=0, integral=True),  # bool or int, as in scikit-learn
    "knn_method": _Choice(KNN_METHODS),
    "target_metric": _Choice(("categorical",)),
    "target_weight": _Number(low=0, high=1),
    "force_approximation_algorithm": _Boolean(),
}


@dataclass(frozen=True)
class Settings:
    """Parameters resolved for one fit (the estimator's attributes are left as given)."""

    metric: Metric
    a: float
    b: float
    knn_method: str


def validate_parameters(params):
    """Check every constructor parameter in ``params``; return the resolved :class:`Settings`.

    ``params`` is the estimator's ``get_params(deep=False)``.
    """
    for name, rule in PARAMETERS.items():
        rule.check(name, params[name])
    if params["n_jobs"] == 0:
        raise ValueError("n_jobs must be a non-zero integer (-1 for all CPUs) or None, got 0")
    if params["metric_kwds"] is not None and not isinstance(params["metric_kwds"], dict):
        raise ValueError(f"metric_kwds must be a dict or None, got {params['metric_kwds']!r}")
    if params["min_dist"] > params["spread"]:
        raise ValueError(
            f"min_dist ({params['min_dist']}) must be less than or equal to spread "
            f"({params['spread']})"
        )
    if (params["a"] is None) != (params["b"] is None):
        raise ValueError("a and b must be given together (or both left as None)")
    try:
        check_random_state(params["random_state"])
    except ValueError:
        raise ValueError(
            "random_state must be None, an integer or a numpy RandomState, got "
            f"{params['random_state']!r}"
        ) from None
    metric = resolve_metric(params["metric"], params["metric_kwds"])
    if params["a"] is None:
        a, b = find_ab_params(params["spread"], params["min_dist"])
        check_curve(a, b, f"a (fitted to spread={params['spread']!r})", "b (fitted)")
    else:
        a, b = float(params["a"]), float(params["b"])
    knn_method = params["knn_method"]
    if params["force_approximation_algorithm"] and knn_method == "auto":
        knn_method = "nndescent"
    return Settings(metric=metric, a=a, b=b, knn_method=knn_method)


def check_curve(a, b, name_a="a", name_b="b"):
    """Raise a ValueError unless ``a`` and ``b`` are numbers in the ranges float32 layout
    arithmetic holds in (``A_RANGE``, ``(0, MAX_B]``)."""
    PARAMETERS["a"].check(name_a, a)
    PARAMETERS["b"].check(name_b, b)
    if a is None or b is None:
        raise ValueError(f"{name_a} and {name_b} must be numbers, got {a!r} and {b!r}")


def check_fit_data(estimator, X):
    """Validate training data: a finite, numeric, dense 2-d array with enough samples."""
    if scipy.sparse.issparse(X):
        raise TypeError(
            "umapx does not accept sparse input yet; pass a dense array (X.toarray()) if it "
            "fits in memory"
        )
    X = validate_data(estimator, X, dtype=np.float32, order="C", ensure_min_samples=2,
                      reset=True)
    check_magnitude(X, allow_tiny=False)
    n_samples = X.shape[0]
    if n_samples <= estimator.n_neighbors:
        raise ValueError(
            f"n_samples={n_samples} must be greater than n_neighbors={estimator.n_neighbors}: "
            f"use at most n_neighbors={n_samples - 1}, or more samples"
        )
    if n_samples > 1 and np.array_equal(X, np.broadcast_to(X[0], X.shape)):
        raise ValueError(
            f"all {n_samples} samples of X are identical: there is no structure to embed"
        )
    return X


def check_target(y, n_samples):
    """Labels for supervised UMAP as int codes (-1: unlabelled), or None without ``y``."""
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(
            f"y must be a 1-d array of one label per sample ({n_samples}), got shape {y.shape}"
        )
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


def check_new_data(estimator, X):
    """Validate data passed to transform: same checks, and the training number of features."""
    if scipy.sparse.issparse(X):
        raise TypeError("umapx does not accept sparse input yet; pass a dense array")
    X = validate_data(estimator, X, dtype=np.float32, order="C", reset=False,
                      ensure_min_samples=1)
    check_magnitude(X)
    return X


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
    float32."""
    largest = float(np.abs(X).max()) if X.size else 0.0
    if largest * np.sqrt(X.shape[1]) > _LARGEST_SAFE:
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
