"""Comparing two models on the same texts: how much of each point's neighbourhood changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer.analysis.flags import cosine_neighbours
from explorer.analysis.similarity import neighbourhood_overlap
from explorer.embedding.embed import embed_texts
from explorer.embedding.encoders import Encoder
from explorer.mapping.index import VectorIndex
from explorer.workspace import Workspace, embeddings_cache


def compare_models(workspace: Workspace, other: Encoder, *, k: int = 10, cache_dir: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(n,) share of each point's k nearest neighbours that stay the same when the workspace's texts are embedded
    with ``other`` instead of the workspace's model (cosine neighbours under both)."""
    theirs = embed_texts(workspace.texts(), other, cache_dir=cache_dir or embeddings_cache(), progress=progress)
    ours_graph = cosine_neighbours(workspace.embeddings(), workspace.knn(), k=k)
    their_graph = VectorIndex.build(theirs).knn_graph(theirs, k)
    return neighbourhood_overlap(ours_graph, their_graph, k=k)
