"""From vectors to a map: FAISS index and k-NN graph, one UMAP graph, the 2-D and 5-D layouts side by side,
HDBSCAN on the 5-D layout and each cluster's keywords. Shared by workspace builds, the benchmarks and the pages
that lay out other vectors (retrieval evaluation, teaching)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from explorer.mapping.cluster import ClusterConfig, cluster_points
from explorer.mapping.index import IndexConfig, VectorIndex
from explorer.mapping.keywords import DocumentTerms, cluster_keywords, document_terms
from explorer.mapping.reduce import (
    MIN_POINTS,
    FuzzyGraph,
    LayoutConfig,
    cluster_layout_config,
    distinct_rows,
    fuzzy_graph,
    layouts,
    place_on_layouts,
    small_layout,
)
from explorer.mapping.sampled import SampleConfig, cluster_with_sample, fitted_rows, placed_rows
from explorer.mapping.topics import TopicTree, topic_tree
from explorer.types import Clustering, ClusterKeywords, Embeddings, Neighbors

logger = logging.getLogger(__name__)
StageProgress = Callable[..., None]
"""Called with (stage description, fraction of that stage done), and (done, total) where the stage counts items
(``explorer.workspace.progress.stage_sentence`` words them)."""
KNN_K = 30


@dataclass(frozen=True)
class MapConfig:
    """What decides a map: the index, the 2-D layout (the 5-D clustering layout follows from it), HDBSCAN and when
    a sample is fitted instead of every point."""

    index: IndexConfig = IndexConfig()
    layout: LayoutConfig = LayoutConfig()
    cluster: ClusterConfig = ClusterConfig()
    sample: SampleConfig = SampleConfig()


@dataclass(frozen=True, eq=False)
class MapBuild:
    """Everything computed from the vectors for the map.

    Attributes:
        index: the FAISS index over the n vectors.
        knn: (n, k) each point's nearest other points, from the index.
        display: (n, 2) the map's UMAP layout.
        points: (n, 5) the clustering layout.
        clustering: HDBSCAN on ``points``.
        keywords: c-TF-IDF keywords of each cluster.
        timings: seconds per stage; ``umap_layouts`` is both layouts side by side, ``umap_2d`` and ``umap_5d``
            each layout's own time within it.
        fitted: (s,) the rows the layouts and HDBSCAN were fitted on when they were fitted on a sample
            (``explorer.mapping.sampled``), else None.
        requests: the layouts computed and the UMAP settings chosen for each: (2, display), (5, clustering).
        topics: the clusters' topic tree (``explorer.mapping.topics``).
    """

    index: VectorIndex
    knn: Neighbors
    display: np.ndarray
    points: np.ndarray
    clustering: Clustering
    keywords: ClusterKeywords
    timings: dict[str, float]
    fitted: np.ndarray | None = None
    requests: list[tuple[int, LayoutConfig]] | None = None
    topics: TopicTree | None = None

    @property
    def cluster_layout(self) -> LayoutConfig:
        """The UMAP settings chosen for the 5-D clustering layout."""
        return self.requests[1][1]


LAYOUT_NAMES = {2: "the 2-D map", 3: "the 3-D map", 5: "the 5-D clustering layout"}
Requests = list[tuple[int, LayoutConfig]]
"""The layouts wanted: (dimensions, UMAP parameters) each."""


def layout_requests(display: LayoutConfig, n_points: int, fitted: np.ndarray | None) -> Requests:
    """The map's two layouts: the 2-D display layout and the 5-D clustering layout of the points they are fitted on
    (``fitted``, a sample, or all ``n_points``)."""
    return [(2, display), (5, cluster_layout_config(display, n_points if fitted is None else len(fitted)))]


def build_map(texts: list[str], embeddings: Embeddings, config: MapConfig = MapConfig(), *,
              progress: StageProgress | None = None) -> MapBuild:
    """FAISS index and k-NN graph, one UMAP graph, the 2-D and 5-D layouts side by side, HDBSCAN and keywords;
    above ``config.sample.full_limit`` points the layouts and HDBSCAN are fitted on a sample and the other points
    placed (``explorer.mapping.sampled``)."""
    progress = progress or (lambda *report: None)
    timings: dict[str, float] = {}
    fitted = fitted_rows(len(embeddings), config.sample)
    requests = layout_requests(config.layout, len(embeddings), fitted)
    with ThreadPoolExecutor(max_workers=1) as helper:
        index, knn = _index_and_graph(embeddings, config.index, progress, timings)
        # Counting words for the cluster keywords needs no clusters: it runs while the layouts are optimised, not
        # beside the index, whose OpenMP threads on both cores slowed more (5.3 s to 6.5 s at 50k) than the count took.
        terms = helper.submit(document_terms, texts)
        if fitted is None:
            display, points = _full_layouts(knn, embeddings, index.metric, requests, progress, timings)
        else:
            display, points = sampled_layouts(embeddings, fitted, requests, index_config=config.index,
                                              progress=progress, timings=timings)
        clock = time.perf_counter()
        terms = terms.result()
        timings["terms_wait"] = time.perf_counter() - clock
    progress("Clustering (HDBSCAN) and labelling", 0.0)
    clustering, keywords = cluster_and_label(terms, points, config.cluster, timings, fitted=fitted)
    clock = time.perf_counter()
    topics = topic_tree(clustering.labels, points, knn.indices, terms)
    timings["topics"] = time.perf_counter() - clock
    return MapBuild(index, knn, display, points, clustering, keywords, timings, fitted, requests, topics)


def _index_and_graph(embeddings: Embeddings, config: IndexConfig, progress: StageProgress,
                     timings: dict[str, float], *, what: str = "") -> tuple[VectorIndex, Neighbors]:
    """The FAISS index of ``embeddings`` and their k-NN graph, each reporting its progress."""
    indexing = f"Building the FAISS index{what}"
    searching = f"Finding the {KNN_K} nearest neighbours of each point{what}"
    progress(indexing, 0.0)
    clock = time.perf_counter()
    n = len(embeddings)
    index = VectorIndex.build(embeddings, config,
                              progress=lambda fraction: progress(indexing, fraction, (round(fraction * n), n)))
    progress(searching, 0.0)
    knn = index.knn_graph(embeddings, KNN_K,
                          progress=lambda fraction: progress(searching, fraction, (round(fraction * n), n)))
    timings[f"index{what and '_sample'}"] = time.perf_counter() - clock
    return index, knn


def _full_layouts(knn: Neighbors, embeddings: Embeddings, metric: str, requests: Requests,
                  progress: StageProgress, timings: dict[str, float]) -> list[np.ndarray]:
    clock = time.perf_counter()
    graph = graph_or_none(knn, embeddings.vectors, requests[0][1])
    timings["umap_graph"] = time.perf_counter() - clock
    description = f"Computing {' and '.join(LAYOUT_NAMES[dims] for dims, _ in requests)} (UMAP)"
    progress(description, 0.0)
    clock = time.perf_counter()
    found = layouts_or_pca(graph, embeddings.vectors, requests, metric,
                           lambda fraction: progress(description, fraction), timings)
    timings["umap_layouts"] = time.perf_counter() - clock
    return found


def sampled_layouts(embeddings: Embeddings, fitted: np.ndarray, requests: Requests, *,
                    index_config: IndexConfig = IndexConfig(), progress: StageProgress | None = None,
                    timings: dict[str, float] | None = None) -> list[np.ndarray]:
    """Layouts fitted on the ``fitted`` rows (their own index and neighbour graph), every other row placed on
    them by UMAP's transform. Returns one (n, dims) layout per request."""
    progress = progress or (lambda *report: None)
    timings = {} if timings is None else timings
    sample = Embeddings(embeddings.vectors[fitted], embeddings.model_id, embeddings.fingerprint,
                        embeddings.normalized)
    clock = time.perf_counter()
    sample_index, sample_knn = _index_and_graph(sample, index_config, progress, timings,
                                                what=" of the map's sample")
    on_sample = _full_layouts(sample_knn, sample, sample_index.metric, requests, progress, timings)
    timings["sample_layouts"] = time.perf_counter() - clock
    placed = placed_rows(len(embeddings), fitted)
    description = f"Placing the other {len(placed):,} points on the sample's map (UMAP transform)"
    progress(description, 0.0)
    clock = time.perf_counter()
    found = sample_index.graph_search(
        embeddings, requests[0][1].n_neighbors, rows=placed,
        progress=lambda fraction: progress(description, fraction / 2, (round(fraction * len(placed)), len(placed))))
    timings["place_search"] = time.perf_counter() - clock
    clock = time.perf_counter()
    on_placed = place_on_layouts(found, [(layout, config) for layout, (_, config) in zip(on_sample, requests)],
                                 progress=lambda fraction: progress(description, 0.5 + fraction / 2))
    timings["place_layouts"] = time.perf_counter() - clock
    whole = []
    for sample_layout, placed_layout in zip(on_sample, on_placed):
        layout = np.empty((len(embeddings), sample_layout.shape[1]), np.float32)
        layout[fitted], layout[placed] = sample_layout, placed_layout
        whole.append(layout)
    return whole


