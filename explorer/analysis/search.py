"""Search the corpus: by typed text (vector, keyword BM25, or both fused), by a point, by a vector.

Vector search goes through the workspace's own FAISS index with the query embedded by the workspace's own
model; keyword search is BM25 (``bm25s``); hybrid fuses the two rankings with Reciprocal Rank Fusion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.embedding.embed import PRECOMPUTED
from explorer.embedding.encoders import MODELS, Encoder, TfidfEncoder, backend_of
from explorer.embedding.loading import load_encoder
from explorer.embedding.own_models import is_own_model
from explorer.errors import InputError
from explorer.ingest.corpus import clean_text
from explorer.mapping.index import VectorIndex
from explorer.mapping.reduce import LayoutConfig, place_points
from explorer.types import CHUNK, ID, Embeddings
from explorer.workspace import Workspace

MODES = ("vector", "keyword", "hybrid")
DEFAULT_K = 10
RRF_K = 60
"""Reciprocal Rank Fusion's constant (Cormack et al., 2009): a result at rank r contributes 1 / (60 + r)."""
CANDIDATES = 100
"""How deep each ranking is read before fusing (at least k)."""


@dataclass(frozen=True, eq=False)
class SearchHits:
    """Ranked results of one query.

    Attributes:
        rows: (k,) corpus rows, best first.
        scores: (k,) float32: similarity (cosine, dot), distance (euclidean), BM25 score or RRF score,
            as ``score_name`` says.
        vector_ranks, keyword_ranks: (k,) int64 1-based rank of each row in the vector and the keyword
            ranking; 0 where the row is not in that ranking's top ``CANDIDATES`` (or the mode did not use it).
        notes: plain sentences about what was done to the query (truncated, k capped, no keywords...).
        query_vector: the (1, d) embedded query when vector search ran, else None.
    """

    query: str
    mode: str
    metric: str
    score_name: str
    rows: np.ndarray
    scores: np.ndarray
    vector_ranks: np.ndarray
    keyword_ranks: np.ndarray
    notes: tuple[str, ...] = ()
    query_vector: Embeddings | None = None


class KeywordIndex:
    """BM25 over the corpus texts (English stopwords removed, lower-cased, no stemming)."""

    def __init__(self, retriever, n_documents: int) -> None:
        self._retriever, self.n_documents = retriever, n_documents

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        bm25s = _bm25s()
        tokens = bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def known_terms(self, query: str) -> list[str]:
        """The query's words that occur in the corpus (stopwords removed)."""
        [tokens] = _bm25s().tokenize([query], stopwords="en", return_ids=False, show_progress=False)
        return [token for token in tokens if token in self._retriever.vocab_dict]

    def scores(self, query: str) -> np.ndarray:
        """(n,) float32 BM25 score of every document; all zeros when no query word occurs in the corpus."""
        terms = self.known_terms(query)
        if not terms:
            return np.zeros(self.n_documents, np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)


def _bm25s():
    """The bm25s module, its logger kept at WARNING: bm25s sets it to DEBUG on import, which printed a line per
    index into the server's log."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def typed_query_problem(model_id: str, *, fit_saved: bool = False) -> str | None:
    """Why a typed query cannot be embedded for an index of ``model_id`` vectors, or None when it can.

    ``fit_saved``: a TF-IDF workspace saved its fit (workspaces built before it was saved did not).
    """
    if model_id == PRECOMPUTED:
        return ("This workspace was built from precomputed vectors, so there is no model to embed a typed query. "
                "Search by keyword, by a point on the map, or with a query vector file (.npy) from your model.")
    if model_id not in MODELS:
        return f"This workspace's model '{model_id}' is not in the registry, so a typed query cannot be embedded."
    spec = MODELS[model_id]
    if spec.id == "tfidf-svd" and not fit_saved:
        return ("TF-IDF + SVD vectors are fitted on the corpus itself and this workspace did not save that fit "
                "(it predates saving it), so a typed query cannot be projected into the same space. Rebuild it, "
                "or search by keyword or by a point on the map.")
    if not spec.available():
        return f"The model {spec.id} is not installed here ({spec.install}), so a typed query cannot be embedded."
    return None


def query_encoder(workspace: Workspace, *, load: Callable[..., Encoder] = load_encoder) -> Encoder:
    """The encoder that embeds typed text into ``workspace``'s space (its model, or its saved TF-IDF fit).

    Raises InputError with ``typed_query_problem``'s reason when there is none. ``load`` loads a registry model
    (the app passes its cached loader) with the backend that made the workspace's vectors.
    """
    manifest = workspace.manifest
    if is_own_model(manifest.config.model_id):
        return own_query_encoder(manifest.config.model_id, manifest.fingerprint, load)
    fit = workspace.tfidf_fit() if manifest.model == "tfidf-svd" else None
    problem = typed_query_problem(manifest.model, fit_saved=fit is not None)
    if problem:
        raise InputError(problem)
    if fit is not None:
        return TfidfEncoder(MODELS["tfidf-svd"], fit, fingerprint=manifest.fingerprint)
    return load(manifest.model, backend=backend_of(manifest.model, manifest.fingerprint))


def own_query_encoder(source: str, fingerprint: str, load: Callable[..., Encoder] = load_encoder) -> Encoder:
    """The user's own model a workspace was built with (its folder, or its server), refused when it is no longer
    the model that made the workspace's vectors."""
    encoder = load(source)
    if encoder.fingerprint != fingerprint:
        raise InputError(f"The model at {source} is not the one this workspace was built with (its fingerprint is "
                         f"{encoder.fingerprint}, the workspace's {fingerprint}): it was retrained or the server now "
                         "serves another model. Build the workspace again to search it by typed text.")
    return encoder


