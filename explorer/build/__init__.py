"""Everything that writes a workspace: the build (``pipeline``), re-clustering, the 3-D layout, the map rebuilt from
saved vectors (``map_repair``) and the bundled sample."""
