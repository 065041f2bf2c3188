"""One file per page, each reading like a description of its UI. Not a top-level ``pages/`` folder: Streamlit runs
such a folder beside the entry script in its legacy multipage mode."""
