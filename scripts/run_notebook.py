"""Execute a notebook's code cells in order, in one namespace, as a kernel would (no Jupyter needed): the CI's
check that docs/notebook.ipynb runs against the installed package. Exits 1 naming the cell that failed.

    python scripts/run_notebook.py docs/notebook.ipynb
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def run(path: Path) -> int:
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    namespace: dict = {"__name__": "__main__"}
    for number, cell in enumerate(cells, start=1):
        source = "".join(cell["source"])
        try:
            exec(compile(source, f"{path.name} cell {number}", "exec"), namespace)
        except Exception:  # noqa: BLE001 - any failure of a cell fails the notebook, with its traceback
            traceback.print_exc()
            print(f"{path.name}: code cell {number} of {len(cells)} failed", file=sys.stderr)
            return 1
    print(f"{path.name}: {len(cells)} code cells ran")
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
