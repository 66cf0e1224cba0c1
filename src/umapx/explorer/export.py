"""The explorer page as one self-contained HTML file (no server, no network, works from file://).

The file holds the page's script and styles inline, the embedding and labels, the confidence
raster, and samples generated on a regular grid over the embedding, quantised to 8 bits per
feature (each feature's range over the grid split into 255 steps). The page then shows, for any
point, the sample of the nearest grid point, and says so.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from .session import ExplorerSession, grid_over

STATIC_DIR = Path(__file__).resolve().parent / "static"
_STYLE_TAG = '<link rel="stylesheet" href="static/explorer.css">'
_SCRIPT_TAG = '<script src="static/explorer.js"></script>'
#: Largest grid side accepted (grid**2 samples are stored).
MAX_GRID = 256


def export_html(mapper, path, labels=None, image_shape=None, feature_names=None, grid=48,
                session=None):
    """Write the explorer as one offline HTML file with samples precomputed on a grid.

    Parameters
    ----------
    mapper : fitted UMAP with ``n_components=2``
    path : str or os.PathLike
        The HTML file to write (replaced if it exists).
    labels, image_shape, feature_names
        As for :func:`umapx.explore`.
    grid : int
        Samples are precomputed at the centres of a ``grid`` x ``grid`` raster over the
        embedding (plus a 5% margin); the file grows with ``grid**2 * n_features`` bytes
        (``grid**2 * 5 * TOP_TERMS`` for the top terms of a sparse model).
    session : ExplorerSession, optional
        Reuse a prepared session (then ``labels``, ``image_shape`` and ``feature_names`` are
        taken from it).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    grid = int(grid)
    if not 2 <= grid <= MAX_GRID:
        raise ValueError(f"grid must be between 2 and {MAX_GRID}, got {grid}")
    if session is None:
        session = ExplorerSession(mapper, labels=labels, image_shape=image_shape,
                                  feature_names=feature_names)
    points = grid_over(session.support_bounds, grid, grid)
    samples, confidence, neighbours = session.inverse_in_batches(points)
    columns = None
    if session.terms:  # top terms: the column numbers are kept exact, apart from the values
        samples, columns = samples[:, :session.terms], samples[:, session.terms:]
    low, high = samples.min(axis=0), samples.max(axis=0)
    step = np.where(high > low, (high - low) / 255.0, 1.0)
    quantised = np.clip(np.rint((samples - low) / step), 0, 255).astype(np.uint8)
    data = {
        "meta": session.meta(),
        "points": _b64(session.points_bytes()),
        "labels": _b64(session.labels_bytes()),
        "support": _b64(session.support_bytes()),
        "grid": {"side": grid, "bounds": [float(v) for v in session.support_bounds],
                 "samples": _b64(quantised.tobytes()),
                 "low": low.astype(float).tolist(), "step": step.astype(float).tolist(),
                 "confidence": _b64(confidence.astype("<f4").tobytes()),
                 "neighbours": _b64(neighbours.astype("<i4").tobytes()),
                 "k": int(neighbours.shape[1])},
    }
    if columns is not None:
        data["grid"]["columns"] = _b64(columns.astype("<i4").tobytes())
    page = render_static_page(data)
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, path)
    return path


def render_static_page(data):
    """The page's HTML with its script, styles and ``data`` (a JSON-ready dict) inline."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    style = (STATIC_DIR / "explorer.css").read_text(encoding="utf-8")
    script = (STATIC_DIR / "explorer.js").read_text(encoding="utf-8")
    if _STYLE_TAG not in html or _SCRIPT_TAG not in html:
        raise RuntimeError("index.html lacks the style or script tag the export replaces")
    if "</script" in script.lower() or "</style" in style.lower():
        raise RuntimeError("the page's script or style would end its inline tag")
    # In JSON "<" is escaped, so no label or feature name can close the script element.
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    html = html.replace(_STYLE_TAG, f"<style>\n{style}</style>")
    return html.replace(_SCRIPT_TAG, f'<script type="application/json" id="umapx-data">'
                                     f"{payload}</script>\n<script>\n{script}</script>")


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")