def hits_table(hits: SearchHits, points: pd.DataFrame) -> pd.DataFrame:
    """One row per result: rank, id, chunk, score, its rank in the vector and the keyword ranking (missing = not
    in that ranking's top ``CANDIDATES``, or that ranking could not run), text, metadata."""
    table = points.iloc[hits.rows].reset_index(drop=True)
    ranked = pd.DataFrame({"rank": np.arange(1, len(hits.rows) + 1), hits.score_name: hits.scores})
    ranked["vector_rank"], ranked["keyword_rank"] = _optional(hits.vector_ranks), _optional(hits.keyword_ranks)
    leading = ["rank", ID, CHUNK, *ranked.columns[1:], "text"]
    return pd.concat([ranked, table], axis=1)[leading + [c for c in points.columns if c not in leading]]


def _optional(ranks: np.ndarray) -> pd.Series:
    return pd.Series(ranks, dtype="Int64").mask(ranks == 0)


def check_query(query: str) -> str:
    """The query cleaned like the corpus (HTML stripped, whitespace collapsed); empty queries are refused."""
    cleaned = clean_text(query or "")
    if not cleaned:
        raise InputError("Type a query: it is empty.")
    return cleaned


def embed_query(query: str, encoder: Encoder) -> tuple[Embeddings, list[str]]:
    """The query's (1, d) embedding from ``encoder``, and a note when the model truncates it."""
    notes = []
    if encoder.token_limit is not None:
        [spans] = encoder.token_spans([query])
        if len(spans) > encoder.token_limit:
            cut = spans[encoder.token_limit - 1][1]
            notes.append(f"The query has {len(spans):,} tokens; {encoder.spec.id} reads only the first "
                         f"{encoder.token_limit}, so everything after \"…{query[max(cut - 40, 0):cut]}\" was ignored.")
    vectors = encoder.encode_queries([query])
    return Embeddings(vectors, encoder.spec.id, encoder.fingerprint, True), notes


def vector_from_upload(vector: np.ndarray, index: VectorIndex) -> Embeddings:
    """A user-supplied query vector (d,) or (1, d), taken to come from the index's own model."""
    vector = np.asarray(vector, dtype=np.float32)
    if vector.ndim == 2 and vector.shape[0] == 1:
        vector = vector[0]
    if vector.ndim != 1:
        raise InputError(f"Give one query vector; the file holds an array of shape {vector.shape}.")
    if len(vector) != index.dim:
        raise InputError(f"The query vector has {len(vector)} dimensions; this workspace's vectors have {index.dim}.")
    if not np.isfinite(vector).all() or not vector.any():
        raise InputError("The query vector must be finite and not all zeros.")
    return Embeddings(vector[None, :], index.model_id, index.fingerprint, False)


