#!/usr/bin/env bash
# Set up a fresh machine for umapx: a virtual environment in .venv with the package (editable)
# and the extras named in $UMAPX_EXTRAS (default: test and plot). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
EXTRAS=${UMAPX_EXTRAS:-test,plot}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${EXTRAS}]"
# Compile the common numba kernels into numba's cache now (about a minute of CPU the first time,
# a few seconds when they are cached already), so that the first fit / transform does not wait
# for them. UMAPX_PRECOMPILE=0 skips it.
if [ "${UMAPX_PRECOMPILE:-1}" != 0 ]; then
    .venv/bin/python -m umapx.precompile
fi
