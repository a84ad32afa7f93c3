#!/usr/bin/env bash
# Create .venv and install love-r1 with everything the tests need (the `dev` extra).
# torch and torchvision are pinned as a matching pair in pyproject.toml's `hf` extra.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[dev]'
