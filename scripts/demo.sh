#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, then run the tutorial's inverse-transform demo
# on the bundled digits data and write the figure (default umapx-demo.png). Arguments go to
# `umapx demo`, e.g.  bash scripts/demo.sh --dataset fashion-mnist -o fashion.png
set -euo pipefail
cd "$(dirname "$0")/.."
UMAPX_EXTRAS=${UMAPX_EXTRAS:-plot} bash scripts/setup.sh
exec .venv/bin/umapx demo "$@"
