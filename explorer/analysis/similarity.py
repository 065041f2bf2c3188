"""How similar the corpus's vectors are to each other: the baseline, nearest neighbours, clusters, anisotropy
and hubness, raw or centred (the corpus mean subtracted)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.errors import InputError
from explorer.mapping.index import IndexConfig, VectorIndex
from explorer.types import Embeddings, Neighbors


@dataclass(frozen=True, eq=False)
class SimilarityProfile:
    """Cosine similarity distributions of one corpus.

    Attributes:
        random_pairs: (m,) cosine of random pairs of distinct points: the baseline.
        nearest: (n,) each point's cosine to its nearest other point.
        within, between: (w,), (b,) cosine of random pairs in the same cluster / in two different clusters
            (noise left out); empty when there are fewer than two clusters.
        anisotropy: mean random-pair cosine (0 for directions spread evenly; near 1 when all vectors point
            one way).
        hubness: skewness of the k-occurrence (how often each point is among the others' k nearest
            neighbours); above about 1, a few "hub" points crowd many neighbour lists.
        k_occurrence: (n,) int64 the k-occurrence itself.
        centred: whether the corpus mean was subtracted first.
    """

    random_pairs: np.ndarray
    nearest: np.ndarray
    within: np.ndarray
    between: np.ndarray
    anisotropy: float
    hubness: float
    k_occurrence: np.ndarray
    k: int
    centred: bool

    def summary(self) -> dict:
        """The headline figures and what they mean, as plain numbers and sentences."""
        def median(values: np.ndarray) -> float | None:
            return float(np.median(values)) if len(values) else None

        return {"random_pair_mean": self.anisotropy, "random_pair_p99": float(np.percentile(self.random_pairs, 99)),
                "nearest_neighbour_median": median(self.nearest), "within_cluster_median": median(self.within),
                "between_cluster_median": median(self.between), "hubness": self.hubness, "k": self.k,
                "sentences": [self.anisotropy_sentence(), self.hubness_sentence()]}

    def anisotropy_sentence(self) -> str:
        level = "high" if self.anisotropy > 0.3 else "moderate" if self.anisotropy > 0.1 else "low"
        return (f"Two random texts score {self.anisotropy:.2f} cosine on average ({level} anisotropy): "
                + ("the vectors share a common direction, so raw scores look high even for unrelated texts; "
                   "judge a score against this baseline, not against 0." if level != "low" else
                   "unrelated texts score near 0, so raw scores can be read at face value."))

    def hubness_sentence(self) -> str:
        hubs = int((self.k_occurrence >= 5 * self.k).sum())
        share = hubs / max(len(self.k_occurrence), 1)
        start = f"k-occurrence skewness {self.hubness:.2f} (k = {self.k}): "
        if self.hubness <= 1:
            return start + "neighbour lists are shared out fairly evenly; no strong hubs."
        crowd = (f"{hubs:,} point{'s are' if hubs != 1 else ' is'} among the {self.k} nearest neighbours of at "
                 f"least {5 * self.k} others ({share:.1%} of the corpus)")
        if self.hubness > 3 and share >= 0.01:
            return start + f"strong hubs: {crowd}, so nearest-neighbour results keep returning the same texts."
        return (start + f"some hubness: {crowd}; these few texts turn up in many result lists, most results are "
                "unaffected.")


def unit_rows(vectors: np.ndarray, *, centre: bool = False) -> np.ndarray:
    """(n, d) float32 rows scaled to unit length, after subtracting the mean row when ``centre``."""
    rows = vectors - vectors.mean(axis=0) if centre else vectors
    return (rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def random_pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two (m,) arrays of row numbers, a[i] != b[i]."""
    first = rng.integers(0, n, n_pairs)
    second = (first + rng.integers(1, n, n_pairs)) % n
    return first, second


def similarity_profile(embeddings: Embeddings, labels: np.ndarray, *, centre: bool = False, k: int = 10,
                       knn: Neighbors | None = None, n_pairs: int = 20_000, seed: int = 0) -> SimilarityProfile:
    """The distributions and headline figures.

    Args:
        labels: (n,) cluster of each point, -1 for noise.
        knn: the workspace's cosine neighbour graph, reused when not centring (else computed here).
    """
    n = len(embeddings)
    if n < 3:
        raise InputError(f"Similarity distributions need at least 3 points; this corpus has {n}.")
    k = min(k, n - 1)
    rng = np.random.default_rng(seed)
    unit = unit_rows(embeddings.vectors, centre=centre)
    first, second = random_pairs(n, n_pairs, rng)
    baseline = np.einsum("ij,ij->i", unit[first], unit[second])
    if centre or knn is None or knn.metric != "cosine" or knn.indices.shape[1] < k:
        graph_input = Embeddings(unit, embeddings.model_id, embeddings.fingerprint, True)
        knn = VectorIndex.build(graph_input, IndexConfig(metric="cosine")).knn_graph(graph_input, k)
    neighbours = knn.indices[:, :k]
    k_occurrence = np.bincount(neighbours[neighbours >= 0].ravel(), minlength=n).astype(np.int64)
    within, between = _cluster_pairs(unit, labels, n_pairs, rng)
    return SimilarityProfile(baseline.astype(np.float32), knn.scores[:, 0].astype(np.float32), within, between,
                             float(baseline.mean()), _skewness(k_occurrence), k_occurrence, k, centre)


def _skewness(values: np.ndarray) -> float:
    from scipy.stats import skew

    return float(skew(values.astype(np.float64))) if values.std() > 0 else 0.0


def _cluster_pairs(unit: np.ndarray, labels: np.ndarray, n_pairs: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    clustered = np.flatnonzero(labels >= 0)
    if len(np.unique(labels[clustered])) < 2:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    first, second = random_pairs(len(clustered), n_pairs * 4, rng)
    first, second = clustered[first], clustered[second]
    same = labels[first] == labels[second]
    within = [first[same][:n_pairs], second[same][:n_pairs]]
    between = [first[~same][:n_pairs], second[~same][:n_pairs]]
    return (np.einsum("ij,ij->i", unit[within[0]], unit[within[1]]).astype(np.float32),
            np.einsum("ij,ij->i", unit[between[0]], unit[between[1]]).astype(np.float32))


def neighbourhood_overlap(first: Neighbors, second: Neighbors, *, k: int = 10) -> np.ndarray:
    """(n,) float32 share of each point's k nearest neighbours that two neighbour graphs of the same points
    (e.g. from two models) have in common: 1 = the same neighbourhood, 0 = nothing shared."""
    if len(first.indices) != len(second.indices):
        raise InputError("The two neighbour graphs cover different numbers of points.")
    k = min(k, first.indices.shape[1], second.indices.shape[1])
    if k < 1:
        raise InputError("Comparing neighbourhoods needs at least 1 neighbour per point.")
    shared = [len(set(a[a >= 0].tolist()) & set(b[b >= 0].tolist()))
              for a, b in zip(first.indices[:, :k], second.indices[:, :k])]
    return (np.array(shared, dtype=np.float32) / k).astype(np.float32)
