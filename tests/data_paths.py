"""Where the real datasets of the tests live (a module of its own, so that test modules can
import the paths: ``conftest`` names more than one file on the import path).

MNIST-10k lives in ``../shared/data/mnist10k.npz`` beside the checkout (or ``$UMAPX_MNIST10K``);
Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNIST10K = Path(os.environ.get("UMAPX_MNIST10K", REPO.parent / "shared" / "data" / "mnist10k.npz"))
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
