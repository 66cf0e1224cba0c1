"""The UMAP estimator: parameters, validation, and fit/transform as a list of stage calls.

The estimator holds its constructor parameters and, once fitted, one
:class:`~umapx.state.FittedState`; its fitted attributes are read-only views of that state.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _validation, persistence
from . import inverse as _inverse
from ._dask_detect import is_dask_collection
from ._jit import numba_threads
from ._report import Report
from ._rng import row_keys, seed_from
from .graph import categorical_intersection, fuzzy_simplicial_set, transform_graph
from .init import initial_layout
from .knn import NeighborIndex
from .layout import normalise_layout, optimize_layout, optimize_transform, prune_weak_edges
from .state import FittedState

_DIVERGED = ("the optimisation diverged; use a smaller learning_rate, or a and b (min_dist, "
             "spread) closer to the defaults")


class _Fitted:
    """A fitted attribute of :class:`UMAP`: a read-only view of a field of its fitted state."""

    def __init__(self, field):
        self.field = field

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, model, owner=None):
        if model is None:
            return self
        state = model.__dict__.get("_state")
        if state is None:
            raise AttributeError(f"{type(model).__name__!r} object has no attribute "
                                 f"{self.name!r}: it is set by fit")
        return getattr(state, self.field)

    def __set__(self, model, value):
        raise AttributeError(f"{self.name} is part of the fitted model and cannot be set; "
                             "fit the model again instead")


class UMAP(TransformerMixin, BaseEstimator):
    """Uniform Manifold Approximation and Projection.

    Finds a low-dimensional embedding of the data that keeps its fuzzy topological structure
    (McInnes, Healy & Melville, 2018). Parameters, methods and fitted attributes follow
    umap-learn, so ``import umapx as umap`` runs code written for it; results are reproducible
    (the same ``random_state`` gives bit-identical output whatever ``n_jobs`` is) and
    parallelism stays on when seeded.

    Parameters
    ----------
    n_neighbors : int, default=15
        Size of the local neighbourhood (the point itself included): larger values favour
        global structure, smaller values local detail. At least 2.
    n_components : int, default=2
        Dimension of the embedding.
    metric : str or numba function, default="euclidean"
        Distance of the input space; see :mod:`umapx.metrics` for the list and for which have
        a gradient. A user function must be compiled with ``numba.njit`` and take two 1-d
        float32 arrays.
    metric_kwds : dict or None, default=None
        Arguments of the metric (``{"p": 3}`` for minkowski).
    n_epochs : int or None, default=None
        Epochs of the layout optimisation; ``None`` means 500 for up to 10,000 samples and
        200 above. 0 returns the initialisation.
    learning_rate : float, default=1.0
        Initial learning rate of the layout optimisation.
    init : {"spectral", "pca", "random"} or ndarray of shape (n_samples, n_components)
        Initial embedding.
    min_dist : float, default=0.1
        Minimum distance between embedded points (how tightly they may pack).
    spread : float, default=1.0
        Scale of the embedded points; with ``min_dist`` it sets ``a`` and ``b``.
    low_memory : bool, default=True
        Accepted for compatibility; memory use is already bounded by blocked computation.
    set_op_mix_ratio : float in [0, 1], default=1.0
        1 symmetrises the graph by fuzzy union, 0 by fuzzy intersection.
    local_connectivity : float, default=1.0
        Number of nearest neighbours assumed fully connected.
    repulsion_strength : float, default=1.0
        Weight of the negative samples in the layout.
    negative_sample_rate : int, default=5
        Negative samples per positive sample.
    a, b : float or None, default=None
        Parameters of the embedding similarity ``1 / (1 + a d^(2b))``; fitted from
        ``min_dist`` and ``spread`` when None.
    random_state : int, RandomState or None, default=None
        Seed of every random choice. With an int the result is bit-identical across runs and
        thread counts.
    transform_seed : int, default=42
        Seed of :meth:`transform`'s random choices.
    transform_queue_size : float, default=4.0
        How hard :meth:`transform` searches for the neighbours of new points with the
        approximate index (above 8,192 training samples): the search explores candidates up
        to ``1 + 0.005 * transform_queue_size`` times the current k-th distance. Measured on
        Fashion-MNIST's 10k test points: neighbour recall 0.971 / 0.988 / 0.9975, transform
        0.73 / 0.90 / 1.34 s and transform accuracy 0.7606 / 0.7621 / 0.7637 at 4 / 10 / 20
        (0.7651 with exact neighbours).
    n_jobs : int or None, default=-1
        Threads for the numba kernels (-1 or None: all CPUs, -2: all but one...). Does not
        change results.
    verbose : bool, default=False
        Print each stage with its time, and a progress bar over the layout epochs, to stderr.
    target_metric : {"categorical"}, default="categorical"
        How ``y`` given to :meth:`fit` is compared (supervised UMAP): as class labels.
    target_weight : float in [0, 1], default=0.5
        How strongly labels shape the embedding: 0 barely, 1 separates classes completely.
    knn_method : {"auto", "exact", "nndescent"}, default="auto"
        Nearest-neighbour search: exact below 8,192 samples, NN-descent above.
    force_approximation_algorithm : bool, default=False
        umap-learn's switch for NN-descent on small data (same as ``knn_method="nndescent"``).

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
        The embedding of the training data.
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The symmetric fuzzy graph of the training data.
    knn_indices_, knn_dists_ : ndarray of shape (n_samples, n_neighbors)
        Nearest neighbours of each training point (itself first) and their distances.
        umap-learn's names ``_knn_indices`` and ``_knn_dists`` also work.
    sigmas_, rhos_ : ndarray of shape (n_samples,)
        Local scales (``_sigmas``, ``_rhos`` in umap-learn).
    a_, b_ : float
        Curve parameters used (``_a``, ``_b`` in umap-learn).
    n_features_in_ : int
        Number of input features.
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
        n_epochs=None,
        learning_rate=1.0,
        init="spectral",
        min_dist=0.1,
        spread=1.0,
        low_memory=True,
        set_op_mix_ratio=1.0,
        local_connectivity=1.0,
        repulsion_strength=1.0,
        negative_sample_rate=5,
        a=None,
        b=None,
        random_state=None,
        transform_seed=42,
        transform_queue_size=4.0,
        n_jobs=-1,
        verbose=False,
        target_metric="categorical",
        target_weight=0.5,
        knn_method="auto",
        force_approximation_algorithm=False,
    ):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.min_dist = min_dist
        self.spread = spread
        self.low_memory = low_memory
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.a = a
        self.b = b
        self.random_state = random_state
        self.transform_seed = transform_seed
        self.transform_queue_size = transform_queue_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.target_metric = target_metric
        self.target_weight = target_weight
        self.knn_method = knn_method
        self.force_approximation_algorithm = force_approximation_algorithm

    # Fitted attributes (umap-learn's private names too), read from the fitted state.
    embedding_ = _Fitted("embedding")
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
    _sigmas = _Fitted("sigmas")
    _rhos = _Fitted("rhos")
    _a = _Fitted("a")
    _b = _Fitted("b")
    _raw_data = _Fitted("training_data")
    _n_neighbors = _Fitted("n_neighbors")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # embeddings are float32
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

    def fit(self, X, y=None, **fit_params):
        """Fit the embedding of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite numeric data, more samples than ``n_neighbors``.
        y : array-like of shape (n_samples,), optional
            Class labels for supervised UMAP (-1: unlabelled, for semi-supervised use): edges
            between points of different classes are weakened according to ``target_weight``.

        Returns
        -------
        self
        """
        settings = _validation.validate_parameters(self.get_params(deep=False))
        X = _validation.check_fit_data(self, X)
        labels = _validation.check_target(y, X.shape[0])
        init = _validation.resolve_init(self.init, X.shape[0], self.n_components)
        random_state = check_random_state(self.random_state)
        knn_seed, layout_seed = seed_from(random_state), seed_from(random_state)
        n_epochs = self._fit_epochs(X.shape[0])
        report = Report(self.verbose)
        report.log(f"fitting {X.shape[0]} x {X.shape[1]} data with {self!r}")

        with numba_threads(self.n_jobs):
            with report.stage("knn"):
                index, knn_indices, knn_dists = NeighborIndex.build(
                    X, self.n_neighbors, settings.metric, method=settings.knn_method,
                    seed=knn_seed, report=report,
                )
            with report.stage("graph"):
                graph, sigmas, rhos = fuzzy_simplicial_set(
                    knn_indices, knn_dists, self.n_neighbors, self.set_op_mix_ratio,
                    self.local_connectivity,
                )
                if labels is not None:
                    graph = categorical_intersection(graph, labels, self._far_distance())
            with report.stage("init"):
                start = initial_layout(init, graph, self.n_components, random_state, data=X)
            with report.stage("layout"):
                embedding = normalise_layout(start)
                if n_epochs > 0:
                    embedding = optimize_layout(
                        embedding, prune_weak_edges(graph, n_epochs), n_epochs=n_epochs,
                        a=settings.a, b=settings.b, repulsion_strength=self.repulsion_strength,
                        learning_rate=self.learning_rate,
                        negative_sample_rate=self.negative_sample_rate, seed=layout_seed,
                        progress=report.progress(n_epochs, "epochs"),
                    )
                _validation.check_layout(embedding, settings.a, settings.b, "the layout",
                                         hint=_DIVERGED)

        return self._adopt(FittedState(
            training_data=X, embedding=embedding, graph=graph, knn_indices=knn_indices,
            knn_dists=knn_dists, sigmas=sigmas, rhos=rhos, a=settings.a, b=settings.b,
            metric=settings.metric, index=index, n_features_in=self.n_features_in_,
            feature_names_in=getattr(self, "feature_names_in_", None),
            timings=dict(report.timings),
        ))

    def fit_transform(self, X, y=None, **fit_params):
        """Fit ``X`` and return its embedding (``embedding_``)."""
        return self.fit(X, y, **fit_params).embedding_

    def _far_distance(self):
        """How far apart different labels are taken to be (supervised UMAP)."""
        if self.target_weight >= 1.0:
            return 1e12
        return 2.5 / (1.0 - self.target_weight)

    def _fit_epochs(self, n_samples):
        if self.n_epochs is not None:
            return int(self.n_epochs)
        return 500 if n_samples <= 10_000 else 200

    # ------------------------------------------------------------------------------------------
    # Transforming new points
    # ------------------------------------------------------------------------------------------

    def transform(self, X):
        """Place new points into the fitted embedding.

        Each new point is connected to its ``n_neighbors`` nearest training points as in
        fitting, starts at the membership-weighted mean of their embeddings and is optimised
        against the fixed training embedding. A point equal to a training point gets that
        point's embedding. A row's result depends only on that row and the model: not on the
        other rows of the call, the batch size or ``n_jobs``.

        A dask array or dataframe gives a lazy dask collection of the same kind, computed
        block by block on the workers with the same row-by-row results (see
        :mod:`umapx.dask`; dask is imported only then).

        Parameters
        ----------
        X : array-like of shape (n_new, n_features), or a dask array or dataframe

        Returns
        -------
        ndarray of shape (n_new, n_components), float32 (or a lazy dask collection)
        """
        state = self.fitted_state
        if is_dask_collection(X):
            from .dask import transform

            return transform(self, X)
        X = _validation.check_new_data(self, X)
        n_epochs = self._transform_epochs()
        k = state.n_neighbors
        report = Report(self.verbose)
        report.log(f"transforming {X.shape[0]} x {X.shape[1]} data ({n_epochs} epochs)")
        with numba_threads(self.n_jobs):
            with report.stage("transform knn"):
                indices, dists = state.index.query(X, k,
                                                   epsilon=0.005 * self.transform_queue_size)
            with report.stage("transform graph"):
                graph = transform_graph(indices, dists, k, self.local_connectivity,
                                        state.n_samples)
            with report.stage("transform init"):
                start = _weighted_mean_embedding(graph, state.embedding)
            embedding = start
            if n_epochs > 0:
                with report.stage("transform layout"):
                    embedding = optimize_transform(
                        start, state.embedding, prune_weak_edges(graph, n_epochs, reference=1.0),
                        n_epochs=n_epochs, a=state.a, b=state.b,
                        repulsion_strength=self.repulsion_strength,
                        learning_rate=self.learning_rate,
                        negative_sample_rate=self.negative_sample_rate,
                        row_keys=row_keys(self.transform_seed, indices),
                    )
        _validation.check_layout(embedding, state.a, state.b, "the transformed points",
                                 hint=_DIVERGED)
        # Exact copies of training samples take their embedding (checked on near-zero rows).
        maybe = np.flatnonzero(dists[:, 0] <= 1e-5)
        copies = maybe[np.all(X[maybe] == state.training_data[indices[maybe, 0]], axis=1)]
        embedding[copies] = state.embedding[indices[copies, 0]]
        return embedding

    def inverse_transform(self, X, *, n_neighbors=None, return_confidence=False):
        """Generate input-space samples for points of the embedding.

        Each point becomes the weighted centre (under the input metric) of the training samples
        embedded nearest to it, weighted by the model's own similarity curve
        ``1 / (1 + a d^(2b))`` so that the result is continuous in the point; see
        :mod:`umapx.inverse` for the method. Outside the support of the embedding the samples
        stay finite and inside the range of the training data, and a warning says how many
        points lie far outside.

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

        Returns
        -------
        samples : ndarray of shape (n_points, n_features), float32
        confidence : ndarray of shape (n_points,), only with ``return_confidence=True``
        """
        state = self.fitted_state
        if is_dask_collection(X):
            from .dask import inverse_transform

            return inverse_transform(self, X, n_neighbors=n_neighbors,
                                     return_confidence=return_confidence)
        points = _validation.check_embedding_points(self, X)
        if n_neighbors is None:
            n_neighbors = state.n_neighbors
        _validation.PARAMETERS["n_neighbors"].check("n_neighbors", n_neighbors)
        with numba_threads(self.n_jobs if len(points) > _inverse.SMALL_BATCH else 1):
            samples, out_of_support = state.inverse.generate(points, n_neighbors)
        _inverse.warn_if_far_outside(out_of_support)
        if return_confidence:
            return samples, _inverse.confidence_from_support(out_of_support)
        return samples

    def _transform_epochs(self):
        if self.n_epochs is not None:
            return int(self.n_epochs) // 3
        return 100

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
    """Load a model written by :meth:`UMAP.save`.

    Nothing is unpickled and nothing expensive is recomputed; every entry of the file is
    validated first (see :mod:`umapx.persistence`).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    UMAP
        The fitted model: ``transform`` and ``inverse_transform`` give bit-identical results
        to the saved model's.

    Raises
    ------
    umapx.persistence.ModelFormatError
        If the file is not a umapx model, is truncated or corrupt, is inconsistent, or was
        written in a newer format version than this umapx reads.
    OSError
        If the file cannot be opened.
    """
    saved = persistence.read(path)
    try:
        model = UMAP(**saved.params)
        params = model.get_params(deep=False)
        saved.state.check_consistent(_validation.validate_parameters(params), params)
    except ValueError as error:
        raise persistence.ModelFormatError(
            f"{path} is not a valid umapx model file: its parameters are invalid or do not fit "
            f"its content ({error})") from error
    return model._adopt(saved.state)


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
