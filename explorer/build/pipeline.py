"""A workspace build, shared by the app and the CLI: table -> clean corpus -> vectors -> map -> workspace on disk."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.analysis.flags import cosine_neighbours, near_duplicates, outlier_scores
from explorer.build.flags import save_flags
from explorer.config import BuildConfig
from explorer.embedding.embed import embed_texts, precomputed_embeddings
from explorer.embedding.encoders import Encoder
from explorer.embedding.loading import load_encoder
from explorer.embedding.own_models import canonical_model_id
from explorer.embedding.ray_engine import RayConfig
from explorer.errors import InputError
from explorer.ingest.chunk import chunk_corpus
from explorer.ingest.corpus import IngestConfig, build_corpus, build_ids
from explorer.ingest.limits import check_points
from explorer.ingest.provenance import SourceFile, build_provenance
from explorer.mapping.building import MapBuild, StageProgress, build_map, distinct_count, start_warm_up
from explorer.mapping.cluster import check_cluster_config, scaled_to_size
from explorer.mapping.index import index_recall
from explorer.mapping.reduce import MIN_POINTS
from explorer.mapping.sampled import fitted_rows, sample_note
from explorer.types import CHUNK, ID, Corpus, Embeddings, IngestReport
from explorer.workspace import (
    Manifest,
    Workspace,
    build_lock,
    building_folder,
    check_build_target,
    embeddings_cache,
    shards_folder,
    swap_into_place,
    writer,
)


def prepare_corpus(table: pd.DataFrame, config: BuildConfig, encoder: Encoder | None) -> tuple[Corpus, IngestReport]:
    """Clean and (when the model has a token limit) chunk the table's rows."""
    corpus, report = build_corpus(table, config.ingest)
    if encoder is None:
        return corpus, report
    return chunk_corpus(corpus, report, encoder.token_spans, model_limit=encoder.token_limit, config=config.chunk)


def build_workspace(table: pd.DataFrame, config: BuildConfig, out: Path, *, source: str,
                    vectors: np.ndarray | None = None, encoder: Encoder | None = None,
                    cache_dir: Path | None = None, progress: StageProgress | None = None,
                    owner: str = "the command line", source_file: SourceFile | None = None,
                    ray: RayConfig | None = None) -> Workspace:
    """Run every stage and write the workspace atomically: ``out`` appears complete or not at all.

    ``out`` must be a workspace, an empty folder or nothing (anything else is refused before any work), and a
    second build of the same ``out`` while this one runs is refused.

    Args:
        table: the user's rows.
        vectors: (len(table), d) precomputed vectors, one per input row; replaces the model.
        encoder: an already loaded encoder for ``config.model_id`` (loaded here when None).
        owner: who is building, as the refusal to a second build names them.
        source_file: the uploaded file's name, size and sha256, recorded in the manifest's provenance.
        ray: embed on Ray Data (``explorer.embedding.ray_engine``) instead of in this process.
    """
    out = Path(out)
    check_build_target(out)
    config = dataclasses.replace(config, model_id=canonical_model_id(config.model_id))
    with build_lock(out, f"{owner} (process {os.getpid()})"):
        provenance = build_provenance(source_file)
        return _build(table, config, out, source=source, vectors=vectors, encoder=encoder, cache_dir=cache_dir,
                      progress=progress or (lambda *report: None), provenance=provenance, ray=ray)


def _build(table: pd.DataFrame, config: BuildConfig, out: Path, *, source: str, vectors: np.ndarray | None,
           encoder: Encoder | None, cache_dir: Path | None, progress: StageProgress,
           provenance: dict, ray: RayConfig | None = None) -> Workspace:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if vectors is None:
        encoder = encoder or load_encoder(config.model_id, backend=config.backend)
        timings["load_model"] = time.perf_counter() - clock
    elif len(vectors) != len(table):
        raise InputError(f"The vectors file has {len(vectors)} rows but the data has {len(table)}; "
                         "give exactly one vector per row.")
    clock = time.perf_counter()
    corpus, report = prepare_corpus(table, config, None if vectors is not None else encoder)
    if len(corpus) < 2:
        raise InputError(f"Only {len(corpus)} text is left after cleaning; a map needs at least 2.")
    check_points(len(corpus))
    if vectors is None:
        encoder = encoder.fit_on(corpus.texts)  # a corpus-fitted model (TF-IDF) saves its fit for typed queries
    timings["ingest"] = time.perf_counter() - clock
    warming = start_warm_up()  # while the texts are embedded
    try:
        progress("Embedding texts", 0.0)
        clock = time.perf_counter()
        ray_notes: list[str] = []
        if vectors is not None:
            embeddings = precomputed_embeddings(vectors, _input_rows(table, corpus, config.ingest), source=source)
        else:
            def counted(done: int, total: int) -> None:
                progress("Embedding texts", done / max(total, 1), (done, total))

            if ray is not None:
                embeddings, ray_notes = _embed_on_ray(corpus, encoder, config, out, ray, counted)
            else:
                embeddings = embed_texts(corpus.texts, encoder, cache_dir=cache_dir or embeddings_cache(),
                                         progress=counted)
        timings["embed"] = time.perf_counter() - clock
        fitted = fitted_rows(len(corpus), config.sample)
        chosen = config.cluster
        config = dataclasses.replace(config, cluster=scaled_to_size(
            chosen, len(corpus) if fitted is None else len(fitted)))
        scaled = ([] if config.cluster == chosen else [
            f"Minimum cluster size {config.cluster.min_cluster_size} (the default grows with the points clustered: "
            "one in a thousand above 15,000, so the finest level stays readable); re-cluster to change it."])
        building = building_folder(out)
        try:
            built = _write_map(building, corpus, embeddings, config, timings, progress)
            if vectors is None and encoder.fit is not None:
                writer.write_tfidf_fit(building, encoder.fit)
            notes = report.messages() + _size_notes(len(corpus), distinct_count(embeddings.vectors), config)
            notes += [note for note in [sample_note(len(corpus), built.fitted)] if note] + ray_notes + scaled
            writer.write_manifest(building, _manifest(out.name, source, config, corpus, report, built, notes,
                                                      timings, provenance))
            swap_into_place(building, out)
            shutil.rmtree(shards_folder(out), ignore_errors=True)  # the workspace holds the vectors now
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return Workspace.open(out)
    finally:
        warming.join()


