"""Embedding Explorer: entry point with the shared sidebar and the page navigation."""

import logging

import streamlit as st

from explorer.workspace import list_workspaces
from ui import cache, state

logging.basicConfig(level=logging.WARNING)
st.set_page_config(page_title="Embedding Explorer", page_icon=":material/explore:", layout="wide")
cache.start_numba_warmup()

pages = [
    st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:", default=True),
    st.Page("pages/new_workspace.py", title="New workspace", icon=":material/add_circle:"),
]
navigation = st.navigation(pages)

with st.sidebar:
    workspaces = {path.name: path for path in list_workspaces()}
    current = state.current_workspace()
    if workspaces and current is not None:
        st.session_state[state.PICKER] = current.name
        st.selectbox("Workspace", list(workspaces), key=state.PICKER,
                     on_change=lambda: state.open_workspace(workspaces[st.session_state[state.PICKER]]),
                     help="Every workspace you built; re-opening one is instant.")

navigation.run()
