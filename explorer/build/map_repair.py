"""A workspace whose saved map (its 2-D or 5-D layout) is missing or unreadable: what is wrong, in a sentence, and
the map built again from the saved vectors, keeping the texts, vectors, index and neighbour graph as they are."""

from __future__ import annotations

import numpy as np

from explorer.build.recluster import clusters_and_topics, write_clusters_unlocked
from explorer.mapping.building import StageProgress, layout_requests, layouts_again
from explorer.workspace import Workspace, editing, files
from explorer.workspace.writer import write_layout


def layout_problem(workspace: Workspace) -> str | None:
    """Why the workspace's map cannot be drawn (a layout missing, unreadable, of the wrong shape or holding values
    that are not numbers), or None when both layouts are sound."""
    n = workspace.manifest.n_points
    for dims in (2, 5):
        name = files.layout(dims)
        if not (workspace.path / name).exists():
            return f"The map's {dims}-D layout ({name}) is missing."
        try:
            layout = workspace.layout(dims)
        except (ValueError, OSError, EOFError) as error:
            return f"The map's {dims}-D layout ({name}) cannot be read: {error}."
        if layout.shape != (n, dims):
            return f"The map's {dims}-D layout ({name}) holds {layout.shape} values for {n:,} points in {dims}-D."
        if not np.isfinite(layout).all():
            return f"The map's {dims}-D layout ({name}) holds values that are not numbers."
    return None


def rebuild_map(workspace: Workspace, *, progress: StageProgress | None = None) -> None:
    """Compute the 2-D and 5-D layouts again from the saved vectors (on the map's sample, the rest placed, when it
    was fitted on one), then the clusters, their keywords and the outlier flags; write them over the old ones."""
    progress = progress or (lambda *report: None)
    config, fitted = workspace.manifest.config, workspace.map_sample()
    requests = layout_requests(config.layout, workspace.manifest.n_points, fitted)
    display, points = layouts_again(workspace.embeddings(), workspace.knn, requests, fitted=fitted,
                                    index_config=config.index, progress=progress)
    progress("Clustering (HDBSCAN) and labelling", 0.0)
    result = clusters_and_topics(workspace, points, config.cluster)
    with editing(workspace, "a rebuild of the map"):
        write_layout(workspace.path, display, config.layout)
        write_layout(workspace.path, points, requests[1][1])
        write_clusters_unlocked(workspace, result)
    progress("Clustering (HDBSCAN) and labelling", 1.0)
