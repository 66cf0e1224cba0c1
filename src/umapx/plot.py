"""Plots of a fitted UMAP model, drawn with matplotlib.

* :func:`points` -- the embedding as a scatter, coloured by labels or values;
* :func:`connectivity` -- the fuzzy graph's edges over the embedding;
* :func:`diagnostic` -- the embedding coloured by properties of the input data (principal
  components, local intrinsic dimension, neighbourhood agreement);
* :func:`interactive` -- the embedding in the browser (bokeh, an optional extra): pan, zoom
  and a tooltip per point;
* :func:`inverse_grid` -- the inverse-transform figure of the tutorial in one call: the embedding
  with a grid of sampled points, and the samples generated there shown as images
  (:func:`draw_inverse_grid` draws it from samples already generated);
* :func:`sample_grid` -- generated samples alone, as a grid of images.

The grid between four corners (:func:`~umapx.geometry.grid_points`,
:func:`~umapx.geometry.default_corners`) and the per-point measures behind two of the
diagnostics (:func:`~umapx.evaluation.local_dimension`,
:func:`~umapx.evaluation.neighborhood_jaccard`) live in the modules that own them and are
re-exported here.

Every plot is rasterised and vectorised (one scatter call, one line collection), so 70,000
points draw in seconds. Nothing here changes matplotlib's global state: colour maps of the themes
are built locally, never registered, and no style or rcParams is set.

matplotlib is an optional dependency: ``pip install umapx[plot]``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

try:
    import matplotlib  # noqa: F401  (the optional dependency, checked once here)
except ImportError as error:  # pragma: no cover - exercised with matplotlib hidden
    raise ImportError(
        "umapx.plot needs matplotlib, an optional dependency: pip install umapx[plot]"
    ) from error

from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib.collections import LineCollection
from matplotlib.gridspec import GridSpec, GridSpecFromSubplotSpec
from matplotlib.lines import Line2D
from sklearn.utils.validation import check_is_fitted

from .evaluation import local_dimension, neighborhood_jaccard
from .geometry import MAX_GRID_SIDE, default_corners, grid_points
from .inverse import LOW_CONFIDENCE

__all__ = [
    "THEMES",
    "Theme",
    "connectivity",
    "default_corners",
    "diagnostic",
    "draw_inverse_grid",
    "grid_points",
    "interactive",
    "inverse_grid",
    "local_dimension",
    "neighborhood_jaccard",
    "points",
    "sample_grid",
]

_DPI = 100
#: Legends with more entries than this are left out (they would cover the plot).
_MAX_LEGEND_ENTRIES = 50
#: Edges drawn by :func:`connectivity` unless ``max_edges`` says otherwise (the strongest ones).
_DEFAULT_MAX_EDGES = 200_000
#: Rows the PCA / ICA of :func:`diagnostic` is fitted on.
_COMPONENT_FIT_ROWS = 10_000
_DIAGNOSTIC_TYPES = ("pca", "ica", "local_dim", "neighborhood_jaccard")
_DIAGNOSTIC_ALIASES = {"neighborhood": "neighborhood_jaccard"}  # umap-learn's name
_OUTSIDE_COLOUR = "tab:orange"

# ------------------------------------------------------------------------------------------------
# Themes and colour maps
# ------------------------------------------------------------------------------------------------

#: Colour maps the dark themes need that matplotlib does not ship: each rises from a dark tone
#: (still visible on black) to a light one.
_OWN_COLORMAPS = {
    "fire": ["#4a0000", "#b30000", "#ff3300", "#ff8c00", "#ffd21f", "#fffbd1"],
    "darkblue": ["#0b1f5c", "#1746c2", "#2f86ff", "#7cc4ff", "#d9f1ff"],
    "darkred": ["#4d0008", "#a3001a", "#e0301e", "#ff8a3d", "#ffe3b3"],
    "darkgreen": ["#00331a", "#006b2e", "#1fa640", "#8fd44a", "#efffc2"],
}


@dataclass(frozen=True)
class Theme:
    """Colours of a named theme.

    Attributes
    ----------
    cmap : str
        Colour map of continuous values (and source of the single colour of unlabelled points).
    color_key_cmap : str
        Colour map sampled for the colours of categorical labels.
    background : str
        Background colour of the axes.
    edge_cmap : str
        Colour map of graph edges by weight in :func:`connectivity`.
    """

    cmap: str
    color_key_cmap: str
    background: str
    edge_cmap: str


#: The themes accepted by ``theme=`` (the names umap-learn's plots use).
THEMES = {
    "fire": Theme("fire", "rainbow", "black", "fire"),
    "viridis": Theme("viridis", "Spectral", "black", "gray"),
    "inferno": Theme("inferno", "Spectral", "black", "gray"),
    "blue": Theme("GnBu", "jet", "white", "gray_r"),
    "red": Theme("Reds", "spring", "white", "gray_r"),
    "green": Theme("YlGn", "viridis", "white", "gray_r"),
    "darkblue": Theme("darkblue", "rainbow", "black", "darkred"),
    "darkred": Theme("darkred", "rainbow", "black", "darkblue"),
    "darkgreen": Theme("darkgreen", "rainbow", "black", "darkgreen"),
}
_NO_THEME = Theme("viridis", "Spectral", "white", "gray_r")
_NO_THEME_POINT_COLOUR = "#3465a4"


def _colormap(cmap):
    """A Colormap from a Colormap, one of our own names, or a matplotlib name."""
    if isinstance(cmap, mcolors.Colormap):
        return cmap
    if cmap in _OWN_COLORMAPS:
        return mcolors.LinearSegmentedColormap.from_list(cmap, _OWN_COLORMAPS[cmap])
    return colormaps[cmap]


def _resolve_theme(theme):
    if theme is None:
        return _NO_THEME
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {sorted(THEMES)}")
    return THEMES[theme]


def _foreground(background):
    """Black or white, whichever reads better on ``background``."""
    red, green, blue = mcolors.to_rgb(background)
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


# ------------------------------------------------------------------------------------------------
# Shared helpers
# ------------------------------------------------------------------------------------------------


def _embedding_2d(mapper):
    check_is_fitted(mapper)
    embedding = np.asarray(mapper.fitted_state.require_embedding("umapx.plot"))
    if embedding.ndim != 2 or embedding.shape[1] != 2:
        raise ValueError(
            f"umapx.plot draws 2-d embeddings; this model has n_components="
            f"{embedding.shape[1] if embedding.ndim == 2 else embedding.ndim}. Fit with "
            f"n_components=2, or plot two columns of embedding_ yourself."
        )
    return embedding


def _per_point(array, n_points, name):
    """``array`` (a list, ndarray or pandas Series) as a 1-d ndarray of ``n_points`` entries."""
    array = np.asarray(array)
    if array.ndim != 1 or array.shape[0] != n_points:
        raise ValueError(f"{name} must have one entry per embedded point ({n_points}), "
                         f"got shape {array.shape}")
    return array


def _auto_point_size(n_points):
    """Marker area (points^2) that keeps the scatter readable: smaller as points get denser."""
    return float(np.clip(100.0 / math.sqrt(max(n_points, 1)), 0.2, 20.0))


def _new_axes(width, height, background):
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, facecolor=background,
                        layout="constrained")
    return figure.add_subplot()


def _prepare_axes(ax, background):
    ax.set_facecolor(background)
    ax.set(xticks=[], yticks=[])
    ax.set_aspect("equal", adjustable="datalim")


def _annotate_parameters(ax, mapper, background):
    """Write the model's main parameters in the lower right corner, as a caption."""
    shown = []
    for name in ("n_neighbors", "min_dist", "metric"):
        if hasattr(mapper, name):
            value = getattr(mapper, name)
            shown.append(f"{name}={getattr(value, '__name__', value)}")  # metric functions
    if shown:
        ax.text(0.99, 0.01, "UMAP: " + ", ".join(shown), transform=ax.transAxes,
                ha="right", va="bottom", fontsize="x-small", color=_foreground(background),
                alpha=0.6)


