"""umapx.plot: return types, what is drawn (points, legend, colour bar, edges, images), the
inverse grid's geometry, clear errors, and PNG output."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import umapx  # noqa: E402
from umapx import plot  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Grids between the corners of the digits embedding cross the gaps between its clusters, where
# inverse_transform warns that points lie outside the support: expected here.
OUTSIDE_SUPPORT = pytest.mark.filterwarnings("ignore:.*outside the support:UserWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mapper_3d(blobs):
    return umapx.UMAP(n_components=3, random_state=0, n_epochs=20).fit(blobs[0])


def scatters(ax):
    return [child for child in ax.collections if isinstance(child, PathCollection)]


def colorbar_axes(ax):
    return [other for other in ax.figure.axes if other is not ax]


# ------------------------------------------------------------------------------------------------
# import
# ------------------------------------------------------------------------------------------------


def test_import_umapx_does_not_import_matplotlib():
    code = "import sys, umapx; assert 'matplotlib' not in sys.modules; umapx.plot.points"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    monkeypatch.delitem(sys.modules, "umapx.plot")
    with pytest.raises(ImportError, match=r"pip install umapx\[plot\]"):
        importlib.import_module("umapx.plot")


# ------------------------------------------------------------------------------------------------
# points
# ------------------------------------------------------------------------------------------------


def test_points_labels_draw_every_point_with_a_legend_entry_per_label(fitted_digits):
    mapper, _, labels = fitted_digits
    ax = umapx.plot.points(mapper, labels=labels[:1500])
    assert isinstance(ax, Axes)
    (scatter,) = scatters(ax)
    assert len(scatter.get_offsets()) == 1500
    assert scatter.get_rasterized()
    texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert texts == [str(label) for label in range(10)]
    colours = [handle.get_markerfacecolor() for handle in ax.get_legend().legend_handles]
    assert len({tuple(colour) for colour in colours}) == 10
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    assert ax.get_aspect() == 1.0
    size = ax.figure.get_size_inches() * ax.figure.dpi
    np.testing.assert_allclose(size, [800, 800])


def test_points_string_labels_and_explicit_colours(fitted_digits):
    mapper, _, labels = fitted_digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[labels[:1500]]
    ax = plot.points(mapper, labels=list(names), color_key={name: "red" for name in names},
                     show_legend=False)
    assert ax.get_legend() is None
    face = scatters(ax)[0].get_facecolors()
    np.testing.assert_allclose(face[:, :3], np.tile([1.0, 0.0, 0.0], (1500, 1)))


def test_points_pandas_series_labels(fitted_digits):
    pandas = pytest.importorskip("pandas")
    mapper, _, labels = fitted_digits
    ax = plot.points(mapper, labels=pandas.Series(labels[:1500]).astype("category"))
    assert len(ax.get_legend().get_texts()) == 10


def test_points_values_get_a_colour_bar(fitted_digits):
    mapper, data, _ = fitted_digits
    values = data[:1500].mean(axis=1)
    ax = plot.points(mapper, values=values, theme="inferno")
    (scatter,) = scatters(ax)
    np.testing.assert_allclose(scatter.get_array(), values)
    (colorbar_ax,) = colorbar_axes(ax)
    low, high = colorbar_ax.get_ylim()
    assert low == pytest.approx(values.min()) and high == pytest.approx(values.max())
    assert ax.get_legend() is None


def test_points_one_colour_subset_and_point_size(fitted_digits):
    mapper, _, _ = fitted_digits
    fig, ax = plt.subplots()
    assert plot.points(mapper, ax=ax, subset_points=np.arange(1500) < 100, point_size=3) is ax
    (scatter,) = scatters(ax)
    assert len(scatter.get_offsets()) == 100
    assert len(np.unique(scatter.get_facecolors(), axis=0)) == 1
    np.testing.assert_allclose(scatter.get_sizes(), [3])


def test_subset_keeps_the_colours_of_the_whole_label_set(fitted_digits):
    mapper, _, labels = fitted_digits
    labels = labels[:1500]
    full = plot.points(mapper, labels=labels)
    only_nines = plot.points(mapper, labels=labels, subset_points=labels == 9)
    nine_colour = [handle.get_markerfacecolor() for handle in full.get_legend().legend_handles][9]
    np.testing.assert_allclose(scatters(only_nines)[0].get_facecolors(),
                               np.tile(nine_colour, (np.sum(labels == 9), 1)))


def test_automatic_point_size_shrinks_with_n():
    sizes = [plot._auto_point_size(n) for n in (100, 1500, 70_000, 10**7)]
    assert sizes == sorted(sizes, reverse=True)
    assert 0.2 <= sizes[-1] and sizes[0] <= 20


@pytest.mark.parametrize("theme", sorted(plot.THEMES))
def test_every_theme_draws(fitted_digits, theme):
    mapper, _, labels = fitted_digits
    ax = plot.points(mapper, labels=labels[:1500], theme=theme, width=200, height=200)
    expected = matplotlib.colors.to_rgba(plot.THEMES[theme].background)
    assert ax.get_facecolor() == pytest.approx(expected)


def test_points_errors(fitted_digits, mapper_3d):
    mapper, _, labels = fitted_digits
    with pytest.raises(ValueError, match="unknown theme 'neon'.*fire"):
        plot.points(mapper, theme="neon")
    with pytest.raises(ValueError, match="n_components=3"):
        plot.points(mapper_3d)
    with pytest.raises(ValueError, match="not both"):
        plot.points(mapper, labels=labels[:1500], values=labels[:1500])
    with pytest.raises(ValueError, match="one entry per embedded point"):
        plot.points(mapper, labels=labels)
    with pytest.raises(ValueError, match="color_key has no colour"):
        plot.points(mapper, labels=labels[:1500], color_key={0: "red"})


# ------------------------------------------------------------------------------------------------
# connectivity
# ------------------------------------------------------------------------------------------------


def test_connectivity_draws_each_edge_once_under_the_points(fitted_digits):
    mapper, _, labels = fitted_digits
    ax = plot.connectivity(mapper, labels=labels[:1500])
    (lines,) = [child for child in ax.collections if isinstance(child, LineCollection)]
    upper_edges = np.count_nonzero(np.triu(mapper.graph_.toarray(), k=1))
    assert len(lines.get_segments()) == upper_edges
    assert lines.get_rasterized()
    alphas = lines.get_colors()[:, 3]
    assert np.all(np.diff(alphas) >= 0)  # weak (faint) first, strong on top
    (scatter,) = scatters(ax)
    assert scatter.get_zorder() > lines.get_zorder()


def test_connectivity_caps_at_the_strongest_edges(fitted_digits):
    mapper, _, _ = fitted_digits
    ax = plot.connectivity(mapper, show_points=False, max_edges=500)
    (lines,) = ax.collections
    segments = lines.get_segments()
    assert len(segments) == 500
    weights = np.sort(mapper.graph_.data)
    tails, heads, kept = plot._strongest_edges(mapper.graph_, 500)
    assert kept.min() >= weights[-1000]  # the 500 strongest of the symmetric (doubled) list
    np.testing.assert_allclose(segments[-1], mapper.embedding_[[tails[-1], heads[-1]]])


def test_connectivity_errors(fitted_digits):
    with pytest.raises(NotImplementedError, match="edge_bundling"):
        plot.connectivity(fitted_digits[0], edge_bundling="hammer")
    with pytest.raises(ValueError, match="max_edges"):
        plot.connectivity(fitted_digits[0], max_edges=0)


# ------------------------------------------------------------------------------------------------
# diagnostic
# ------------------------------------------------------------------------------------------------


def test_diagnostic_pca_colours_by_three_components(fitted_digits):
    mapper = fitted_digits[0]
    ax = plot.diagnostic(mapper, "pca")
    colours = scatters(ax)[0].get_facecolors()
    assert colours.shape == (1500, 4)
    assert np.all((colours >= 0) & (colours <= 1))
    assert np.all(colours[:, :3].std(axis=0) > 0.1)


def test_diagnostic_ica_draws(fitted_digits):
    ax = plot.diagnostic(fitted_digits[0], "ica")
    assert len(scatters(ax)[0].get_offsets()) == 1500


def test_diagnostic_local_dim_has_integer_values_and_a_colour_bar(fitted_digits):
    mapper = fitted_digits[0]
    ax = plot.diagnostic(mapper, "local_dim")
    values = scatters(ax)[0].get_array()
    assert len(values) == 1500 and np.all(values == np.round(values))
    assert 1 <= values.min() and values.max() <= 15
    assert len(colorbar_axes(ax)) == 1


def test_diagnostic_neighborhood_jaccard_in_unit_interval(fitted_digits):
    ax = plot.diagnostic(fitted_digits[0], "neighborhood")  # umap-learn's name
    values = scatters(ax)[0].get_array()
    assert np.all((values >= 0) & (values <= 1)) and values.mean() > 0.05
    assert len(colorbar_axes(ax)) == 1


def test_local_dimension_of_known_subspaces():
    rng = np.random.RandomState(0)
    line = np.outer(rng.normal(size=40), rng.normal(size=6))  # 1-d data
    plane = rng.normal(size=(40, 2)) @ rng.normal(size=(2, 6))  # 2-d data
    everywhere = rng.normal(size=(40, 6))
    neighbours = np.tile(np.arange(40), (40, 1))  # every point's neighbourhood: all points
    assert np.all(plot.local_dimension(line, neighbours) == 1)
    assert np.all(plot.local_dimension(plane, neighbours, variance_threshold=0.999) == 2)
    assert np.all(plot.local_dimension(everywhere, neighbours, variance_threshold=0.999) == 6)
    assert np.all(plot.local_dimension(np.ones((40, 6)), neighbours) == 0)


def test_neighborhood_jaccard_is_one_when_neighbourhoods_agree():
    embedding = np.c_[np.arange(30.0) ** 1.5, np.zeros(30)]
    from scipy.spatial import cKDTree

    _, same = cKDTree(embedding).query(embedding, k=4)
    np.testing.assert_allclose(plot.neighborhood_jaccard(same, embedding), 1.0)
    shifted = np.roll(same, 15, axis=0)
    assert plot.neighborhood_jaccard(shifted, embedding).max() < 1.0


def test_diagnostic_errors(fitted_digits):
    mapper = fitted_digits[0]
    with pytest.raises(ValueError, match="unknown diagnostic_type 'vq'.*local_dim"):
        plot.diagnostic(mapper, "vq")
    with pytest.raises(ValueError, match="nhood_size"):
        plot.diagnostic(mapper, "local_dim", nhood_size=99)


# ------------------------------------------------------------------------------------------------
# inverse_grid and its helpers
# ------------------------------------------------------------------------------------------------


def tutorial_grid(corners, n):
    """The tutorial's list comprehension, verbatim."""
    return np.array([
        (corners[0] * (1 - x) + corners[1] * x) * (1 - y) +
        (corners[2] * (1 - x) + corners[3] * x) * y
        for y in np.linspace(0, 1, n)
        for x in np.linspace(0, 1, n)
    ])


