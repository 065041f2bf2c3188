"""The 3-D layout of a workspace, computed from its saved neighbour graph the first time it is asked for."""

from __future__ import annotations

import numpy as np

from explorer.mapping.building import layouts_again
from explorer.workspace import Workspace, editing
from explorer.workspace.writer import write_layout


def ensure_layout_3d(workspace: Workspace) -> np.ndarray:
    """(n, 3) the saved 3-D layout, or a new one (saved for next time) built like the 2-D map: on the map's
    sample, the other points placed, when the map was fitted on one."""
    existing = workspace.layout(3)
    if existing is not None:
        return existing
    config, fitted = workspace.manifest.config, workspace.map_sample()
    [points] = layouts_again(workspace.embeddings(), workspace.knn, [(3, config.layout)], fitted=fitted,
                             index_config=config.index)
    with editing(workspace, "the 3-D layout"):
        write_layout(workspace.path, points, config.layout)
    return points
