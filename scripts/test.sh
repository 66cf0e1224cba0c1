#!/usr/bin/env bash
# Run the test suite on a fresh machine: set up .venv, fetch the Fashion-MNIST files when
# possible (Debian package, needs root), then pytest. Arguments go to pytest, e.g.
#   bash scripts/test.sh -m "not slow"     # the quick subset
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null \
        && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
        || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)) \
        || echo "note: could not install dataset-fashion-mnist; its tests will be skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
