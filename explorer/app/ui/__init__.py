"""What the pages call: the cached layer (the only ``st.cache_*``), widgets, state, progress and the point map
component with its committed bundle."""
