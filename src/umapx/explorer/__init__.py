"""The live explorer: hover anywhere in the embedding and see the sample generated there.

:func:`explore` serves one page from a local web server (the standard library's, in a daemon
thread) and returns an :class:`Explorer` handle (``.url``, ``.stop()``; shown inline in
Jupyter). On the page:

* the embedding as a scatter, coloured by label or value, with pan (drag) and zoom (wheel);
* the generated sample under the cursor, anywhere, with its confidence and the labels of the
  training points embedded nearest (the ones the sample blends);
* a 10 x 10 grid between four draggable corners (the tutorial's figure, live), a strip of
  samples along a drawn path, samples pinned side by side by clicking;
* a low-confidence overlay where the embedding has no support;
* exports of the grid, path or pins as PNG and as a NumPy ``.npy`` file of the samples.

:func:`export_html` writes the same page as one self-contained HTML file with samples
precomputed on a grid, which works offline from the file system.

Nothing is fetched from the internet: the page's script and styles are in the package.
"""

from __future__ import annotations

from .export import export_html
from .server import Explorer
from .session import ExplorerSession

__all__ = ["explore", "export_html", "Explorer", "ExplorerSession"]


def explore(mapper, labels=None, image_shape=None, feature_names=None, *, host="127.0.0.1",
            port=0, token=None, open_browser=True, verbose=False):
    """Serve the explorer page for a fitted model; return the running :class:`Explorer`.

    Parameters
    ----------
    mapper : fitted UMAP with ``n_components=2``
    labels : array-like of shape (n_samples,), optional
        Colours the points: categories (ints, strings) or values (floats with many distinct
        values), and names the training points nearest to the cursor.
    image_shape : tuple, optional
        ``(height, width)`` (grey) or ``(height, width, 3)`` (RGB, channels last): draw the
        samples as images. Otherwise each sample is a chart of its features; for a model
        fitted on sparse data (a document-term matrix), a list of its largest values and
        their columns (its top terms, see :mod:`umapx.explorer.session`).
    feature_names : sequence of str, optional
        Names for the chart or the top terms, e.g. a vocabulary (default: the model's
        ``feature_names_in_``, set when it was fitted on a pandas DataFrame).
    host : str
        Address to bind; the default accepts connections from this machine only.
    port : int
        0 picks a free port.
    token : str, bool or None
        Required from API requests when set. None: a random token when ``host`` is not a
        loopback address, none otherwise. True: always a random token.
    open_browser : bool
        Open the page in the default browser (skipped when there is no graphical one).
    verbose : bool
        Log each request to stderr.

    Returns
    -------
    Explorer
        ``.url`` the page, ``.stop()`` stops serving; also a context manager.

    Examples
    --------
    >>> explorer = umapx.explore(mapper, labels=labels, image_shape=(28, 28))  # doctest: +SKIP
    >>> explorer.url                                                           # doctest: +SKIP
    'http://127.0.0.1:41233/'
    >>> explorer.stop()                                                        # doctest: +SKIP
    """
    session = ExplorerSession(mapper, labels=labels, image_shape=image_shape,
                              feature_names=feature_names)
    explorer = Explorer(session, host=host, port=port, token=token, verbose=verbose)
    if open_browser:
        explorer.open_browser()
    return explorer
