#!/usr/bin/env bash
# Install everything (Python packages, and Debian's Chromium for the browser tests), then run every test, then
# check the wheel installed outside the source tree (scripts/check-install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-test.txt requirements-ray.txt
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating as a failure" >&2
  exit 1
fi
# The whole suite (no arguments, as CI runs it) also installs the wheel as a user would and uses it.
if [ "$#" -eq 0 ]; then
  bash scripts/check-install.sh || status=1
fi
exit "$status"
