"""The cached layer: the ONLY module with st.cache_data / st.cache_resource."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from explorer.analysis import compare, coverage, drift, flags, placement, quality, search, similarity, teach
from explorer.analysis.flags import DuplicatePairs, OutlierScores, exact_duplicate_groups
from explorer.analysis.search import KeywordIndex
from explorer.analysis.similarity import SimilarityProfile
from explorer.app.ui.progress import embedding_progress
from explorer.app.ui.sample_build import SampleBuild
from explorer.audits import chunk_lab, retrieval
from explorer.audits import pairs as pair_audit
from explorer.audits.compression import CompressionAudit, labelled_set, workspace_compression
from explorer.audits.labels import LabelAudit, audit_labels
from explorer.audits.pairs import LabelledPairs
from explorer.audits.retrieval import RetrievalReport, RetrievalSet
from explorer.build import layout3d, map_repair, pipeline, recluster
from explorer.config import BuildConfig
from explorer.embedding import loading
from explorer.embedding.embed import embed_texts
from explorer.embedding.encoders import DEFAULT_MODEL, Encoder
from explorer.embedding.loading import load_encoder, load_for_measuring
from explorer.errors import InputError
from explorer.figures import charts, point_map
from explorer.ingest.reading import TableRead, read_file, read_table
from explorer.mapping import building
from explorer.mapping.cluster import ClusterConfig
from explorer.mapping.index import VectorIndex
from explorer.mapping.index import index_recall as measure_index_recall
from explorer.mapping.reduce import LayoutConfig
from explorer.mapping.topics import TopicTree
from explorer.report import inputs as report_inputs
from explorer.types import Clustering, ClusterKeywords, Embeddings, IngestReport
from explorer.workspace import Manifest, Workspace, clean_stale_builds, embeddings_cache


@st.cache_resource(show_spinner="Loading the embedding model…")
def encoder(model_id: str, backend: str | None = None) -> Encoder:
    return load_encoder(model_id, backend=backend)


@st.cache_resource(show_spinner="Loading the embedding model…")
def measuring_encoder(model_id: str) -> Encoder:
    """The model as the audits and evaluations measure it: the exact backend (PyTorch, fp32) where there is a
    choice; a folder or a server as it is."""
    return load_for_measuring(model_id)


def measured_by(model_id: str) -> dict[str, str]:
    """Which model, backend and fingerprint the audit pages measured (they say it under their figures)."""
    return loading.measured_by(measuring_encoder(model_id))


@st.cache_resource
def start_warm_up() -> threading.Thread:
    """Load map building's imports and numba kernels in the background, once per process."""
    return building.start_warm_up()


@st.cache_resource
def stale_builds_removed() -> list[str]:
    """Once per process, at start: remove what builds killed mid-way left behind; the names of those workspaces."""
    return clean_stale_builds()


@st.cache_resource(show_spinner="Loading the embedding model…")
def sample_build() -> SampleBuild:
    """The first launch's background build of the sample: one per process, however many tabs open at once."""
    return SampleBuild(encoder(DEFAULT_MODEL))


def fresh_sample_build() -> SampleBuild:
    """The background sample build, started again if the last one ended (the sample was deleted since)."""
    build = sample_build()
    if not build.running and build.error is None:
        sample_build.clear()
        build = sample_build()
    return build


@dataclass(frozen=True, eq=False)
class MapData:
    manifest: Manifest
    points: pd.DataFrame
    layout_2d: np.ndarray
    clustering: Clustering
    keywords: ClusterKeywords
    hover: charts.HoverLabels
    flags: pd.DataFrame | None
    topics: TopicTree | None = None


