#!/usr/bin/env bash
# Regenerate the figures shown in the README (docs/*.png) with the tutorial demo.
# Fashion-MNIST: apt-get install dataset-fashion-mnist (or any place umapx.datasets looks).
# MNIST: the 10k subset beside the checkout (../shared/data/mnist10k.npz) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
UMAPX_EXTRAS=${UMAPX_EXTRAS:-plot} bash scripts/setup.sh
mkdir -p docs
.venv/bin/umapx demo --dataset digits -o docs/digits-inverse.png
.venv/bin/umapx demo --dataset fashion-mnist -o docs/fashion-mnist-inverse.png
if [ -f ../shared/data/mnist10k.npz ]; then
    .venv/bin/umapx demo --dataset mnist --data-path ../shared/data/mnist10k.npz \
        -o docs/mnist10k-inverse.png
fi
# The explorer's screenshot: needs Playwright and a Chromium (see tests/test_explorer_browser.py).
if .venv/bin/python -c "import playwright" 2>/dev/null && command -v chromium >/dev/null; then
    .venv/bin/python benchmarks/explore.py screenshot docs/explorer.png
else
    echo "note: docs/explorer.png not regenerated (pip install playwright; apt-get install chromium)" >&2
fi
