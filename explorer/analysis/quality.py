"""A workspace's near-duplicates and outliers, both read off its cosine neighbour graph, and the flags table the
map colours, filters and exports by."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.analysis.flags import (
    DEFAULT_THRESHOLD,
    DistinctVectors,
    DuplicatePairs,
    OutlierScores,
    cosine_neighbours,
    distinct_vectors,
    exact_duplicate_groups,
    near_duplicates,
    outlier_scores,
)
from explorer.mapping.index import VectorIndex
from explorer.types import Embeddings, Neighbors
from explorer.workspace import Workspace

DEFAULT_OUTLIER_K = 10


@dataclass(frozen=True, eq=False)
class CosineGraph:
    """A workspace's vectors with their cosine k-NN graph, and the cosine index it came from (None when the
    workspace's index uses another metric). Duplicates and outliers are both read off it."""

    embeddings: Embeddings
    knn: Neighbors
    index: VectorIndex | None
    distinct: DistinctVectors | None = None
    """The distinct vectors and their graph when some texts are copies (``flags.distinct_vectors``)."""


def cosine_graph(workspace: Workspace) -> CosineGraph:
    """The saved graph when the workspace is cosine; otherwise one built here (a new index over the vectors)."""
    embeddings, index = workspace.embeddings(), workspace.index()
    knn = cosine_neighbours(embeddings, workspace.knn())
    return CosineGraph(embeddings, knn, index if index.metric == "cosine" else None,
                       distinct_vectors(embeddings, k=knn.indices.shape[1]))


def find_duplicates(workspace: Workspace, threshold: float = DEFAULT_THRESHOLD, *,
                    graph: CosineGraph | None = None) -> DuplicatePairs:
    """Near-duplicate pairs and groups of the workspace, read off its cosine neighbour graph."""
    graph = graph or cosine_graph(workspace)
    return near_duplicates(graph.embeddings, graph.knn, threshold, index=graph.index, distinct=graph.distinct)


def find_outliers(workspace: Workspace, k: int = DEFAULT_OUTLIER_K, *, graph: CosineGraph | None = None,
                  glosh: np.ndarray | None = None) -> OutlierScores:
    """The three outlier scores of every point, and their combined rank (``glosh``: the saved clustering's)."""
    graph = graph or cosine_graph(workspace)
    glosh = workspace.clustering().clustering.outlier_scores if glosh is None else glosh
    return outlier_scores(graph.knn, glosh, k=k)


def flags_table(texts: list[str], pairs: DuplicatePairs, outliers: OutlierScores,
                drop_rows: set[int] | None = None) -> pd.DataFrame:
    """One row per point: duplicate group and decision, identical-text group, outlier scores and rank.

    ``drop_rows``: the rows the user decided to drop; by default every near-duplicate but its group's first row.
    """
    exact = np.full(len(texts), -1, np.int64)
    for number, members in enumerate(exact_duplicate_groups(texts)):
        exact[members] = number
    first_of_group = pd.Series(np.arange(len(texts))).groupby(pairs.groups).transform("first").to_numpy()
    default_drops = (pairs.groups >= 0) & (np.arange(len(texts)) != first_of_group)
    drops = default_drops if drop_rows is None else np.isin(np.arange(len(texts)), sorted(drop_rows))
    return pd.DataFrame({"duplicate_group": pairs.groups, "exact_duplicate_group": exact,
                         "duplicate_decision": np.where(pairs.groups < 0, "", np.where(drops, "drop", "keep")),
                         "outlier_rank": outliers.rank, "outlier_combined": outliers.combined,
                         "outlier_knn_distance": outliers.knn_distance, "outlier_lof": outliers.lof})


def nearest_texts(texts: np.ndarray, knn: Neighbors, *, n: int = 3, width: int = 80) -> np.ndarray:
    """(points,) each point's n nearest neighbours' texts (their first ``width`` characters), joined by " | "."""
    return np.array([" | ".join(texts[other][:width] for other in others[:n] if other >= 0)
                     for others in knn.indices], dtype=object)


def outlier_table(scores: OutlierScores, points: pd.DataFrame, *, top: int,
                  nearest: np.ndarray | None = None) -> pd.DataFrame:
    """The ``top`` most outlying points, most outlying first: their row, rank, id, chunk, combined score, text,
    reasons, the three scores and (when given) the nearest neighbours' texts."""
    order = np.argsort(scores.rank)[: max(int(top), 0)]
    table = pd.DataFrame({
        "row": order, "rank": scores.rank[order], "id": points["id"].to_numpy()[order],
        "chunk": points["chunk"].to_numpy()[order],
        "combined": scores.combined[order], "text": points["text"].to_numpy()[order],
        "reasons": ["; ".join(scores.reasons(int(row))) for row in order],
        "knn_distance": scores.knn_distance[order], "glosh": scores.glosh[order], "lof": scores.lof[order]})
    if nearest is not None:
        table["nearest neighbours"] = nearest[order]
    return table