def test_grid_points_match_the_tutorial():
    corners = np.array([[-5, -10], [-7, 6], [2, -8], [12, 4]])
    grid = plot.grid_points(corners, 10)
    np.testing.assert_allclose(grid, tutorial_grid(corners, 10))
    np.testing.assert_allclose(grid[[0, 9, 90, 99]], corners)
    np.testing.assert_allclose(plot.grid_points(corners, 1), corners[:1])
    np.testing.assert_allclose(plot.grid_points(np.eye(4, 3), 3), tutorial_grid(np.eye(4, 3), 3))
    with pytest.raises(ValueError, match="shape"):
        plot.grid_points(corners[:3], 10)


def test_default_corners_are_embedded_points_spanning_the_data(fitted_digits):
    embedding = fitted_digits[0].embedding_
    corners = plot.default_corners(embedding)
    assert corners.shape == (4, 2)
    low, high = embedding.min(axis=0), embedding.max(axis=0)
    assert np.all((corners >= low) & (corners <= high))
    assert all(np.any(np.all(np.isclose(embedding, corner), axis=1)) for corner in corners)
    top_left, top_right, bottom_left, bottom_right = corners
    assert top_left[0] < top_right[0] and bottom_left[0] < bottom_right[0]
    assert bottom_left[1] < top_left[1] and bottom_right[1] < top_right[1]
    # How far the corners span a clustered embedding depends on its shape (so on the CPU);
    # on evenly filled data they span most of it.
    even = np.random.RandomState(0).uniform(0, 1, size=(2000, 2)).astype(np.float32)
    spread = np.ptp(plot.default_corners(even), axis=0) / np.ptp(even, axis=0)
    assert np.all(spread > 0.5)


