"""The app's pages, defined once so that app.py and st.switch_page use the same st.Page objects."""

import streamlit as st


def map_page() -> st.Page:
    return st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:", default=True)


def new_workspace_page() -> st.Page:
    return st.Page("pages/new_workspace.py", title="New workspace", icon=":material/add_circle:")
