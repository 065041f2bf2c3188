"""The only Streamlit code outside app.py and pages/: session keys, the cached layer, figures."""
