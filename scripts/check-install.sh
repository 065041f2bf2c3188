#!/usr/bin/env bash
# The package as a user installs it: build the wheel, install it with its pinned requirements into a fresh venv
# outside the source tree, and from another folder run `explorer --version`, `explorer build` on the packaged
# sample, `explorer app` until its health endpoint answers, one AppTest page, the notebook, and an MCP search over
# stdio; then check nothing was written inside the installed package. Run by scripts/run-tests.sh (so by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
source_tree=$(pwd)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
work=$(mktemp -d /tmp/explorer-install-XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

step() { printf '[check-install] %s\n' "$*"; }

step "building the wheel"
.venv/bin/python -m pip wheel --quiet --no-deps --no-build-isolation -w "$work/dist" . 2>/dev/null
wheel=$(ls "$work"/dist/embedding_explorer-*.whl)
.venv/bin/python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
wanted = ["explorer/app/main.py", "explorer/app/pages/map.py", "explorer/app/ui/point_map_frontend/point_map.js",
          "explorer/build/sample_data/health_tweets.csv", "explorer/mcp.py", "explorer/api.py"]
missing = [name for name in wanted if name not in names]
strays = [name for name in names if name.split("/")[0] in ("benchmarks", "tests", "ui", "app_pages")
          or "node_modules" in name or "/src/" in name]
assert not missing and not strays, (missing, strays)
print(f"[check-install] wheel {sys.argv[1].rsplit('/', 1)[1]}: {len(names)} files")
PY

step "installing it into a fresh venv outside the source tree"
start=$(date +%s)
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet torch==2.13.0
"$work/venv/bin/python" -m pip install --quiet -r requirements.txt "$wheel"
step "installed in $(( $(date +%s) - start )) s"

mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
export EXPLORER_DATA_DIR="$work/data" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bin="$work/venv/bin"
package=$("$bin/python" -c 'import explorer, pathlib; print(pathlib.Path(explorer.__file__).parent)')
case "$package" in "$source_tree"*) echo "the installed package resolves to the source tree" >&2; exit 1;; esac
before=$(find "$package" -type f ! -path '*__pycache__*' | sort | md5sum)

"$bin/explorer" --version
sample=$("$bin/python" -c 'from explorer.build.sample import sample_file; print(sample_file())')
"$bin/explorer" build "$sample" --out "$work/data/workspaces/installed-sample" --meta-col outlet --json >/dev/null
step "built a workspace of the packaged sample"

port=8765
"$bin/explorer" app --no-browser --port "$port" >"$work/app.log" 2>&1 &
server=$!
for _ in $(seq 1 90); do
  if curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null || { cat "$work/app.log" >&2; exit 1; }
kill "$server"; server=""
step "explorer app answered its health check"

"$bin/python" - <<'PY'
from pathlib import Path

from streamlit.testing.v1 import AppTest

import explorer.app.pages

at = AppTest.from_file(str(Path(explorer.app.pages.__file__).parent / "map.py"), default_timeout=180).run()
assert not at.exception, at.exception
assert any("installed-sample" in title.value for title in at.title), [title.value for title in at.title]
print("[check-install] the Map page rendered the installed workspace (AppTest)")
PY

"$bin/python" "$source_tree/scripts/run_notebook.py" "$source_tree/docs/notebook.ipynb"

"$bin/python" - "$work/data/workspaces/installed-sample" <<'PY'
import asyncio
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters

server = StdioServerParameters(command=os.path.join(os.path.dirname(sys.executable), "explorer"),
                               args=["mcp", sys.argv[1]], env=dict(os.environ))


async def ask():
    async with Client(server) as client:
        return await client.call_tool("search", {"workspace": "installed-sample", "query": "ebola outbreak", "k": 3})

result = asyncio.run(ask())
rows = result.structured_content["result"]
assert not result.is_error and len(rows) == 3 and any("bola" in row["text"] for row in rows), rows
print(f"[check-install] MCP search answered: {rows[0]['text'][:60]!r}")
PY

after=$(find "$package" -type f ! -path '*__pycache__*' | sort | md5sum)
[ "$before" = "$after" ] || { echo "something was written inside the installed package" >&2; exit 1; }
step "nothing written inside the installed package; all checks passed"
