"""Initial embedding: spectral, PCA, random or a user array.

The spectral layout uses the leading non-trivial eigenvectors of the normalised graph
Laplacian. Disconnected graphs are laid out per component: each component's own spectral
layout, placed around its centroid's position in a PCA map of the component centroids, so
components neither overlap nor fly apart. When the eigensolver fails the layout falls back to
PCA of the data, with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg

#: ``"tswspectral"`` (umap-learn's spectral layout with a truncated-SVD warm start of its
#: eigensolver) is the same spectral layout here: umapx's solver needs no warm start.
INIT_METHODS = ("spectral", "pca", "random", "tswspectral")

# Noise added to spectral / PCA layouts (relative to coordinates scaled into [-10, 10]) to
# separate coincident points.
_NOISE = 1e-4


def _normalised_adjacency(graph):
    degrees = np.asarray(graph.sum(axis=1)).ravel()
    inv_sqrt = np.zeros_like(degrees)
    inv_sqrt[degrees > 0] = 1.0 / np.sqrt(degrees[degrees > 0])
    scaling = scipy.sparse.diags(inv_sqrt)
    return (scaling @ graph @ scaling).tocsr(), inv_sqrt


def _one_blas_thread():
    """A context that runs BLAS on one thread.

    ARPACK's iterations call BLAS on vectors of only ``n * ncv`` numbers, where OpenBLAS's
    threads cost more than they give: on the Fashion-MNIST graph (60k points, 2 cores) the
    eigensolver took 3.0 CPU s (9 s wall on a loaded machine) with two BLAS threads, 0.55 CPU s
    (1.3 s) with one. One thread also makes the layout independent of the BLAS thread count
    (threaded dot products sum in another order). ``threadpoolctl`` is installed with
    scikit-learn.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _component_spectral(graph, dim, random_state):
    """Spectral coordinates of one connected graph, or ``None`` when the solver fails.

    The top eigenvectors of ``D^-1/2 W D^-1/2`` (eigenvalue 1 and below) are those of the
    normalised Laplacian's smallest eigenvalues; the first, proportional to sqrt(degree), is
    dropped.
    """
    n = graph.shape[0]
    k = dim + 1
    if n <= k:  # not enough eigenvectors for the dimensions asked
        return None
    adjacency, _ = _normalised_adjacency(graph.astype(np.float64))
    if n <= max(2 * k + 1, 50):
        values, vectors = np.linalg.eigh(adjacency.toarray())
    else:
        v0 = random_state.uniform(-1.0, 1.0, size=n)
        # A small Krylov space restarts more often but is much cheaper per restart: 16 was the
        # fastest on the 60k Fashion-MNIST graph (1.7 s against 8.8 s for sqrt(n)).
        ncv = min(n - 1, max(2 * k + 1, 16))
        try:
            with _one_blas_thread():
                values, vectors = scipy.sparse.linalg.eigsh(
                    adjacency, k=k, which="LA", ncv=ncv, tol=1e-4, v0=v0, maxiter=n * 5
                )
        except (scipy.sparse.linalg.ArpackError, scipy.sparse.linalg.ArpackNoConvergence,
                ValueError, RuntimeError):
            return None
    order = np.argsort(values)[::-1][1:k]
    coords = vectors[:, order]
    if not np.all(np.isfinite(coords)):
        return None
    # Eigenvector signs are arbitrary: fix them so that results are reproducible across
    # platforms and solvers.
    signs = np.sign(coords[np.argmax(np.abs(coords), axis=0), np.arange(coords.shape[1])])
    signs[signs == 0] = 1.0
    return coords * signs


def _scale_to_box(coords, random_state, noise=_NOISE):
    """Scale to max |coordinate| 10 and add a little noise."""
    largest = np.abs(coords).max()
    if largest > 0:
        coords = coords * (10.0 / largest)
    return coords + random_state.normal(scale=noise, size=coords.shape)


def pca_layout(data, dim, random_state):
    """First ``dim`` principal components of ``data`` (dense or sparse), scaled to [-10, 10]."""
    from sklearn.decomposition import PCA, TruncatedSVD

    n_samples, n_features = data.shape
    usable = min(dim, n_samples, n_features)
    if scipy.sparse.issparse(data):
        coords = TruncatedSVD(n_components=usable, random_state=random_state).fit_transform(data)
    else:
        coords = PCA(n_components=usable, random_state=random_state).fit_transform(data)
    if usable < dim:  # fewer features than output dimensions: pad with small noise
        padding = random_state.normal(scale=1e-2, size=(n_samples, dim - usable))
        coords = np.hstack([coords, padding])
    return _scale_to_box(coords, random_state)


