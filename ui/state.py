"""Session-state keys and their defaults (selections and names only, never big arrays)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.workspace import list_workspaces

WORKSPACE = "workspace_path"
PICKER = "workspace_picker"


def current_workspace() -> Path | None:
    """The workspace the user opened, else the newest one on disk, else None."""
    chosen = st.session_state.get(WORKSPACE)
    if chosen and Path(chosen).is_dir():
        return Path(chosen)
    available = list_workspaces()
    return available[0] if available else None


def open_workspace(path: Path) -> None:
    st.session_state[WORKSPACE] = str(path)
