"""The UMAP estimator: parameters, validation, and fit/transform as a list of stage calls.

The estimator holds its constructor parameters and, once fitted, one
:class:`~umapx.state.FittedState`; its fitted attributes are read-only views of that state.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _compile_ahead, _validation, persistence
from . import inverse as _inverse
from . import inverse_refine as _refine
from . import sparse as _sparse
from ._dask_detect import is_dask_collection
from ._jit import numba_threads
from ._report import Report
from ._rng import row_keys, seed_from
from .algebra import combine_graphs
from .densmap import EXTRA_EPOCHS, DensityObjective, embedding_radii, local_radii
from .graph import (
    check_knn_distances,
    disconnect,
    fuzzy_simplicial_set,
    isolated_vertices,
    reset_local_connectivity,
    transform_graph,
)
from .init import initial_layout
from .knn import NeighborIndex
from .layout import normalise_layout, optimize_layout, optimize_transform, prune_weak_edges
from .metrics import EUCLIDEAN
from .state import FittedState
from .targets import supervised_graph
from .unique import expand, first_occurrences, unique_rows

_DIVERGED = ("the optimisation diverged; use a smaller learning_rate, or a and b (min_dist, "
             "spread) closer to the defaults")


class _Fitted:
    """A fitted attribute of :class:`UMAP`: a read-only view of a field of its fitted state.

    With ``absent`` the attribute does not exist (AttributeError saying ``absent``) when the
    field is None, as umap-learn leaves it unset. With ``sample_axis`` the field has one entry
    per fitted row along that axis, shown as one per input sample (``unique=True`` maps the
    distinct rows back).
    """

    def __init__(self, field, absent=None, sample_axis=None):
        self.field = field
        self.absent = absent
        self.sample_axis = sample_axis

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, model, owner=None):
        if model is None:
            return self
        state = model.__dict__.get("_state")
        if state is None:
            raise AttributeError(f"{type(model).__name__!r} object has no attribute "
                                 f"{self.name!r}: it is set by fit")
        value = getattr(state, self.field)
        if value is None and self.absent is not None:
            raise AttributeError(f"{type(model).__name__!r} object has no attribute "
                                 f"{self.name!r}: {self.absent}")
        if self.sample_axis is not None and value is not None \
                and state.unique_inverse is not None:
            value = np.take(value, state.unique_inverse, axis=self.sample_axis)
        return value

    def __set__(self, model, value):
        raise AttributeError(f"{self.name} is part of the fitted model and cannot be set; "
                             "fit the model again instead")


class _FittedEmbedding(_Fitted):
    """``embedding_``: a view of the state's embedding that may also be replaced, as umap-learn
    users do (``mapper.embedding_ = aligned``): the model then adopts a copy of its state with
    the new embedding (checked: same shape, finite; stored as float32), so ``transform`` and
    ``inverse_transform`` use it. With ``unique=True`` the row of each distinct sample's first
    occurrence is taken."""

    def __set__(self, model, value):
        state = model.__dict__.get("_state")
        if state is None:
            raise AttributeError("embedding_ is set by fit")
        current = expand(state.require_embedding("setting embedding_"), state.unique_inverse)
        embedding = np.asarray(value)
        if embedding.shape != current.shape or not np.issubdtype(embedding.dtype, np.number) \
                or not np.all(np.isfinite(embedding)):
            raise ValueError(f"embedding_ must be a finite numeric array of shape "
                             f"{current.shape}, got {embedding.dtype} {embedding.shape}")
        if state.unique_inverse is not None:
            embedding = embedding[first_occurrences(state.unique_inverse)]
        model._adopt(state.replace(embedding=np.array(embedding, dtype=np.float32, order="C")))


class UMAP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Uniform Manifold Approximation and Projection.

    Finds a low-dimensional embedding of the data that keeps its fuzzy topological structure
    (McInnes, Healy & Melville, 2018). Parameters (with their order and defaults), methods and
    fitted attributes follow umap-learn 0.5.12, so ``import umapx as umap`` runs code written
    for it; results are reproducible (the same ``random_state`` gives bit-identical output
    whatever ``n_jobs`` is) and parallelism stays on when seeded.

    Parameters
    ----------
    n_neighbors : int, default=15
        Size of the local neighbourhood (the point itself included): larger values favour
        global structure, smaller values local detail. At least 2. With no more samples than
        this, ``n_samples - 1`` is used (with a warning), as in umap-learn.
    n_components : int, default=2
        Dimension of the embedding.
    metric : str or numba function, default="euclidean"
        Distance of the input space; see :mod:`umapx.metrics` for the list (every named metric
        of umap-learn and their aliases) and for which have an inverse transform.
        ``"precomputed"``: ``X`` is a square matrix of distances (dense or sparse), and
        :meth:`transform` takes distances from new points to the training points. A user
        function must be compiled with ``numba.njit``, take two 1-d float32 arrays (then the
        values of ``metric_kwds``, in order) and return the distance, or the pair
        ``(distance, gradient)`` (the gradient enables :meth:`inverse_transform`).
    metric_kwds : dict or None, default=None
        Arguments of the metric: ``{"p": 3}`` for minkowski, ``V`` (or umap-learn's ``sigma``)
        for seuclidean, ``VI`` (or ``vinv``; or the covariance ``V``) for mahalanobis, ``w`` and
        ``p`` for wminkowski, ``z`` for symmetric_kl. Array parameters not given are taken
        from the training data (variances, inverse covariance, unit weights).
    output_metric : str or numba function, default="euclidean"
        Distance of the embedding space: ``"euclidean"``, ``"haversine"`` (a sphere:
        ``n_components=2`` as polar angle and azimuth, umap-learn's convention, drawn on the
        sphere as ``(sin x0 cos x1, sin x0 sin x1, cos x0)``), ``"hyperboloid"`` (hyperbolic
        space), any table metric with a gradient and unrestricted rows, or a numba function
        returning ``(distance, gradient)``.
    output_metric_kwds : dict or None, default=None
        Arguments of the output metric.
    n_epochs : int, list of int or None, default=None
        Epochs of the layout optimisation; ``None`` means 500 for up to 10,000 samples and
        200 above. 0 returns the initialisation. A list runs its largest value and keeps the
        embedding after each listed number of epochs in ``embedding_list_``.
    learning_rate : float, default=1.0
        Initial learning rate of the layout optimisation (a supervised fit's layout runs at a
        quarter of it; ``transform`` at half of it).
    init : {"spectral", "tswspectral", "pca", "random"} or ndarray of shape (n_samples, \
n_components)
        Initial embedding (``"tswspectral"``, umap-learn's warm-started spectral solver, is
        the spectral layout).
    min_dist : float, default=0.1
        Minimum distance between embedded points (how tightly they may pack).
    spread : float, default=1.0
        Scale of the embedded points; with ``min_dist`` it sets ``a`` and ``b``.
    low_memory : bool, default=True
        Bound the memory of the nearest-neighbour search. NN-descent builds its
        random-projection trees a few at a time and the search graph for new points on the
        first :meth:`transform` (not at all when nothing is transformed). Exact search on
        sparse data (below 8192 samples, or ``knn_method="exact"``) keeps no transposed copy
        of the data and no block of products (each thread holds the products of 8 queries
        with the data): on a 5000-document TF-IDF corpus (3.6 MB as CSR) the fit's peak
        memory grew by 2 MB against 42 MB with False, for about the same CPU time. False
        builds everything at once, in larger blocks (the first ``transform`` is faster).
        Never changes results: the neighbours, the embedding and transforms are
        bit-identical.
    n_jobs : int or None, default=-1
        Threads for the numba kernels (-1 or None: all CPUs, -2: all but one...). Does not
        change results.
    set_op_mix_ratio : float in [0, 1], default=1.0
        1 symmetrises the graph by fuzzy union, 0 by fuzzy intersection.
    local_connectivity : float, default=1.0
        Number of nearest neighbours assumed fully connected.
    repulsion_strength : float, default=1.0
        Weight of the negative samples in the layout.
    negative_sample_rate : int, default=5
        Negative samples per positive sample.
    transform_queue_size : float, default=4.0
        How hard :meth:`transform` searches for the neighbours of new points with the
        approximate index (above 8,192 training samples): the search explores candidates up
        to ``1 + 0.005 * transform_queue_size`` times the current k-th distance. Measured on
        Fashion-MNIST's 10k test points (one seed, before transform's learning rate was halved,
        which moved the accuracy by about +0.001): neighbour recall 0.971 / 0.988 / 0.9975,
        transform 0.73 / 0.90 / 1.34 s and transform accuracy 0.7606 / 0.7621 / 0.7637 at
        4 / 10 / 20 (0.7651 with exact neighbours).
    a, b : float or None, default=None
        Parameters of the embedding similarity ``1 / (1 + a d^(2b))``; fitted from
        ``min_dist`` and ``spread`` when None.
    random_state : int, RandomState or None, default=None
        Seed of every random choice. With an int the result is bit-identical across runs and
        thread counts.
    angular_rp_forest : bool, default=False
        Accepted for compatibility: in umap-learn it picks angular random-projection trees for
        its approximate search; umapx's trees for the angular metrics (cosine, correlation)
        already split normalised rows.
    target_n_neighbors : int, default=-1
        Neighbours of the target graph when ``target_metric`` is a metric (-1:
        ``n_neighbors``).
    target_metric : str or numba function, default="categorical"
        How ``y`` given to :meth:`fit` is compared (supervised UMAP, see
        :mod:`umapx.targets`): ``"categorical"`` (class labels, -1 unlabelled), ``"ordinal"``
        (ordered numbers), ``"count"`` (whole numbers >= 0), ``"string"`` (edit distance), or
        any metric name of the table (``"l1"``, ``"l2"``, ``"cosine"``...) or numba function
        for continuous targets (``y`` of shape (n_samples,) or (n_samples, n_outputs)).
    target_metric_kwds : dict or None, default=None
        Arguments of a target metric (the discrete targets take their scale from ``y``).
    target_weight : float in [0, 1], default=0.5
        How strongly targets shape the embedding: 0 barely, 1 separates classes completely.
    transform_seed : int, default=42
        Seed of :meth:`transform`'s random choices.
    transform_mode : {"embedding", "graph"}, default="embedding"
        ``"graph"``: :meth:`fit` builds only the fuzzy graph (no layout, no ``embedding_``),
        and :meth:`transform` / :meth:`fit_transform` return membership graphs (new points x
        training points), as in umap-learn.
    force_approximation_algorithm : bool, default=False
        umap-learn's switch for the approximate neighbour search on small data (same as
        ``knn_method="nndescent"``).
    verbose : bool, default=False
        Print each stage with its time, and a progress bar over the layout epochs, to stderr.
    tqdm_kwds : dict or None, default=None
        Options of the progress bar shown with ``verbose``; umapx draws its own bar and honours
        ``disable``, ``desc`` (its label) and ``file`` (where it is written); other tqdm
        options are accepted and ignored.
    unique : bool, default=False
        Embed duplicate rows once (:mod:`umapx.unique`): the model is fitted on the distinct
        rows and ``embedding_`` (and the radii of ``output_dens``) give every input row the
        embedding of its distinct row; ``graph_`` and the neighbours are over distinct rows.
        Not with ``metric="precomputed"``.
    densmap : bool, default=False
        densMAP (:mod:`umapx.densmap`): the layout also preserves local density (the
        correlation of local radii in the data and in the embedding). Default epochs grow by
        200; ``transform`` and ``inverse_transform`` work as for any model (umap-learn's
        densMAP has neither). Needs ``output_metric="euclidean"``.
    dens_lambda, dens_frac, dens_var_shift : float, default=2.0, 0.3, 0.1
        densMAP's weight of the density term, the final fraction of epochs it runs in, and
        the variance added to the embedding radii's.
    output_dens : bool, default=False
        :meth:`fit_transform` returns ``(embedding, rad_orig, rad_emb)``: the log local radii
        of every sample in the data and in the embedding (also ``rad_orig_`` /
        ``rad_emb_``); with or without ``densmap``.
    disconnection_distance : float or None, default=None
        k-NN edges at or beyond this distance are removed from the graph (for training and new
        points). None: the metric's largest value for cosine, correlation (2), hellinger,
        jaccard, dice (1), infinity for the others, as in umap-learn. Vertices left without
        edges keep their initial position (umap-learn sets them to NaN) and are named by
        :func:`umapx.utils.disconnected_vertices`.
    precomputed_knn : tuple, default=(None, None, None)
        A k-NN graph computed elsewhere: ``(knn_indices, knn_dists)`` or ``(knn_indices,
        knn_dists, index)`` with arrays of shape (n_samples, k >= n_neighbors), each sample
        itself first, as :func:`umapx.umap_.nearest_neighbors` returns (``index``: its
        :class:`~umapx.knn.NeighborIndex`, or None to build one for :meth:`transform`). With
        fewer neighbours or another number of rows it is ignored with a warning, as in
        umap-learn.
    knn_method : {"auto", "exact", "nndescent"}, default="auto"
        Nearest-neighbour search (umapx's own parameter): exact up to 8,192 samples,
        NN-descent above.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
        The embedding of the training data. Assigning an array of the same shape replaces it
        (transform and inverse_transform then use it); the other fitted attributes are
        read-only.
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The symmetric fuzzy graph of the training data.
    knn_indices_, knn_dists_ : ndarray of shape (n_samples, n_neighbors)
        Nearest neighbours of each training point (itself first) and their distances.
        umap-learn's names ``_knn_indices`` and ``_knn_dists`` also work, and
        ``_knn_search_index`` is the :class:`~umapx.knn.NeighborIndex`.
    sigmas_, rhos_ : ndarray of shape (n_samples,)
        Local scales (``_sigmas``, ``_rhos`` in umap-learn).
    a_, b_ : float
        Curve parameters used (``_a``, ``_b`` in umap-learn).
    embedding_list_ : list of ndarray
        With a list ``n_epochs``: the embedding after each listed number of epochs.
    rad_orig_, rad_emb_ : ndarray of shape (n_samples,), float32
        With ``output_dens=True``: log local radii in the data and in the embedding.
    n_features_in_ : int
        Number of input features (for ``metric="precomputed"``: of training samples).
    timings_ : dict
        Seconds spent in each stage of the last fit.

    Examples
    --------
    >>> import umapx as umap
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> mapper = umap.UMAP(random_state=42).fit(X)
    >>> mapper.embedding_.shape
    (1797, 2)
    """

    def __init__(
        self,
        n_neighbors=15,
        n_components=2,
        metric="euclidean",
        metric_kwds=None,
        output_metric="euclidean",
        output_metric_kwds=None,
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        min_dist=0.1,
        spread=1.0,
        low_memory=True,
        n_jobs=-1,
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
        transform_mode="embedding",
        force_approximation_algorithm=False,
        verbose=False,
        tqdm_kwds=None,
        unique=False,
        densmap=False,
        dens_lambda=2.0,
        dens_frac=0.3,
        dens_var_shift=0.1,
        output_dens=False,
        disconnection_distance=None,
        precomputed_knn=(None, None, None),
        knn_method="auto",
    ):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.output_metric = output_metric
        self.output_metric_kwds = output_metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.min_dist = min_dist
        self.spread = spread
        self.low_memory = low_memory
        self.n_jobs = n_jobs
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
        self.transform_mode = transform_mode
        self.force_approximation_algorithm = force_approximation_algorithm
        self.verbose = verbose
        self.tqdm_kwds = tqdm_kwds
        self.unique = unique
        self.densmap = densmap
        self.dens_lambda = dens_lambda
        self.dens_frac = dens_frac
        self.dens_var_shift = dens_var_shift
        self.output_dens = output_dens
        self.disconnection_distance = disconnection_distance
        self.precomputed_knn = precomputed_knn
        self.knn_method = knn_method

    # Fitted attributes (umap-learn's private names too), read from the fitted state.
    embedding_ = _FittedEmbedding("embedding", sample_axis=0,
                                  absent="transform_mode='graph' builds no embedding")
    graph_ = _Fitted("graph")
    knn_indices_ = _Fitted("knn_indices")
    knn_dists_ = _Fitted("knn_dists")
    sigmas_ = _Fitted("sigmas")
    rhos_ = _Fitted("rhos")
    a_ = _Fitted("a")
    b_ = _Fitted("b")
    timings_ = _Fitted("timings")
    _knn_indices = _Fitted("knn_indices")
    _knn_dists = _Fitted("knn_dists")
    _knn_search_index = _Fitted("index")
    _sigmas = _Fitted("sigmas")
    _rhos = _Fitted("rhos")
    _a = _Fitted("a")
    _b = _Fitted("b")
    _raw_data = _Fitted("training_data")
    _n_neighbors = _Fitted("n_neighbors")
    _disconnection_distance = _Fitted("disconnection_distance")
    rad_orig_ = _Fitted("rad_orig", sample_axis=0, absent="it is set by fit with output_dens=True")
    rad_emb_ = _Fitted("rad_emb", sample_axis=0, absent="it is set by fit with output_dens=True")
    _embedding_snapshots = _Fitted("embedding_list", absent="it is set when n_epochs is a list",
                                   sample_axis=1)

    @property
    def embedding_list_(self):
        """The embedding after each number of epochs of a list ``n_epochs`` (a list)."""
        return list(self._embedding_snapshots)

    @property
    def _n_features_out(self):
        """Columns of :meth:`transform`'s output (scikit-learn's feature names use it)."""
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError("_n_features_out is set by fit")
        return state.n_samples if self.transform_mode == "graph" else self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # embeddings are float32
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags

    def __sklearn_is_fitted__(self):
        return "_state" in self.__dict__

    @property
    def fitted_state(self):
        """The :class:`~umapx.state.FittedState` of a fitted model (read-only)."""
        check_is_fitted(self)
        return self._state

    def _adopt(self, state):
        """Make ``state`` this model's fitted state (the end of fit and of load)."""
        self._state = state
        self.n_features_in_ = state.n_features_in
        if state.feature_names_in is not None:
            self.feature_names_in_ = state.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    # ------------------------------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------------------------------

    def fit(self, X, y=None, ensure_all_finite=True, **fit_params):
        """Fit the embedding of ``X``.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
            Finite numeric data. Sparse data (any scipy.sparse format) is never densified; the
            metric must have a sparse kernel (see :mod:`umapx.sparse`). For
            ``metric="precomputed"`` a square matrix of distances (dense or scipy sparse:
            unstored entries are not neighbours). A single sample is embedded at the origin (as
            umap-learn does) and such a model cannot transform.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
            Targets for supervised UMAP, compared as ``target_metric`` says: class labels by
            default (-1: unlabelled, for semi-supervised use), whose differences weaken edges
            according to ``target_weight``.
        ensure_all_finite : {True, False, "allow-nan"}
            umap-learn's argument: False or ``"allow-nan"`` let infinity / NaN through to a user
            metric function (the built-in metrics always refuse them, with a clear error).

        Returns
        -------
        self
        """
        params = self.get_params(deep=False)
        settings = _validation.validate_parameters(params)
        _validation.check_variants(params)
        X = _validation.check_fit_data(self, X, settings.metric, ensure_all_finite)
        _validation.check_metric_for_data(settings.metric, X)
        target, target_metric = _validation.check_target(
            y, X.shape[0], self.target_metric, self.target_metric_kwds)
        init = _validation.resolve_init(self.init, X.shape[0], self.n_components)
        unique_inverse = None
        if self.unique:
            _validation.check_unique(settings.metric, X)
            kept, unique_inverse = unique_rows(X)
            X = X[kept]
            target = None if target is None else target[kept]
            init = init if isinstance(init, str) else init[kept]
        n_samples = X.shape[0]
        if n_samples == 1:
            return self._adopt(self._single_sample_state(X, settings).replace(
                unique_inverse=unique_inverse))
        n_neighbors = _validation.effective_neighbors(self.n_neighbors, n_samples)
        metric = settings.metric.bind(X)
        _validation.check_varied(X, metric)
        given_knn = _validation.check_precomputed_knn(self.precomputed_knn, n_samples,
                                                      n_neighbors, metric)
        random_state = check_random_state(self.random_state)
        knn_seed, layout_seed = seed_from(random_state), seed_from(random_state)
        n_epochs = self._fit_epochs(n_samples, settings)
        report = self._report()
        report.log(f"fitting {X.shape[0]} x {X.shape[1]} data with {self!r}")
        # An empty numba cache: the later stages' kernels compile in another process meanwhile.
        ahead = _compile_ahead.for_fit(X, metric, settings, self.densmap,
                                       self.n_components) \
            if given_knn is None and self.transform_mode == "embedding" and n_epochs > 0 \
            else _compile_ahead.NOT_STARTED

        with numba_threads(self.n_jobs):
            with report.stage("knn"):
                index, knn_indices, knn_dists = self._neighbours(
                    X, n_neighbors, metric, settings, given_knn, knn_seed, report)
                if given_knn is None and not metric.is_precomputed:
                    check_knn_distances(knn_indices, knn_dists, "samples", absent_allowed=False)
                knn_indices, knn_dists, removed = disconnect(
                    knn_indices, knn_dists, settings.disconnection_distance)
            with report.stage("graph"):
                ahead.wait("graph")
                graph, sigmas, rhos = fuzzy_simplicial_set(
                    knn_indices, knn_dists, n_neighbors, self.set_op_mix_ratio,
                    self.local_connectivity,
                )
                if target is not None:
                    graph = supervised_graph(
                        graph, target, target_metric=target_metric,
                        target_metric_kwds=self.target_metric_kwds,
                        target_weight=self.target_weight,
                        target_n_neighbors=n_neighbors if self.target_n_neighbors == -1
                        else self.target_n_neighbors, seed=knn_seed)
                _warn_if_disconnected(graph, removed, settings.disconnection_distance)
            embedding = embedding_list = rad_orig = rad_emb = None
            if self.transform_mode == "embedding":
                with report.stage("init"):
                    # Rows a user metric saw with NaN / infinity cannot place components.
                    finite = ensure_all_finite is True or bool(np.all(np.isfinite(X.data)
                                                                      if hasattr(X, "tocsr")
                                                                      else np.isfinite(X)))
                    start = initial_layout(init, graph, self.n_components, random_state,
                                           data=X if finite else None)
                with report.stage("layout"):
                    ahead.wait("layout")
                    pruned = prune_weak_edges(graph, n_epochs) if n_epochs > 0 else graph
                    if self.densmap or self.output_dens:
                        rad_orig = local_radii(pruned, knn_indices, knn_dists)
                    embedding, embedding_list = self._layout(
                        start, pruned, n_epochs, settings, layout_seed, report, rad_orig,
                        anchored=target is not None,
                        rate=1.0 if target is None else _SUPERVISED_LEARNING_RATE)
                    _validation.check_layout(embedding, settings.a, settings.b, "the layout",
                                             hint=_DIVERGED)
                if self.output_dens:
                    with report.stage("densities"):
                        rad_emb = embedding_radii(embedding, n_neighbors, seed=layout_seed)

        return self._adopt(FittedState(
            training_data=None if metric.is_precomputed else X, embedding=embedding,
            graph=graph, knn_indices=knn_indices, knn_dists=knn_dists, sigmas=sigmas,
            rhos=rhos, a=settings.a, b=settings.b, metric=metric, index=index,
            n_features_in=self.n_features_in_,
            feature_names_in=getattr(self, "feature_names_in_", None),
            timings=dict(report.timings), output_metric=settings.output_metric,
            disconnection_distance=settings.disconnection_distance,
            embedding_list=embedding_list, unique_inverse=unique_inverse,
            rad_orig=_float32_or_none(rad_orig if self.output_dens else None),
            rad_emb=_float32_or_none(rad_emb),
            transform_sampling_reference=_transform_sampling_reference(target, target_metric),
        ))

    def fit_transform(self, X, y=None, ensure_all_finite=True, **fit_params):
        """Fit ``X`` and return its embedding (``embedding_``); with ``output_dens=True`` the
        tuple ``(embedding_, rad_orig_, rad_emb_)``; with ``transform_mode="graph"`` its fuzzy
        graph (``graph_``)."""
        self.fit(X, y, ensure_all_finite, **fit_params)
        if self.transform_mode == "graph":
            return self.graph_
        if self.output_dens:
            return self.embedding_, self.rad_orig_, self.rad_emb_
        return self.embedding_

    def _single_sample_state(self, X, settings):
        """The model of one sample (umap-learn's): embedded at the origin, nothing to search."""
        metric = settings.metric.bind(X)
        return FittedState(
            training_data=None if metric.is_precomputed else X,
            embedding=np.zeros((1, self.n_components), np.float32)
            if self.transform_mode == "embedding" else None,
            graph=scipy.sparse.csr_matrix((1, 1), dtype=np.float32),
            knn_indices=np.zeros((1, 1), np.int32), knn_dists=np.zeros((1, 1), np.float32),
            sigmas=np.zeros(1, np.float32), rhos=np.zeros(1, np.float32), a=settings.a,
            b=settings.b, metric=metric, index=NeighborIndex.from_knn(
                X, metric, np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32)),
            n_features_in=self.n_features_in_,
            feature_names_in=getattr(self, "feature_names_in_", None),
            output_metric=settings.output_metric,
            disconnection_distance=settings.disconnection_distance)

    def _neighbours(self, X, n_neighbors, metric, settings, given_knn, seed, report):
        """``(index, knn_indices, knn_dists)`` of the training data, searched or given."""
        if given_knn is not None:
            knn_indices, knn_dists, index = given_knn
            if index is None:
                index = NeighborIndex.from_knn(X, metric, knn_indices, knn_dists, seed=seed)
            return index, knn_indices, knn_dists
        return NeighborIndex.build(X, n_neighbors, metric, method=settings.knn_method,
                                   seed=seed, report=report, low_memory=self.low_memory)

    def _layout(self, start, graph, n_epochs, settings, seed, report, data_radii=None,
                anchored=False, rate=1.0):
        """The optimised embedding, and its snapshots for a list ``n_epochs`` (or None).

        ``graph`` has its weak edges pruned; ``data_radii`` (densMAP) are its local radii;
        ``anchored``: attractions measured between the ends' start-of-epoch positions
        (supervised fits and model algebra; see :mod:`umapx.layout`); ``rate``: the layout's
        learning rate relative to ``learning_rate`` (see ``_SUPERVISED_LEARNING_RATE``)."""
        embedding = normalise_layout(start)
        snapshots = settings.epoch_snapshots
        if n_epochs == 0 or graph.nnz == 0:
            return embedding, (np.stack([embedding] * len(snapshots)) if snapshots else None)
        disable, description, _ = _validation.check_tqdm_kwds(self.tqdm_kwds)
        density = DensityObjective(graph, data_radii, strength=self.dens_lambda,
                                   frac=self.dens_frac, var_shift=self.dens_var_shift) \
            if self.densmap else None
        result = optimize_layout(
            embedding, graph, n_epochs=n_epochs, a=settings.a,
            b=settings.b, repulsion_strength=self.repulsion_strength,
            learning_rate=self.learning_rate * rate,
            negative_sample_rate=self.negative_sample_rate,
            seed=seed, output_metric=settings.output_metric, snapshots=snapshots,
            progress=report.progress(n_epochs, "epochs", description, disable),
            density=density, anchored_attraction=anchored,
        )
        if snapshots:
            embedding, kept = result
            return embedding, np.stack(kept)
        return result, None

    def _report(self):
        _, _, stream = _validation.check_tqdm_kwds(self.tqdm_kwds)
        return Report(self.verbose, stream=stream)

    def _fit_epochs(self, n_samples, settings):
        if settings.n_epochs is not None:
            return settings.n_epochs
        return (500 if n_samples <= 10_000 else 200) + (EXTRA_EPOCHS if self.densmap else 0)

    # ------------------------------------------------------------------------------------------
    # Model algebra and update
    # ------------------------------------------------------------------------------------------

    def __add__(self, other):
        """The model of the fuzzy **union** of both graphs (umap-learn's ``+``): an edge of
        either model. See :meth:`__sub__` for what the result keeps."""
        return self._combine(other, "union")

    def __mul__(self, other):
        """The model of the fuzzy **intersection** of both graphs (umap-learn's ``*``): an edge
        of both models. See :meth:`__sub__` for what the result keeps."""
        return self._combine(other, "intersection")

    def __sub__(self, other):
        """The model of the **contrast** of both graphs (umap-learn's ``-``): this model's graph
        intersected with the complement of ``other``'s, what this model sees and ``other`` not.

        Both models must be fitted on the same rows (same number of samples; the rows are
        taken to be the same, as umap-learn does). The combined graph (see
        :mod:`umapx.algebra`) gets a new layout, started from its spectral layout as in
        umap-learn, with this model's parameters (epochs, learning rate, curve ``a, b``,
        ``random_state``; 42 when None, umap-learn's seed).

        The result is a fitted :class:`UMAP` with this model's parameters: ``graph_`` is the
        combined graph and ``embedding_`` its layout, while the data, metric, k-NN and
        neighbour index stay this (the left) model's. So ``transform`` connects new points to
        their neighbours under this model's metric and places them in the combined layout,
        ``inverse_transform`` blends this model's training rows by their combined-layout
        positions, and the result saves and loads like any model.
        """
        return self._combine(other, "contrast")

    def _combine(self, other, operation):
        if not isinstance(other, UMAP):
            return NotImplemented
        left, right = self.fitted_state, other.fitted_state
        if left.n_samples != right.n_samples:
            raise ValueError(f"only models fitted on the same rows can be combined: this model "
                             f"has {left.n_samples} samples, the other {right.n_samples}")
        params = self.get_params(deep=False)
        settings = _validation.validate_parameters(params)
        random_state = check_random_state(
            42 if self.random_state is None else copy.deepcopy(self.random_state))
        layout_seed = seed_from(random_state)
        report = self._report()
        with numba_threads(self.n_jobs):
            with report.stage("graph"):
                graph = reset_local_connectivity(
                    combine_graphs(left.graph, right.graph, operation),
                    rescale_memberships=operation != "contrast")
            embedding = embedding_list = None
            if self.transform_mode == "embedding":
                with report.stage("init"):
                    start = initial_layout("spectral", graph, self.n_components, random_state,
                                           data=left.training_data)
                with report.stage("layout"):
                    embedding, embedding_list = self._layout(
                        start, graph, self._fit_epochs(left.n_samples, settings), settings,
                        layout_seed, report, anchored=True)
        return from_state(params, left.replace(
            graph=graph, embedding=embedding, embedding_list=embedding_list,
            timings=dict(report.timings)))

    def update(self, X, ensure_all_finite=True, *, n_epochs=None):
        """Add new rows to the model and continue training on all rows.

        The k-NN graph and the fuzzy graph are rebuilt over the old and the new rows; the new
        rows start where :meth:`transform` places them, the old ones where they are, and the
        layout optimisation then continues on the whole graph for ``n_epochs`` epochs. Old
        points move only as far as the new neighbourhoods pull them (umap-learn's ``update``
        runs no epochs by default and leaves the new points at their start). Afterwards the
        model is the model of all rows: ``transform``, ``inverse_transform`` and ``save`` use
        them. Not available for ``metric="precomputed"`` (the distances between the new rows
        are not known). A supervised model's labels are not kept, so the updated graph is the
        unsupervised graph of all rows. An ``init`` array gains the new rows' starting
        positions and a ``precomputed_knn`` (of the old rows) is reset, so that the parameters
        still describe the model (and it saves).

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
            The new rows.
        ensure_all_finite : {True, False, "allow-nan"}
            As for :meth:`fit`.
        n_epochs : int or None
            Epochs of continued training (default: a fifth of the fit's epochs, at least 20;
            0 keeps the old embedding and the transform of the new rows).

        Returns
        -------
        self
        """
        state = self.fitted_state
        if state.training_data is None:
            raise ValueError("update is not available for a model fitted with "
                             "metric='precomputed': the distances between the new rows and to "
                             "the old ones are not known; fit the model again on all distances")
        X = _validation.check_new_data(self, X, state.metric, ensure_all_finite)
        if n_epochs is not None:
            _validation.PARAMETERS["n_epochs"].check("n_epochs", n_epochs)
            if not isinstance(n_epochs, (int, np.integer)):
                raise ValueError(f"update's n_epochs must be an int, got {n_epochs!r}")
        data = np.concatenate([state.training_data, X]).astype(np.float32, copy=False)
        if state.n_samples == 1:  # nothing to continue from: fit all rows
            return self.fit(data, ensure_all_finite=ensure_all_finite)
        params = self.get_params(deep=False)
        settings = _validation.validate_parameters(params)
        n_samples = data.shape[0]
        n_neighbors = _validation.effective_neighbors(self.n_neighbors, n_samples)
        random_state = check_random_state(copy.deepcopy(self.random_state))
        knn_seed, layout_seed = seed_from(random_state), seed_from(random_state)
        if n_epochs is None:
            n_epochs = max(20, self._fit_epochs(n_samples, settings) // 5)
        report = self._report()
        with numba_threads(self.n_jobs):
            with report.stage("knn"):
                index, knn_indices, knn_dists = NeighborIndex.build(
                    data, n_neighbors, state.metric, method=settings.knn_method, seed=knn_seed)
                knn_indices, knn_dists, _ = disconnect(knn_indices, knn_dists,
                                                       state.disconnection_distance)
            with report.stage("graph"):
                graph, sigmas, rhos = fuzzy_simplicial_set(
                    knn_indices, knn_dists, n_neighbors, self.set_op_mix_ratio,
                    self.local_connectivity)
            embedding = None
            if state.embedding is not None:
                with report.stage("init"):
                    start = np.concatenate([state.embedding, self.transform(
                        X, ensure_all_finite=ensure_all_finite)])
                embedding = start
                if n_epochs > 0 and graph.nnz:
                    with report.stage("layout"):
                        embedding = optimize_layout(
                            start, prune_weak_edges(graph, n_epochs), n_epochs=n_epochs,
                            a=state.a, b=state.b, repulsion_strength=self.repulsion_strength,
                            learning_rate=self.learning_rate * _UPDATE_LEARNING_RATE,
                            negative_sample_rate=self.negative_sample_rate, seed=layout_seed,
                            output_metric=state.output_metric)
        # Parameters that describe the fitted rows follow them: an init array gains the new
        # rows' starting positions, and a given k-NN (of the old rows only) is dropped.
        if isinstance(self.init, np.ndarray) and embedding is not None:
            self.init = np.concatenate([np.asarray(self.init, dtype=np.float64),
                                        start[state.n_samples:]])
        if any(part is not None for part in self.precomputed_knn):
            self.precomputed_knn = (None, None, None)
        return self._adopt(state.replace(
            training_data=data, embedding=embedding, graph=graph, knn_indices=knn_indices,
            knn_dists=knn_dists, sigmas=sigmas, rhos=rhos, index=index,
            timings=dict(report.timings), embedding_list=None))

    # ------------------------------------------------------------------------------------------
    # Transforming new points
    # ------------------------------------------------------------------------------------------

    def transform(self, X, ensure_all_finite=True):
        """Place new points into the fitted embedding.

        Each new point is connected to its ``n_neighbors`` nearest training points as in
        fitting, starts at the membership-weighted mean of their embeddings and is optimised
        against the fixed training embedding (a third of ``n_epochs``, 100 by default, at half
        the ``learning_rate``, an edge of membership 0.5 or more sampled every epoch, weaker ones
        in proportion; 1 instead of 0.5 for a model fitted with a continuous target; umap-learn
        takes 30 epochs for more than 10,000 new points, this takes 100 whatever their number,
        so that a row's result does not depend on the call's other rows). A point equal to a
        training point gets that
        point's embedding. A row's result depends only on that row and the model: not on the
        other rows of the call, the batch size or ``n_jobs``.

        A dask array or dataframe gives a lazy dask collection of the same kind, computed
        block by block on the workers with the same row-by-row results (see
        :mod:`umapx.dask`; dask is imported only then).

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_new, n_features), or a dask array or
            dataframe
            New samples (sparse for a model fitted on sparse data: the result is the same for
            sparse or dense rows); for ``metric="precomputed"``, their distances to the
            training samples, shape (n_new, n_train), dense or sparse (unstored entries are not
            neighbours).
        ensure_all_finite : {True, False, "allow-nan"}
            As for :meth:`fit` (only a user metric function may see non-finite values).

        Returns
        -------
        ndarray of shape (n_new, n_components), float32 (or a lazy dask collection)
            With ``transform_mode="graph"``: a scipy.sparse.coo_matrix of shape
            (n_new, n_train), the memberships of the new points to the training points.
        """
        state = self.fitted_state
        if is_dask_collection(X):
            from .dask import transform

            return transform(self, X)
        if state.n_samples == 1:
            raise ValueError("transform is not available for a model fitted on a single sample "
                             "(there is no neighbourhood to place new points in)")
        X = _validation.check_new_data(self, X, state.metric, ensure_all_finite,
                                       sparse=state.sparse)
        _validation.check_metric_for_data(state.metric, X)
        k = state.n_neighbors
        n_epochs = self._transform_epochs()
        report = self._report()
        report.log(f"transforming {X.shape[0]} x {X.shape[1]} data ({n_epochs} epochs)")
        ahead = _compile_ahead.for_transform(X, state) if self.transform_mode == "embedding" \
            and n_epochs > 0 else _compile_ahead.NOT_STARTED
        with numba_threads(self.n_jobs):
            with report.stage("transform knn"):
                ahead.wait("search")
                indices, dists = state.index.query(X, k,
                                                   epsilon=self._search_slack())
                if not state.metric.is_precomputed:
                    check_knn_distances(indices, dists, "new points and the training samples",
                                        absent_allowed=False)
                indices, dists, _ = disconnect(indices, dists, state.disconnection_distance,
                                               training=False)
            with report.stage("transform graph"):
                ahead.wait("graph")
                graph = transform_graph(indices, dists, k, self.local_connectivity,
                                        state.n_samples)
            if self.transform_mode == "graph":
                graph.eliminate_zeros()  # absent neighbours (-1) leave no entry
                return graph.tocoo()
            trained = state.require_embedding("transform")
            with report.stage("transform init"):
                if state.output_metric.code == EUCLIDEAN and state.output_metric.user_function \
                        is None:
                    embedding = _weighted_mean_embedding(graph, trained)
                else:  # coordinates of other spaces (angles...) do not average: start at the
                    embedding = _strongest_neighbour_embedding(graph, trained)  # closest point
            if n_epochs > 0:
                with report.stage("transform layout"):
                    ahead.wait("transform")
                    reference = state.transform_sampling_reference
                    embedding = optimize_transform(
                        embedding, trained, prune_weak_edges(graph, n_epochs, reference),
                        n_epochs=n_epochs, a=state.a, b=state.b, reference=reference,
                        repulsion_strength=self.repulsion_strength,
                        learning_rate=self._transform_learning_rate(),
                        negative_sample_rate=self.negative_sample_rate,
                        row_keys=row_keys(self.transform_seed, indices),
                        output_metric=state.output_metric,
                    )
        _validation.check_layout(embedding, state.a, state.b, "the transformed points",
                                 hint=_DIVERGED)
        # Exact copies of training samples take their embedding (checked on near-zero rows;
        # given distances: at distance 0).
        maybe = np.flatnonzero((dists[:, 0] <= 1e-5) & (indices[:, 0] >= 0))
        if state.training_data is None:
            copies = maybe[dists[maybe, 0] == 0]
        elif state.sparse:
            copies = maybe[_sparse.rows_equal(X, maybe, state.training_data, indices[maybe, 0])]
        else:
            copies = maybe[np.all(X[maybe] == state.training_data[indices[maybe, 0]], axis=1)]
        embedding[copies] = trained[indices[copies, 0]]
        return embedding

    def inverse_transform(self, X, *, n_neighbors=None, return_confidence=False,
                          method="blend", detail=0.0, out=None):
        """Generate input-space samples for points of the embedding.

        Each point becomes the weighted centre (under the input metric) of the training samples
        embedded nearest to it, weighted by the model's own similarity curve
        ``1 / (1 + a d^(2b))`` (``d`` under the output metric) so that the result is continuous
        in the point; see :mod:`umapx.inverse` for the method. Outside the support of the
        embedding the samples stay finite and inside the range of the training data, and a
        warning says how many points lie far outside. Not available for models fitted on
        distances (``metric="precomputed"``: there are no samples to blend), with
        ``transform_mode="graph"`` (no embedding), or for metrics without a weighted centre
        (a ValueError names the reason).

        A dask array or dataframe gives lazy dask collections (see :mod:`umapx.dask`).

        Parameters
        ----------
        X : array-like of shape (n_points, n_components), or a dask array or dataframe
            Points of the embedding space.
        n_neighbors : int or None
            Training samples blended per point (default: the model's ``n_neighbors``).
            Fewer gives sharper, less averaged samples.
        return_confidence : bool
            Also return a per-point confidence in (0, 1]: about 1 among the embedded data,
            ``exp(-s^2)`` at ``s`` local neighbourhood radii away from it.
        method : {"blend", "refine"}, default="blend"
            "blend": the weighted centre above (10,000 points in a fraction of a second).
            "refine": the blend (of ``2 * n_neighbors`` samples by default) moved by three
            damped Gauss-Newton steps on the model's own ``transform`` so that the model
            places the sample nearer the point: on held-out Fashion-MNIST images the round
            trip falls from 5.5 to 4.1 neighbour spacings, with a slightly lower reconstruction
            error. Several times slower (it searches the training data as ``transform``
            does), and not continuous in the point, as ``transform`` is not. See
            :mod:`umapx.inverse_refine`.
        detail : float >= 0, default=0.0
            Adds back the detail that blending averages away: the blended samples' deviations
            from their own neighbourhoods, scaled by ``detail``. 0: the smoothest samples, with
            the lowest reconstruction error. 1: samples nearly as far from the training
            samples as real ones are (novelty 0.87-0.95 instead of 0.7 on MNIST and
            Fashion-MNIST) at 26-35% more reconstruction error. Continuous in the point.
        out : ndarray of shape (n_points, n_features), float32, or None
            Where to write the samples, e.g. a ``numpy.memmap`` when they do not fit in
            memory (1M points of 784 features take 3.1 GB); it is also what is returned. The
            points are taken in batches of 8,192 whatever their number, so the working memory
            beyond the samples is one batch's plus 24 bytes per point of a 2-d embedding (the
            points as float64 and their support scores); the samples are bit-identical to
            those of a call without ``out``, of any batch of the points and of any ``n_jobs``.
            Not for models fitted on sparse data or dask input.

        Returns
        -------
        samples : ndarray of shape (n_points, n_features), float32
            For a model fitted on sparse data, a scipy.sparse CSR matrix (``csr_array`` if
            the training data was a sparse array) whose rows hold the centre on the union of
            the blended samples' non-zero columns (see :mod:`umapx.inverse_sparse`).
        confidence : ndarray of shape (n_points,), only with ``return_confidence=True``
        """
        state = self.fitted_state
        if is_dask_collection(X):
            if out is not None:
                raise ValueError("out is not available for dask input: store the lazy result "
                                 "instead (e.g. dask.array.store or to_zarr)")
            from .dask import inverse_transform

            return inverse_transform(self, X, n_neighbors=n_neighbors,
                                     return_confidence=return_confidence, method=method,
                                     detail=detail)
        points = _validation.check_embedding_points(self, X)
        inverse = state.inverse  # a ValueError says when the model has no inverse
        _refine.check_options(method, detail)
        _refine.check_landing(method, state.output_metric)
        if n_neighbors is None:
            n_neighbors = _refine.default_blend_size(method, state.n_neighbors)
        _validation.PARAMETERS["n_neighbors"].check("n_neighbors", n_neighbors)
        options = {} if out is None else {"out": out}
        if state.sparse and out is not None:
            raise ValueError("out is not available for a model fitted on sparse data: its "
                             "samples are sparse rows")
        if method != "blend" or detail > 0:
            if state.sparse:
                raise ValueError("inverse_transform method='refine' and detail are not "
                                 "available for a model fitted on sparse data (use the default)")
            options.update(method=method, detail=detail, refinement=_refine.refinement_state(
                state, self.local_connectivity, self._search_slack()))
        _compile_ahead.wait("inverse")  # its kernels, if another process compiles them now
        with numba_threads(self.n_jobs if len(points) > _inverse.SMALL_BATCH else 1):
            samples, out_of_support = inverse.generate(points, n_neighbors, **options)
        _inverse.warn_if_far_outside(out_of_support)
        if return_confidence:
            return samples, _inverse.confidence_from_support(out_of_support)
        return samples

    def _search_slack(self):
        """``epsilon`` of the neighbour search of new points (see ``transform_queue_size``)."""
        return 0.005 * self.transform_queue_size

    def _transform_learning_rate(self):
        return self.learning_rate * _TRANSFORM_LEARNING_RATE

    def _transform_epochs(self):
        n_epochs = self.n_epochs
        if n_epochs is None:
            return 100
        return int(np.max(n_epochs)) // 3

    def save(self, path):
        """Save the fitted model to one file; :func:`umapx.load` reads it back.

        The file holds arrays and JSON metadata only (loading never unpickles), and the loaded
        model's ``transform`` and ``inverse_transform`` are bit-identical to this one's. See
        :mod:`umapx.persistence` for the format.

        Parameters
        ----------
        path : str or os.PathLike
            Destination, replaced atomically if it exists.
        """
        persistence.save(path, self.get_params(deep=False), self.fitted_state)

    def explore(self, labels=None, image_shape=None, feature_names=None, **options):
        """Open the live explorer on this model; see :func:`umapx.explore` for the parameters.

        Returns
        -------
        umapx.explorer.Explorer
            The running server's handle (``.url``, ``.stop()``).
        """
        from .explorer import explore

        return explore(self, labels=labels, image_shape=image_shape,
                       feature_names=feature_names, **options)


def load(path):
    """Load a :class:`UMAP` written by :meth:`UMAP.save` (:func:`umapx.load`, in
    :mod:`umapx.loading`, reads every kind of model file and documents what loading checks);
    a :class:`~umapx.persistence.ModelFormatError` for anything else."""
    return from_saved(persistence.read(path), path)


def from_saved(saved, path):
    """The :class:`UMAP` of what :func:`umapx.persistence.read` returned for ``path``."""
    try:
        return from_state(saved.params, saved.state)
    except ValueError as error:
        raise persistence.ModelFormatError(
            f"{path} is not a valid umapx model file: its parameters are invalid or do not fit "
            f"its content ({error})") from error


def from_state(params, state):
    """A fitted :class:`UMAP` of constructor parameters and a fitted state (used by
    :func:`load`, the model algebra and :class:`~umapx.aligned_umap.AlignedUMAP`).

    Raises a ValueError if the state cannot belong to a model of these parameters.
    """
    model = UMAP(**params)
    params = model.get_params(deep=False)
    state.check_consistent(_validation.validate_parameters(params), params)
    return model._adopt(state)


#: How :meth:`UMAP.transform` optimises new points: in steps at half the fit's learning rate
#: (umap-learn: a quarter), each edge sampled in proportion to its membership relative to a fixed
#: weight, the reference (an edge of that weight or more is sampled every epoch), so that a row's
#: result does not depend on the call's other rows (umap-learn samples relative to the call's
#: largest membership). A new point's memberships average log2(k) / k (0.26 at k=15): relative to
#: 0.5 its edges get twice the samples they would relative to 1, which places new points better.
#: Paired over 10 seeds (0-9) on the same fitted models, placed-point trustworthiness@15 / transform
#: accuracy, reference 0.5 minus 1: MNIST-10k +0.0011 / +0.0016 (0-1 pixels), +0.0014 / +0.0008
#: (0-255), closing the gap to umap-learn (-0.0012 -> -0.0001, -0.0018 -> -0.0004); Fashion-MNIST
#: +0.0001 / +0.0009 and +0.0003 / +0.0006 (24 more seeds: +0.0001 / +0.0013); digits (13 seeds)
#: plain +0.0028 / +0.0000, with labels +0.0019 / +0.0013, ordinal +0.0017 / +0.0010. It costs ~19%
#: more transform time (Fashion-MNIST's 10,000 test images, 0.62 -> 0.74 s). Models fitted with a
#: metric target (a continuous ``y``) keep 1: there more steps pull new points towards their
#: neighbours in the data and away from the target's order (digits, ``target_metric="l1"``: new
#: points' target order 0.346 -> 0.308, umap-learn 0.401). ``benchmarks/transform_stages.py``,
#: ``benchmarks/regression_seeds.py``; the fit records its choice
#: (``FittedState.transform_sampling_reference``).
_TRANSFORM_SAMPLING_REFERENCE = 0.5
_METRIC_TARGET_SAMPLING_REFERENCE = 1.0


def _transform_sampling_reference(target, target_metric):
    """The sampling reference of a fit's new points: 1 with a metric target (a continuous
    ``y``), else :data:`_TRANSFORM_SAMPLING_REFERENCE`."""
    if target is not None and not isinstance(target_metric, str):
        return _METRIC_TARGET_SAMPLING_REFERENCE
    return _TRANSFORM_SAMPLING_REFERENCE


_TRANSFORM_LEARNING_RATE = 0.5

#: Learning rate of the layout of a supervised fit (any ``target_metric``), relative to
#: ``learning_rate``. The supervised graph's groups are laid out with anchored attractions (see
#: :mod:`umapx.layout`), whose whole-epoch steps scramble the initialisation's global order
#: more than umap-learn's edge-by-edge updates; smaller steps keep it. Digits, 20 seeds (42,
#: 0-18), quarter rate against the full rate: regression (``target_metric="l1"``) target
#: order 0.616 (0.577-0.660) against 0.611 (0.494-0.639), paired mean +0.024 (s.e. 0.009;
#: umap-learn 0.615, 0.522-0.703); categorical labels, 12 seeds: trustworthiness +0.0010
#: (s.e. 0.0002), transform accuracy +0.003 (s.e. 0.001) (``benchmarks/README.md``, Variants).
_SUPERVISED_LEARNING_RATE = 0.25

#: Learning rate of :meth:`UMAP.update`'s continued training, relative to the fit's: the old
#: points start at a converged layout, and a full rate would shake them out of place.
_UPDATE_LEARNING_RATE = 0.25


def _warn_if_disconnected(graph, removed, disconnection_distance):
    """Warn when vertices were left without edges (umap-learn warns likewise)."""
    isolated = int(np.count_nonzero(isolated_vertices(graph)))
    if isolated:
        reason = (f"disconnection_distance={disconnection_distance:g} removed {removed} edges "
                  "of the k-NN graph, and " if removed else "")
        warnings.warn(
            f"{reason}{isolated} of {graph.shape[0]} vertices have no edge in the graph: they "
            "keep their initial position in the embedding (umapx.utils.disconnected_vertices "
            "names them)", UserWarning, stacklevel=3)


def _float32_or_none(values):
    return None if values is None else np.asarray(values, dtype=np.float32)


def _strongest_neighbour_embedding(graph, embedding):
    """Each row's training embedding of its strongest membership (the mean where none)."""
    graph = graph.tocsr()
    start = np.repeat(embedding.mean(axis=0, keepdims=True), graph.shape[0], axis=0)
    for row in range(graph.shape[0]):
        weights = graph.data[graph.indptr[row]:graph.indptr[row + 1]]
        if weights.size and weights.max() > 0:
            start[row] = embedding[graph.indices[graph.indptr[row] + np.argmax(weights)]]
    return np.ascontiguousarray(start, dtype=np.float32)


def _weighted_mean_embedding(graph, embedding):
    """Each row's membership-weighted mean of the training embedding (plain mean if all 0)."""
    graph = graph.tocsr()
    totals = np.asarray(graph.sum(axis=1)).ravel()
    means = np.asarray(graph @ embedding.astype(np.float64))
    empty = totals == 0
    totals[empty] = 1.0
    means /= totals[:, None]
    if np.any(empty):
        means[empty] = embedding.mean(axis=0)
    return means.astype(np.float32)
