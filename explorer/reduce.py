"""UMAP layouts built from the FAISS k-nearest-neighbour graph (UMAP's own neighbour search is skipped).

The fuzzy graph is computed once and shared: a 2-D (or 3-D) layout for display and a 5-D layout,
optimised with fewer epochs, for clustering.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from explorer.errors import InputError
from explorer.types import Neighbors

MIN_POINTS = 5


@dataclass(frozen=True)
class LayoutConfig:
    """UMAP parameters. ``n_epochs=None`` uses UMAP's default (200 above 10k points, 500 below).

    200 epochs by default: on 10k real tweets, 500 epochs took 2.7x longer for a trustworthiness of
    0.837 against 0.829. ``parallel=True`` optimises on every core, faster but not reproducible.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    spread: float = 1.0
    n_epochs: int | None = 200
    seed: int = 42
    parallel: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.n_neighbors <= 200:
            raise InputError("UMAP n_neighbors must be between 2 and 200.")
        if not 0.0 <= self.min_dist <= self.spread:
            raise InputError("UMAP min_dist must be between 0 and spread (1.0).")
        if self.n_epochs is not None and self.n_epochs < 10:
            raise InputError("UMAP needs at least 10 epochs.")


def cluster_layout_config(display: LayoutConfig = LayoutConfig()) -> LayoutConfig:
    """The clustering layout's parameters: the display layout's, with tight clumps (min_dist 0) and
    fewer epochs, since nobody looks at it."""
    return replace(display, min_dist=0.0, n_epochs=100)


@dataclass(frozen=True, eq=False)
class FuzzyGraph:
    """UMAP's weighted neighbour graph over the corpus's distinct vectors, shared by every layout.

    Identical vectors (repeated texts) share one node, as with UMAP's ``unique=True``: otherwise a
    handful of copies take all of each other's weight and split off as a far-away island.

    Attributes:
        graph: sparse (u, u) weights between the u distinct vectors.
        n_neighbors: neighbours per node used to build it.
        representatives: (u,) corpus row of each distinct vector's first occurrence.
        inverse: (n,) node of every corpus row.
    """

    graph: object
    n_neighbors: int
    representatives: np.ndarray
    inverse: np.ndarray


def distinct_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(representatives (u,), inverse (n,)): first row of each distinct vector, in corpus order, and each row's one."""
    rows = np.ascontiguousarray(vectors)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def fuzzy_graph(knn: Neighbors, vectors: np.ndarray, *, n_neighbors: int = 15) -> FuzzyGraph:
    """Turn the k-NN graph (self excluded) of ``vectors`` (n, d) into UMAP's fuzzy graph over distinct vectors."""
    representatives, inverse = distinct_rows(vectors)
    u = len(representatives)
    if u < MIN_POINTS:
        raise InputError(f"A map needs at least {MIN_POINTS} distinct texts; this corpus has {u}.")
    k = min(n_neighbors, u - 1, knn.indices.shape[1])
    neighbours, distances = _distinct_neighbours(knn, representatives, inverse, k - 1)
    # UMAP expects each node to be its own first neighbour at distance 0.
    indices = np.hstack([np.arange(u)[:, None], neighbours]).astype(np.int32)
    distances = np.hstack([np.zeros((u, 1), np.float32), distances])
    return FuzzyGraph(fuzzy_simplicial_set(indices, distances, k), k, representatives, inverse)


def fuzzy_simplicial_set(indices: np.ndarray, distances: np.ndarray, n_neighbors: int):
    """umap-learn's ``fuzzy_simplicial_set`` for a given k-NN graph, with its numba kernels cached on disk.

    Args:
        indices: (u, k) int32 neighbours of each node, itself first; -1 pads.
        distances: (u, k) float32 matching distances, 0 first.

    Returns a sparse (u, u) matrix of symmetric membership strengths (fuzzy union).
    """
    import scipy.sparse

    smooth_knn_dist, compute_membership_strengths = _cached_umap_kernels()
    distances = np.ascontiguousarray(distances, dtype=np.float32)
    sigmas, rhos = smooth_knn_dist(distances, float(n_neighbors), local_connectivity=1.0)
    rows, cols, values, _ = compute_membership_strengths(indices, distances, sigmas, rhos, False)
    strengths = scipy.sparse.coo_matrix((values, (rows, cols)), shape=(len(indices), len(indices)))
    strengths.eliminate_zeros()
    transpose = strengths.transpose()
    union = strengths + transpose - strengths.multiply(transpose)
    union.eliminate_zeros()
    return union