def _categories(labels):
    """Distinct labels (sorted where they sort) and each point's index into them."""
    try:
        distinct, codes = np.unique(labels, return_inverse=True)
    except TypeError:  # mixed types that do not compare: keep order of first appearance
        first_seen = {}
        codes = np.array([first_seen.setdefault(label, len(first_seen)) for label in labels])
        distinct = np.array(list(first_seen), dtype=object)
    return distinct, codes.ravel()


def _label_colours(distinct, color_key, color_key_cmap):
    """One RGBA row per distinct label: from ``color_key`` or sampled along the colour map."""
    if color_key is None:
        positions = np.linspace(0.0, 1.0, len(distinct)) if len(distinct) > 1 else [0.5]
        return _colormap(color_key_cmap)(positions)
    if isinstance(color_key, dict):
        missing = [label for label in distinct if label not in color_key]
        if missing:
            raise ValueError(f"color_key has no colour for labels {missing[:5]}")
        return mcolors.to_rgba_array([color_key[label] for label in distinct])
    colours = mcolors.to_rgba_array(color_key)
    if len(colours) < len(distinct):
        raise ValueError(f"color_key has {len(colours)} colours for {len(distinct)} labels")
    return colours[: len(distinct)]


@dataclass
class _Colouring:
    """How to colour a scatter: ``scatter_kwargs`` for ``ax.scatter``, the drawing ``order``
    of the points, legend entries (label, colour) and a colour bar label (None: no colour bar).
    """

    scatter_kwargs: dict
    order: np.ndarray | None = None
    legend: list | None = None
    colorbar_label: str | None = None


def _colouring(n_points, labels, values, style, cmap, color_key, color_key_cmap):
    """Colours of the points from labels, values or neither, under the resolved ``style``."""
    if labels is not None and values is not None:
        raise ValueError("give labels (categories) or values (a continuous quantity), not both")
    if labels is not None:
        distinct, codes = _categories(_per_point(labels, n_points, "labels"))
        colours = _label_colours(distinct, color_key, color_key_cmap or style.color_key_cmap)
        # A fixed shuffle, so that no class is always drawn on top of the others.
        order = np.random.RandomState(0).permutation(n_points)
        return _Colouring({"c": colours[codes]}, order, list(zip(distinct, colours)))
    if values is not None:
        values = _per_point(values, n_points, "values").astype(np.float64)
        return _Colouring({"c": values, "cmap": _colormap(cmap or style.cmap)},
                          colorbar_label="")
    if cmap is None and style is _NO_THEME:
        return _Colouring({"color": _NO_THEME_POINT_COLOUR})
    return _Colouring({"color": _colormap(cmap or style.cmap)(0.75)})


