"""The spectral start: components given room by their size, outlying coordinates clipped."""

import numpy as np
import pytest
import scipy.sparse.csgraph

import umapx
from umapx import init
from umapx.layout import normalise_layout


def _giant_and_tiny(seed):
    """A 2000-row blob and four tight 11-row clusters (disconnected at n_neighbors=10), one of
    them close to the blob, so that the map of the component centroids puts it near the
    blob's centre."""
    rng = np.random.RandomState(seed)
    blob = rng.normal(size=(2000, 5))
    tiny = [rng.normal(scale=0.01, size=(11, 5)) + reach * d / np.linalg.norm(d)
            for reach, d in zip([8.0, 30.0, 30.0, 30.0], rng.normal(size=(4, 5)))]
    return np.vstack([blob, *tiny]).astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_a_giant_component_spans_most_of_the_box(seed):
    data = _giant_and_tiny(seed)
    graph = umapx.UMAP(n_neighbors=10, random_state=seed, transform_mode="graph").fit(data).graph_
    n_components, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    assert n_components == 5
    start = normalise_layout(init.spectral_layout(graph, 2, np.random.RandomState(seed), data))
    giant = start[labels == np.argmax(np.bincount(labels))]
    # Over seeds 0-9 the blob spanned 0.65-0.92 of the [0, 10] box on each axis; with each
    # component in a ball of half the distance to its nearest neighbour's centre (the start
    # before) 0.003-0.17.
    assert np.all(giant.max(axis=0) - giant.min(axis=0) > 5.0)


def test_components_pack_by_size():
    hints = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.0, 0.0], [0.0, 0.0]])
    sizes = np.array([100_000, 5, 6, 7, 5])
    centres, radii = init._pack_components(hints, sizes)
    assert np.argmax(radii) == 0 and radii[0] > 8.0
    assert np.all(np.abs(centres) + radii[:, None] <= 10.0 + 1e-9)
    gaps = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))
    np.fill_diagonal(gaps, np.inf)
    assert np.all(gaps >= radii[:, None] + radii[None] - 1e-9)  # no two balls overlap
    # Equal components get equal balls.
    _, equal = init._pack_components(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                                     np.array([50, 50, 50]))
    assert np.ptp(equal) == 0


def test_outlying_coordinates_are_clipped_and_others_kept():
    rng = np.random.RandomState(0)
    coords = rng.normal(size=(5000, 2))
    assert init._clip_outliers(coords) is coords  # no outlier: untouched
    coords[:3] = [[1e4, 0.0], [0.0, -1e3], [5e2, 5e2]]
    clipped = init._clip_outliers(coords)
    np.testing.assert_array_equal(clipped[3:], coords[3:])
    # Clipped at 4 times the 99th percentile of the distances to the median (about 2.6 here).
    assert np.abs(clipped[:3]).max() < 12.0


def test_the_start_of_several_components_is_deterministic():
    data = _giant_and_tiny(0)
    graph = umapx.UMAP(n_neighbors=10, random_state=0, transform_mode="graph").fit(data).graph_
    first, second = (init.spectral_layout(graph, 2, np.random.RandomState(7), data)
                     for _ in range(2))
    np.testing.assert_array_equal(first, second)
