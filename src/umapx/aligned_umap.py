"""AlignedUMAP: embeddings of several related datasets ("slices") that line up.

Slices are, for example, the same population measured at successive times, or windows of a
time series. ``relations[i]`` says which sample of slice ``i + 1`` each sample of slice ``i``
is (a dict ``{index in slice i: index in slice i + 1}``); the related samples are pulled
together across slices so that the embeddings are comparable, while each slice keeps its own
UMAP structure. The interface follows umap-learn's ``umap.aligned_umap``
(``AlignedUMAP(...).fit(X_list, relations=relations)``, ``embeddings_``, ``update``,
:func:`expand_relations`), so ``import umapx as umap`` runs code written for it.

How it works (umapx's own implementation):

1. Each slice gets its fuzzy graph as a :class:`~umapx.UMAP` fit would (its k-NN, local scales
   and fuzzy union), kept as a fitted model per slice (``mappers_``).
2. The first slice starts from its spectral layout; each next slice starts with every related
   sample where its partner in the previous slice is, and the others at the weighted mean of
   their already placed graph neighbours (uniformly in the previous slice's box if none).
3. All slices are optimised together (:func:`umapx.layout.optimize_aligned_layout`): each
   slice's edges and negative samples as in UMAP, plus a pull of every sample towards its
   related samples in the slices up to ``alignment_window_size`` away (chained relations,
   :func:`expand_relations`). The pull of a pair at offset ``o`` has weight
   ``alignment_regularisation * exp(1 - |o|) * J``, where ``J`` is the Jaccard similarity of
   their graph neighbourhoods (mapped through the relation): a sample whose neighbourhood
   changed between slices is held less tightly. It is applied in proportion to how many
   gradient steps the sample takes per epoch, scaled so that the default weight aligns at
   least as tightly as umap-learn's (:data:`PULL_CALIBRATION`).

Beyond umap-learn, every slice is a full model: ``transform(X, slice=i)`` places new points
into slice ``i``'s aligned embedding and ``inverse_transform(Y, slice=i)`` generates samples of
slice ``i`` from its embedding (both exactly as :meth:`UMAP.transform` /
:meth:`UMAP.inverse_transform` of ``mappers_[i]``), and ``save`` / :func:`umapx.load` keep the
whole model in one file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from . import persistence
from ._jit import numba_threads
from ._report import Report
from ._rng import seed_from
from .estimator import UMAP, from_state
from .init import initial_layout
from .layout import AlignmentPulls, normalise_layout, optimize_aligned_layout, prune_weak_edges

#: Parameters that may be given per slice (a list or tuple with one value per slice).
PER_SLICE_PARAMS = ("n_neighbors", "metric", "metric_kwds", "set_op_mix_ratio",
                    "local_connectivity", "transform_queue_size", "target_n_neighbors",
                    "target_metric", "target_metric_kwds", "target_weight")
#: Parameters shared by all slices (the joint layout has one curve and one schedule).
SHARED_PARAMS = ("n_components", "n_epochs", "learning_rate", "min_dist", "spread",
                 "repulsion_strength", "negative_sample_rate", "a", "b", "angular_rp_forest",
                 "transform_seed", "force_approximation_algorithm", "unique", "low_memory",
                 "n_jobs")
#: Scale of the alignment pulls per epoch, measured so that the default
#: ``alignment_regularisation`` aligns at least as tightly as umap-learn's: on four windows of
#: digits (benchmarks/aligned.py, 2 seeds) the alignment error is 0.052 / 0.039 / 0.028 at
#: 1 / 2 / 4 (umap-learn 0.041) with the slices' trustworthiness unchanged (0.976; umap-learn
#: 0.978) and 10-NN accuracy 0.974 / 0.968 / 0.975 (umap-learn 0.973).
PULL_CALIBRATION = 4.0
#: Epochs of the joint layout when ``n_epochs`` is None (umap-learn's AlignedUMAP default).
DEFAULT_EPOCHS = 200


def expand_relations(relation_dicts, window_size=3):
    """The relations between every slice and the slices up to ``window_size`` away.

    Parameters
    ----------
    relation_dicts : list of dict
        ``relation_dicts[i][k] = j``: sample ``k`` of slice ``i`` is sample ``j`` of slice
        ``i + 1``.
    window_size : int
        How many slices away relations are chained.

    Returns
    -------
    ndarray of shape (n_slices, 2 * window_size + 1, max_n_samples), int32
        ``result[i, window_size + o, k]``: the sample of slice ``i + o`` that sample ``k`` of
        slice ``i`` is (following the relations through the slices in between), -1 where it
        has none (and always at ``o = 0``). ``max_n_samples`` is one more than the largest
        index any relation names. The result is umap-learn 0.5.12's, including its rule that
        a forward chain never uses the last relation (``result[i, window_size + o]`` is -1
        for ``i + o >= n_slices - 1``); :class:`AlignedUMAP` itself aligns along every given
        relation and does not use this function.
    """
    relation_dicts = _check_relations(relation_dicts)
    window_size = _check_window(window_size)
    largest = max([max(list(d.keys()) + list(d.values()), default=-1) for d in relation_dicts],
                  default=-1)
    forward, backward = _relation_arrays(relation_dicts, largest + 1)
    n_slices = len(relation_dicts) + 1
    result = np.full((n_slices, 2 * window_size + 1, largest + 1), -1, dtype=np.int32)
    for i in range(n_slices):
        for direction, steps in ((1, forward), (-1, backward)):
            mapping = np.arange(largest + 1)
            # umap-learn's forward chains stop one relation short of the last
            usable = len(relation_dicts) - (1 if direction > 0 else 0)
            for distance in range(1, window_size + 1):
                link = i + (distance - 1 if direction > 0 else -distance)
                if not 0 <= link < usable:
                    break
                mapping = _follow(steps[link], mapping)
                result[i, window_size + direction * distance] = mapping
    return result


def _relation_arrays(relation_dicts, size):
    """Each relation as arrays of length ``size`` (-1 where unrelated): forward (slice i to
    i + 1) and backward (i + 1 to i; of several samples related to one, the smallest)."""
    forward, backward = [], []
    for relation in relation_dicts:
        ahead = np.full(size, -1, dtype=np.int64)
        behind = np.full(size, -1, dtype=np.int64)
        for key in sorted(relation, reverse=True):
            ahead[key] = relation[key]
            behind[relation[key]] = key
        forward.append(ahead)
        backward.append(behind)
    return forward, backward


def _follow(step, mapping):
    """``step[mapping]``, keeping -1 (and indices beyond ``step``) as -1."""
    valid = (mapping >= 0) & (mapping < step.shape[0])
    result = np.full(mapping.shape, -1, dtype=np.int64)
    result[valid] = step[mapping[valid]]
    return result


def _check_relations(relations, sizes=None):
    """``relations`` as a list of ``{int: int}`` dicts (indices checked against ``sizes``, the
    slices' numbers of samples, when given)."""
    if isinstance(relations, Mapping) or not isinstance(relations, (list, tuple)):
        raise ValueError("relations must be a list of dicts, one per pair of consecutive slices "
                         f"({{index in slice i: index in slice i + 1}}), got "
                         f"{type(relations).__name__}")
    if sizes is not None and len(relations) != len(sizes) - 1:
        raise ValueError(f"relations must hold one dict per pair of consecutive slices: "
                         f"{len(sizes)} slices need {len(sizes) - 1}, got {len(relations)}")
    checked = []
    for i, relation in enumerate(relations):
        if not isinstance(relation, Mapping):
            raise ValueError(f"relations[{i}] must be a dict, got {type(relation).__name__}")
        pairs = {}
        for key, value in relation.items():
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in (key, value)):
                raise ValueError(f"relations[{i}] must map integer indices to integer indices, "
                                 f"got {key!r}: {value!r}")
            if key < 0 or value < 0 or (sizes is not None and (
                    key >= sizes[i] or value >= sizes[i + 1])):
                bounds = "" if sizes is None else (f" (slice {i} has {sizes[i]} samples, slice "
                                                   f"{i + 1} has {sizes[i + 1]})")
                raise ValueError(f"relations[{i}] maps {key} to {value}, outside the "
                                 f"slices{bounds}")
            pairs[int(key)] = int(value)
        checked.append(pairs)
    return checked


