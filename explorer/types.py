"""Typed results passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ID, CHUNK, TEXT = "id", "chunk", "text"
RESERVED_COLUMNS = (ID, CHUNK, TEXT)


@dataclass(frozen=True, eq=False)
class Corpus:
    """Clean texts ready to embed, one row per point.

    Attributes:
        points: (n, 3 + m) frame with columns ``id`` (the input's id, or its 0-based row
            number before any row was dropped), ``chunk`` (0 unless the document was split),
            ``text`` and the m metadata columns the user kept.
        metadata_columns: names of the metadata columns, in input order.
    """

    points: pd.DataFrame
    metadata_columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.points)

    @property
    def texts(self) -> list[str]:
        return self.points[TEXT].tolist()

    @property
    def n_documents(self) -> int:
        return int(self.points[ID].nunique())


@dataclass(frozen=True)
class IngestReport:
    """What happened to the input rows on their way into a Corpus."""

    n_input_rows: int
    n_missing: int = 0
    n_empty_after_cleaning: int = 0
    n_html_stripped: int = 0
    n_split_documents: int = 0
    n_split_chunks: int = 0
    """Chunks the split documents became (the other documents stay one point each)."""
    n_chunks: int = 0
    n_truncated: int = 0
    truncation_limit: int | None = None

    @property
    def n_dropped(self) -> int:
        return self.n_missing + self.n_empty_after_cleaning

    def messages(self) -> list[str]:
        """Plain sentences describing every change made to the user's rows."""
        notes = []
        if self.n_missing:
            notes.append(f"{self.n_missing} row(s) dropped: the text cell was missing.")
        if self.n_empty_after_cleaning:
            notes.append(f"{self.n_empty_after_cleaning} row(s) dropped: no text left after cleaning.")
        if self.n_html_stripped:
            notes.append(f"{self.n_html_stripped} text(s) had HTML tags stripped.")
        if self.n_split_documents:
            notes.append(f"{self.n_split_documents:,} long document(s) split into {self.n_split_chunks:,} chunks "
                         f"({self.n_chunks:,} points in all).")
        if self.n_truncated:
            notes.append(
                f"{self.n_truncated} text(s) exceed the model's {self.truncation_limit}-token limit "
                "and will be silently truncated by the model (turn chunking on to keep all of them)."
            )
        return notes


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Vectors for a corpus, with the identity of the model that made them.

    Attributes:
        vectors: (n, dim) float32.
        model_id: registry id of the model (or ``precomputed``).
        fingerprint: identifies the exact weights/parameters; indexes refuse other fingerprints.
        normalized: True when every row has unit L2 norm.
    """

    vectors: np.ndarray
    model_id: str
    fingerprint: str
    normalized: bool

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


@dataclass(frozen=True, eq=False)
class Neighbors:
    """k nearest neighbours of q query points.

    Attributes:
        indices: (q, k) int64 row numbers into the indexed corpus; -1 where fewer than k exist.
        scores: (q, k) float32 similarity (cosine, dot) or distance (euclidean), best first.
        metric: ``cosine``, ``dot`` or ``euclidean``.
    """

    indices: np.ndarray
    scores: np.ndarray
    metric: str

    def distances(self) -> np.ndarray:
        """(q, k) non-negative float32 distances, as UMAP and HDBSCAN expect."""
        if self.metric == "euclidean":
            return np.maximum(self.scores, 0).astype(np.float32)
        return np.clip(1.0 - self.scores, 0.0, None).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Clustering:
    """HDBSCAN result.

    Attributes:
        labels: (n,) int64 cluster id per point; -1 marks noise ("Unclustered").
        probabilities: (n,) float32 membership strength in [0, 1].
        outlier_scores: (n,) float32 GLOSH outlier score (higher = more outlying).
    """

    labels: np.ndarray
    probabilities: np.ndarray
    outlier_scores: np.ndarray

    @property
    def n_clusters(self) -> int:
        return int(len(set(self.labels.tolist()) - {-1}))

    @property
    def noise_fraction(self) -> float:
        return float(np.mean(self.labels == -1)) if len(self.labels) else 0.0


@dataclass(frozen=True)
class ClusterKeywords:
    """Top class-based TF-IDF keywords per cluster id (-1 included when there is noise)."""

    keywords: dict[int, list[str]] = field(default_factory=dict)

    def name(self, cluster_id: int, *, n_words: int = 3) -> str:
        if cluster_id == -1:
            return "Unclustered"
        words = ", ".join(self.keywords.get(cluster_id, [])[:n_words])
        return f"{cluster_id}: {words}" if words else str(cluster_id)

    def names(self, labels: np.ndarray) -> np.ndarray:
        """(n,) object array: the :meth:`name` of each of the n labels, each cluster's made once (a million labels
        named one by one took a second)."""
        clusters, inverse = np.unique(np.asarray(labels, dtype=np.int64), return_inverse=True)
        return np.array([self.name(int(cluster)) for cluster in clusters], dtype=object)[inverse]