def _scatter(ax, xy, colouring, point_size, background, show_legend=True, zorder=2):
    """Draw ``xy`` in one rasterised scatter call, with its legend or colour bar."""
    order = colouring.order
    kwargs = dict(colouring.scatter_kwargs)
    if order is not None:
        xy = xy[order]
        kwargs = {key: (value[order] if key == "c" else value) for key, value in kwargs.items()}
    size = _auto_point_size(len(xy)) if point_size is None else point_size
    collection = ax.scatter(xy[:, 0], xy[:, 1], s=size, linewidths=0, edgecolors="none",
                            rasterized=True, zorder=zorder, **kwargs)
    if show_legend and colouring.legend and len(colouring.legend) <= _MAX_LEGEND_ENTRIES:
        _add_legend(ax, colouring.legend, background)
    if colouring.colorbar_label is not None:
        _add_colorbar(ax, collection, colouring.colorbar_label)
    return collection


def _add_legend(ax, entries, background):
    handles = [
        Line2D([], [], linestyle="", marker="o", markersize=6, markerfacecolor=colour,
               markeredgecolor="none", label=str(label))
        for label, colour in entries
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", facecolor=background,
              edgecolor="none", framealpha=0.7, labelcolor=_foreground(background),
              ncols=math.ceil(len(entries) / 20), handletextpad=0.2, borderaxespad=0.3)


def _add_colorbar(ax, mappable, label, ticks=None):
    figure = ax.figure
    colorbar = figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.02, ticks=ticks)
    colorbar.set_label(label)
    text_colour = _foreground(figure.get_facecolor())
    colorbar.ax.yaxis.label.set_color(text_colour)
    colorbar.ax.tick_params(colors=text_colour)
    colorbar.solids.set_rasterized(True)
    return colorbar


def _subset(subset_points, n_points):
    """Row indices selected by a boolean mask or an index array."""
    subset_points = np.asarray(subset_points)
    if subset_points.dtype == bool:
        return np.flatnonzero(_per_point(subset_points, n_points, "subset_points"))
    return subset_points.astype(np.intp).ravel()


# ------------------------------------------------------------------------------------------------
# points
# ------------------------------------------------------------------------------------------------


def points(mapper, labels=None, values=None, theme=None, cmap=None, color_key=None,
           background=None, width=800, height=800, show_legend=True, ax=None,
           point_size=None, subset_points=None, color_key_cmap=None):
    """Scatter plot of a 2-d embedding, coloured by labels or by values.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d ``embedding_``.
    labels : array-like of shape (n_samples,), optional
        Categories (ints, strings, a pandas Series...): one colour per distinct label and a
        legend entry for each (the legend is left out above 50 labels). Points are drawn in a
        fixed shuffled order so that no class hides the others.
    values : array-like of shape (n_samples,), optional
        A continuous quantity, shown through ``cmap`` with a colour bar. Not with ``labels``.
    theme : str, optional
        One of :data:`THEMES` (``"fire"``, ``"viridis"``, ``"inferno"``, ``"blue"``, ``"red"``,
        ``"green"``, ``"darkblue"``, ``"darkred"``, ``"darkgreen"``): sets the colour maps and
        the background. Explicit ``cmap``, ``color_key_cmap`` and ``background`` win over it.
    cmap : str or Colormap, optional
        Colour map of ``values`` (default ``"viridis"`` or the theme's); without labels and
        values, the single colour of the points is taken from it.
    color_key : dict or sequence of colours, optional
        Colours of the labels: a dict label -> colour, or one colour per distinct label in
        sorted order. Default: ``color_key_cmap`` sampled evenly.
    background : colour, optional
        Background of the axes (and of the figure when this function creates it). Default
        white, or the theme's.
    width, height : int
        Size in pixels of the figure created when ``ax`` is None (at 100 dpi).
    show_legend : bool
        Draw the legend of the labels.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure.
    point_size : float, optional
        Marker area in points^2; by default ``100 / sqrt(n)`` clipped to [0.2, 20].
    subset_points : array-like of bool or int, optional
        Draw only these points (a mask or indices). Label colours stay those of all the
        labels, so subsets of one model share colours.
    color_key_cmap : str or Colormap, optional
        Colour map sampled for the label colours (default ``"Spectral"`` or the theme's).

    Returns
    -------
    matplotlib.axes.Axes
    """
    embedding = _embedding_2d(mapper)
    style = _resolve_theme(theme)
    background = background or style.background
    colouring = _colouring(len(embedding), labels, values, style, cmap, color_key,
                           color_key_cmap)
    if subset_points is not None:
        rows = _subset(subset_points, len(embedding))
        embedding, colouring = embedding[rows], _restrict(colouring, rows)
    if ax is None:
        ax = _new_axes(width, height, background)
    _prepare_axes(ax, background)
    _scatter(ax, embedding, colouring, point_size, background, show_legend)
    _annotate_parameters(ax, mapper, background)
    return ax


def _restrict(colouring, rows):
    """The colouring of the points ``rows`` only."""
    kwargs = {key: (value[rows] if key == "c" else value)
              for key, value in colouring.scatter_kwargs.items()}
    order = None if colouring.order is None else np.argsort(np.argsort(
        colouring.order)[rows], kind="stable")
    return _Colouring(kwargs, order, colouring.legend, colouring.colorbar_label)