@st.cache_resource(max_entries=4, show_spinner=False)
def map_data(path: str, version: float) -> MapData:
    """Everything the map draws, shared read-only by every session and rerun (its arrays refuse writes): as cached
    data it was unpickled on every rerun, 0.2-1.0 s and 260 MB a copy at a million points. ``version`` (the
    folder's mtime) invalidates it after a rewrite."""
    workspace = Workspace.open(Path(path))
    saved = workspace.clustering()
    points = workspace.points()
    flags = workspace.flags()
    layout_2d = workspace.layout(2)
    for array in (layout_2d, saved.clustering.labels, saved.clustering.probabilities,
                  saved.clustering.outlier_scores):
        array.flags.writeable = False
    return MapData(workspace.manifest, points, layout_2d, saved.clustering, saved.keywords,
                   charts.HoverLabels(points), None if flags is None else flags.table, workspace.topics())


@st.cache_data(max_entries=2, show_spinner=False)
def results_drawing(path: str, version: float) -> point_map.PointMapData:
    """The saved map coloured by cluster, without names, as the WebGL point map draws search results on it."""
    data = map_data(path, version)
    return point_map.point_map_data(data.layout_2d, pd.Series(data.clustering.labels, name="cluster"),
                                    keywords=data.keywords, names=False)


@st.cache_data(max_entries=8, show_spinner=False)
def layout_problem(path: str, version: float) -> str | None:
    """Why the workspace's map cannot be drawn, or None (``map_repair.layout_problem``)."""
    return map_repair.layout_problem(Workspace.open(Path(path)))


@st.cache_data(max_entries=8, show_spinner=False)
def map_hover(path: str, version: float, own: tuple[int, int, str] | None) -> charts.HoverLabels:
    """The Map page's hover labels, naming each point's cluster in the clustering shown (the session's own one
    when ``own`` gives its settings)."""
    data = map_data(path, version)
    shown = reclustering(path, version, *own) if own else None
    labels, keywords = (shown.clustering.labels, shown.keywords) if shown else (data.clustering.labels, data.keywords)
    return charts.HoverLabels(data.points, clusters=keywords.names(labels))


@st.cache_data(max_entries=4, show_spinner="Computing the 3-D layout (first time only)…")
def layout_3d(path: str, version: float) -> np.ndarray:
    return layout3d.ensure_layout_3d(Workspace.open(Path(path)))


@st.cache_data(max_entries=16, show_spinner="Re-clustering (HDBSCAN on the saved 5-D layout)…")
def reclustering(path: str, version: float, min_cluster_size: int, min_samples: int,
                 selection: str = "eom") -> recluster.Reclustering:
    """A session's own clustering with other parameters; nothing is written until the user saves it."""
    return recluster.compute_clusters(Workspace.open(Path(path)),
                                      ClusterConfig(min_cluster_size, min_samples, selection))


@st.cache_data(max_entries=8, show_spinner="Trying cluster settings on the saved 5-D layout…")
def cluster_sweep(path: str, version: float, selection: str) -> pd.DataFrame:
    return recluster.sweep_clusters(recluster.sweep_points(Workspace.open(Path(path))), selection=selection)


@st.cache_data(max_entries=4, show_spinner="Reading the file…")
def uploaded_table(data: bytes, filename: str) -> pd.DataFrame:
    return read_table(data, filename)


def suggested_id_column(data: bytes, filename: str, queries: bytes | None,
                        queries_name: str | None) -> retrieval.IdJoin | None:
    """The documents' column holding most of the queries' relevant ids (None without queries)."""
    if queries is None:
        return None
    return retrieval.best_id_column(uploaded_table(data, filename),
                                    retrieval.relevant_ids(uploaded_table(queries, queries_name)))


def id_join_of(data: bytes, filename: str, id_column: str | None, queries: bytes,
               queries_name: str) -> retrieval.IdJoin:
    table = uploaded_table(data, filename)
    ids = pd.Series(range(len(table))) if id_column is None else table[id_column]
    return retrieval.id_join(ids, retrieval.relevant_ids(uploaded_table(queries, queries_name)), column=id_column)


@st.cache_resource(max_entries=2, show_spinner="Reading the file…")
def build_input(data: bytes, filename: str, separator: str | None = None) -> TableRead:
    """A file to build a workspace from, parsed once and shared read-only (never copied: it may hold millions of
    rows); only the two latest are kept."""
    return read_file(data, filename, separator=separator)


