"""Every write into a workspace folder: each artifact atomically, each with its own record of what made it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import store
from explorer.config import BuildConfig
from explorer.embedding.encoders import TfidfFit
from explorer.mapping.cluster import ClusterConfig
from explorer.mapping.index import RECALL_QUERIES, VectorIndex
from explorer.mapping.reduce import LayoutConfig
from explorer.mapping.topics import TopicTree
from explorer.types import Clustering, ClusterKeywords, Corpus, Embeddings, Neighbors
from explorer.workspace import files
from explorer.workspace.manifest import Manifest


def write_points(folder: Path, corpus: Corpus, config: BuildConfig) -> None:
    store.save_frame(folder / files.POINTS, corpus.points, store.sidecar(
        "ingest", ingest=asdict(config.ingest), chunk=asdict(config.chunk)))


def write_embeddings(folder: Path, embeddings: Embeddings) -> None:
    store.save_array(folder / files.EMBEDDINGS, embeddings.vectors, store.sidecar(
        "embed", upstream=[files.POINTS], model=embeddings.model_id, fingerprint=embeddings.fingerprint,
        normalized=embeddings.normalized, dim=embeddings.dim))


def write_index(folder: Path, index: VectorIndex, *, recall: float | None = None) -> None:
    """The index and its sidecar; an approximate index's ``recall`` (measured against exact search, see
    :func:`explorer.mapping.index.index_recall`) is saved with it, so no page measures it again."""
    store.write_bytes(folder / files.INDEX, index.write)
    measured = {} if recall is None else {"recall_at_10": recall, "recall_queries": RECALL_QUERIES}
    store.save_json(store.sidecar_path(folder / files.INDEX),
                    store.sidecar("index", upstream=[files.EMBEDDINGS], **index.record(), **measured))


def write_knn(folder: Path, knn: Neighbors) -> None:
    record = store.sidecar("knn", upstream=[files.INDEX], k=knn.indices.shape[1], metric=knn.metric)
    store.save_array(folder / files.KNN_INDICES, knn.indices, record)
    store.save_array(folder / files.KNN_SCORES, knn.scores, record)


def write_layout(folder: Path, coordinates: np.ndarray, config: LayoutConfig) -> None:
    n_components = coordinates.shape[1]
    store.save_array(folder / files.layout(n_components), coordinates, store.sidecar(
        "reduce", upstream=[files.KNN_INDICES], n_components=n_components, **asdict(config)))


def write_clusters(folder: Path, clustering: Clustering, keywords: ClusterKeywords, config: ClusterConfig) -> None:
    """The clusters (with HDBSCAN's parameters in their sidecar) and their keywords, each its own record."""
    frame = pd.DataFrame({"cluster": clustering.labels, "probability": clustering.probabilities,
                          "outlier_score": clustering.outlier_scores})
    store.save_frame(folder / files.CLUSTERS, frame, store.sidecar(
        "cluster", upstream=[files.layout(5)], **asdict(config), n_clusters=clustering.n_clusters,
        noise_fraction=clustering.noise_fraction))
    store.save_json(folder / files.KEYWORDS, store.sidecar(
        "label", upstream=[files.CLUSTERS, files.POINTS], config=asdict(config), keywords=keywords.keywords))


def write_topics(folder: Path, tree: TopicTree) -> None:
    """Each point's topic at every level (and whether its neighbours' vote placed it); the tree in the sidecar."""
    frame = pd.DataFrame({f"level_{level}": tree.labels[level] for level in range(tree.n_levels)})
    frame["weak"] = tree.weak
    store.save_frame(folder / files.TOPICS, frame, store.sidecar(
        "topics", upstream=[files.CLUSTERS, files.KNN_INDICES, files.POINTS], **tree.record()))


def write_map_sample(folder: Path, fitted: np.ndarray, n_points: int) -> None:
    """The rows the layouts and clusters were fitted on, when they were fitted on a sample."""
    store.save_array(folder / files.MAP_SAMPLE, fitted, store.sidecar(
        "sample", upstream=[files.EMBEDDINGS], n_fitted=len(fitted), n_points=n_points))


def write_flags(folder: Path, flags: pd.DataFrame, *, threshold: float, k: int, n_pairs: int, n_groups: int) -> None:
    store.save_frame(folder / files.FLAGS, flags, store.sidecar(
        "flags", upstream=[files.KNN_INDICES, files.CLUSTERS], threshold=threshold, k=k, n_pairs=n_pairs,
        n_groups=n_groups))


def write_tfidf_fit(folder: Path, fit: TfidfFit) -> None:
    record = store.sidecar("embed", upstream=[files.POINTS])
    store.save_json(folder / files.TFIDF_VOCABULARY, {**record, "vocabulary": fit.vocabulary})
    store.save_array(folder / files.TFIDF_IDF, fit.idf, record)
    store.save_array(folder / files.TFIDF_COMPONENTS, fit.components, record)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Written last by a build: a folder with a manifest is a complete workspace."""
    store.save_json(folder / files.MANIFEST, manifest.to_json())