def reciprocal_rank_fusion(rankings: Sequence[np.ndarray], *, k: int = RRF_K) -> tuple[np.ndarray, np.ndarray]:
    """Fuse rankings (each an array of rows, best first): score(row) = sum over rankings of 1 / (k + rank).

    Returns (rows, scores), best first; ties keep the order in which rows were first seen.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(np.asarray(ranking).tolist(), start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    order = sorted(fused, key=lambda row: -fused[row])
    return np.array(order, dtype=np.int64), np.array([fused[row] for row in order], dtype=np.float32)


def search(query: str, *, mode: str, k: int, index: VectorIndex, encoder: Encoder | None = None,
           keywords: KeywordIndex | None = None, query_vector: Embeddings | None = None) -> SearchHits:
    """Top-k corpus rows for a typed query.

    Args:
        mode: ``vector`` (needs ``encoder`` or ``query_vector``), ``keyword`` (needs ``keywords``) or ``hybrid``.
        encoder: the workspace's own model; the index refuses vectors from any other.
        query_vector: an already embedded query, used instead of ``encoder``.
    """
    if mode not in MODES:
        raise InputError(f"Search mode '{mode}' is unknown; choose one of {', '.join(MODES)}.")
    if k < 1:
        raise InputError("k must be at least 1.")
    query = check_query(query) if query_vector is None or mode != "vector" else query
    notes = []
    n = len(index)
    if k > n:
        notes.append(f"The corpus has only {n:,} points, so all {n:,} are ranked (k = {k:,} asked).")
        k = n
    depth = min(max(k, CANDIDATES), n)
    vector_rows = keyword_rows = np.zeros(0, np.int64)
    vector_scores = keyword_scores = np.zeros(0, np.float32)
    # Every result shows its rank in both rankings, so each is run whenever it can be, whatever the mode.
    run_vector = mode in ("vector", "hybrid") or query_vector is not None or encoder is not None
    run_keyword = mode in ("keyword", "hybrid") or (keywords is not None and bool(clean_text(query or "")))
    if run_vector:
        if query_vector is None:
            if encoder is None:
                raise InputError("This workspace has no model to embed a typed query (it was built from "
                                 "precomputed vectors): search by keyword, by point, or with a query vector.")
            query_vector, embed_notes = embed_query(query, encoder)
            notes += embed_notes if mode != "keyword" else []
        found = index.search(query_vector, depth)
        valid = found.indices[0] >= 0
        vector_rows, vector_scores = found.indices[0][valid], found.scores[0][valid]
    if run_keyword:
        if keywords is None:
            raise InputError("Keyword search needs the corpus's BM25 index.")
        all_scores = keywords.scores(query)
        matched = np.flatnonzero(all_scores > 0)
        if len(matched) == 0 and mode != "vector":
            notes.append("No word of the query occurs in the corpus (after removing English stopwords), so "
                         "keyword search finds nothing" + (": the results are vector search alone." if mode == "hybrid"
                                                           else "; try vector search."))
        order = matched[np.lexsort((matched, -all_scores[matched]))][:depth]
        keyword_rows, keyword_scores = order.astype(np.int64), all_scores[order]
    if mode == "vector":
        rows, scores, score_name = vector_rows[:k], vector_scores[:k], index.metric
    elif mode == "keyword":
        rows, scores, score_name = keyword_rows[:k], keyword_scores[:k], "bm25"
    else:
        rows, scores = reciprocal_rank_fusion([vector_rows, keyword_rows])
        rows, scores, score_name = rows[:k], scores[:k], "rrf"
    return SearchHits(query, mode, index.metric, score_name, rows, scores, _ranks_in(rows, vector_rows),
                      _ranks_in(rows, keyword_rows), tuple(notes), query_vector)


def _ranks_in(rows: np.ndarray, ranking: np.ndarray) -> np.ndarray:
    """1-based position of each of ``rows`` in ``ranking``; 0 where absent."""
    position = {row: rank for rank, row in enumerate(ranking.tolist(), start=1)}
    return np.array([position.get(row, 0) for row in rows.tolist()], dtype=np.int64)


def similarity_to_all(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """(n,) float32 score of the (d,) query against every row of ``vectors`` (n, d), exactly, in the index's
    metric: cosine similarity, dot product, or euclidean distance."""
    query = np.asarray(query, dtype=np.float32).ravel()
    if metric == "euclidean":
        return np.linalg.norm(vectors - query, axis=1).astype(np.float32)
    if metric == "cosine":
        norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12) * max(float(np.linalg.norm(query)), 1e-12)
        return (vectors @ query / norms).astype(np.float32)
    return (vectors @ query).astype(np.float32)


@dataclass(frozen=True, eq=False)
class PointNeighbours:
    """A point's true nearest neighbours in the embedding space, and where the 2-D map put them.

    Attributes:
        row: the point's corpus row.
        rows: (k,) neighbour rows, best first; the point itself is left out, exact copies of its text are
            kept (they are true neighbours, at similarity 1).
        scores: (k,) float32 similarity (or euclidean distance).
        map_ranks: (k,) int64 each neighbour's 1-based rank among all other points by 2-D map distance
            to the point: 1 = also nearest on the map; large = the projection tore them apart.
    """

    row: int
    rows: np.ndarray
    scores: np.ndarray
    map_ranks: np.ndarray


def point_neighbours(row: int, *, index: VectorIndex, embeddings: Embeddings, layout_2d: np.ndarray,
                     k: int) -> PointNeighbours:
    """The k true neighbours of corpus row ``row``, from the index, each with its rank on the 2-D map."""
    n = len(embeddings)
    if not 0 <= row < n:
        raise InputError(f"Row {row} is not in this corpus of {n:,} points.")
    if k < 1:
        raise InputError("k must be at least 1.")
    k = min(k, n - 1)
    found = index.search(Embeddings(embeddings.vectors[row:row + 1], embeddings.model_id, embeddings.fingerprint,
                                    embeddings.normalized), k + 1)
    keep = (found.indices[0] != row) & (found.indices[0] >= 0)
    rows, scores = found.indices[0][keep][:k], found.scores[0][keep][:k]
    map_distance = np.linalg.norm(layout_2d - layout_2d[row], axis=1)
    map_distance[row] = np.inf
    sorted_distances = np.sort(map_distance)
    # Rank = 1 + number of other points strictly closer on the map.
    map_ranks = np.searchsorted(sorted_distances, map_distance[rows], side="left") + 1
    return PointNeighbours(row, rows, scores, map_ranks.astype(np.int64))


def selection_centroid(vectors: np.ndarray, rows: Sequence[int], metric: str) -> np.ndarray:
    """(1, d) float32 the centre of the selected rows, as a query vector: the mean of their unit vectors (cosine),
    else of the vectors themselves."""
    chosen = np.asarray(vectors, dtype=np.float64)[np.asarray(rows, dtype=np.int64)]
    if metric == "cosine":
        chosen = chosen / np.maximum(np.linalg.norm(chosen, axis=1, keepdims=True), 1e-12)
    return chosen.mean(axis=0, keepdims=True).astype(np.float32)


def place_query(query_vector: Embeddings, *, index: VectorIndex, layout_coords: np.ndarray,
                config: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Where the query goes on the saved map, (c,) float32: UMAP's transform from its nearest corpus rows."""
    neighbours = index.search(query_vector, min(config.n_neighbors, len(index)))
    return place_points(neighbours, layout_coords, config=config)[0]