@st.cache_data(max_entries=8, show_spinner="Checking the texts against the model's token limit…")
def ingest_report(data: bytes, filename: str, separator: str | None, config: BuildConfig) -> IngestReport:
    """What cleaning and chunking will do to the upload, computed once per file and settings."""
    table = build_input(data, filename, separator).table
    _, report = pipeline.prepare_corpus(table, config, encoder(config.model_id))
    return report


@dataclass(frozen=True, eq=False)
class SearchData:
    index: VectorIndex
    embeddings: Embeddings
    layout_config: LayoutConfig


@st.cache_resource(max_entries=2, show_spinner="Loading the index…")
def search_data(path: str, version: float) -> SearchData:
    """The workspace's FAISS index and vectors, shared read-only by every session."""
    workspace = Workspace.open(Path(path))
    return SearchData(workspace.index(), workspace.embeddings(), workspace.manifest.config.layout)


@st.cache_resource(max_entries=2, show_spinner="Indexing the texts for keyword search (BM25)…")
def keyword_index(path: str, version: float) -> KeywordIndex:
    return KeywordIndex.build(Workspace.open(Path(path)).points()["text"].tolist())


@st.cache_data(max_entries=4, show_spinner="Measuring the approximate index's recall against exact search…")
def index_recall(path: str, version: float) -> float:
    """The recall@10 saved with the index at build time; measured here only for a workspace built before."""
    saved = Workspace.open(Path(path)).index_recall()
    if saved is not None:
        return saved
    data = search_data(path, version)
    return measure_index_recall(data.index, data.embeddings)


@st.cache_data(max_entries=32, show_spinner="Searching…")
def search_view(path: str, version: float, query: str, mode: str, k: int,
                query_vector: np.ndarray | None = None) -> search.SearchView:
    """One typed query's results, placed on the map; ``query_vector`` (1, d) replaces the typed text."""
    data, found = map_data(path, version), search_data(path, version)
    index = found.index
    vector = None if query_vector is None else search.vector_from_upload(query_vector, index)
    # Both rankings run whenever they can, so every result shows its vector and its keyword rank.
    model = None
    if vector is None:
        try:
            model = query_encoder(path, version)
        except InputError:
            if mode != "keyword":  # keyword search needs no model: its results just have no vector rank
                raise
    return search.search_view(
        query, mode="vector" if vector is not None else mode, k=k, index=index, embeddings=found.embeddings,
        points=data.points, layout_2d=data.layout_2d, layout_config=found.layout_config, encoder=model,
        keywords=keyword_index(path, version), query_vector=vector)


@st.cache_data(max_entries=32, show_spinner="Finding the true neighbours…")
def point_neighbours(path: str, version: float, row: int, k: int) -> search.PointNeighbours:
    found = search_data(path, version)
    return search.point_neighbours(row, index=found.index, embeddings=found.embeddings,
                                   layout_2d=map_data(path, version).layout_2d, k=k)


@st.cache_data(max_entries=16, show_spinner=False)
def true_neighbours(path: str, version: float, n_points: int, row: int, k: int = 10) -> np.ndarray:
    """(k,) the rows of the k nearest points (cosine) to ``row`` among the first ``n_points``."""
    return teach.true_neighbours(search_data(path, version).embeddings.vectors[:n_points], row, k=k)


@st.cache_resource(max_entries=2, show_spinner="Loading the neighbour graph…")
def cosine_graph(path: str, version: float) -> quality.CosineGraph:
    """Loaded (or, for non-cosine workspaces, built) once, then shared by every threshold and every k."""
    return quality.cosine_graph(Workspace.open(Path(path)))


@st.cache_data(max_entries=16, show_spinner="Finding near-duplicates in the neighbour graph…")
def duplicates(path: str, version: float, threshold: float) -> DuplicatePairs:
    return quality.find_duplicates(Workspace.open(Path(path)), threshold, graph=cosine_graph(path, version))


