"""The whole map-building pipeline, shared by the app and the CLI: table -> workspace on disk."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import store
from explorer.chunk import ChunkConfig, chunk_corpus
from explorer.cluster import ClusterConfig, check_cluster_config, cluster_points
from explorer.embed import embed_texts, precomputed_embeddings
from explorer.encoders import DEFAULT_MODEL, Encoder, TfidfFit, load_encoder
from explorer.errors import InputError
from explorer.flags import (DEFAULT_THRESHOLD, DuplicatePairs, OutlierScores, cosine_neighbours, exact_duplicate_groups,
                            near_duplicates, outlier_scores)
from explorer.index import IndexConfig, VectorIndex
from explorer.ingest import IngestConfig, build_corpus, build_ids
from explorer.limits import check_points
from explorer.label import DocumentTerms, cluster_keywords, document_terms
from explorer.reduce import (MIN_POINTS, FuzzyGraph, LayoutConfig, cluster_layout_config, distinct_rows, fuzzy_graph,
                             layouts, small_layout)
from explorer.similarity import neighbourhood_overlap
from explorer.types import CHUNK, ID, ClusterKeywords, Clustering, Corpus, Embeddings, IngestReport, Neighbors
from explorer.workspace import (MANIFEST, Workspace, build_lock, building_folder, check_build_target,
                                embeddings_cache, swap_into_place)

logger = logging.getLogger(__name__)
StageProgress = Callable[[str, float], None]
"""Called with (stage description, fraction of that stage done)."""
KNN_K = 30


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides a workspace's contents (recorded in its manifest)."""

    ingest: IngestConfig
    model_id: str = DEFAULT_MODEL
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    layout: LayoutConfig = field(default_factory=LayoutConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


def prepare_corpus(table: pd.DataFrame, config: BuildConfig, encoder: Encoder | None) -> tuple[Corpus, IngestReport]:
    """Clean and (when the model has a token limit) chunk the table's rows."""
    corpus, report = build_corpus(table, config.ingest)
    if encoder is None:
        return corpus, report
    return chunk_corpus(corpus, report, encoder.token_spans, model_limit=encoder.token_limit, config=config.chunk)


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
    clustering, _ = _cluster_and_label(document_terms(["warm up"] * len(vectors)), points, ClusterConfig(), {})
    logger.info("map building warmed up (%d clusters in the tiny map)", clustering.n_clusters)


def start_warm_up() -> threading.Thread:
    """Run :func:`warm_up` in a background thread (join it before the process ends)."""
    thread = threading.Thread(target=warm_up, name="map-warm-up", daemon=True)
    thread.start()
    return thread


def build_workspace(table: pd.DataFrame, config: BuildConfig, out: Path, *, source: str,
                    vectors: np.ndarray | None = None, encoder: Encoder | None = None,
                    cache_dir: Path | None = None, progress: StageProgress | None = None,
                    owner: str = "the command line") -> Workspace:
    """Run every stage and write the workspace atomically: ``out`` appears complete or not at all.

    ``out`` must be a workspace, an empty folder or nothing (anything else is refused before any work), and a
    second build of the same ``out`` while this one runs is refused.

    Args:
        table: the user's rows.
        vectors: (len(table), d) precomputed vectors, one per input row; replaces the model.
        encoder: an already loaded encoder for ``config.model_id`` (loaded here when None).
        owner: who is building, as the refusal to a second build names them.
    """
    out = Path(out)
    check_build_target(out)
    with build_lock(out, f"{owner} (process {os.getpid()})"):
        return _build_workspace(table, config, out, source=source, vectors=vectors, encoder=encoder,
                                cache_dir=cache_dir, progress=progress or (lambda stage, fraction: None))


def _build_workspace(table: pd.DataFrame, config: BuildConfig, out: Path, *, source: str,
                     vectors: np.ndarray | None, encoder: Encoder | None, cache_dir: Path | None,
                     progress: StageProgress) -> Workspace:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if vectors is None:
        encoder = encoder or load_encoder(config.model_id)
        timings["load_model"] = time.perf_counter() - clock
    elif len(vectors) != len(table):
        raise InputError(f"The vectors file has {len(vectors)} rows but the data has {len(table)}; "
                         "give exactly one vector per row.")
    clock = time.perf_counter()
    corpus, report = prepare_corpus(table, config, None if vectors is not None else encoder)
    if len(corpus) < 2:
        raise InputError(f"Only {len(corpus)} text is left after cleaning; a map needs at least 2.")
    check_points(len(corpus))
    if vectors is None and getattr(encoder, "fits_corpus", False):
        encoder = encoder.fit_on(corpus.texts)  # the fit is saved, so typed queries can be embedded later
    timings["ingest"] = time.perf_counter() - clock
    warming = start_warm_up()  # while the texts are embedded
    try:
        progress("Embedding texts", 0.0)
        clock = time.perf_counter()
        if vectors is not None:
            embeddings = precomputed_embeddings(vectors, _input_rows(table, corpus, config.ingest), source=source)
        else:
            embeddings = embed_texts(corpus.texts, encoder, cache_dir=cache_dir or embeddings_cache(),
                                     progress=lambda done, total: progress("Embedding texts", done / max(total, 1)))
        timings["embed"] = time.perf_counter() - clock
        building = building_folder(out)
        try:
            index, clustering = _write_map(building, corpus, embeddings, config, timings, progress)
            if vectors is None and getattr(encoder, "fit", None) is not None:
                _save_tfidf_fit(building, encoder.fit)
            notes = _size_notes(len(corpus), distinct_count(embeddings.vectors), config.cluster)
            manifest = _manifest(out.name, source, config, corpus, report, index, clustering, timings, notes)
            store.save_json(building / MANIFEST, manifest)
            swap_into_place(building, out)
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return Workspace.open(out)
    finally:
        warming.join()


def _save_tfidf_fit(folder: Path, fit: TfidfFit) -> None:
    meta = store.sidecar("embed", upstream=["points.parquet"])
    store.save_json(folder / "tfidf_vocabulary.json", {**meta, "vocabulary": fit.vocabulary})
    store.save_array(folder / "tfidf_idf.npy", fit.idf, meta)
    store.save_array(folder / "tfidf_components.npy", fit.components, meta)


def _input_rows(table: pd.DataFrame, corpus: Corpus, ingest: IngestConfig) -> np.ndarray:
    """The input row number of each corpus point (ids are row numbers unless an id column was chosen)."""
    ids = corpus.points[ID].to_numpy()
    if ingest.id_column is None:
        return ids.astype(np.int64)
    position = pd.Series(np.arange(len(table)), index=build_ids(table, ingest))
    return position.loc[ids].to_numpy()


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
    """

    index: VectorIndex
    knn: Neighbors
    display: np.ndarray
    points: np.ndarray
    clustering: Clustering
    keywords: ClusterKeywords
    timings: dict[str, float]


def build_map(texts: list[str], embeddings: Embeddings, config: BuildConfig, *,
              progress: StageProgress | None = None) -> MapBuild:
    """FAISS index and k-NN graph, one UMAP graph, the 2-D and 5-D layouts side by side, HDBSCAN and keywords."""
    progress = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    progress("Building the FAISS index", 0.0)
    clock = time.perf_counter()
    index = VectorIndex.build(embeddings, config.index)
    knn = index.knn_graph(embeddings, KNN_K)
    timings["index"] = time.perf_counter() - clock
    clock = time.perf_counter()
    graph = _graph_or_none(knn, embeddings.vectors, config.layout)
    timings["umap_graph"] = time.perf_counter() - clock
    requests = [(2, config.layout), (5, cluster_layout_config(config.layout))]
    description = "Computing the 2-D map and the 5-D clustering layout (UMAP)"
    progress(description, 0.0)
    clock = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as helper:
        # Counting words for the cluster keywords needs no clusters: it runs while the layouts are optimised.
        terms = helper.submit(document_terms, texts)
        display, points = _layouts(graph, embeddings.vectors, requests, index.metric,
                                   lambda fraction: progress(description, fraction), timings)
        timings["umap_layouts"] = time.perf_counter() - clock
        terms = terms.result()
    progress("Clustering (HDBSCAN) and labelling", 0.0)
    clustering, keywords = _cluster_and_label(terms, points, config.cluster, timings)
    return MapBuild(index, knn, display, points, clustering, keywords, timings)


def _write_map(folder: Path, corpus: Corpus, embeddings: Embeddings, config: BuildConfig,
               timings: dict[str, float], progress: StageProgress) -> tuple[VectorIndex, Clustering]:
    store.save_frame(folder / "points.parquet", corpus.points, store.sidecar("ingest", ingest=asdict(config.ingest),
                                                                           chunk=asdict(config.chunk)))
    store.save_array(folder / "embeddings.npy", embeddings.vectors, store.sidecar(
        "embed", upstream=["points.parquet"], model=embeddings.model_id, fingerprint=embeddings.fingerprint,
        normalized=embeddings.normalized, dim=embeddings.dim))
    built = build_map(corpus.texts, embeddings, config, progress=progress)
    timings.update(built.timings)
    index, knn = built.index, built.knn
    index.save(folder, upstream="embeddings.npy")
    knn_meta = store.sidecar("knn", upstream=["index.faiss"], k=knn.indices.shape[1], metric=knn.metric)
    store.save_array(folder / "knn_indices.npy", knn.indices, knn_meta)
    store.save_array(folder / "knn_scores.npy", knn.scores, knn_meta)
    layouts_config = [(2, config.layout), (5, cluster_layout_config(config.layout))]
    for (n_components, layout_config), coordinates in zip(layouts_config, (built.display, built.points)):
        store.save_array(folder / f"layout_{n_components}d.npy", coordinates, store.sidecar(
            "reduce", upstream=["knn_indices.npy"], n_components=n_components, **asdict(layout_config)))
    _save_clusters(folder, built.clustering, built.keywords, config.cluster)
    progress("Flagging near-duplicates and outliers", 0.0)
    clock = time.perf_counter()
    if len(corpus) >= 3:
        cosine_knn = cosine_neighbours(embeddings, knn)
        pairs = near_duplicates(embeddings, cosine_knn, index=index if index.metric == "cosine" else None)
        write_flags(folder, corpus.texts, pairs, outlier_scores(cosine_knn, built.clustering.outlier_scores))
    timings["flags"] = time.perf_counter() - clock
    return index, built.clustering


def _graph_or_none(knn: Neighbors, vectors: np.ndarray, config: LayoutConfig) -> FuzzyGraph | None:
    """The shared UMAP graph, or None when there are too few distinct vectors for UMAP."""
    if distinct_count(vectors) < MIN_POINTS:
        return None
    return fuzzy_graph(knn, vectors, n_neighbors=config.n_neighbors)


def distinct_count(vectors: np.ndarray) -> int:
    return len(distinct_rows(vectors)[0])


def _layouts(graph: FuzzyGraph | None, vectors: np.ndarray, requests: list[tuple[int, LayoutConfig]], metric: str,
             progress: Callable[[float], None] | None = None,
             timings: dict[str, float] | None = None) -> list[np.ndarray]:
    if graph is None:
        return [small_layout(vectors, n_components=n_components) for n_components, _ in requests]
    return layouts(graph, vectors, requests, metric=metric, progress=progress, timings=timings)


def write_clusters(folder: Path, terms: DocumentTerms, points_5d: np.ndarray, config: ClusterConfig) -> Clustering:
    """Cluster the 5-D layout, label the clusters and save both (UMAP is not recomputed)."""
    clustering, keywords = _cluster_and_label(terms, points_5d, config, {})
    _save_clusters(folder, clustering, keywords, config)
    return clustering


def _cluster_and_label(terms: DocumentTerms, points_5d: np.ndarray, config: ClusterConfig,
                       timings: dict[str, float]) -> tuple[Clustering, ClusterKeywords]:
    clock = time.perf_counter()
    clustering = cluster_points(points_5d, config)
    timings["hdbscan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    keywords = cluster_keywords(terms, clustering.labels)
    timings["labels"] = time.perf_counter() - clock
    return clustering, keywords


def _save_clusters(folder: Path, clustering: Clustering, keywords: ClusterKeywords, config: ClusterConfig) -> None:
    frame = pd.DataFrame({"cluster": clustering.labels, "probability": clustering.probabilities,
                          "outlier_score": clustering.outlier_scores})
    store.save_frame(folder / "clusters.parquet", frame, store.sidecar(
        "cluster", upstream=["layout_5d.npy"], **asdict(config)))
    store.save_json(folder / "clusters.json", store.sidecar(
        "label", upstream=["clusters.parquet"], config=asdict(config), keywords=keywords.keywords,
        n_clusters=clustering.n_clusters, noise_fraction=clustering.noise_fraction))


def recluster(workspace: Workspace, config: ClusterConfig) -> Clustering:
    """Re-run HDBSCAN with new parameters on the saved 5-D layout and update the workspace."""
    texts = workspace.points()["text"].tolist()
    clustering = write_clusters(workspace.path, document_terms(texts), workspace.layout(5), config)
    _refresh_outlier_flags(workspace, texts)
    manifest = workspace.manifest
    manifest["cluster"] = asdict(config)
    manifest.update(n_clusters=clustering.n_clusters, noise_fraction=clustering.noise_fraction)
    store.save_json(workspace.path / MANIFEST, manifest)
    return clustering


def ensure_layout_3d(workspace: Workspace) -> np.ndarray:
    """The 3-D layout, computed from the saved neighbour graph the first time it is asked for."""
    existing = workspace.layout(3)
    if existing is not None:
        return existing
    config = LayoutConfig.from_dict(workspace.manifest["layout"])
    knn, embeddings = workspace.knn(), workspace.embeddings()
    [points] = _layouts(_graph_or_none(knn, embeddings.vectors, config), embeddings.vectors, [(3, config)], knn.metric)
    store.save_array(workspace.path / "layout_3d.npy", points, store.sidecar(
        "reduce", upstream=["knn_indices.npy"], n_components=3, **asdict(config)))
    return points


def map_layout(embeddings: Embeddings, config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """A 2-D map of any vectors, built like a workspace's (FAISS k-NN graph, then UMAP; PCA when tiny)."""
    index = VectorIndex.build(embeddings)
    knn = index.knn_graph(embeddings, min(KNN_K, len(embeddings) - 1))
    [coordinates] = _layouts(_graph_or_none(knn, embeddings.vectors, config), embeddings.vectors, [(2, config)],
                             index.metric)
    return coordinates


@dataclass(frozen=True, eq=False)
class CosineGraph:
    """A workspace's vectors with their cosine k-NN graph, and the cosine index it came from (None when the
    workspace's index uses another metric). Duplicates and outliers are both read off it."""

    embeddings: Embeddings
    knn: Neighbors
    index: VectorIndex | None


def cosine_graph(workspace: Workspace) -> CosineGraph:
    """The saved graph when the workspace is cosine; otherwise one built here (a new index over the vectors)."""
    embeddings, index = workspace.embeddings(), workspace.index()
    return CosineGraph(embeddings, cosine_neighbours(embeddings, workspace.knn()),
                       index if index.metric == "cosine" else None)


def find_duplicates(workspace: Workspace, threshold: float = DEFAULT_THRESHOLD, *,
                    graph: CosineGraph | None = None) -> DuplicatePairs:
    """Near-duplicate pairs and groups of the workspace, read off its cosine neighbour graph."""
    graph = graph or cosine_graph(workspace)
    return near_duplicates(graph.embeddings, graph.knn, threshold, index=graph.index)


def find_outliers(workspace: Workspace, k: int = 10, *, graph: CosineGraph | None = None) -> OutlierScores:
    """The three outlier scores of every point, and their combined rank."""
    graph = graph or cosine_graph(workspace)
    clustering, _, _ = workspace.clustering()
    return outlier_scores(graph.knn, clustering.outlier_scores, k=k)


def write_flags(folder: Path, texts: list[str], pairs: DuplicatePairs, outliers: OutlierScores,
                drop_rows: set[int] | None = None) -> pd.DataFrame:
    """Save the flags as columns the map can colour, filter and export by (``flags.parquet``).

    ``drop_rows``: the rows the user decided to drop; by default every near-duplicate but its group's first row.
    """
    exact = np.full(len(texts), -1, np.int64)
    for number, members in enumerate(exact_duplicate_groups(texts)):
        exact[members] = number
    first_of_group = pd.Series(np.arange(len(texts))).groupby(pairs.groups).transform("first").to_numpy()
    default_drops = (pairs.groups >= 0) & (np.arange(len(texts)) != first_of_group)
    drops = default_drops if drop_rows is None else np.isin(np.arange(len(texts)), sorted(drop_rows))
    frame = pd.DataFrame({"duplicate_group": pairs.groups, "exact_duplicate_group": exact,
                          "duplicate_decision": np.where(pairs.groups < 0, "", np.where(drops, "drop", "keep")),
                          "outlier_rank": outliers.rank, "outlier_combined": outliers.combined,
                          "outlier_knn_distance": outliers.knn_distance, "outlier_lof": outliers.lof})
    store.save_frame(folder / "flags.parquet", frame, store.sidecar(
        "flags", upstream=["knn_indices.npy", "clusters.parquet"], threshold=pairs.threshold, k=outliers.k,
        n_pairs=len(pairs.a), n_groups=pairs.n_groups))
    return frame


def _refresh_outlier_flags(workspace: Workspace, texts: list[str]) -> None:
    """After re-clustering (new GLOSH scores): recompute the outlier flags, keeping the duplicate decisions."""
    flags = workspace.flags()
    if flags is None or len(texts) < 3:
        return
    meta = store.load_json(workspace.path / "flags.json")
    drops = set(np.flatnonzero(flags["duplicate_decision"].to_numpy() == "drop").tolist())
    graph = cosine_graph(workspace)
    write_flags(workspace.path, texts, find_duplicates(workspace, meta["threshold"], graph=graph),
                find_outliers(workspace, meta["k"], graph=graph), drops)


def _manifest(name: str, source: str, config: BuildConfig, corpus: Corpus, report: IngestReport,
              index: VectorIndex, clustering: Clustering, timings: dict[str, float], notes: list[str]) -> dict:
    return {
        "name": name, "source": source, "model": index.model_id, "fingerprint": index.fingerprint,
        "dim": index.dim, "metric": index.metric, "index_type": index.kind, "n_documents": corpus.n_documents,
        "n_points": len(corpus), "n_chunked": int((corpus.points[CHUNK] > 0).sum()),
        "ingest": asdict(config.ingest), "chunk": asdict(config.chunk), "index": asdict(config.index),
        "layout": asdict(config.layout), "cluster": asdict(config.cluster), "report": asdict(report),
        "report_messages": report.messages() + notes, "timings": timings,
        "n_clusters": clustering.n_clusters, "noise_fraction": clustering.noise_fraction,
    }


def _size_notes(n_points: int, n_distinct: int, cluster: ClusterConfig) -> list[str]:
    notes = []
    if n_distinct < MIN_POINTS:
        notes.append(f"Only {n_distinct} distinct texts: too few for UMAP (needs {MIN_POINTS}), so the map shows a "
                     "PCA projection.")
    too_small = check_cluster_config(cluster, n_points)
    return notes + ([too_small] if too_small else [])


def compare_models(workspace: Workspace, other: Encoder, *, k: int = 10, cache_dir: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(n,) share of each point's k nearest neighbours that stay the same when the workspace's texts are embedded
    with ``other`` instead of the workspace's model (cosine neighbours under both)."""
    texts = workspace.points()["text"].tolist()
    embeddings = workspace.embeddings()
    theirs = embed_texts(texts, other, cache_dir=cache_dir or embeddings_cache(), progress=progress)
    ours_graph = cosine_neighbours(embeddings, workspace.knn(), k=k)
    their_graph = VectorIndex.build(theirs).knn_graph(theirs, k)
    return neighbourhood_overlap(ours_graph, their_graph, k=k)