def test_default_corners_ignore_a_lone_outlier():
    rng = np.random.RandomState(0)
    embedding = np.vstack([rng.uniform(0, 1, size=(2000, 2)), [[3.0, 3.0]]])
    assert np.all(plot.default_corners(embedding) <= 1.0)


def framed_images(image_axes):
    return [ax.spines["left"].get_edgecolor() == mcolors.to_rgba("tab:orange")
            for ax in image_axes]


def test_inverse_grid_frames_points_outside_the_support(fitted_digits):
    mapper = fitted_digits[0]
    embedding = mapper.embedding_
    far = embedding.max(axis=0) + 10 * np.ptp(embedding, axis=0)  # surely outside
    corners = np.array([embedding[0], far, embedding[1], embedding[2]])
    fig = plot.inverse_grid(mapper, corners=corners, n=3)
    framed = framed_images(fig.axes[1:])
    assert framed[1] and not framed[0] and not all(framed)


def test_inverse_grid_draws_the_tutorial_figure(fitted_digits):
    mapper, _, labels = fitted_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # points outside the support are shown, not warned
        fig = plot.inverse_grid(mapper, n=4, labels=labels[:1500])
    assert isinstance(fig, Figure)
    scatter_ax, *image_axes = fig.axes
    assert len(image_axes) == 16
    assert all(ax.images[0].get_array().shape == (8, 8) for ax in image_axes)
    # The grid points are marked on the embedding: those inside the support in black, the
    # others in orange, with their images framed in orange.
    expected = plot.grid_points(plot.default_corners(mapper.embedding_), 4)
    samples, confidence = mapper.inverse_transform(expected, return_confidence=True)
    outside = confidence < np.exp(-1)
    inside_marks, outside_marks = scatters(scatter_ax)[-2:]
    np.testing.assert_allclose(inside_marks.get_offsets(), expected[~outside])
    np.testing.assert_allclose(outside_marks.get_offsets(), expected[outside])
    assert framed_images(image_axes) == outside.tolist()
    assert outside.sum() < 16  # the corners are embedded points (how many others fall
    # outside depends on the embedding: 9-12 of 16 over 8 seeds x 3 CPU targets,
    # benchmarks/test_margins.py; the orange frames are checked in the test above)
    # Images are the inverse transforms, row by row, on one common scale.
    np.testing.assert_allclose(image_axes[5].images[0].get_array(), samples[5].reshape(8, 8))
    assert len({ax.images[0].get_clim() for ax in image_axes}) == 1
    rows = [ax.get_subplotspec().rowspan.start for ax in image_axes]
    assert rows == sorted(rows) and rows[4] == 1