# ------------------------------------------------------------------------------------------------
# interactive (bokeh)
# ------------------------------------------------------------------------------------------------


def _point_colours(colouring, n_points):
    """One hex colour per point of a :class:`_Colouring` (what a browser plot needs)."""
    kwargs = colouring.scatter_kwargs
    if "color" in kwargs:
        return [mcolors.to_hex(kwargs["color"])] * n_points
    colours = kwargs["c"]
    if colours.ndim == 1:  # values through the colour map, spread over their range
        colours = kwargs["cmap"](mcolors.Normalize()(colours))
    return [mcolors.to_hex(colour) for colour in colours]


def interactive(mapper, labels=None, values=None, hover_data=None, tools=None, theme=None,
                cmap=None, color_key=None, color_key_cmap=None, background=None, width=800,
                height=800, point_size=None, subset_points=None, alpha=None):
    """The embedding as a bokeh figure for the browser: pan, zoom, and a tooltip per point.

    Colours follow :func:`points` (same labels, values, themes and colour keys). bokeh is an
    optional dependency (``pip install umapx[interactive]``), imported only here; show the
    result with ``bokeh.plotting.show`` or save it with ``bokeh.plotting.save``. For a live
    explorer with the inverse transform, see :mod:`umapx.explorer`.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d ``embedding_``.
    labels, values, theme, cmap, color_key, color_key_cmap, background, subset_points
        As for :func:`points`.
    hover_data : pandas DataFrame or dict of per-point columns, optional
        Shown in each point's tooltip (with its index and its label or value).
    tools : str or list, optional
        bokeh tools (default ``"pan,wheel_zoom,box_zoom,reset,save"`` and the hover tool).
    width, height : int
        Size of the figure in pixels.
    point_size : float, optional
        Marker diameter in screen pixels; by default from the number of points.
    alpha : float, optional
        Opacity of the points (default 1).

    Returns
    -------
    bokeh.plotting.figure
    """
    try:
        from bokeh.models import ColumnDataSource, HoverTool
        from bokeh.plotting import figure
    except ImportError as error:
        raise ImportError("umapx.plot.interactive needs bokeh, an optional dependency: pip "
                          "install umapx[interactive]") from error
    embedding = _embedding_2d(mapper)
    n_points = len(embedding)
    style = _resolve_theme(theme)
    background = background or style.background
    colouring = _colouring(n_points, labels, values, style, cmap, color_key, color_key_cmap)
    columns = {"x": embedding[:, 0], "y": embedding[:, 1], "index": np.arange(n_points),
               "colour": _point_colours(colouring, n_points)}
    tooltips = [("index", "@index")]
    if labels is not None:
        columns["label"] = [str(label) for label in _per_point(labels, n_points, "labels")]
        tooltips.append(("label", "@label"))
    if values is not None:
        columns["value"] = _per_point(values, n_points, "values").astype(np.float64)
        tooltips.append(("value", "@value"))
    if hover_data is not None:
        for name in hover_data:
            column = _per_point(hover_data[name], n_points, f"hover_data[{name!r}]")
            columns[f"hover_{name}"] = column
            tooltips.append((str(name), f"@{{hover_{name}}}"))
    rows = np.arange(n_points) if subset_points is None else _subset(subset_points, n_points)
    if colouring.order is not None:  # the shuffled drawing order of labelled points
        rows = rows[np.argsort(np.argsort(colouring.order)[rows], kind="stable")]
    source = ColumnDataSource({name: [column[row] for row in rows] if isinstance(column, list)
                               else np.asarray(column)[rows] for name, column in columns.items()})
    size = (math.sqrt(_auto_point_size(n_points)) * 1.5) if point_size is None else point_size
    plot = figure(width=width, height=height, background_fill_color=background,
                  tools=tools or "pan,wheel_zoom,box_zoom,reset,save", match_aspect=True)
    plot.scatter("x", "y", source=source, color="colour", size=size,
                 alpha=1.0 if alpha is None else alpha)
    plot.add_tools(HoverTool(tooltips=tooltips))
    plot.grid.visible = False
    plot.axis.visible = False
    return plot


# ------------------------------------------------------------------------------------------------
# connectivity
# ------------------------------------------------------------------------------------------------


