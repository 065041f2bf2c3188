"""The Streamlit app, the only package that imports Streamlit: the entry (``main``), one file per page (``pages``) and
the cached layer, widgets and the point map component (``ui``)."""
