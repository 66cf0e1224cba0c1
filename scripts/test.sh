#!/usr/bin/env bash
# Run the test suite on a fresh machine: set up .venv, fetch the Fashion-MNIST files and the
# Chromium browser (the explorer's page tests) when possible (Debian packages, needs root),
# then pytest. Arguments go to pytest, e.g.
#   bash scripts/test.sh -m "not slow"     # the quick subset
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# apt_install PACKAGE WHAT: install a Debian package as root; otherwise WHAT is skipped.
apt_install() {
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        (apt-get install -y -q "$1" >/dev/null 2>&1 \
            || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$1" >/dev/null 2>&1)) \
            || echo "note: could not install $1; $2 will be skipped" >&2
    fi
}
[ -d /usr/share/datasets/fashion-mnist ] || apt_install dataset-fashion-mnist "its tests"
command -v chromium >/dev/null || apt_install chromium "the explorer's browser tests"
exec .venv/bin/python -m pytest "$@"