@dataclass(frozen=True, eq=False)
class SearchView:
    """What the Search page shows for one query.

    Attributes:
        hits: the ranked results.
        table: one row per result (rank, ids, scores, text, metadata).
        origin: (2,) the query placed on the map, or None (keyword search has no query vector).
        scores_to_all: (n,) the query's score against every point (None without a query vector).
        cut: the worst score inside the top k (the histogram's mark).
    """

    hits: SearchHits
    table: pd.DataFrame
    origin: np.ndarray | None
    scores_to_all: np.ndarray | None
    cut: float | None


def search_view(query: str, *, mode: str, k: int, index: VectorIndex, embeddings: Embeddings, points: pd.DataFrame,
                layout_2d: np.ndarray, layout_config: LayoutConfig, encoder: Encoder | None = None,
                keywords: KeywordIndex | None = None, query_vector: Embeddings | None = None) -> SearchView:
    """Search, then place the query on the map and score it against every point, as the Search page shows it."""
    hits = search(query, mode=mode, k=k, index=index, encoder=encoder, keywords=keywords, query_vector=query_vector)
    if hits.query_vector is None:
        return SearchView(hits, hits_table(hits, points), None, None, None)
    origin = place_query(hits.query_vector, index=index, layout_coords=layout_2d, config=layout_config)
    scores = similarity_to_all(embeddings.vectors, hits.query_vector.vectors[0], index.metric)
    cut = None
    if len(hits.rows):
        cut = float(scores[hits.rows].max() if index.metric == "euclidean" else scores[hits.rows].min())
    return SearchView(hits, hits_table(hits, points), origin, scores, cut)


def neighbours_table(neighbours: PointNeighbours, points: pd.DataFrame, score_label: str) -> pd.DataFrame:
    """One row per true neighbour: rank, score, rank on the map, then the point's own columns."""
    return pd.concat([pd.DataFrame({"rank": np.arange(1, len(neighbours.rows) + 1), score_label: neighbours.scores,
                                    "map rank": neighbours.map_ranks}),
                      points.iloc[neighbours.rows].reset_index(drop=True)], axis=1)
