#!/usr/bin/env bash
# The default test run: offline, CPU-only. Markers slow/gpu/hub are deselected (see pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
python -m pytest -q "$@"
