"""Where the app keeps its data: workspaces and caches, never inside the installed package.

The data folder is, in order: ``$EXPLORER_DATA_DIR`` (the command line's ``--data-dir`` sets it); ``data/`` of a
source checkout (this package sits beside a ``pyproject.toml`` naming it); else the user's data folder
(``platformdirs.user_data_dir("embedding-explorer")``: ``~/.local/share/embedding-explorer`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "embedding-explorer"
DATA_DIR_VARIABLE = "EXPLORER_DATA_DIR"


def source_checkout() -> Path | None:
    """The repository this package runs from, or None when it is installed (no ``pyproject.toml`` of ours beside)."""
    root = Path(__file__).resolve().parent.parent
    project = root / "pyproject.toml"
    if project.is_file() and f'name = "{APP_NAME}"' in project.read_text(encoding="utf-8"):
        return root
    return None


def data_root() -> Path:
    """The app's data folder (see the module's docstring for how it is chosen)."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def workspaces_root() -> Path:
    return data_root() / "workspaces"


def embeddings_cache() -> Path:
    return data_root() / "cache" / "embeddings"


def models_cache() -> Path:
    """Models made here from bundled weights (the 8-bit ONNX MiniLM)."""
    return data_root() / "cache" / "models"
