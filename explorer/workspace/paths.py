"""Where workspaces live, and what a workspace may be named."""

from __future__ import annotations

import os
import re
from pathlib import Path

from explorer.errors import InputError
from explorer.workspace.files import MANIFEST

_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def data_root() -> Path:
    """The app's data folder: $EXPLORER_DATA_DIR, or data/ in the repository."""
    return Path(os.environ.get("EXPLORER_DATA_DIR", Path(__file__).resolve().parents[2] / "data"))


def workspaces_root() -> Path:
    return data_root() / "workspaces"


def embeddings_cache() -> Path:
    return data_root() / "cache" / "embeddings"


def models_cache() -> Path:
    """Models made here from bundled weights (the 8-bit ONNX MiniLM)."""
    return data_root() / "cache" / "models"


def safe_name(name: str) -> str:
    cleaned = _NAME.sub("-", name.strip()).strip("-.")
    if not cleaned:
        raise InputError("Give the workspace a name made of letters, digits, '-', '_' or '.'.")
    return cleaned[:80]


def list_workspaces(root: Path | None = None) -> list[Path]:
    """Complete workspaces under ``root``, newest first."""
    root = root or workspaces_root()
    if not root.is_dir():
        return []
    found = [path for path in root.iterdir() if (path / MANIFEST).is_file() and not path.name.startswith(".")]
    return sorted(found, key=lambda path: (path / MANIFEST).stat().st_mtime, reverse=True)