@functools.cache
def _cached_umap_kernels():
    """umap-learn's graph kernels recompiled with ``cache=True``: umap-learn does not cache them, so every
    fresh process would spend ~6 s compiling them; with the cache only the first process on a machine does."""
    import numba
    import umap.umap_ as umap_

    def cached(dispatcher):
        options = {key: value for key, value in dispatcher.targetoptions.items() if key != "nopython"}
        return numba.njit(cache=True, locals=dispatcher.locals, **options)(dispatcher.py_func)

    return cached(umap_.smooth_knn_dist), cached(umap_.compute_membership_strengths)


def _distinct_neighbours(knn: Neighbors, representatives: np.ndarray, inverse: np.ndarray,
                         width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each node's nearest other nodes: neighbour rows mapped to nodes, copies and itself dropped; -1 pads."""
    rows, all_distances = knn.indices[representatives], knn.distances()[representatives]
    if len(representatives) == len(inverse):
        return rows[:, :width], all_distances[:, :width]
    nodes = np.where(rows >= 0, inverse[np.maximum(rows, 0)], -1)
    indices = np.full((len(representatives), width), -1, np.int64)
    distances = np.full((len(representatives), width), np.inf, np.float32)
    for node, (candidates, candidate_distances) in enumerate(zip(nodes, all_distances)):
        seen = {node, -1}
        filled = 0
        for candidate, distance in zip(candidates, candidate_distances):
            if candidate in seen:
                continue
            seen.add(candidate)
            indices[node, filled], distances[node, filled] = candidate, distance
            filled += 1
            if filled == width:
                break
    return indices, distances


def layout(graph: FuzzyGraph, vectors: np.ndarray, *, n_components: int, metric: str = "cosine",
           config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Optimise an (n, n_components) float32 layout of the fuzzy graph; same seed, same layout.

    Args:
        graph: the shared fuzzy graph of the n points' distinct vectors.
        vectors: (n, d) the embeddings; UMAP places disconnected parts of the graph by them.

    Identical vectors get identical coordinates.
    """
    from umap.umap_ import find_ab_params, simplicial_set_embedding

    n = graph.graph.shape[0]
    a, b = find_ab_params(config.spread, config.min_dist)
    init = "spectral" if n > n_components + 1 else "random"
    embedding, _ = simplicial_set_embedding(
        vectors[graph.representatives], graph.graph.tocoo(copy=True), n_components, 1.0, a, b, 1.0, 5, config.n_epochs, init,
        np.random.RandomState(config.seed), "euclidean" if metric == "euclidean" else "cosine", {}, False, {}, False,
        parallel=config.parallel)
    return _standardise(embedding[graph.inverse])


def small_layout(vectors: np.ndarray, *, n_components: int) -> np.ndarray:
    """PCA coordinates for corpora too small for UMAP: (n, n_components) float32, zero-padded."""
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:n_components].T
    padded = np.zeros((len(vectors), n_components), np.float32)
    padded[:, : projected.shape[1]] = projected
    return _standardise(padded)


def _standardise(embedding: np.ndarray) -> np.ndarray:
    """Centre and scale so the bulk of the points spans about [-10, 10] (a few far islands may lie beyond)."""
    centred = embedding - np.median(embedding, axis=0)
    scale = np.percentile(np.abs(centred), 99) or np.abs(centred).max() or 1.0
    return (centred / scale * 10).astype(np.float32)
