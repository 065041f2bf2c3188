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


def follow_default(key: str, default) -> None:
    """Give the widget ``key`` this run's default (e.g. the chosen model's chunk size) unless the user has changed
    it from the previous run's default. Call before the widget, which must then take no default of its own."""
    previous_key = f"{key}.default"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(previous_key):
        st.session_state[key] = default
    st.session_state[previous_key] = default