@st.cache_data(max_entries=16, show_spinner="Listing the pairs and groups…")
def review_tables(path: str, version: float, threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the review queue: one row per listed pair, closest to the threshold first; the decisions: one row per
    group member with its default keep/drop) at ``threshold``."""
    pairs, points = duplicates(path, version, threshold), map_data(path, version).points
    return (flags.pairs_table(pairs, points),
            flags.decisions_table(pairs, points, search_data(path, version).embeddings))


@st.cache_data(max_entries=4, show_spinner=False)
def exact_groups(path: str, version: float) -> list[np.ndarray]:
    return exact_duplicate_groups(Workspace.open(Path(path)).points()["text"].tolist())


@st.cache_data(max_entries=8, show_spinner="Scoring outliers…")
def outliers(path: str, version: float, k: int) -> OutlierScores:
    return quality.find_outliers(Workspace.open(Path(path)), k, graph=cosine_graph(path, version))


@st.cache_data(max_entries=4, show_spinner=False)
def nearest_texts(path: str, version: float, n: int = 3) -> np.ndarray:
    """(points,) the texts of each point's n nearest neighbours, joined, for the outlier table."""
    texts = Workspace.open(Path(path)).points()["text"].to_numpy()
    return quality.nearest_texts(texts, cosine_graph(path, version).knn, n=n)


@st.cache_data(max_entries=8, show_spinner="Computing the similarity distributions…")
def similarity_profile(path: str, version: float, centre: bool) -> SimilarityProfile:
    workspace = Workspace.open(Path(path))
    return similarity.similarity_profile(workspace.embeddings(), workspace.clustering().clustering.labels,
                                         centre=centre, knn=workspace.knn())


@st.cache_data(max_entries=8, show_spinner="Reading the pairs…")
def labelled_pairs(data: bytes, filename: str) -> LabelledPairs:
    return pair_audit.read_pairs(uploaded_table(data, filename))


def scored_pairs(data: bytes, filename: str, model_id: str) -> tuple[LabelledPairs, np.ndarray]:
    """The validated pairs and their cosine under ``model_id``. Not memoised here: the texts' vectors are kept in
    the embeddings cache on disk, so that embedding them shows a progress bar (a memoised function cannot draw
    one) and a second run reads them back in milliseconds."""
    pairs = labelled_pairs(data, filename)
    with embedding_progress("the pairs' texts", model_id) as progress:
        return pairs, pair_audit.pair_scores(pairs, measuring_encoder(model_id), cache_dir=embeddings_cache(),
                                             progress=progress)


@st.cache_data(max_entries=8, show_spinner="Reading the corpus and the queries…")
def retrieval_set(corpus: bytes, corpus_name: str, queries: bytes, queries_name: str) -> RetrievalSet:
    return retrieval.read_retrieval(uploaded_table(corpus, corpus_name), uploaded_table(queries, queries_name))


def retrieval_report(corpus: bytes, corpus_name: str, queries: bytes, queries_name: str, model_id: str,
                     k: int) -> tuple[RetrievalSet, RetrievalReport]:
    """The evaluation of ``model_id`` on these files. Not memoised, as :func:`scored_pairs`: the vectors come
    from the embeddings cache after the first run, and indexing and searching them takes milliseconds."""
    data = retrieval_set(corpus, corpus_name, queries, queries_name)
    with embedding_progress("the corpus and the queries", model_id) as progress:
        return data, retrieval.evaluate(data, measuring_encoder(model_id), k=k, cache_dir=embeddings_cache(),
                                        progress=progress)


@st.cache_data(max_entries=4, show_spinner="Laying out the corpus (UMAP)…")
def corpus_map(vectors: np.ndarray) -> np.ndarray:
    return building.map_layout(Embeddings(vectors, "evaluation", "evaluation", True))


