"""What a workspace may be named, and which complete workspaces there are."""

from __future__ import annotations

import re
from pathlib import Path

from explorer.errors import InputError
from explorer.paths import workspaces_root
from explorer.workspace.files import MANIFEST

_NAME = re.compile(r"[^A-Za-z0-9._-]+")


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
