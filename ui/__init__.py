"""The only Streamlit code outside app.py and app_pages/: session keys, the cached layer, figures."""