def neighbourhood_overlap(path: str, version: float, model_id: str, k: int) -> np.ndarray:
    """(n,) share of each point's k neighbours kept under ``model_id``. The texts are embedded first, outside the
    memoised comparison, so that embedding shows a progress bar; the comparison then reads them from disk."""
    workspace = Workspace.open(Path(path))
    with embedding_progress(f"the workspace's {workspace.manifest.n_points:,} texts", model_id) as progress:
        embed_texts(workspace.texts(), measuring_encoder(model_id), cache_dir=embeddings_cache(), progress=progress)
    return _neighbourhood_overlap(path, version, model_id, k)


@st.cache_data(max_entries=4, show_spinner="Comparing each point's neighbours under the two models…")
def _neighbourhood_overlap(path: str, version: float, model_id: str, k: int) -> np.ndarray:
    return compare.compare_models(Workspace.open(Path(path)), measuring_encoder(model_id), k=k,
                                  cache_dir=embeddings_cache())


@st.cache_resource(max_entries=2, show_spinner="Embedding the 21,000-word vocabulary (first time only)…")
def word_vectors(model_id: str) -> np.ndarray:
    return teach.vocabulary_vectors(encoder(model_id), cache_dir=embeddings_cache())


@st.cache_data(max_entries=8, show_spinner="Computing the UMAP layout…")
def distortion_layout(path: str, version: float, n_neighbors: int, min_dist: float,
                      n_points: int) -> tuple[np.ndarray, float]:
    """A 2-D UMAP layout of the first ``n_points`` of the workspace (a fixed sample), with the given parameters,
    and its trustworthiness."""
    vectors = Workspace.open(Path(path)).embeddings().vectors[:n_points]
    coords = building.map_layout(Embeddings(vectors, "teaching", "teaching", True),
                                 LayoutConfig(n_neighbors=n_neighbors, min_dist=min_dist))
    return coords, teach.projection_quality(vectors, coords)


@st.cache_data(max_entries=2, show_spinner="Writing the report (seconds; a minute for 100,000 points)…")
def workspace_report(path: str, version: float, include_texts: bool) -> bytes:
    return report_inputs.report_page(Workspace.open(Path(path)), include_texts=include_texts).encode("utf-8")


@st.cache_data(max_entries=8, show_spinner="Letting each point's neighbours vote…")
def label_audit(path: str, version: float, column: str, k: int) -> LabelAudit:
    return audit_labels(Workspace.open(Path(path)), column, k=k)


def compression(path: str, version: float, k: int, queries: bytes | None = None,
                queries_name: str | None = None) -> CompressionAudit:
    """The compression audit. Labelled queries are embedded first, outside the memoised audit, so that embedding
    shows a progress bar; the audit then reads their vectors from disk."""
    if queries is not None:
        workspace = Workspace.open(Path(path))
        data, _ = labelled_set(workspace.points(), uploaded_table(queries, queries_name))
        with embedding_progress(f"{len(data.query_texts):,} labelled queries", workspace.manifest.model) as progress:
            embed_texts(list(data.query_texts), query_encoder(path, version), cache_dir=embeddings_cache(),
                        progress=progress, queries=True)
    return _compression(path, version, k, queries, queries_name)


@st.cache_data(max_entries=4, show_spinner="Compressing the vectors every way and comparing neighbours…")
def _compression(path: str, version: float, k: int, queries: bytes | None,
                 queries_name: str | None) -> CompressionAudit:
    labelled = None if queries is None else uploaded_table(queries, queries_name)
    return workspace_compression(Workspace.open(Path(path)), k=k, queries=labelled,
                                 encoder=None if queries is None else query_encoder(path, version),
                                 cache_dir=embeddings_cache())


@st.cache_resource(max_entries=4, show_spinner="Loading the workspace's model…")
def query_encoder(path: str, version: float) -> Encoder:
    """What embeds typed text into the workspace's space; InputError says why nothing can."""
    return search.query_encoder(Workspace.open(Path(path)), load=encoder)


