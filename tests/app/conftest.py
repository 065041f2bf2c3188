import pytest
import streamlit as st

from explorer.app.ui import cache


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """Each test starts from empty caches; of the shared resources only the map's data is dropped (the models stay
    loaded)."""
    st.cache_data.clear()
    cache.map_data.clear()
    yield
    st.cache_data.clear()
    cache.map_data.clear()
