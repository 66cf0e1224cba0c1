"""``umapx.load``: read any saved umapx model (a :class:`~umapx.UMAP` or an
:class:`~umapx.aligned_umap.AlignedUMAP`), choosing by the kind the file declares."""

from __future__ import annotations

from . import _compile_ahead


def load(path):
    """Load a model written by :meth:`UMAP.save` or :meth:`AlignedUMAP.save`.

    Nothing is unpickled and nothing expensive is recomputed; every entry of the file is
    validated first (see :mod:`umapx.persistence`).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    UMAP or AlignedUMAP
        The fitted model: its ``transform`` and ``inverse_transform`` give bit-identical
        results to the saved model's.

    Raises
    ------
    umapx.persistence.ModelFormatError
        If the file is not a umapx model, is truncated or corrupt, is inconsistent, or was
        written in a newer format version than this umapx reads.
    OSError
        If the file cannot be opened.
    """
    # With an empty numba cache, the kernels of the model's first transform start compiling in
    # another process now, while this one imports scikit-learn and reads the file.
    _compile_ahead.for_saved_model(path)
    from . import persistence

    saved = persistence.read_any(path)
    if isinstance(saved, persistence.SavedModel):
        from .estimator import from_saved

        return from_saved(saved, path)
    from .aligned_umap import load_aligned

    try:
        return load_aligned(saved)
    except (TypeError, ValueError) as error:
        raise persistence.ModelFormatError(
            f"{path} is not a valid umapx AlignedUMAP file: its parameters are invalid or do "
            f"not fit its content ({error})") from error
