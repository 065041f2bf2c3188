"""The app's pages, defined once so that the entry and st.switch_page use the same st.Page objects.

They live in explorer/app/pages/, never in a pages/ folder beside the entry script: Streamlit runs such a folder in
its legacy multipage mode (without the entry) until st.navigation first runs in the process. Their paths are
absolute, so the same pages serve `streamlit run app.py` in a checkout and `explorer app` from an installed package.
"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent.parent / "pages"


def map_page() -> st.Page:
    return st.Page(PAGES / "map.py", title="Map", icon=":material/scatter_plot:", default=True)


def new_workspace_page() -> st.Page:
    return st.Page(PAGES / "new_workspace.py", title="New workspace", icon=":material/add_circle:")


def search_page() -> st.Page:
    return st.Page(PAGES / "search.py", title="Search", icon=":material/search:")


def quality_page() -> st.Page:
    return st.Page(PAGES / "quality.py", title="Quality", icon=":material/content_copy:")


def similarity_page() -> st.Page:
    return st.Page(PAGES / "similarity.py", title="Similarity", icon=":material/bar_chart:")


def audit_page() -> st.Page:
    return st.Page(PAGES / "audit.py", title="Calibration audit", icon=":material/rule:")


def labels_page() -> st.Page:
    return st.Page(PAGES / "labels.py", title="Label audit", icon=":material/label:")


def compression_page() -> st.Page:
    return st.Page(PAGES / "compression.py", title="Compression audit", icon=":material/compress:")


def evaluation_page() -> st.Page:
    return st.Page(PAGES / "evaluation.py", title="Retrieval evaluation", icon=":material/fact_check:")


def teach_page() -> st.Page:
    return st.Page(PAGES / "teach.py", title="Teaching mode", icon=":material/school:")


def new_data_page() -> st.Page:
    return st.Page(PAGES / "new_data.py", title="New data", icon=":material/add_location_alt:")


def chunk_lab_page() -> st.Page:
    return st.Page(PAGES / "chunk_lab.py", title="Chunking lab", icon=":material/splitscreen:")