def connectivity(mapper, edge_bundling=None, edge_cmap=None, show_points=True, labels=None,
                 values=None, theme=None, width=800, height=800, ax=None, max_edges=None,
                 cmap=None, color_key=None, color_key_cmap=None, background=None,
                 point_size=None):
    """The fuzzy graph's edges drawn over the embedding.

    Each edge of ``mapper.graph_`` (upper triangle: every edge once) is a line coloured by its
    weight through ``edge_cmap`` and as opaque as it is strong, so the strong local structure
    stands out; the strongest edges are drawn last.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d ``embedding_`` and its ``graph_``.
    edge_bundling : None
        Edge bundling is not implemented: anything but None raises NotImplementedError.
    edge_cmap : str or Colormap, optional
        Colour map of edge weights (default ``"gray_r"``: strong edges dark, or the theme's).
    show_points : bool
        Draw the points on top of the edges, coloured as in :func:`points`.
    labels, values, theme, cmap, color_key, color_key_cmap, background, point_size
        As in :func:`points` (for the points drawn on top).
    width, height : int
        Size in pixels of the figure created when ``ax`` is None.
    ax : matplotlib Axes, optional
    max_edges : int, optional
        At most this many edges are drawn, the strongest ones (default 200,000), which keeps
        large graphs fast and readable.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if edge_bundling is not None:
        raise NotImplementedError(
            f"edge_bundling={edge_bundling!r} is not implemented in umapx.plot; use "
            "edge_bundling=None (straight edges)"
        )
    embedding = _embedding_2d(mapper)
    check_is_fitted(mapper, "graph_")
    style = _resolve_theme(theme)
    background = background or style.background
    max_edges = _DEFAULT_MAX_EDGES if max_edges is None else int(max_edges)
    if max_edges < 1:
        raise ValueError(f"max_edges must be at least 1, got {max_edges}")
    tails, heads, weights = _strongest_edges(mapper.graph_, max_edges)
    colouring = None
    if show_points:
        colouring = _colouring(len(embedding), labels, values, style, cmap, color_key,
                               color_key_cmap)
    if ax is None:
        ax = _new_axes(width, height, background)
    _prepare_axes(ax, background)
    segments = np.stack([embedding[tails], embedding[heads]], axis=1)
    ax.add_collection(LineCollection(
        segments, colors=_edge_colours(weights, _colormap(edge_cmap or style.edge_cmap)),
        linewidths=0.3, rasterized=True, zorder=1,
    ))
    ax.autoscale_view()
    if colouring is not None:
        size = _auto_point_size(len(embedding)) / 2 if point_size is None else point_size
        _scatter(ax, embedding, colouring, size, background)
    _annotate_parameters(ax, mapper, background)
    return ax


def _strongest_edges(graph, max_edges):
    """Each undirected edge once, the ``max_edges`` strongest, sorted from weak to strong."""
    from scipy.sparse import triu

    upper = triu(graph, k=1).tocoo()
    keep = upper.data > 0
    tails, heads, weights = upper.row[keep], upper.col[keep], upper.data[keep]
    if len(weights) > max_edges:
        strongest = np.argpartition(weights, len(weights) - max_edges)[len(weights) - max_edges:]
        tails, heads, weights = tails[strongest], heads[strongest], weights[strongest]
    order = np.argsort(weights, kind="stable")
    return tails[order], heads[order], weights[order]


def _edge_colours(weights, edge_cmap):
    """RGBA per edge: colour by relative weight, alpha by weight scaled to the edge count."""
    if len(weights) == 0:
        return np.zeros((0, 4))
    relative = weights / weights.max()
    colours = edge_cmap(relative)
    # Many overlapping edges need fainter lines to stay readable.
    peak_alpha = float(np.clip(math.sqrt(4_000 / len(weights)), 0.05, 0.8))
    colours[:, 3] = peak_alpha * relative
    return colours


# ------------------------------------------------------------------------------------------------
# diagnostic
# ------------------------------------------------------------------------------------------------


def diagnostic(mapper, diagnostic_type="pca", nhood_size=None, local_variance_threshold=0.8,
               ax=None, cmap="viridis", point_size=None, background=None, width=800,
               height=800, return_diagnostics=False, plot_result=True):
    """The embedding coloured by a property of the input data, to judge what it kept.

    The parameters and their order are umap-learn's ``umap.plot.diagnostic``.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d ``embedding_``, its training data and ``knn_indices_``.
    diagnostic_type : {"pca", "ica", "local_dim", "neighborhood_jaccard", "all"}
        * ``"pca"``: the first three principal components of the input data as red, green and
          blue (each scaled between its 1st and 99th percentile): points close in colour are
          close in the data's main directions, so colour jumps inside a cluster, or smooth
          gradients across a gap, show distortion.
        * ``"ica"``: the same with three independent components.
        * ``"local_dim"``: the local intrinsic dimension of each point's input neighbourhood:
          how many principal components of its ``nhood_size`` nearest neighbours explain
          ``local_variance_threshold`` of their variance. High values mark noisy or
          high-dimensional regions, where the 2-d picture is least faithful.
        * ``"neighborhood_jaccard"`` (or umap-learn's ``"neighborhood"``): the Jaccard index
          between each point's ``nhood_size`` nearest neighbours in the input space and in the
          embedding: 1 where the embedding kept the neighbourhood, near 0 where it did not.
        * ``"all"``: the four, in a 2 x 2 figure (``ax`` is ignored).

        ``"pca"``, ``"ica"`` and ``"local_dim"`` need the input data, which a model fitted with
        ``metric="precomputed"`` does not have (a ValueError says so).
    nhood_size : int, optional
        Neighbourhood size of ``"local_dim"`` and ``"neighborhood_jaccard"``: at most, and by
        default, the model's ``n_neighbors`` (its stored neighbours are reused).
    local_variance_threshold : float in (0, 1]
        Share of variance of ``"local_dim"``.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure of ``width`` x ``height`` pixels.
    cmap : str or Colormap
        Colour map of ``"local_dim"`` and ``"neighborhood_jaccard"``.
    point_size : float, optional
        Marker area; by default as in :func:`points`.
    background : colour, optional
        Background colour (default white).
    width, height : int
        Size in pixels of the figure created when ``ax`` is None.
    return_diagnostics : bool
        Also return the values drawn (the RGB colours or the per-point measure; for ``"all"``
        a dict of them by type).
    plot_result : bool
        False computes the values without drawing.

    Returns
    -------
    matplotlib.axes.Axes
        For ``"all"``: a 2 x 2 ndarray of Axes. With ``return_diagnostics``, the pair
        ``(axes, values)``; without ``plot_result``, the values alone (or None).
    """
    if diagnostic_type == "all":
        kinds = _DIAGNOSTIC_TYPES
        values = {kind: _diagnostic_values(mapper, kind, nhood_size, local_variance_threshold)
                  for kind in kinds}
        axes = None
        if plot_result:
            import matplotlib.pyplot as plt

            figure, axes = plt.subplots(2, 2, figsize=(2 * width / _DPI, 2 * height / _DPI),
                                        dpi=_DPI, layout="constrained")
            for panel, kind in zip(axes.flat, kinds):
                _draw_diagnostic(mapper, kind, values[kind], panel, cmap, point_size,
                                 background, width, height, local_variance_threshold,
                                 nhood_size)
        return _diagnostic_result(axes, values, return_diagnostics, plot_result)
    kind = _DIAGNOSTIC_ALIASES.get(diagnostic_type, diagnostic_type)
    if kind not in _DIAGNOSTIC_TYPES:
        raise ValueError(f"unknown diagnostic_type {diagnostic_type!r}; choose one of "
                         f"{list(_DIAGNOSTIC_TYPES)} or 'all'")
    values = _diagnostic_values(mapper, kind, nhood_size, local_variance_threshold)
    if plot_result:
        ax = _draw_diagnostic(mapper, kind, values, ax, cmap, point_size, background, width,
                              height, local_variance_threshold, nhood_size)
    return _diagnostic_result(ax if plot_result else None, values, return_diagnostics,
                              plot_result)


def _diagnostic_result(axes, values, return_diagnostics, plot_result):
    if return_diagnostics:
        return (axes, values) if plot_result else values
    return axes


def _diagnostic_values(mapper, kind, nhood_size, local_variance_threshold):
    """What a diagnostic colours by: RGB rows (pca, ica) or one measure per point."""
    if not 0.0 < local_variance_threshold <= 1.0:
        raise ValueError("local_variance_threshold must be in (0, 1]")
    embedding = _embedding_2d(mapper)
    data = mapper.fitted_state.training_data
    if data is None and kind in ("pca", "ica", "local_dim"):
        raise ValueError(f"diagnostic_type={kind!r} needs the input data, and a model fitted "
                         "with metric='precomputed' was given distances only; "
                         "'neighborhood_jaccard' works from its neighbours")
    if kind in ("pca", "ica"):
        return _components_as_rgb(data, kind)
    neighbours = _input_neighbours(mapper, nhood_size)
    if kind == "local_dim":
        return local_dimension(data, neighbours, local_variance_threshold)
    return neighborhood_jaccard(neighbours, embedding)


def _draw_diagnostic(mapper, kind, values, ax, cmap, point_size, background, width, height,
                     local_variance_threshold, nhood_size):
    embedding = _embedding_2d(mapper)
    background = background or _NO_THEME.background
    if kind in ("pca", "ica"):
        colouring = _Colouring({"c": values})
        title = f"First three {kind.upper()} components of the input as RGB"
    else:
        size = nhood_size or mapper.fitted_state.n_neighbors
        if kind == "local_dim":
            title = (f"Local dimension: components explaining {local_variance_threshold:.0%} "
                     f"of the variance of {size} neighbours")
        else:
            title = f"Jaccard index of input and embedding {size}-NN"
        colouring = _Colouring({"c": values, "cmap": _colormap(cmap)})
    if ax is None:
        ax = _new_axes(width, height, background)
    _prepare_axes(ax, background)
    collection = _scatter(ax, embedding, colouring, point_size, background)
    if kind == "local_dim":
        _add_colorbar(ax, collection, "local dimension", ticks=_integer_ticks(values))
    elif kind == "neighborhood_jaccard":
        collection.set_clim(0.0, 1.0)
        _add_colorbar(ax, collection, "Jaccard index")
    ax.set_title(title, fontsize="medium")
    _annotate_parameters(ax, mapper, background)
    return ax


def _components_as_rgb(data, kind):
    """The data's first three PCA or ICA components, each robustly scaled to [0, 1].

    The components are fitted on a fixed random sample of at most 10,000 rows (their
    directions barely change with more) and applied to every row.
    """
    import scipy.sparse
    from sklearn.decomposition import PCA, TruncatedSVD

    n_components = min(3, data.shape[1])
    if scipy.sparse.issparse(data):  # sparse data is not centred (that would densify it)
        n_components = min(n_components, data.shape[1] - 1) or 1
        model = TruncatedSVD(n_components=n_components, random_state=0)
    else:
        model = PCA(n_components=n_components, svd_solver="randomized", random_state=0)
    if kind != "pca":
        from sklearn.decomposition import FastICA
        from sklearn.pipeline import make_pipeline

        # Whitening by the leading principal components first is what FastICA does itself,
        # but the randomized PCA is much faster than its full whitening of wide data.
        if isinstance(model, PCA):
            model.set_params(whiten=True)
            ica = FastICA(whiten=False, max_iter=400, random_state=0)
        else:
            ica = FastICA(whiten="unit-variance", max_iter=400, random_state=0)
        model = make_pipeline(model, ica)
    sample = np.random.RandomState(0).permutation(data.shape[0])[:_COMPONENT_FIT_ROWS]
    components = model.fit(data[np.sort(sample)]).transform(data)
    low, high = np.percentile(components, [1, 99], axis=0)
    rgb = np.zeros((data.shape[0], 3))
    rgb[:, :n_components] = np.clip((components - low) / np.maximum(high - low, 1e-12), 0, 1)
    return rgb


def _input_neighbours(mapper, nhood_size):
    """The first ``nhood_size`` stored input-space neighbours of each training point."""
    indices = np.asarray(mapper.knn_indices_)
    if nhood_size is None:
        nhood_size = indices.shape[1]
    if not 2 <= nhood_size <= indices.shape[1]:
        raise ValueError(f"nhood_size must be between 2 and the model's n_neighbors "
                         f"({indices.shape[1]}), got {nhood_size}")
    indices = indices[:, :nhood_size]
    # A missing neighbour (-1, possible only for degenerate data) stands for the point itself.
    own = np.arange(len(indices))[:, None]
    return np.where(indices < 0, own, indices)


def _integer_ticks(measure):
    low, high = int(measure.min()), int(measure.max())
    return np.unique(np.linspace(low, high, min(high - low + 1, 8)).round().astype(int))


# ------------------------------------------------------------------------------------------------
# inverse_grid
# ------------------------------------------------------------------------------------------------


def supported_figure_formats():
    """File suffixes (without the dot) matplotlib can save figures as."""
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes())


def inverse_grid(mapper, corners=None, n=10, image_shape=None, cmap="gray_r", labels=None,
                 ax=None, figsize=(12, 6), point_size=None):
    """The inverse-transform figure of the tutorial: the embedding and generated images.

    Samples an ``n`` x ``n`` grid between four corners of the embedding (see
    :func:`~umapx.geometry.grid_points`), generates the input-space sample of each grid point
    with ``mapper.inverse_transform``, and draws them with :func:`draw_inverse_grid`.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d embedding and ``inverse_transform``.
    corners : array-like of shape (4, 2), optional
        The grid's corners, in :func:`~umapx.geometry.grid_points`'s order. Default:
        :func:`~umapx.geometry.default_corners` of the embedding (inside its support).
    n : int
        Grid points per side.
    image_shape, cmap, labels, ax, figsize, point_size
        As in :func:`draw_inverse_grid`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. Its axes created here are, in order, the embedding and then the
        ``n * n`` images row by row. The grid points and the samples are not returned: they
        are ``grid_points(corners, n)`` (with ``default_corners(mapper.embedding_)`` when
        ``corners`` is None) and ``mapper.inverse_transform`` of them, which is deterministic.
    """
    embedding = _embedding_2d(mapper)
    image_shape = _image_shape(image_shape, mapper.n_features_in_)  # checked before the work
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) \
            or not 1 <= n <= MAX_GRID_SIDE:
        raise ValueError(f"n must be an integer from 1 to {MAX_GRID_SIDE} (images per side), "
                         f"got {n!r}")
    if corners is None:
        corners = default_corners(embedding)
    corners = np.asarray(corners, dtype=np.float64)
    if corners.shape != (4, 2):
        raise ValueError(f"corners must have shape (4, 2), got {corners.shape}")
    grid = grid_points(corners, n)
    with warnings.catch_warnings():  # the figure marks the points outside the support itself
        warnings.filterwarnings("ignore", message=".*outside the support")
        samples, confidence = mapper.inverse_transform(grid, return_confidence=True)
    return draw_inverse_grid(mapper, grid, samples, confidence, n, image_shape=image_shape,
                             cmap=cmap, labels=labels, ax=ax, figsize=figsize,
                             point_size=point_size)


def draw_inverse_grid(mapper, grid, samples, confidence, n, image_shape=None, cmap="gray_r",
                      labels=None, ax=None, figsize=(12, 6), point_size=None):
    """Draw the tutorial's figure from an ``n`` x ``n`` grid and its generated samples.

    On a ``GridSpec(n, 2 n)``: on the left the embedding (coloured by ``labels``) with the grid
    points marked ``x``; on the right the samples as images, in the grid's order (row ``i``,
    column ``j`` is grid point ``i * n + j``). All images share one grey scale, the range of
    the training data, so faint and strong samples compare. Grid points more than about one
    local neighbourhood radius from the embedded data (confidence below 0.37) are marked and
    their images framed in orange: their samples only blend the nearest training samples.

    Parameters
    ----------
    mapper : fitted UMAP
        A model with a 2-d embedding.
    grid : ndarray of shape (n * n, 2)
        The grid points.
    samples : ndarray of shape (n * n, n_features)
        ``mapper.inverse_transform(grid)``.
    confidence : ndarray of shape (n * n,)
        Its confidence (``return_confidence=True``).
    n : int
        Grid points per side.
    image_shape : tuple of int, optional
        Shape of each sample as an image (e.g. ``(28, 28)``). Default: a square when the
        number of features is a perfect square.
    cmap : str or Colormap
        Colour map of the images (``"gray_r"``: dark ink on white).
    labels : array-like of shape (n_samples,), optional
        Colours of the embedded points, as in :func:`points`.
    ax : matplotlib Axes, optional
        Draw in this axes' place in its figure (it is removed and its area split); by default
        a new figure of ``figsize`` inches.
    figsize : (float, float)
        Size of the new figure.
    point_size : float, optional
        Marker area of the embedded points, as in :func:`points`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _embedding_2d(mapper)
    grid = np.asarray(grid, dtype=np.float64)
    samples = np.asarray(samples)
    outside = np.asarray(confidence) < LOW_CONFIDENCE
    data = mapper.fitted_state.training_data
    figure, layout = _grid_layout(ax, n, n, figsize, split=True)
    scatter_ax = figure.add_subplot(layout[:, :n])
    points(mapper, labels=labels, ax=scatter_ax, point_size=point_size)
    scatter_ax.scatter(grid[~outside, 0], grid[~outside, 1], marker="x", c="k", s=15,
                       linewidths=1, zorder=3)
    scatter_ax.scatter(grid[outside, 0], grid[outside, 1], marker="x", c=_OUTSIDE_COLOUR,
                       s=15, linewidths=1, zorder=3)
    _draw_samples(figure, layout, samples, n, n, column_offset=n, image_shape=image_shape,
                  cmap=cmap, value_range=(float(np.min(data)), float(np.max(data))),
                  outside=outside)
    return figure