def layouts_again(embeddings: Embeddings, knn_of: Callable[[], Neighbors], requests: Requests, *,
                  fitted: np.ndarray | None = None, index_config: IndexConfig = IndexConfig(),
                  progress: StageProgress | None = None) -> list[np.ndarray]:
    """Layouts of vectors mapped before (a saved workspace's), made as its build made them: fitted on the ``fitted``
    rows with the rest placed when its map was sampled, else from its saved k-NN graph, ``knn_of()`` (read only
    then). One (n, dims) layout per request."""
    progress = progress or (lambda *report: None)
    if fitted is not None:
        return sampled_layouts(embeddings, fitted, requests, index_config=index_config, progress=progress)
    knn = knn_of()
    return _full_layouts(knn, embeddings, knn.metric, requests, progress, {})


def graph_or_none(knn: Neighbors, vectors: np.ndarray, config: LayoutConfig) -> FuzzyGraph | None:
    """The shared UMAP graph, or None when there are too few distinct vectors for UMAP."""
    if distinct_count(vectors) < MIN_POINTS:
        return None
    return fuzzy_graph(knn, vectors, n_neighbors=config.n_neighbors)


def distinct_count(vectors: np.ndarray) -> int:
    return len(distinct_rows(vectors)[0])


def layouts_or_pca(graph: FuzzyGraph | None, vectors: np.ndarray, requests: list[tuple[int, LayoutConfig]],
                   metric: str, progress: Callable[[float], None] | None = None,
                   timings: dict[str, float] | None = None) -> list[np.ndarray]:
    """UMAP layouts of the graph, or PCA projections when there was too little for UMAP (no graph)."""
    if graph is None:
        return [small_layout(vectors, n_components=n_components) for n_components, _ in requests]
    return layouts(graph, vectors, requests, metric=metric, progress=progress, timings=timings)


