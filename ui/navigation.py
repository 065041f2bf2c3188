"""The app's pages, defined once so that app.py and st.switch_page use the same st.Page objects.

They live in app_pages/, not pages/: Streamlit runs a pages/ folder beside app.py in its legacy
multipage mode (without app.py) until st.navigation first runs in the process.
"""

import streamlit as st


def map_page() -> st.Page:
    return st.Page("app_pages/map.py", title="Map", icon=":material/scatter_plot:", default=True)


def new_workspace_page() -> st.Page:
    return st.Page("app_pages/new_workspace.py", title="New workspace", icon=":material/add_circle:")


def search_page() -> st.Page:
    return st.Page("app_pages/search.py", title="Search", icon=":material/search:")


def quality_page() -> st.Page:
    return st.Page("app_pages/quality.py", title="Quality", icon=":material/content_copy:")


def similarity_page() -> st.Page:
    return st.Page("app_pages/similarity.py", title="Similarity", icon=":material/bar_chart:")


def audit_page() -> st.Page:
    return st.Page("app_pages/audit.py", title="Calibration audit", icon=":material/rule:")


def labels_page() -> st.Page:
    return st.Page("app_pages/labels.py", title="Label audit", icon=":material/label:")


def compression_page() -> st.Page:
    return st.Page("app_pages/compression.py", title="Compression audit", icon=":material/compress:")


def evaluation_page() -> st.Page:
    return st.Page("app_pages/evaluation.py", title="Retrieval evaluation", icon=":material/fact_check:")


def teach_page() -> st.Page:
    return st.Page("app_pages/teach.py", title="Teaching mode", icon=":material/school:")


def new_data_page() -> st.Page:
    return st.Page("app_pages/new_data.py", title="New data", icon=":material/add_location_alt:")


def chunk_lab_page() -> st.Page:
    return st.Page("app_pages/chunk_lab.py", title="Chunking lab", icon=":material/splitscreen:")
