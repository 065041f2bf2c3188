"""FAISS index over Embeddings: exact up to a size bound, HNSW (exact scores) above; refuses foreign query vectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.errors import IndexMismatchError, InputError
from explorer.types import Embeddings, Neighbors

METRICS = ("cosine", "dot", "euclidean")
BATCH_ROWS = 65_536
"""Rows added to an HNSW index, or searched for a graph, per call: progress is reported between batches."""
Fraction = Callable[[float], None]


@dataclass(frozen=True)
class IndexConfig:
    """``cosine`` = inner product on L2-normalised vectors. Above ``exact_limit`` points, HNSW is used."""

    metric: str = "cosine"
    exact_limit: int = 20_000
    # Above the bound: an HNSW graph over 8-bit scalar-quantised vectors finds candidates, whose exact scores
    # are then recomputed from the full vectors (so every returned score is exact). Measured on 50k real tweets
    # (WordLlama, 2 cores), building the index and the 30-NN graph with efSearch 80: recall@15 0.91 against
    # exact search in 3.3 s, against 0.90 in 6.4 s for HNSW over the float vectors (efSearch 64), and 0.97 in
    # 15.1 s with M=32, efConstruction=80, efSearch=96. Searches after the build (typed queries, a point's
    # neighbours) take well under a millisecond each, so they search deeper: at 100k MiniLM vectors, recall@10
    # 0.97 with efSearch 200 against 0.94 with 80.
    hnsw_m: int = 16
    ef_construction: int = 40
    graph_ef_search: int = 80
    ef_search: int = 200

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InputError(f"Metric '{self.metric}' is not supported; choose one of {', '.join(METRICS)}.")
        depths = (self.ef_search, self.graph_ef_search, self.ef_construction)
        if self.exact_limit < 0 or self.hnsw_m < 4 or min(depths) < 1:
            raise InputError("Index parameters must be positive (hnsw_m at least 4).")


class VectorIndex:
    """A built FAISS index plus the identity of the vectors it accepts."""

    def __init__(self, faiss_index, *, fingerprint: str, model_id: str, metric: str, kind: str,
                 graph_ef_search: int = IndexConfig.graph_ef_search) -> None:
        self.faiss_index, self.fingerprint, self.model_id = faiss_index, fingerprint, model_id
        self.metric, self.kind, self.graph_ef_search = metric, kind, graph_ef_search

    @property
    def dim(self) -> int:
        return int(self.faiss_index.d)

    def __len__(self) -> int:
        return int(self.faiss_index.ntotal)

    @classmethod
    def build(cls, embeddings: Embeddings, config: IndexConfig = IndexConfig(), *,
              progress: Fraction | None = None) -> VectorIndex:
        """Index the vectors; ``progress`` receives the share added (an HNSW index adds them in batches)."""
        import faiss

        vectors = _prepare(embeddings.vectors, config.metric)
        faiss_metric = faiss.METRIC_L2 if config.metric == "euclidean" else faiss.METRIC_INNER_PRODUCT
        if len(vectors) <= config.exact_limit:
            index, kind = faiss.IndexFlat(embeddings.dim, faiss_metric), "exact"
        else:
            candidates = faiss.IndexHNSWSQ(embeddings.dim, faiss.ScalarQuantizer.QT_8bit, config.hnsw_m,
                                           faiss_metric)
            candidates.hnsw.efConstruction = config.ef_construction
            candidates.hnsw.efSearch = config.ef_search
            index, kind = faiss.IndexRefineFlat(candidates), "hnsw"
            index.train(vectors)
        for start in range(0, len(vectors), BATCH_ROWS):
            index.add(vectors[start:start + BATCH_ROWS])
            if progress is not None:
                progress(min(start + BATCH_ROWS, len(vectors)) / len(vectors))
        return cls(index, fingerprint=embeddings.fingerprint, model_id=embeddings.model_id,
                   metric=config.metric, kind=kind, graph_ef_search=config.graph_ef_search)

    def check_compatible(self, queries: Embeddings, metric: str | None = None) -> None:
        """Raise IndexMismatchError unless the queries come from this index's model and metric."""
        if queries.fingerprint != self.fingerprint:
            raise IndexMismatchError(
                f"This index holds vectors from '{self.model_id}' ({self.fingerprint}); the query vectors "
                f"come from '{queries.model_id}' ({queries.fingerprint}). Embed the query with "
                f"'{self.model_id}': scores across models are meaningless.")
        if metric is not None and metric != self.metric:
            raise IndexMismatchError(f"This index was built for the {self.metric} metric, not {metric}; "
                                     f"rebuild it or search with {self.metric}.")
        if queries.dim != self.dim:
            raise IndexMismatchError(f"Query vectors have {queries.dim} dimensions; the index has {self.dim}.")

    def search(self, queries: Embeddings, k: int, *, metric: str | None = None) -> Neighbors:
        """Top-k neighbours of each query row, best first (similarity, or distance for euclidean)."""
        return self._search(queries, k, metric=metric)

    def _search(self, queries: Embeddings, k: int, *, metric: str | None = None, ef_search: int | None = None
                ) -> Neighbors:
        import faiss

        self.check_compatible(queries, metric)
        if k < 1:
            raise InputError("k must be at least 1.")
        params = hnsw_params = None  # hnsw_params stays referenced here: the refine parameters only point at it
        if ef_search is not None and self.kind == "hnsw":
            hnsw_params = faiss.SearchParametersHNSW(efSearch=ef_search)
            # Indexes saved before HNSW searched quantised vectors are plain HNSW.
            params = (faiss.IndexRefineSearchParameters(k_factor=1.0, base_index_params=hnsw_params)
                      if isinstance(self.faiss_index, faiss.IndexRefine) else hnsw_params)
        scores, indices = self.faiss_index.search(_prepare(queries.vectors, self.metric), min(k, len(self)),
                                                  params=params)
        if self.metric == "euclidean":
            scores = np.sqrt(np.maximum(scores, 0))
        return Neighbors(indices.astype(np.int64), scores.astype(np.float32), self.metric)

    def knn_graph(self, embeddings: Embeddings, k: int, *, progress: Fraction | None = None) -> Neighbors:
        """Each indexed point's k nearest other points (itself excluded, even among exact duplicates); an HNSW
        index searches less deeply here than for single queries (``IndexConfig.graph_ef_search``)."""
        width = min(k + 1, len(self))
        return self._in_batches(embeddings, lambda found, first: _drop_self(found, k, first), width, progress)

    def graph_search(self, queries: Embeddings, k: int, *, rows: np.ndarray | None = None,
                     progress: Fraction | None = None) -> Neighbors:
        """The k nearest indexed points of each query row (of ``rows`` of ``queries`` only, when given: no copy of
        them is made), searched as deeply as :meth:`knn_graph`: many queries at once, e.g. placing the points
        outside a map's sample."""
        return self._in_batches(queries, lambda found, first: found, k, progress, rows=rows)

    def _in_batches(self, queries: Embeddings, keep: Callable[[Neighbors, int], Neighbors], k: int,
                    progress: Fraction | None, *, rows: np.ndarray | None = None) -> Neighbors:
        parts = []
        total = len(queries) if rows is None else len(rows)
        for first in range(0, max(total, 1), BATCH_ROWS):  # one (empty) batch for no queries
            chosen = slice(first, first + BATCH_ROWS) if rows is None else rows[first:first + BATCH_ROWS]
            batch = Embeddings(queries.vectors[chosen], queries.model_id, queries.fingerprint, queries.normalized)
            parts.append(keep(self._search(batch, k, ef_search=self.graph_ef_search), first))
            if progress is not None:
                progress(min(first + BATCH_ROWS, total) / max(total, 1))
        return Neighbors(np.concatenate([part.indices for part in parts]),
                         np.concatenate([part.scores for part in parts]), self.metric)

    def record(self) -> dict:
        """What identifies the index and the vectors it accepts (its sidecar's fields)."""
        return {"model": self.model_id, "fingerprint": self.fingerprint, "metric": self.metric,
                "normalization": "l2" if self.metric == "cosine" else "none", "kind": self.kind, "n": len(self),
                "dim": self.dim}

    def write(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.faiss_index, str(path))

    @classmethod
    def read(cls, path: Path, record: dict) -> VectorIndex:
        """The index saved at ``path`` by :meth:`write`, with the :meth:`record` saved beside it."""
        import faiss

        return cls(faiss.read_index(str(path)), fingerprint=record["fingerprint"], model_id=record["model"],
                   metric=record["metric"], kind=record["kind"])


