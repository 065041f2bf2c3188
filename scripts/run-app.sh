#!/usr/bin/env bash
# Install everything, then start the app; it opens on the bundled sample with the bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The first map (the bundled sample) starts building with the server, not when the first browser opens; the
# Map page shows its progress. Nothing happens when the sample's workspace already exists.
.venv/bin/explorer sample >/dev/null 2>&1 &
exec .venv/bin/streamlit run app.py "$@"