@OUTSIDE_SUPPORT
def test_inverse_grid_explicit_corners_shape_and_ax(fitted_digits):
    mapper = fitted_digits[0]
    corners = mapper.embedding_[[0, 1, 2, 3]]
    fig, (left, right) = plt.subplots(1, 2)
    assert plot.inverse_grid(mapper, corners=corners, n=3, image_shape=(4, 16), ax=right) is fig
    assert right not in fig.axes and left in fig.axes
    assert len(fig.axes) == 1 + 1 + 9
    assert fig.axes[-1].images[0].get_array().shape == (4, 16)


def test_inverse_grid_errors(fitted_digits, mapper_3d, blobs):
    mapper = fitted_digits[0]
    with pytest.raises(ValueError, match="n_components=3"):
        plot.inverse_grid(mapper_3d)
    non_square = umapx.UMAP(random_state=0, n_epochs=20).fit(blobs[0])  # 10 features
    with pytest.raises(ValueError, match="image_shape"):
        plot.inverse_grid(non_square)
    with pytest.raises(ValueError, match="image_shape"):
        plot.inverse_grid(mapper, image_shape=(7, 7))
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        plot.inverse_grid(mapper, corners=np.zeros((3, 2)))
    assert plt.get_fignums() == []  # errors come before any figure is made


