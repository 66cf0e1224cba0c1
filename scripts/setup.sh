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
