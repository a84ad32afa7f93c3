#!/usr/bin/env bash
# The default test run: offline, CPU-only. Markers slow/gpu/hub are deselected (see pyproject.toml).
# Uses the project's .venv (made by scripts/install-dev.sh) when there is one, so it works in a new shell.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then
    . .venv/bin/activate
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
python -m pytest -q "$@"
