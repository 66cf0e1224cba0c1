"""Initial embedding: spectral, PCA, random or a user array.

The spectral layout uses the leading non-trivial eigenvectors of the normalised graph
Laplacian, each axis's few outlying coordinates clipped (see ``_TAIL_LIMIT``) so that they do
not set the scale. Disconnected graphs are laid out per component: each component's own
spectral layout in a ball whose volume is proportional to its rows, the balls packed from the
largest outwards in the directions a PCA map of the component centroids gives, so components
neither overlap nor fly apart and a few tiny components cannot squeeze a giant one. When the
eigensolver fails the layout falls back to PCA of the data, with a warning.
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

#: Spectral coordinates further from their axis's median than this many times the 99th
#: percentile of the distances to it are clipped there. Eigenvectors of a large graph can
#: concentrate on a few weakly attached vertices, which then set the scale (fashion1m at 1M:
#: on one axis of the giant component 31 vertices lie beyond 4 times the percentile, the
#: farthest 32,000 times, so the bulk's spread fell below the start's noise); the single
#: graphs of digits, MNIST-10k and Fashion-MNIST reach at most 2.0 times it (seeds 0 and 42),
#: so their starts are unchanged.
_TAIL_LIMIT = 4.0

#: Space kept between the balls of two components, as a fraction of the sum of their radii.
_COMPONENT_GAP = 0.1


def _clip_outliers(coords, limit=_TAIL_LIMIT):
    """``coords`` with each axis's outlying values clipped (see ``_TAIL_LIMIT``); the same
    array when none is."""
    centre = np.median(coords, axis=0)
    spread = np.quantile(np.abs(coords - centre), 0.99, axis=0)
    reach = np.where(spread > 0, limit * spread, np.inf)
    low, high = centre - reach, centre + reach
    if np.all((coords >= low) & (coords <= high)):
        return coords
    return np.clip(coords, low, high)


def _directions(offsets):
    """Unit vectors along ``offsets`` (rows); a zero row gets a fixed direction of its own
    (golden-angle turns in the first two axes; alternating signs in one dimension)."""
    n, dim = offsets.shape
    lengths = np.sqrt((offsets ** 2).sum(axis=1))
    directions = np.zeros_like(offsets)
    moving = lengths > 0
    directions[moving] = offsets[moving] / lengths[moving, None]
    still = np.flatnonzero(~moving)
    if dim == 1:
        directions[still, 0] = np.where(np.arange(len(still)) % 2 == 0, 1.0, -1.0)
    else:
        angles = np.arange(len(still)) * np.pi * (3.0 - np.sqrt(5.0))
        directions[still, 0], directions[still, 1] = np.cos(angles), np.sin(angles)
    return directions


def _pack_components(hints, sizes):
    """Centres and radii of balls, one per component, in the box [-10, 10]^dim.

    Each ball's volume is proportional to its component's rows (radius ~ share^(1/dim)), so a
    few tiny components cannot shrink a giant one. The largest sits at the origin; the others,
    largest first, go along the direction from the largest's hint to theirs (``hints``: a map
    of the components' centroids) to the nearest place where their ball clears the balls
    already placed by ``_COMPONENT_GAP``. The whole is then scaled into the box.
    """
    n_components, dim = hints.shape
    radii = (sizes / sizes.sum()) ** (1.0 / dim)
    order = np.argsort(-sizes, kind="stable")
    directions = _directions(hints - hints[order[0]])
    centres = np.zeros((n_components, dim))
    placed = [order[0]]
    for c in order[1:]:
        others = np.array(placed)
        reach = (1.0 + _COMPONENT_GAP) * (radii[c] + radii[others])
        # Along t * direction, the ball overlaps ball j for t in (along - half, along + half).
        along = centres[others] @ directions[c]
        square = along ** 2 - (centres[others] ** 2).sum(axis=1) + reach ** 2
        hit = square > 0
        half = np.sqrt(square[hit])
        lows, highs = along[hit] - half, along[hit] + half
        t = 0.0
        for low, high in sorted(zip(lows, highs)):
            if low >= t:
                break  # this and every later interval starts beyond t
            t = max(t, high)
        centres[c] = t * directions[c]
        placed.append(c)
    extent = (np.abs(centres) + radii[:, None]).max()
    return centres * (10.0 / extent), radii * (10.0 / extent)


def _fit_in_ball(coords):
    """Each axis centred on its range and scaled to [-1, 1], then all into the unit ball."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    coords = (2.0 * (coords - low) / span) - np.where(high > low, 1.0, 0.0)
    largest = np.sqrt((coords ** 2).sum(axis=1)).max()
    return coords / largest if largest > 0 else coords


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
        return _scale_to_box(_clip_outliers(coords), random_state)
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
    """Each component's spectral layout (random when too small or unsolved) in its ball of
    :func:`_pack_components`."""
    n = graph.shape[0]
    # Which way each component goes: a PCA map of the component centroids (or random).
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
    centres, radii = _pack_components(centres, np.bincount(labels, minlength=n_components))
    layout = np.empty((n, dim))
    for c in range(n_components):
        members = np.flatnonzero(labels == c)
        coords = None
        if len(members) > 2 * dim + 1:
            coords = _component_spectral(graph[members][:, members], dim, random_state)
        if coords is None:
            coords = random_state.uniform(-1.0, 1.0, size=(len(members), dim))
        else:
            coords = _clip_outliers(coords)
        layout[members] = centres[c] + radii[c] * _fit_in_ball(coords)
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