def _check_window(window_size):
    if not isinstance(window_size, (int, np.integer)) or isinstance(window_size, bool) \
            or window_size < 1:
        raise ValueError(f"the alignment window size must be an int >= 1, got {window_size!r}")
    return int(window_size)


def _slice_value(name, value, slice_index, n_slices):
    """The value of a per-slice parameter for one slice (a sequence holds one per slice)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != n_slices:
            raise ValueError(f"{name} given per slice must have one value per slice "
                             f"({n_slices}), got {len(value)}")
        return value[slice_index]
    return value


class AlignedUMAP(BaseEstimator):
    """UMAP embeddings of several related datasets, aligned with each other.

    Parameters follow umap-learn's ``AlignedUMAP`` (same order and defaults; see
    :class:`~umapx.UMAP` for those they share). The per-slice parameters (``n_neighbors``,
    ``metric``, ``metric_kwds``, ``set_op_mix_ratio``, ``local_connectivity``,
    ``transform_queue_size`` and the ``target_*`` parameters) may be lists with one value per
    slice; the others are shared, since the slices are laid out together.

    Parameters
    ----------
    alignment_regularisation : float, default=0.01
        Strength of the pull between related samples of different slices (0: independent
        layouts). Larger values align more at the cost of each slice's own structure.
    alignment_window_size : int, default=3
        Relations are followed up to this many slices away (the pull weakens by ``1/e`` per
        extra slice).
    n_epochs : int or None, default=None
        Epochs of the joint layout (None: 200, as in umap-learn).
    init : {"spectral", "pca", "random"}, default="spectral"
        Starting layout of the first slice (the next slices start from it).
    n_jobs : int, default=-1
        Threads (umapx's own parameter); results do not depend on it.

    Attributes
    ----------
    embeddings_ : list of ndarray (n_samples_i, n_components), float32
        The aligned embedding of each slice.
    mappers_ : list of UMAP
        The fitted model of each slice (its graph, neighbours and aligned embedding).
    dict_relations_ : list of dict
        The relations given to ``fit`` and ``update``.
    n_models_ : int
        Number of slices.

    Examples
    --------
    >>> import numpy as np, umapx as umap
    >>> rng = np.random.default_rng(0)
    >>> slices = [rng.normal(size=(100, 5)) + t for t in range(3)]
    >>> relations = [{i: i for i in range(100)}] * 2
    >>> aligned = umap.AlignedUMAP(random_state=0).fit(slices, relations=relations)
    >>> len(aligned.embeddings_), aligned.embeddings_[0].shape
    (3, (100, 2))
    """

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        alignment_regularisation=1.0e-2,
        alignment_window_size=3,
        min_dist=0.1,
        spread=1.0,
        low_memory=False,
        set_op_mix_ratio=1.0,
        local_connectivity=1.0,
        repulsion_strength=1.0,
        negative_sample_rate=5,
        transform_queue_size=4.0,
        a=None,
        b=None,
        random_state=None,
        angular_rp_forest=False,
        target_n_neighbors=-1,
        target_metric="categorical",
        target_metric_kwds=None,
        target_weight=0.5,
        transform_seed=42,
        force_approximation_algorithm=False,
        verbose=False,
        unique=False,
        n_jobs=-1,
    ):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.alignment_regularisation = alignment_regularisation
        self.alignment_window_size = alignment_window_size
        self.min_dist = min_dist
        self.spread = spread
        self.low_memory = low_memory
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.transform_queue_size = transform_queue_size
        self.a = a
        self.b = b
        self.random_state = random_state
        self.angular_rp_forest = angular_rp_forest
        self.target_n_neighbors = target_n_neighbors
        self.target_metric = target_metric
        self.target_metric_kwds = target_metric_kwds
        self.target_weight = target_weight
        self.transform_seed = transform_seed
        self.force_approximation_algorithm = force_approximation_algorithm
        self.verbose = verbose
        self.unique = unique
        self.n_jobs = n_jobs

    # -- fitting ---------------------------------------------------------------------------------

    def fit(self, X, y=None, **fit_params):
        """Fit aligned embeddings of the slices ``X``.

        Parameters
        ----------
        X : list of array-like, each of shape (n_samples_i, n_features)
            The slices (at least two; the sample counts may differ).
        y : list of array-like or None
            Per-slice class labels for supervised UMAP (see :class:`~umapx.UMAP`).
        relations : list of dict (keyword, required)
            ``relations[i]`` maps indices of slice ``i`` to the related indices of slice
            ``i + 1``.

        Returns
        -------
        self
        """
        relations = self._take_relations(fit_params)
        slices = self._check_slices(X)
        sizes = [len(x) for x in slices]
        relations = _check_relations(relations, sizes)
        labels = self._check_labels(y, len(slices))
        self._check_parameters()
        random_state = check_random_state(copy.deepcopy(self.random_state))
        report = Report(self.verbose)
        with numba_threads(self.n_jobs):
            states, params = [], []
            for i, data in enumerate(slices):
                with report.stage(f"graph of slice {i}"):
                    mapper = self._fit_slice_graph(data, labels[i], i, len(slices),
                                                   seed_from(random_state))
                states.append(mapper.fitted_state)
                params.append(mapper.get_params(deep=False))
            with report.stage("init"):
                starts = self._initial_embeddings(states, relations, random_state)
            with report.stage("layout"):
                embeddings = self._aligned_layout(states, relations, starts,
                                                  seed_from(random_state))
        self._adopt(states, params, embeddings, relations)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit and return ``embeddings_`` (a list, one embedding per slice)."""
        return self.fit(X, y, **fit_params).embeddings_

    def update(self, X, y=None, **fit_params):
        """Add one slice and lay all slices out again, starting from their current embeddings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The new slice.
        y : array-like or None
            Its class labels (supervised UMAP).
        relations : dict (keyword, required)
            Maps indices of the current last slice to indices of the new slice.
        **params
            The new slice's per-slice parameters (``n_neighbors=10``...): the parameter
            becomes a list with one value per slice, as in umap-learn.

        Returns
        -------
        self
        """
        self._check_fitted()
        relation = self._take_relations(fit_params, allowed=PER_SLICE_PARAMS + SHARED_PARAMS)
        self._extend_parameters(fit_params)
        if not isinstance(relation, Mapping):
            raise ValueError("update's relations must be one dict from the last slice to the "
                             f"new one, got {type(relation).__name__}")
        data = self._check_slices([X], minimum=1)[0]
        sizes = [len(e) for e in self.embeddings_] + [len(data)]
        relations = _check_relations(self.dict_relations_ + [relation], sizes)
        self._check_parameters()
        n_slices = len(sizes)
        random_state = check_random_state(copy.deepcopy(self.random_state))
        for _ in range(2 * n_slices):  # seeds not used by the earlier slices
            seed_from(random_state)
        report = Report(self.verbose)
        with numba_threads(self.n_jobs):
            with report.stage(f"graph of slice {n_slices - 1}"):
                mapper = self._fit_slice_graph(data, y, n_slices - 1, n_slices,
                                               seed_from(random_state))
            states = [m.fitted_state for m in self.mappers_] + [mapper.fitted_state]
            params = [m.get_params(deep=False) for m in self.mappers_]
            params.append(mapper.get_params(deep=False))
            with report.stage("init"):
                new_start = _start_from_previous(
                    self.embeddings_[-1], states[-1].graph, relations[-1], random_state)
            with report.stage("layout"):
                embeddings = self._aligned_layout(states, relations,
                                                  list(self.embeddings_) + [new_start],
                                                  seed_from(random_state))
        self._adopt(states, params, embeddings, relations)
        return self

    # -- transforming ------------------------------------------------------------------------------

    def transform(self, X, slice):  # noqa: A002 - the documented keyword
        """Place new points into the aligned embedding of slice ``slice``.

        Same as ``mappers_[slice].transform(X)``: new points connect to their neighbours among
        that slice's samples and are optimised against its (aligned) embedding.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
        slice : int
            Which slice (negative values count from the last, as for lists).

        Returns
        -------
        ndarray of shape (n_new, n_components), float32
        """
        return self._mapper(slice).transform(X)

    def inverse_transform(self, X, slice, **kwargs):  # noqa: A002 - the documented keyword
        """Generate samples of slice ``slice`` for points of its aligned embedding.

        Same as ``mappers_[slice].inverse_transform(X, **kwargs)`` (``n_neighbors``,
        ``return_confidence``; see :meth:`umapx.UMAP.inverse_transform`).
        """
        return self._mapper(slice).inverse_transform(X, **kwargs)

    def save(self, path):
        """Save the fitted model (every slice's model, the relations and the parameters) to one
        file; :func:`umapx.load` reads it back (nothing is unpickled)."""
        self._check_fitted()
        persistence.save_aligned(path, self._json_params(), self.dict_relations_,
                                 [(m.get_params(deep=False), m.fitted_state)
                                  for m in self.mappers_])

    # -- internals -------------------------------------------------------------------------------

    def _mapper(self, slice_index):
        self._check_fitted()
        if not isinstance(slice_index, (int, np.integer)) or isinstance(slice_index, bool) \
                or not -self.n_models_ <= slice_index < self.n_models_:
            raise ValueError(f"slice must be an int in [{-self.n_models_}, {self.n_models_}) "
                             f"(this model has {self.n_models_} slices), got {slice_index!r}")
        return self.mappers_[slice_index]

    def _check_fitted(self):
        if "mappers_" not in self.__dict__:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("This AlignedUMAP instance is not fitted yet: call fit with "
                                 "a list of slices and their relations first")

    def __sklearn_is_fitted__(self):
        return "mappers_" in self.__dict__

    @staticmethod
    def _take_relations(fit_params, allowed=()):
        unknown = set(fit_params) - {"relations"} - set(allowed)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
        if "relations" not in fit_params:
            raise ValueError("AlignedUMAP needs the relations between consecutive slices: pass "
                             "relations=[{index in slice i: index in slice i + 1}, ...]")
        return fit_params["relations"]

    @staticmethod
    def _check_slices(X, minimum=2):
        if isinstance(X, np.ndarray) and X.ndim == 3:
            X = list(X)
        if not isinstance(X, (list, tuple)) or len(X) < minimum:
            raise ValueError(f"AlignedUMAP fits a list of at least {minimum} slices (arrays of "
                             f"shape (n_samples_i, n_features)), got {type(X).__name__}"
                             + (f" of length {len(X)}" if isinstance(X, (list, tuple)) else ""))
        slices = []
        for i, data in enumerate(X):
            if scipy.sparse.issparse(data):
                raise TypeError(f"slice {i} is sparse; AlignedUMAP takes dense arrays")
            data = np.asarray(data)
            if data.ndim != 2 or len(data) < 2:
                raise ValueError(f"slice {i} must be a 2-d array of at least 2 samples, got "
                                 f"shape {data.shape}")
            slices.append(data)
        return slices

    @staticmethod
    def _check_labels(y, n_slices):
        if y is None:
            return [None] * n_slices
        if not isinstance(y, (list, tuple)) or len(y) != n_slices:
            raise ValueError(f"y must be a list of one label array per slice ({n_slices}) or "
                             "None")
        return list(y)

    def _extend_parameters(self, given):
        """Take the new slice's parameters given to :meth:`update` (as umap-learn does): a
        per-slice parameter becomes (or grows) a list with one value per slice; a shared one
        must keep its value."""
        n_slices = self.n_models_
        for name, value in given.items():
            if name == "relations":
                continue
            current = getattr(self, name)
            if name in SHARED_PARAMS:
                if value != current:
                    raise ValueError(f"{name} is shared by all slices of an AlignedUMAP: "
                                     f"update cannot change it from {current!r} to {value!r}")
                continue
            if isinstance(current, (list, tuple, np.ndarray)):
                values = list(current)
            elif value == current:
                continue
            else:
                values = [current] * n_slices
            if len(values) != n_slices:
                raise ValueError(f"{name} holds {len(values)} values for {n_slices} slices")
            setattr(self, name, values + [value])

    def _check_parameters(self):
        for name in SHARED_PARAMS:
            if isinstance(getattr(self, name), (list, tuple, np.ndarray)):
                raise ValueError(f"{name} is shared by all slices of an AlignedUMAP (they are "
                                 "laid out together): give one value, not a list")
        if not isinstance(self.init, str) or self.init not in ("spectral", "tswspectral",
                                                                 "pca", "random"):
            raise ValueError("AlignedUMAP's init must be 'spectral', 'pca' or 'random', got "
                             f"{self.init!r}")
        regularisation = self.alignment_regularisation
        if not isinstance(regularisation, (int, float, np.number)) or isinstance(
                regularisation, bool) or not np.isfinite(regularisation) or regularisation < 0:
            raise ValueError("alignment_regularisation must be a finite number >= 0, got "
                             f"{regularisation!r}")
        _check_window(self.alignment_window_size)

    def _slice_params(self, slice_index, n_slices, seed):
        params = {name: getattr(self, name) for name in SHARED_PARAMS}
        for name in PER_SLICE_PARAMS:
            params[name] = _slice_value(name, getattr(self, name), slice_index, n_slices)
        params.update(init=self.init, random_state=seed % 2**32, verbose=self.verbose)
        return params

    def _fit_slice_graph(self, data, labels, slice_index, n_slices, seed):
        """A UMAP model of one slice with its graph only (its layout is the joint one)."""
        params = self._slice_params(slice_index, n_slices, seed)
        return UMAP(**params, transform_mode="graph").fit(data, labels)

    def _epochs(self):
        if self.n_epochs is None:
            return DEFAULT_EPOCHS
        if not isinstance(self.n_epochs, (int, np.integer)) or isinstance(self.n_epochs, bool) \
                or self.n_epochs < 0:
            raise ValueError(f"AlignedUMAP's n_epochs must be an int >= 0 or None, got "
                             f"{self.n_epochs!r}")
        return int(self.n_epochs)

    def _initial_embeddings(self, states, relations, random_state):
        first = states[0]
        start = initial_layout(self.init, first.graph, self.n_components, random_state,
                               data=first.training_data)
        starts = [normalise_layout(start)]
        for state, relation in zip(states[1:], relations):
            starts.append(_start_from_previous(starts[-1], state.graph, relation, random_state))
        return starts

    def _aligned_layout(self, states, relations, starts, seed):
        n_epochs = self._epochs()
        if n_epochs == 0:
            return [np.array(s, dtype=np.float32) for s in starts]
        graphs = [prune_weak_edges(state.graph, n_epochs) if state.graph.nnz
                  else state.graph for state in states]
        pulls = alignment_pulls(graphs, relations, self.alignment_regularisation,
                                _check_window(self.alignment_window_size),
                                self.negative_sample_rate)
        a, b = states[0].a, states[0].b
        return optimize_aligned_layout(
            starts, graphs, pulls, n_epochs=n_epochs, a=a, b=b,
            repulsion_strength=self.repulsion_strength, learning_rate=self.learning_rate,
            negative_sample_rate=self.negative_sample_rate, seed=seed)

    def _adopt(self, states, params, embeddings, relations):
        self.mappers_ = [
            from_state({**p, "transform_mode": "embedding"},
                       state.replace(embedding=np.ascontiguousarray(e, dtype=np.float32)))
            for p, state, e in zip(params, states, embeddings)]
        self.dict_relations_ = [dict(r) for r in relations]
        self.n_models_ = len(self.mappers_)

    @property
    def embeddings_(self):
        """The aligned embedding of each slice (a list of float32 arrays)."""
        self._check_fitted()
        return [m.embedding_ for m in self.mappers_]

    def _json_params(self):
        return self.get_params(deep=False)


def _start_from_previous(previous, graph, relation, random_state):
    """A slice's starting layout: related samples at their partner's position in the previous
    slice, the others at the weighted mean of their placed graph neighbours (uniformly in the
    previous slice's box when none is placed)."""
    graph = graph.tocsr()
    n, dim = graph.shape[0], previous.shape[1]
    start = np.zeros((n, dim), dtype=np.float64)
    placed = np.zeros(n, dtype=bool)
    for key, value in relation.items():
        if not placed[value]:
            start[value] = previous[key]
            placed[value] = True
    if not placed.all():
        weights = graph[:, placed] if placed.any() else None
        totals = (np.zeros(n) if weights is None
                  else np.asarray(weights.sum(axis=1)).ravel())
        free = ~placed
        reachable = free & (totals > 0)
        if reachable.any():
            means = weights[reachable] @ start[placed]
            start[reachable] = means / totals[reachable, None]
        alone = free & ~reachable
        if alone.any():
            low, high = previous.min(axis=0), previous.max(axis=0)
            start[alone] = random_state.uniform(low, high, size=(int(alone.sum()), dim))
    return np.ascontiguousarray(start, dtype=np.float32)


def neighbourhood_similarity(graph, other_graph, mapping):
    """Jaccard similarity of each related pair's graph neighbourhoods.

    Parameters
    ----------
    graph, other_graph : scipy.sparse matrix
        Graphs of a slice and of another slice.
    mapping : ndarray (n,), int
        The sample of the other slice each sample of this slice is (-1: none).

    Returns
    -------
    ndarray of float32, one value per related sample (``mapping >= 0``, in order): the share
    of the union of both neighbourhoods (this sample's mapped through the relation, the
    partner's restricted to related samples) that they have in common (1 when both are empty).
    """
    related = np.flatnonzero(mapping >= 0)
    n_other = other_graph.shape[0]
    move = scipy.sparse.csr_matrix(
        (np.ones(related.size), (related, mapping[related])), shape=(graph.shape[0], n_other))
    mine = (_pattern(graph) @ move)
    mine.data[:] = 1.0
    image = np.zeros(n_other)
    image[mapping[related]] = 1.0
    theirs = _pattern(other_graph) @ scipy.sparse.diags(image)
    mine, theirs = mine[related], theirs[mapping[related]].tocsr()
    theirs.eliminate_zeros()
    common = np.asarray(mine.multiply(theirs).sum(axis=1)).ravel()
    union = mine.getnnz(axis=1) + theirs.getnnz(axis=1) - common
    similarity = np.ones(related.size)
    nonempty = union > 0
    similarity[nonempty] = common[nonempty] / union[nonempty]
    return similarity.astype(np.float32)


def _pattern(graph):
    graph = graph.tocsr()
    return scipy.sparse.csr_matrix((np.ones(graph.nnz), graph.indices, graph.indptr),
                                   shape=graph.shape)


def alignment_pulls(graphs, relations, regularisation, window_size, negative_sample_rate):
    """The :class:`~umapx.layout.AlignmentPulls` of the stacked slices.

    Every sample is pulled towards its partner in each slice up to ``window_size`` away, with
    weight ``regularisation * exp(1 - |offset|) * neighbourhood similarity``, as often per
    epoch as it takes gradient steps in umap-learn's scheme (its positive samples per epoch,
    i.e. its edge weights over its slice's strongest edge, twice since both ends of an edge
    move, plus their negative samples), times :data:`PULL_CALIBRATION`.
    """
    sizes = [graph.shape[0] for graph in graphs]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    largest = max(sizes)
    forward, backward = _relation_arrays(relations, largest)
    rows, cols, weights = [], [], []
    for i in range(len(graphs)):
        for direction, steps in ((1, forward), (-1, backward)):
            mapping = np.arange(sizes[i])
            for distance in range(1, window_size + 1):
                link = i + (distance - 1 if direction > 0 else -distance)
                if not 0 <= link < len(relations):
                    break
                mapping = _follow(steps[link], mapping)
                other = i + direction * distance
                related = np.flatnonzero(mapping >= 0)
                if related.size == 0:
                    break
                similarity = neighbourhood_similarity(graphs[i], graphs[other], mapping)
                rows.append(starts[i] + related)
                cols.append(starts[other] + mapping[related])
                weights.append(regularisation * np.exp(1.0 - distance) * similarity)
    total = int(starts[-1])
    if rows:
        pulls = scipy.sparse.csr_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
            shape=(total, total))
        pulls.sum_duplicates()
        pulls.sort_indices()
    else:
        pulls = scipy.sparse.csr_matrix((total, total))
    rate = np.concatenate([
        np.asarray(graph.sum(axis=1)).ravel() / (graph.data.max() if graph.nnz else 1.0)
        for graph in graphs]) * (2.0 + negative_sample_rate) * PULL_CALIBRATION
    return AlignmentPulls(pulls.indptr.astype(np.int64), pulls.indices.astype(np.int64),
                          pulls.data.astype(np.float32), rate.astype(np.float32))


def load_aligned(saved):
    """The :class:`AlignedUMAP` of what :func:`umapx.persistence.read_aligned` returns."""
    model = AlignedUMAP(**saved.params)
    model._adopt([state for _, state in saved.slices], [p for p, _ in saved.slices],
                 [state.embedding for _, state in saved.slices], saved.relations)
    return model


__all__ = ["AlignedUMAP", "expand_relations"]