def cluster_and_label(terms: DocumentTerms, points_5d: np.ndarray, config: ClusterConfig,
                      timings: dict[str, float] | None = None, *, fitted: np.ndarray | None = None
                      ) -> tuple[Clustering, ClusterKeywords]:
    """HDBSCAN on the clustering layout (on its ``fitted`` rows, the rest assigned, when given) and keywords."""
    timings = {} if timings is None else timings
    clock = time.perf_counter()
    clustering = (cluster_points(points_5d, config) if fitted is None
                  else cluster_with_sample(points_5d, fitted, config))
    timings["hdbscan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    keywords = cluster_keywords(terms, clustering.labels)
    timings["labels"] = time.perf_counter() - clock
    return clustering, keywords


def map_layout(embeddings: Embeddings, config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """A 2-D map of any vectors, built like a workspace's (FAISS k-NN graph, then UMAP; PCA when tiny)."""
    index = VectorIndex.build(embeddings)
    knn = index.knn_graph(embeddings, min(KNN_K, len(embeddings) - 1))
    [coordinates] = layouts_or_pca(graph_or_none(knn, embeddings.vectors, config), embeddings.vectors,
                                   [(2, config)], index.metric)
    return coordinates


def warm_up() -> None:
    """Build a tiny map, so that map building's imports and numba kernels (loaded from numba's on-disk cache,
    or compiled on a machine's first run) are ready before the first real map needs them."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(64, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    order = np.argsort(-scores, axis=1)[:, :15]
    graph = fuzzy_graph(Neighbors(order, np.take_along_axis(scores, order, axis=1), "cosine"), vectors)
    display = LayoutConfig(n_epochs=10)
    _, points = layouts(graph, vectors, [(2, display), (5, replace(cluster_layout_config(display), n_epochs=10))])
    clustering, _ = cluster_and_label(document_terms(["warm up"] * len(vectors)), points, ClusterConfig())
    logger.info("map building warmed up (%d clusters in the tiny map)", clustering.n_clusters)


def start_warm_up() -> threading.Thread:
    """Run :func:`warm_up` in a background thread (join it before the process ends)."""
    thread = threading.Thread(target=warm_up, name="map-warm-up", daemon=True)
    thread.start()
    return thread
