"""The app's entry: the shared sidebar and the page navigation, run by Streamlit on every rerun.

``streamlit run app.py`` in a checkout and ``explorer app`` from an installed package both run :func:`run`.
"""

import logging

import streamlit as st

from explorer.app.ui import cache, state
from explorer.app.ui.navigation import (
    audit_page,
    chunk_lab_page,
    compression_page,
    evaluation_page,
    labels_page,
    map_page,
    new_data_page,
    new_workspace_page,
    quality_page,
    search_page,
    similarity_page,
    teach_page,
)
from explorer.app.ui.safe import md
from explorer.workspace import list_workspaces


def run() -> None:
    """One run of the entry script: configure the page, tidy interrupted builds, navigate."""
    logging.basicConfig(level=logging.WARNING)
    st.set_page_config(page_title="Embedding Explorer", page_icon=":material/explore:", layout="wide")
    cache.start_warm_up()
    removed = cache.stale_builds_removed()
    if removed and not st.session_state.get("stale_builds_told"):
        st.session_state["stale_builds_told"] = True
        st.toast(f"Removed what an interrupted build left behind (workspace {md(', '.join(removed))}); "
                 "the saved workspaces are intact.")

    navigation = st.navigation([map_page(), search_page(), similarity_page(), quality_page(), audit_page(),
                                evaluation_page(), chunk_lab_page(), labels_page(), compression_page(), new_data_page(),
                                teach_page(), new_workspace_page()])

    with st.sidebar:
        workspaces = {path.name: path for path in list_workspaces()}
        current = state.current_workspace()
        if workspaces and current is not None:
            st.session_state[state.PICKER] = current.name
            st.selectbox("Workspace", list(workspaces), key=state.PICKER,
                         on_change=lambda: state.open_workspace(workspaces[st.session_state[state.PICKER]]),
                         help="Every workspace you built; re-opening one is instant.")

    navigation.run()


if __name__ == "__main__":
    run()