# ------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------


@OUTSIDE_SUPPORT
def test_figures_save_as_png(fitted_digits, tmp_path):
    mapper, _, labels = fitted_digits
    paths = {
        "points": tmp_path / "points.png",
        "inverse_grid": tmp_path / "inverse_grid.png",
    }
    plot.points(mapper, labels=labels[:1500]).figure.savefig(paths["points"])
    plot.inverse_grid(mapper, labels=labels[:1500]).savefig(paths["inverse_grid"])
    for path in paths.values():
        content = path.read_bytes()
        assert content.startswith(PNG_SIGNATURE) and len(content) > 10_000


# ------------------------------------------------------------------------------------------------
# interactive (bokeh)
# ------------------------------------------------------------------------------------------------


def test_import_umapx_plot_does_not_import_bokeh():
    code = "import sys, umapx.plot; assert 'bokeh' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_interactive_without_bokeh_says_how_to_install(fitted_digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "bokeh", None)
    monkeypatch.setitem(sys.modules, "bokeh.models", None)
    with pytest.raises(ImportError, match=r"pip install umapx\[interactive\]"):
        plot.interactive(fitted_digits[0])


def test_interactive_points_colours_and_tooltips(fitted_digits):
    pytest.importorskip("bokeh")
    from bokeh.models import HoverTool

    mapper, _, labels = fitted_digits
    labels = labels[: len(mapper.embedding_)]
    extra = {"double": labels * 2}
    figure = plot.interactive(mapper, labels=labels, hover_data=extra, theme="fire")
    data = figure.renderers[0].data_source.data
    assert len(data["x"]) == len(mapper.embedding_)
    # each point where the model put it, with its own label and colour (one per label)
    for i, x, y in zip(data["index"], data["x"], data["y"]):
        assert (x, y) == tuple(mapper.embedding_[i])
    assert [int(label) for label in data["label"]] == list(labels[data["index"]])
    assert list(data["hover_double"]) == list(extra["double"][data["index"]])
    pairs = set(zip(data["label"], data["colour"]))
    assert len(pairs) == len({c for _, c in pairs}) == len(set(labels))
    assert figure.background_fill_color == plot.THEMES["fire"].background
    tooltips = figure.select_one(HoverTool).tooltips
    assert ("label", "@label") in tooltips and ("double", "@{hover_double}") in tooltips

    values = mapper.embedding_[:, 0]
    shaded = plot.interactive(mapper, values=values, subset_points=values > np.median(values))
    data = shaded.renderers[0].data_source.data
    assert np.all(values[data["index"]] > np.median(values))
    # values through the colour map: the highest value gets the map's top colour
    top = data["index"][np.argmax(data["value"])]
    assert data["colour"][list(data["index"]).index(top)] == mcolors.to_hex(
        plot._colormap("viridis")(1.0))
    with pytest.raises(ValueError, match="hover_data"):
        plot.interactive(mapper, hover_data={"short": [1, 2]})
