"""Write docs/workspace-format.md from the workspace package's own description (``explorer/workspace/files.py``).

    python scripts/workspace_doc.py        (tests/workspace/test_workspace_format.py checks the file is current)
"""

from __future__ import annotations

import inspect
from pathlib import Path

from explorer.workspace import files, safety

DOC = Path(__file__).resolve().parent.parent / "docs" / "workspace-format.md"


def workspace_doc() -> str:
    return f"""# Workspace format

Generated from `explorer/workspace/files.py` by `scripts/workspace_doc.py`; do not edit by hand.

One package, `explorer/workspace/`, owns the folder: its file names are defined once (`files.py`), every read is in
`folder.py` and every write in `writer.py`. Every binary artifact has its own JSON sidecar (`points.parquet` ->
`points.json`) naming its step, parameters, upstream artifacts and library versions; JSON artifacts carry that
record inside. Writes are atomic (temp file + rename; a whole workspace is built in a hidden folder and swapped in),
nothing is pickled. A FAISS index refuses query vectors from another model or metric with a clear error. A
workspace of a newer format is refused with a message saying to update.

## Files (format {files.FORMAT_VERSION})

```
{inspect.cleandoc(files.__doc__)}
```

## Builds and edits

{inspect.cleandoc(safety.__doc__)}
"""


if __name__ == "__main__":
    DOC.write_text(workspace_doc())