def sample_grid(samples, image_shape=None, n_columns=None, cmap="gray_r", value_range=None,
                outside=None, figsize=None):
    """Generated samples as a grid of images, ``n_columns`` per row.

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
    image_shape : tuple of int, optional
        Shape of each sample as an image; default a square.
    n_columns : int, optional
        Images per row (default: a square grid).
    cmap : str or Colormap
    value_range : (float, float), optional
        Values mapped to the ends of ``cmap`` (default: the samples' range).
    outside : array-like of bool, optional
        Samples to frame in orange (e.g. low confidence).
    figsize : (float, float), optional
        Default 0.8 inch per image.

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = np.asarray(samples)
    if samples.ndim != 2 or len(samples) == 0:
        raise ValueError(f"samples must have shape (n_samples, n_features), got {samples.shape}")
    if len(samples) > MAX_GRID_SIDE ** 2:
        raise ValueError(f"sample_grid draws at most {MAX_GRID_SIDE ** 2} images, got "
                         f"{len(samples)} samples")
    columns = int(n_columns or math.ceil(math.sqrt(len(samples))))
    if columns < 1:
        raise ValueError(f"n_columns must be a positive integer, got {n_columns}")
    rows = math.ceil(len(samples) / columns)
    if value_range is None:
        value_range = (float(samples.min()), float(samples.max()))
    figure, layout = _grid_layout(None, rows, columns, figsize or (columns * 0.8, rows * 0.8))
    _draw_samples(figure, layout, samples, rows, columns, column_offset=0,
                  image_shape=image_shape, cmap=cmap, value_range=value_range, outside=outside)
    return figure


def _draw_samples(figure, layout, samples, rows, columns, column_offset, image_shape, cmap,
                  value_range, outside):
    """One image per sample in the cells of ``layout``, row by row from ``column_offset``."""
    image_shape = _image_shape(image_shape, samples.shape[1])
    images = _colormap(cmap)
    vmin, vmax = value_range
    for index, sample in enumerate(samples[: rows * columns]):
        image_ax = figure.add_subplot(layout[index // columns, column_offset + index % columns])
        image_ax.imshow(sample.reshape(image_shape), cmap=images, interpolation="nearest",
                        vmin=vmin, vmax=vmax)
        image_ax.set(xticks=[], yticks=[])
        if outside is not None and outside[index]:
            for spine in image_ax.spines.values():
                spine.set(edgecolor=_OUTSIDE_COLOUR, linewidth=1.5)


def _image_shape(image_shape, n_features):
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(f"samples have {n_features} features, not a square number: give "
                             f"image_shape, e.g. image_shape=(height, width)")
        return (side, side)
    image_shape = tuple(int(size) for size in image_shape)
    if not image_shape or min(image_shape) < 1:
        raise ValueError(f"image_shape must be positive sizes, got {image_shape}")
    if math.prod(image_shape) != n_features:
        raise ValueError(f"image_shape {image_shape} has {math.prod(image_shape)} pixels, but "
                         f"samples have {n_features} features")
    return image_shape


def _grid_layout(ax, rows, columns, figsize, split=False):
    """The figure and its grid of ``rows`` x ``columns`` cells (twice as many columns with
    ``split``, for a scatter beside the images): a new figure, or the area of ``ax``
    (removed)."""
    width = 2 * columns if split else columns
    if ax is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=figsize)
        return figure, GridSpec(rows, width, figure=figure, left=0.02, right=0.98, bottom=0.03,
                                top=0.97, wspace=0.1, hspace=0.1)
    spec = ax.get_subplotspec()
    if spec is None:
        raise ValueError("ax must be a subplot (made by add_subplot, subplots or a GridSpec)")
    figure = ax.figure
    ax.remove()
    return figure, GridSpecFromSubplotSpec(rows, width, subplot_spec=spec, wspace=0.1,
                                           hspace=0.1)