def placed_texts(path: str, version: float, data: bytes, filename: str, column: str, kind: str,
                 k: int) -> placement.PlacedTexts:
    """The file's texts embedded with the workspace's model and placed on its map. The texts are embedded first,
    outside the memoised placement, so that embedding shows a progress bar; the placement reads them from disk."""
    texts = placement.new_texts(uploaded_table(data, filename), kind=kind, column=column)
    workspace = Workspace.open(Path(path))
    with embedding_progress(f"{len(texts):,} new {kind}", workspace.manifest.model) as progress:
        embed_texts(texts, query_encoder(path, version), cache_dir=embeddings_cache(), progress=progress,
                    queries=kind == "queries")
    return _placed_texts(path, version, data, filename, column, kind, k)


@st.cache_data(max_entries=4, show_spinner="Searching the index and placing the new texts on the map…")
def _placed_texts(path: str, version: float, data: bytes, filename: str, column: str, kind: str,
                  k: int) -> placement.PlacedTexts:
    texts = placement.new_texts(uploaded_table(data, filename), kind=kind, column=column)
    return placement.place_texts(Workspace.open(Path(path)), texts, query_encoder(path, version),
                                  queries=kind == "queries", k=k, cache_dir=embeddings_cache())


@st.cache_data(max_entries=4, show_spinner="Counting what the queries reach…")
def query_coverage(path: str, version: float, data: bytes, filename: str, column: str,
                   k: int) -> coverage.QueryCoverage:
    """Call after :func:`placed_texts` (which embeds the queries with a progress bar)."""
    placed = _placed_texts(path, version, data, filename, column, "queries", k)
    return coverage.query_coverage(Workspace.open(Path(path)), placed)


@st.cache_data(max_entries=4, show_spinner="Measuring how new each document is…")
def batch_drift(path: str, version: float, data: bytes, filename: str, column: str, k: int) -> drift.BatchDrift:
    """Call after :func:`placed_texts` (which embeds the documents with a progress bar)."""
    placed = _placed_texts(path, version, data, filename, column, "documents", k)
    return drift.batch_drift(Workspace.open(Path(path)), placed)


@st.cache_data(max_entries=4, show_spinner="Reading the documents…")
def lab_documents(data: bytes, filename: str, text_column: str, id_column: str | None):
    return chunk_lab.read_documents(uploaded_table(data, filename), text_column=text_column, id_column=id_column)


def chunking_lab(data: bytes, filename: str, text_column: str, id_column: str | None, settings: str, model_id: str,
                 queries: bytes | None, queries_name: str | None) -> chunk_lab.ChunkLab:
    """The lab's comparison. Each setting's chunks are embedded first, outside the memoised comparison, so that
    embedding shows a progress bar; the comparison then reads the vectors from disk."""
    documents = lab_documents(data, filename, text_column, id_column)
    if queries is not None:  # the join is checked before any embedding
        retrieval.check_id_join(id_join_of(data, filename, id_column, queries, queries_name))
    model = measuring_encoder(model_id)
    for setting in chunk_lab.parse_settings(settings):
        texts = chunk_lab.setting_corpus(documents, setting, model).texts
        with embedding_progress(f"the {len(texts):,} texts of '{setting.name}'", model_id) as progress:
            embed_texts(texts, model.fit_on(texts), cache_dir=embeddings_cache(), progress=progress)
    return _chunking_lab(data, filename, text_column, id_column, settings, model_id, queries, queries_name)


@st.cache_data(max_entries=4, show_spinner="Chunking, mapping and searching each setting…")
def _chunking_lab(data: bytes, filename: str, text_column: str, id_column: str | None, settings: str, model_id: str,
                  queries: bytes | None, queries_name: str | None) -> chunk_lab.ChunkLab:
    return chunk_lab.chunk_lab(lab_documents(data, filename, text_column, id_column),
                               chunk_lab.parse_settings(settings), measuring_encoder(model_id),
                               queries=None if queries is None else uploaded_table(queries, queries_name),
                               cache_dir=embeddings_cache())