def random_layout(n_samples, dim, random_state):
    return random_state.uniform(low=-10.0, high=10.0, size=(n_samples, dim))


def spectral_layout(graph, dim, random_state, data=None):
    """Spectral layout of the fuzzy graph; components laid out separately.

    Parameters
    ----------
    graph : scipy.sparse matrix (n, n)
        Symmetric fuzzy graph.
    dim : int
        Output dimensions.
    random_state : numpy.random.RandomState
    data : ndarray (n, d) or None
        Input data, used to place components and for the PCA fallback.

    Returns
    -------
    ndarray (n, dim), float64
    """
    n = graph.shape[0]
    n_components, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    if n_components == 1:
        coords = _component_spectral(graph, dim, random_state)
        if coords is None:
            return _fallback(data, n, dim, random_state)
        return _scale_to_box(coords, random_state)
    return _multi_component_layout(graph, dim, random_state, data, n_components, labels)


def _fallback(data, n, dim, random_state):
    warnings.warn(
        "The spectral initialisation failed (the eigensolver did not converge, or there are "
        "fewer samples than n_components + 2); falling back to "
        + ("PCA" if data is not None else "random") + " initialisation. Consider init='pca' "
        "or init='random', or increasing n_neighbors.",
        RuntimeWarning,
        stacklevel=4,
    )
    if data is not None:
        return pca_layout(data, dim, random_state)
    return random_layout(n, dim, random_state)


def _multi_component_layout(graph, dim, random_state, data, n_components, labels):
    n = graph.shape[0]
    # Where each component goes: a PCA map of the component centroids (or random positions).
    if data is not None and n_components > 1:
        centroids = np.vstack(
            [np.asarray(data[labels == c].mean(axis=0)).ravel() for c in range(n_components)]
        )
        if n_components > dim:
            from sklearn.decomposition import PCA

            centres = PCA(n_components=dim, random_state=random_state).fit_transform(centroids)
        else:
            centres = random_state.normal(size=(n_components, dim))
    else:
        centres = random_state.normal(size=(n_components, dim))
    centres = centres - centres.mean(axis=0)
    largest = np.abs(centres).max()
    centres = centres * (10.0 / largest) if largest > 0 else centres
    # Each component fits in a ball of radius half the distance to its nearest neighbour.
    gaps = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(gaps, np.inf)
    radii = np.minimum(0.5 * gaps.min(axis=1), 10.0)
    radii[~np.isfinite(radii)] = 1.0
    layout = np.empty((n, dim))
    for c in range(n_components):
        members = np.flatnonzero(labels == c)
        coords = None
        if len(members) > 2 * dim + 1:
            coords = _component_spectral(graph[members][:, members], dim, random_state)
        if coords is None:
            coords = random_state.uniform(-1.0, 1.0, size=(len(members), dim))
        largest = np.abs(coords).max()
        if largest > 0:
            coords = coords / largest
        layout[members] = centres[c] + radii[c] * coords
    return layout + random_state.normal(scale=_NOISE, size=layout.shape)


def initial_layout(init, graph, dim, random_state, data=None):
    """The starting embedding for the layout optimisation, as float32 (n, dim).

    Parameters
    ----------
    init : {"spectral", "tswspectral", "pca", "random"} or ndarray (n, dim)
    graph : scipy.sparse matrix (n, n)
    dim : int
    random_state : numpy.random.RandomState
    data : ndarray (n, d), sparse matrix or None
        The rows PCA is taken of (and components are placed by); for ``metric="precomputed"``
        the distance matrix, as in umap-learn.
    """
    n = graph.shape[0]
    if isinstance(init, np.ndarray):
        return np.array(init, dtype=np.float32, order="C", copy=True)
    if init in ("spectral", "tswspectral"):
        coords = spectral_layout(graph, dim, random_state, data)
    elif init == "pca":
        if data is None:
            raise ValueError("init='pca' needs finite data rows; use init='spectral' or "
                             "'random'")
        coords = pca_layout(data, dim, random_state)
    elif init == "random":
        coords = random_layout(n, dim, random_state)
    else:  # validated upstream
        raise ValueError(f"init must be one of {INIT_METHODS} or an array, got {init!r}")
    return np.ascontiguousarray(coords, dtype=np.float32)