def _embed_on_ray(corpus: Corpus, encoder: Encoder, config: BuildConfig, out: Path, ray: RayConfig,
                  progress: Callable[[int, int], None]) -> tuple[Embeddings, list[str]]:
    """The corpus's vectors from encoder actors on Ray, and the sentence that says where they were made."""
    from explorer.embedding.ray_engine import embed_on_ray

    if encoder.fit is not None:
        raise InputError(f"{config.model_id} is fitted on the corpus it embeds, so it runs in one process; leave "
                         "--engine ray out for it.")
    sharded = embed_on_ray(corpus, functools.partial(load_encoder, config.model_id, backend=config.backend),
                           model_id=encoder.spec.id, fingerprint=encoder.fingerprint, folder=shards_folder(out),
                           config=ray, progress=progress)
    nodes = len(sharded.rows_per_node)
    note = (f"Embedded on Ray: {sharded.shards:,} shard(s) of up to {ray.shard_rows:,} texts"
            + (f", {sharded.reused:,} of them kept from an interrupted build" if sharded.reused else "")
            + (f", on {nodes} node(s)." if nodes else "."))
    return sharded.embeddings, [note]


def _input_rows(table: pd.DataFrame, corpus: Corpus, ingest: IngestConfig) -> np.ndarray:
    """The input row number of each corpus point (ids are row numbers unless an id column was chosen)."""
    ids = corpus.points[ID].to_numpy()
    if ingest.id_column is None:
        return ids.astype(np.int64)
    position = pd.Series(np.arange(len(table)), index=build_ids(table, ingest))
    return position.loc[ids].to_numpy()


def _write_map(folder: Path, corpus: Corpus, embeddings: Embeddings, config: BuildConfig,
               timings: dict[str, float], progress: StageProgress) -> MapBuild:
    writer.write_points(folder, corpus, config)
    writer.write_embeddings(folder, embeddings)
    built = build_map(corpus.texts, embeddings, config.map, progress=progress)
    timings.update(built.timings)
    recall = None if built.index.kind == "exact" else index_recall(built.index, embeddings)
    writer.write_index(folder, built.index, recall=recall)
    writer.write_knn(folder, built.knn)
    writer.write_layout(folder, built.display, config.layout)
    writer.write_layout(folder, built.points, built.cluster_layout)
    writer.write_clusters(folder, built.clustering, built.keywords, config.cluster)
    writer.write_topics(folder, built.topics)
    if built.fitted is not None:
        writer.write_map_sample(folder, built.fitted, len(corpus))
    progress("Flagging near-duplicates and outliers", 0.0)
    clock = time.perf_counter()
    if len(corpus) >= 3:
        cosine_knn = cosine_neighbours(embeddings, built.knn)
        index = built.index if built.index.metric == "cosine" else None
        save_flags(folder, corpus.texts, near_duplicates(embeddings, cosine_knn, index=index),
                   outlier_scores(cosine_knn, built.clustering.outlier_scores))
    timings["flags"] = time.perf_counter() - clock
    return built


def _manifest(name: str, source: str, config: BuildConfig, corpus: Corpus, report: IngestReport, built: MapBuild,
              notes: list[str], timings: dict[str, float], provenance: dict) -> Manifest:
    index = built.index
    return Manifest(name=name, source=source, model=index.model_id, fingerprint=index.fingerprint, dim=index.dim,
                    metric=index.metric, index_type=index.kind, n_documents=corpus.n_documents,
                    n_points=len(corpus), n_chunked=int((corpus.points[CHUNK] > 0).sum()), config=config,
                    report=report, notes=tuple(notes), timings=timings, n_clusters=built.clustering.n_clusters,
                    noise_fraction=built.clustering.noise_fraction, provenance=provenance, build_id=uuid.uuid4().hex)


def _size_notes(n_points: int, n_distinct: int, config: BuildConfig) -> list[str]:
    notes = []
    if n_distinct < MIN_POINTS:
        notes.append(f"Only {n_distinct} distinct texts: too few for UMAP (needs {MIN_POINTS}), so the map shows a "
                     "PCA projection.")
    too_small = check_cluster_config(config.cluster, n_points)
    return notes + ([too_small] if too_small else [])
