"""Session-state keys and their defaults (selections and names only, never big arrays)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.workspace import MANIFEST, list_workspaces, workspaces_root

WORKSPACE = "workspace_path"
LINK = "workspace"
"""The query parameter that names the open workspace."""
PICKER = "workspace_picker"
REPORT = "report_asked"
"""The (workspace, version, texts left out) whose report the user asked for on the Map page."""


def current_workspace() -> Path | None:
    """The workspace the link names (``?workspace=NAME``), else the one this session opened, else the newest on
    disk, else None. The link is kept naming the workspace shown, so it reopens the same view."""
    named = _named_in_link()
    chosen = st.session_state.get(WORKSPACE)
    if named is not None:
        path = named
    elif chosen and Path(chosen).is_dir():
        path = Path(chosen)
    else:
        available = list_workspaces()
        path = available[0] if available else None
    if path is not None:
        st.session_state[WORKSPACE] = str(path)
        st.query_params[LINK] = path.name
    return path


def _named_in_link() -> Path | None:
    name = st.query_params.get(LINK)
    if not name or Path(name).name != name or name.startswith("."):
        return None
    path = workspaces_root() / name
    return path if (path / MANIFEST).is_file() else None


def open_workspace(path: Path) -> None:
    st.session_state[WORKSPACE] = str(path)
    st.query_params[LINK] = Path(path).name


OWN_CLUSTERING = "own_clustering"


def own_clustering(path: Path) -> tuple[int, int, str] | None:
    """The (min cluster size, min samples, selection) of this session's unsaved re-clustering of ``path``."""
    own = st.session_state.get(OWN_CLUSTERING)
    return tuple(own[1:]) if own and own[0] == str(path) else None


def keep_own_clustering(path: Path, min_cluster_size: int, min_samples: int, selection: str) -> None:
    st.session_state[OWN_CLUSTERING] = (str(path), min_cluster_size, min_samples, selection)


def forget_own_clustering() -> None:
    st.session_state.pop(OWN_CLUSTERING, None)


def follow_default(key: str, default) -> None:
    """Give the widget ``key`` this run's default (e.g. the chosen model's chunk size) unless the user has changed
    it from the previous run's default. Call before the widget, which must then take no default of its own."""
    previous_key = f"{key}.default"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(previous_key):
        st.session_state[key] = default
    st.session_state[previous_key] = default
