"""Plotly figures (``charts``, ``linked``, ``new_data``) and the WebGL point map's data (``point_map``); no
Streamlit."""
