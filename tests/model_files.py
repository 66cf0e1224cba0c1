"""Helpers that craft model files: edited copies of a saved model, sealed with a valid checksum.

The checksum of format 2 detects corruption; a crafted file can carry a valid one, so the
other checks of loading are tested on sealed files.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

#: A model saved in format 1 (no checksum) by an earlier umapx.
V1_MODEL = Path(__file__).parent / "data" / "digits400-exact-v1.umapx"


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def seal(path):
    """Give an archive the checksum comment of format 2 (what a crafted file would carry: the
    checksum detects corruption, the other checks catch what a crafted file holds)."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"umapx-sha256:" + b"0" * 64
    content = bytearray(path.read_bytes())
    digest = hashlib.sha256(bytes(content[:-77])).hexdigest().encode()
    content[-64:] = digest
    path.write_bytes(bytes(content))
    return path


def rewrite(source, target, edit_metadata=None, drop=(), replace=None, add=None, sealed=True):
    """Copy a model archive, editing its metadata, dropping, replacing or adding entries, and
    seal it with a valid checksum."""
    replace = replace or {}
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            name = info.filename
            if name in drop:
                continue
            data = src.read(info)
            if name == "metadata.json" and edit_metadata is not None:
                metadata = json.loads(data)
                edit_metadata(metadata)
                data = json.dumps(metadata)
            if name in replace:
                data = npy_bytes(replace[name])
            dst.writestr(name, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data if isinstance(data, bytes) else npy_bytes(data))
    return seal(target) if sealed else target
