"""The 3-D layout of a workspace, computed from its saved neighbour graph the first time it is asked for."""

from __future__ import annotations

import numpy as np

from explorer.map_building import graph_or_none, layouts_or_pca, sampled_layouts
from explorer.workspace import Workspace
from explorer.workspace.writer import write_layout


def ensure_layout_3d(workspace: Workspace) -> np.ndarray:
    """(n, 3) the saved 3-D layout, or a new one (saved for next time) built like the 2-D map: on the map's
    sample, the other points placed, when the map was fitted on one."""
    existing = workspace.layout(3)
    if existing is not None:
        return existing
    config, fitted = workspace.manifest.config, workspace.map_sample()
    embeddings = workspace.embeddings()
    if fitted is not None:
        [points] = sampled_layouts(embeddings, fitted, [(3, config.layout)], index_config=config.index)
    else:
        knn = workspace.knn()
        [points] = layouts_or_pca(graph_or_none(knn, embeddings.vectors, config.layout), embeddings.vectors,
                                  [(3, config.layout)], knn.metric)
    write_layout(workspace.path, points, config.layout)
    return points