RECALL_K = 10
RECALL_QUERIES = 200


def index_recall(index: VectorIndex, embeddings: Embeddings, *, k: int = RECALL_K, n_queries: int = RECALL_QUERIES,
                 seed: int = 0) -> float:
    """Measured recall@k of ``index`` against exact search: the share of each sampled corpus point's exact
    top-k (brute force in numpy, the point itself excluded) that the index also returns, a returned point whose
    exact score ties the k-th best (within 1e-5) counting as one of them. 1.0 for exact indexes. The exact
    scores are one matrix product per batch of queries (0.2 s at 50k points)."""
    n = len(embeddings)
    k = min(k, n - 1)
    if k < 1:
        raise InputError("Recall needs at least 2 points.")
    sample = np.random.default_rng(seed).choice(n, size=min(n_queries, n), replace=False)
    queries = Embeddings(embeddings.vectors[sample], embeddings.model_id, embeddings.fingerprint,
                         embeddings.normalized)
    approximate = index.search(queries, k + 1).indices
    vectors = _prepare(embeddings.vectors, index.metric)
    hits = 0
    for start in range(0, len(sample), 50):
        rows = sample[start:start + 50]
        if index.metric == "euclidean":
            closeness = -np.sqrt(np.maximum((vectors[rows] ** 2).sum(axis=1)[:, None] - 2 * vectors[rows] @ vectors.T
                                            + (vectors ** 2).sum(axis=1)[None, :], 0))
        else:
            closeness = vectors[rows] @ vectors.T
        closeness[np.arange(len(rows)), rows] = -np.inf
        kth_best = -np.partition(-closeness, k - 1, axis=1)[:, k - 1]
        for offset, row in enumerate(rows):
            found = approximate[start + offset]
            found = found[(found != row) & (found >= 0)][:k]
            hits += int((closeness[offset, found] >= kth_best[offset] - 1e-5).sum())
    return hits / (len(sample) * k)


def _prepare(vectors: np.ndarray, metric: str) -> np.ndarray:
    prepared = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "cosine":
        prepared = prepared / np.maximum(np.linalg.norm(prepared, axis=1, keepdims=True), 1e-12)
    return prepared


def _drop_self(found: Neighbors, k: int, first_row: int = 0) -> Neighbors:
    """Drop each row's own point (rows numbered from ``first_row``) from its neighbours, keeping k."""
    n, width = found.indices.shape
    own_row = found.indices == np.arange(first_row, first_row + n)[:, None]
    # Drop the point itself where found, otherwise the last (weakest) neighbour.
    drop = np.where(own_row.any(axis=1), own_row.argmax(axis=1), width - 1)
    keep = np.ones_like(own_row)
    keep[np.arange(n), drop] = False
    shape = (n, width - 1)
    indices, scores = found.indices[keep].reshape(shape), found.scores[keep].reshape(shape)
    return Neighbors(indices[:, :k], scores[:, :k], found.metric)
