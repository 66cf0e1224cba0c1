"""The fitted state of a UMAP model: everything ``fit`` produces, in one object.

``UMAP.fit`` builds one :class:`FittedState` at its end; ``transform``, ``inverse_transform``,
saving, plotting and the explorer read it, and nothing writes it afterwards (it is frozen;
:meth:`FittedState.replace` makes a changed copy). The estimator's public fitted attributes
(``embedding_``, ``graph_``, ``knn_indices_``... and umap-learn's private names such as
``_raw_data``) are read-only views of its fields, so a new piece of fitted state is one field
here plus, if users should see it, one line in the estimator; :mod:`umapx.persistence` saves
and loads it from the table :data:`ARRAYS`.

What is only needed by some calls is built on first use, once, under a lock (safe when several
threads make the first call together): the inverse transform's :class:`~umapx.inverse.
InverseModel` here, and the search graph of an NN-descent index in :mod:`umapx.knn`.

Not every model has every part: a model fitted on distances (``metric="precomputed"``) has no
``training_data``, and one fitted with ``transform_mode="graph"`` has no ``embedding``; both are
None then, and what needs them says so (:attr:`FittedState.inverse`, :meth:`require_embedding`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from ._lazy import lazy_property
from .inverse import InverseModel
from .inverse_sparse import SparseInverseModel
from .knn import NeighborIndex
from .metrics import Metric, resolve_metric

#: The array fields of the state: name -> (dtypes allowed, number of dimensions). The graph is
#: stored as its three CSR arrays (``graph_data``, ``graph_indices``, ``graph_indptr``), and so
#: is sparse training data (see :mod:`umapx.persistence`).
ARRAYS = {
    "training_data": (("float32",), 2),
    "embedding": (("float32",), 2),
    "knn_indices": (("int32",), 2),
    "knn_dists": (("float32",), 2),
    "sigmas": (("float32",), 1),
    "rhos": (("float32",), 1),
    "embedding_list": (("float32",), 3),
    "unique_inverse": (("int64",), 1),
    "rad_orig": (("float32",), 1),
    "rad_emb": (("float32",), 1),
}

#: The output metric of a model that names none.
EUCLIDEAN_OUTPUT = resolve_metric("euclidean", role="output_metric")


@dataclass(frozen=True, eq=False)
class FittedState:
    """What a fit produced.

    Attributes
    ----------
    training_data : ndarray (n, n_features), float32, scipy.sparse CSR, or None
        The data as fitted (after validation): dense, or canonical CSR
        (:func:`umapx.sparse.canonical_csr`) when the model was fitted on sparse data; None
        for ``metric="precomputed"``.
    embedding : ndarray (n, n_components), float32, or None
        None for ``transform_mode="graph"`` (no layout is run).
    graph : scipy.sparse.csr_matrix (n, n), float32
        The symmetric fuzzy graph.
    knn_indices, knn_dists : ndarray (n, k)
        Nearest neighbours of every training point, itself first (``k`` is the number of
        neighbours actually used).
    sigmas, rhos : ndarray (n,), float32
        Local scales.
    a, b : float
        The similarity curve ``1 / (1 + a d^(2b))`` of the embedding.
    metric : Metric
        The resolved input metric (its array parameters filled from the data).
    index : NeighborIndex
        Nearest-neighbour index over the training data (queried by ``transform``).
    n_features_in : int
        Columns of the fitted data (for ``"precomputed"``: the number of training samples).
    feature_names_in : ndarray of str or None
        Column names of a dataframe given to fit.
    timings : dict
        Seconds spent in each stage of the fit.
    output_metric : Metric
        Metric of the embedding space.
    disconnection_distance : float
        k-NN edges at or beyond it were removed (and are removed for new points).
    embedding_list : ndarray (n_snapshots, n, n_components), float32, or None
        The embedding after each number of epochs of a list ``n_epochs``.
    unique_inverse : ndarray (n_input,), int64, or None
        With ``unique=True``: the distinct row (of the ``n`` fitted) of every input sample;
        the fitted arrays above hold the distinct rows only.
    rad_orig, rad_emb : ndarray (n,), float32, or None
        With ``output_dens=True``: the log local radii of every fitted point in the data and
        in the embedding (:mod:`umapx.densmap`).
    transform_sampling_reference : float
        How ``transform`` samples the edges of new points: an edge of this membership or more
        is sampled every epoch, a weaker one in proportion (set by the fit; see
        ``umapx.estimator._TRANSFORM_SAMPLING_REFERENCE``). 1.0 in models saved before it was
        recorded, which so place new points as they did.
    """

    training_data: np.ndarray | scipy.sparse.csr_matrix
    embedding: np.ndarray
    graph: scipy.sparse.csr_matrix
    knn_indices: np.ndarray
    knn_dists: np.ndarray
    sigmas: np.ndarray
    rhos: np.ndarray
    a: float
    b: float
    metric: Metric
    index: NeighborIndex
    n_features_in: int
    feature_names_in: np.ndarray | None = None
    timings: dict = dataclasses.field(default_factory=dict)
    output_metric: Metric = EUCLIDEAN_OUTPUT
    disconnection_distance: float = np.inf
    embedding_list: np.ndarray | None = None
    unique_inverse: np.ndarray | None = None
    rad_orig: np.ndarray | None = None
    rad_emb: np.ndarray | None = None
    transform_sampling_reference: float = 1.0

    @property
    def n_samples(self):
        return self.graph.shape[0]

    @property
    def n_neighbors(self):
        """Neighbours per point in the fitted graph (the point itself included)."""
        return self.knn_indices.shape[1]

    @property
    def n_components(self):
        """Dimension of the embedding (None without one)."""
        return None if self.embedding is None else self.embedding.shape[1]

    def require_embedding(self, what):
        """The embedding, or a ValueError saying that ``what`` needs one."""
        if self.embedding is None:
            raise ValueError(f"{what} needs the embedding, and this model was fitted with "
                             "transform_mode='graph', which builds only the graph: fit it "
                             "with transform_mode='embedding'")
        return self.embedding

    @property
    def sparse(self):
        """Whether the model was fitted on sparse data."""
        return scipy.sparse.issparse(self.training_data)

    @lazy_property
    def inverse(self):
        """The :class:`~umapx.inverse.InverseModel`, built on first use (a ValueError names a
        metric without an inverse, or the missing training data or embedding)."""
        embedding = self.require_embedding("inverse_transform")
        if self.n_samples == 1:
            raise ValueError("inverse_transform is not available for a model fitted on a single "
                             "sample")
        if self.training_data is None:
            raise ValueError(
                "inverse_transform is not available for a model fitted with "
                "metric='precomputed': it generates samples of the input space, and this model "
                "was given distances, not samples")
        model = SparseInverseModel if self.sparse else InverseModel
        return model(self.training_data, embedding, self.metric, self.a, self.b,
                     self.n_neighbors, self.output_metric)

    def build_lazy_parts(self, inverse=True):
        """Build now what is otherwise built on first use: the search graph that ``transform``
        walks and, with ``inverse``, the inverse model (before sending the state to other
        processes, so that each does not build them again)."""
        if self.index.method == "nndescent":
            self.index.search_graph  # noqa: B018 - built and stored on first access
        if inverse:
            self.inverse  # noqa: B018

    def replace(self, **changes):
        """A copy with some fields changed (what was built lazily is built again)."""
        return dataclasses.replace(self, **changes)

    def check_consistent(self, settings, params):
        """Raise a ValueError if this state cannot belong to a model of these parameters.

        Parameters
        ----------
        settings : umapx._validation.Settings
            The resolved parameters of the model.
        params : dict
            Its constructor parameters.
        """
        if not settings.metric.accepts(self.metric):
            raise ValueError(f"the fitted metric {self.metric.name!r} (p={self.metric.p}) "
                             f"differs from the parameters' {settings.metric.name!r}")
        if not settings.output_metric.accepts(self.output_metric):
            raise ValueError(f"the fitted output metric {self.output_metric.name!r} differs "
                             f"from the parameters' {settings.output_metric.name!r}")
        if self.embedding is not None and self.n_components != params["n_components"]:
            raise ValueError(f"the embedding has {self.n_components} columns but "
                             f"n_components={params['n_components']}")
        if (self.unique_inverse is not None) != bool(params["unique"]):
            raise ValueError(f"unique={params['unique']} but the fitted arrays "
                             f"{'are' if self.unique_inverse is None else 'are not'} one row "
                             "per input sample")
        if self.n_neighbors > params["n_neighbors"]:
            raise ValueError(f"the k-NN graph has {self.n_neighbors} columns, more than "
                             f"n_neighbors={params['n_neighbors']}")
