#!/usr/bin/env bash
# Create .venv and install the pinned requirements (torch first, so pip never fetches a CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -r requirements.txt
for extra in "$@"; do
  .venv/bin/python -m pip install --quiet -r "$extra"
done
# The project itself (editable, dependencies already pinned above): the `explorer` command, and imports of
# explorer/ui/benchmarks from anywhere.
.venv/bin/python -m pip install --quiet --no-deps -e .
# Compile map building's numba kernels (fast_hdbscan's, umap-learn's, ours) into their on-disk caches once per
# install: about 45 s on a new machine, which the first map would otherwise wait for.
stamp=.venv/.kernels-compiled
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  .venv/bin/python -c "from explorer.mapping.building import warm_up; warm_up()"
  touch "$stamp"
fi
