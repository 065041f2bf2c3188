"""Re-clustering a workspace: HDBSCAN with new parameters on the saved 5-D layout (UMAP is not recomputed),
computed first and saved only when asked, since other users may be looking at the saved clusters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.analysis.quality import cosine_graph, find_duplicates, find_outliers
from explorer.build.flags import save_flags
from explorer.mapping.building import cluster_and_label
from explorer.mapping.cluster import ClusterConfig, cluster_points
from explorer.mapping.keywords import document_terms
from explorer.mapping.topics import TopicTree, topic_tree
from explorer.types import Clustering, ClusterKeywords
from explorer.workspace import Workspace, editing
from explorer.workspace.writer import write_clusters, write_manifest, write_topics

EDITOR = "a re-clustering"


@dataclass(frozen=True, eq=False)
class Reclustering:
    """A clustering of a workspace's 5-D layout with ``config``, and its clusters' keywords."""

    clustering: Clustering
    keywords: ClusterKeywords
    config: ClusterConfig
    topics: TopicTree


def compute_clusters(workspace: Workspace, config: ClusterConfig) -> Reclustering:
    """HDBSCAN on the saved 5-D layout (on the map's sample, the other points assigned, when it was fitted on one),
    keywords for its clusters and their topic tree; nothing is written."""
    return clusters_and_topics(workspace, workspace.layout(5), config)


def clusters_and_topics(workspace: Workspace, points_5d: np.ndarray, config: ClusterConfig) -> Reclustering:
    """The clusters of ``points_5d`` (the workspace's clustering layout, saved or new), their keywords and topics."""
    terms = document_terms(workspace.texts())
    clustering, keywords = cluster_and_label(terms, points_5d, config, fitted=workspace.map_sample())
    return Reclustering(clustering, keywords, config,
                        topic_tree(clustering.labels, points_5d, workspace.knn().indices, terms))


def save_clusters(workspace: Workspace, result: Reclustering, *, owner: str = EDITOR) -> None:
    """Make ``result`` the workspace's clustering for everyone: clusters, keywords, the outlier flags (GLOSH
    changed; duplicate decisions are kept) and the manifest; under the workspace's lock, into the build it was
    computed on (refused when a rebuild was swapped in meanwhile)."""
    with editing(workspace, owner):
        write_clusters_unlocked(workspace, result)


def write_clusters_unlocked(workspace: Workspace, result: Reclustering) -> None:
    """The writes of :func:`save_clusters`, for a caller that already holds the workspace's lock."""
    write_clusters(workspace.path, result.clustering, result.keywords, result.config)
    write_topics(workspace.path, result.topics)
    _refresh_outlier_flags(workspace, result.clustering.outlier_scores)
    write_manifest(workspace.path, workspace.manifest.with_clustering(
        result.config, n_clusters=result.clustering.n_clusters, noise_fraction=result.clustering.noise_fraction))


def recluster(workspace: Workspace, config: ClusterConfig, *, owner: str = EDITOR) -> Clustering:
    """Compute and save a new clustering in one step (the command line's re-clustering)."""
    result = compute_clusters(workspace, config)
    save_clusters(workspace, result, owner=owner)
    return result.clustering


def _refresh_outlier_flags(workspace: Workspace, glosh: np.ndarray) -> None:
    flags = workspace.flags()
    texts = workspace.texts()
    if flags is None or len(texts) < 3:
        return
    drops = set(np.flatnonzero(flags.table["duplicate_decision"].to_numpy() == "drop").tolist())
    graph = cosine_graph(workspace)
    save_flags(workspace.path, texts, find_duplicates(workspace, flags.threshold, graph=graph),
               find_outliers(workspace, flags.k, graph=graph, glosh=glosh), drops)


SWEEP_SIZES = (5, 10, 15, 25, 50, 100)
SWEEP_SAMPLES = (1, 5, 15)


def sweep_points(workspace: Workspace) -> np.ndarray:
    """The 5-D points a sweep clusters: the map's sample when the clusters were fitted on one (its shares then
    estimate the whole corpus's), else every point."""
    points, fitted = workspace.layout(5), workspace.map_sample()
    return points if fitted is None else points[fitted]


def sweep_clusters(points_5d: np.ndarray, *, selection: str = "eom", sizes: tuple[int, ...] = SWEEP_SIZES,
                   samples: tuple[int, ...] = SWEEP_SAMPLES) -> pd.DataFrame:
    """HDBSCAN on the 5-D layout for each minimum cluster size and min samples: one row each with the number of
    clusters, the share of noise and the largest cluster's share of all points."""
    rows = []
    for min_cluster_size in sizes:
        for min_samples in samples:
            clustering = cluster_points(points_5d, ClusterConfig(min_cluster_size, min_samples, selection))
            labels = clustering.labels
            largest = np.bincount(labels[labels >= 0]).max() / len(labels) if (labels >= 0).any() else 0.0
            rows.append({"min_cluster_size": min_cluster_size, "min_samples": min_samples, "selection": selection,
                         "clusters": clustering.n_clusters, "noise_share": clustering.noise_fraction,
                         "largest_share": float(largest)})
    return pd.DataFrame(rows)
