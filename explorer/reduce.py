"""UMAP layouts built from the FAISS k-nearest-neighbour graph (UMAP's own neighbour search is skipped).

The fuzzy graph is computed once and shared: a 2-D (or 3-D) layout for display and a 5-D layout,
optimised with fewer epochs, for clustering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.errors import InputError
from explorer.types import Neighbors

MIN_POINTS = 5


@dataclass(frozen=True)
class LayoutConfig:
    """UMAP parameters. ``n_epochs=None`` uses UMAP's default (200 above 10k points, 500 below)."""

    n_neighbors: int = 15
    min_dist: float = 0.1
    spread: float = 1.0
    n_epochs: int | None = None
    seed: int = 42

    def __post_init__(self) -> None:
        if not 2 <= self.n_neighbors <= 200:
            raise InputError("UMAP n_neighbors must be between 2 and 200.")
        if not 0.0 <= self.min_dist <= self.spread:
            raise InputError("UMAP min_dist must be between 0 and spread (1.0).")
        if self.n_epochs is not None and self.n_epochs < 10:
            raise InputError("UMAP needs at least 10 epochs.")


CLUSTER_LAYOUT = LayoutConfig(min_dist=0.0, n_epochs=100)
"""The clustering layout: tight clumps (min_dist 0) and fewer epochs, since nobody looks at it."""


@dataclass(frozen=True, eq=False)
class FuzzyGraph:
    """UMAP's weighted neighbour graph: a sparse (n, n) matrix shared by every layout of the corpus."""

    graph: object
    n_neighbors: int


def fuzzy_graph(knn: Neighbors, *, n_neighbors: int = 15, seed: int = 42) -> FuzzyGraph:
    """Turn the k-NN graph (first ``n_neighbors`` columns, self excluded) into UMAP's fuzzy graph."""
    from umap.umap_ import fuzzy_simplicial_set

    n = len(knn.indices)
    if n < MIN_POINTS:
        raise InputError(f"A map needs at least {MIN_POINTS} points; this corpus has {n}.")
    k = min(n_neighbors, n - 1, knn.indices.shape[1])
    # UMAP expects each point to be its own first neighbour at distance 0.
    indices = np.hstack([np.arange(n)[:, None], knn.indices[:, : k - 1]]).astype(np.int32)
    distances = np.hstack([np.zeros((n, 1), np.float32), knn.distances()[:, : k - 1]])
    graph, _, _ = fuzzy_simplicial_set(np.zeros((n, 1), np.float32), k, np.random.RandomState(seed), "euclidean",
                                       knn_indices=indices, knn_dists=distances)
    return FuzzyGraph(graph, k)


def layout(graph: FuzzyGraph, vectors: np.ndarray, *, n_components: int, metric: str = "cosine",
           config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Optimise an (n, n_components) float32 layout of the fuzzy graph; same seed, same layout.

    Args:
        graph: the shared fuzzy graph of the n points.
        vectors: (n, d) the embeddings; UMAP places disconnected parts of the graph by them.
    """
    from umap.umap_ import find_ab_params, simplicial_set_embedding

    n = graph.graph.shape[0]
    a, b = find_ab_params(config.spread, config.min_dist)
    init = "spectral" if n > n_components + 1 else "random"
    embedding, _ = simplicial_set_embedding(
        vectors, graph.graph.tocoo(copy=True), n_components, 1.0, a, b, 1.0, 5, config.n_epochs, init,
        np.random.RandomState(config.seed), "euclidean" if metric == "euclidean" else "cosine", {}, False, {}, False)
    return _standardise(embedding)


def small_layout(vectors: np.ndarray, *, n_components: int) -> np.ndarray:
    """PCA coordinates for corpora too small for UMAP: (n, n_components) float32, zero-padded."""
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:n_components].T
    padded = np.zeros((len(vectors), n_components), np.float32)
    padded[:, : projected.shape[1]] = projected
    return _standardise(padded)


def _standardise(embedding: np.ndarray) -> np.ndarray:
    centred = embedding - embedding.mean(axis=0)
    scale = np.abs(centred).max() or 1.0
    return (centred / scale * 10).astype(np.float32)
