#!/usr/bin/env bash
# The benchmark-only environment with Embedding Atlas 0.26 (see requirements-atlas.txt): .venv-atlas/
set -euo pipefail
cd "$(dirname "$0")/.."
python3.11 -m venv .venv-atlas
.venv-atlas/bin/pip install --quiet -r benchmarks/requirements-atlas.txt
.venv-atlas/bin/pip install --quiet --no-deps embedding-atlas==0.26.0
.venv-atlas/bin/python -c "from embedding_atlas.projection import compute_projection; print('embedding-atlas ready')"
