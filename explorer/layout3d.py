"""The 3-D layout of a workspace, computed from its saved neighbour graph the first time it is asked for."""

from __future__ import annotations

import numpy as np

from explorer.map_building import graph_or_none, layouts_or_pca
from explorer.workspace import Workspace
from explorer.workspace.writer import write_layout


def ensure_layout_3d(workspace: Workspace) -> np.ndarray:
    """(n, 3) the saved 3-D layout, or a new one (saved for next time) built like the 2-D map."""
    existing = workspace.layout(3)
    if existing is not None:
        return existing
    config = workspace.manifest.config.layout
    knn, embeddings = workspace.knn(), workspace.embeddings()
    [points] = layouts_or_pca(graph_or_none(knn, embeddings.vectors, config), embeddings.vectors, [(3, config)],
                              knn.metric)
    write_layout(workspace.path, points, config)
    return points
