"""Compression audit: how much of each point's neighbourhood survives fewer dimensions or fewer bits.

Every setting is compared with the full float32 vectors: the overlap of each sampled point's 10 nearest neighbours
(the database compressed, the query point kept in float32 where the method allows it, as FAISS's asymmetric search
does), the Spearman correlation of random pairs' scores, and the bytes per vector and for the whole index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from explorer.analysis.similarity import random_pairs, unit_rows
from explorer.audits.retrieval import RetrievalSet, document_ranking, read_retrieval, retrieval_metrics
from explorer.errors import InputError

DEFAULT_K = 10
N_QUERIES = 1_000
N_PAIRS = 20_000
RESCORE_DEPTH = 4
"""Binary search with rescoring keeps ``RESCORE_DEPTH * k`` candidates by Hamming distance, then ranks them by the
full vectors."""
KEEP = 0.95
TRUNCATIONS = (32, 64, 128, 256, 512)
QUERY_METRICS = ("recall@10", "mrr@10")
QUERY_DEPTH = 200
"""Rows searched per labelled query before they are merged into documents."""
_BATCH = 256


@dataclass(frozen=True, eq=False)
class CompressionAudit:
    """Attributes:
        table: one row per setting: setting, method, dims, bytes_per_vector, index_mb, overlap_mean,
            overlap_p05, spearman; the full float32 vectors first.
        k, n_queries, n_pairs, seed: what the figures were measured on.
        matryoshka: whether the model was trained for its dimensions to be cut (None: unknown, uploaded vectors).
        n_labelled: the labelled queries behind the table's recall@10 and mrr@10 (0: none given, no such columns).
    """

    table: pd.DataFrame
    k: int
    n_queries: int
    n_pairs: int
    seed: int
    matryoshka: bool | None
    n_labelled: int = 0

    def cheapest_keeping(self, share: float = KEEP) -> pd.Series | None:
        """The setting with the fewest bytes whose mean neighbour overlap is at least ``share``."""
        kept = self.table[self.table["overlap_mean"] >= share]
        return None if kept.empty else kept.sort_values(["bytes_per_vector", "overlap_mean"],
                                                        ascending=[True, False]).iloc[0]

    def sentence(self) -> str:
        best = self.cheapest_keeping()
        full = self.table.iloc[0]
        if best is None or best["setting"] == full["setting"]:
            return (f"No compressed setting keeps {KEEP:.0%} of each point's {self.k} nearest neighbours: keep the "
                    "full float32 vectors.")
        said = (f"The cheapest setting that keeps {KEEP:.0%} of each point's {self.k} nearest neighbours (on "
                f"average) is {best['setting']}: {best['bytes_per_vector']:,.0f} bytes a vector instead of "
                f"{full['bytes_per_vector']:,.0f} ({full['bytes_per_vector'] / best['bytes_per_vector']:.0f}x "
                f"smaller), {best['overlap_mean']:.1%} overlap.")
        if self.n_labelled:
            said += (f" On the {self.n_labelled:,} labelled queries, recall@10 is {best['recall@10']:.3f} against "
                     f"{full['recall@10']:.3f} with the full vectors.")
        return said

    def summary(self) -> dict:
        best = self.cheapest_keeping()
        return {"k": self.k, "n_queries": self.n_queries, "n_pairs": self.n_pairs, "seed": self.seed,
                "n_labelled_queries": self.n_labelled,
                "matryoshka": self.matryoshka, "cheapest_keeping_95": None if best is None else best["setting"],
                "settings": self.table.to_dict("records")}


@dataclass(frozen=True, eq=False)
class LabelledQueries:
    """Labelled queries for the audit. Attributes:
        vectors: (q, d) float32 the queries, embedded with the corpus's model.
        relevant: per query, its relevant documents' positions in ``documents``' order.
        document_of_row: (n,) each corpus row's document position (chunks of one document share it).
    """

    vectors: np.ndarray
    relevant: list[np.ndarray]
    document_of_row: np.ndarray


def compression_audit(vectors: np.ndarray, *, k: int = DEFAULT_K, n_queries: int = N_QUERIES,
                      n_pairs: int = N_PAIRS, seed: int = 0, matryoshka: bool | None = None,
                      labelled: LabelledQueries | None = None) -> CompressionAudit:
    """Audit ``vectors`` (n, d) as cosine vectors under every setting that fits their width; with ``labelled``
    queries, also recall@10 and MRR@10 by document of each setting's search."""
    n, dim = vectors.shape
    if n < k + 2:
        raise InputError(f"A compression audit needs more than {k + 1} points; this workspace has {n}.")
    rng = np.random.default_rng(seed)
    full = unit_rows(vectors.astype(np.float32))
    queries = np.sort(rng.choice(n, size=min(n_queries, n), replace=False))
    first, second = random_pairs(n, n_pairs, rng)
    truth = _top_k(full[queries], full, queries, k)
    truth_pairs = np.einsum("ij,ij->i", full[first], full[second])
    rows = []
    for setting in _settings(dim, n):
        space = setting.space(full, seed)
        found = space.search(full[queries], k, own_rows=queries)
        overlap = np.array([len(np.intersect1d(a, b)) / k for a, b in zip(truth, found)])
        pair_scores = np.einsum("ij,ij->i", space.database[first], space.database[second])
        rho = float(spearmanr(truth_pairs, pair_scores).statistic) if len(first) > 2 else float("nan")
        row = {"setting": setting.name, "method": setting.method, "dims": setting.dims,
               "bytes_per_vector": setting.bytes_per_vector,
               "index_mb": round(setting.bytes_per_vector * n / 1e6, 3),
               "overlap_mean": float(overlap.mean()), "overlap_p05": float(np.quantile(overlap, 0.05)),
               "spearman": rho}
        if labelled is not None:
            ranked = space.search(unit_rows(labelled.vectors), min(QUERY_DEPTH, n))
            metrics = retrieval_metrics(document_ranking(ranked, labelled.document_of_row), labelled.relevant)
            row |= {name: metrics[name] for name in QUERY_METRICS}
        rows.append(row)
    return CompressionAudit(pd.DataFrame(rows), k, len(queries), len(first), seed, matryoshka,
                            0 if labelled is None else len(labelled.relevant))


def _top_k(query_vectors: np.ndarray, database: np.ndarray, query_rows: np.ndarray | None, k: int) -> np.ndarray:
    """(q, k) rows of the k best scores (dot product) of each query over ``database``, the query's own row
    (``query_rows``, when the queries are corpus points) left out; ties keep the lower row (a stable sort)."""
    found = np.empty((len(query_vectors), k), dtype=np.int64)
    for start in range(0, len(query_vectors), _BATCH):
        scores = query_vectors[start:start + _BATCH] @ database.T
        if query_rows is not None:
            scores[np.arange(len(scores)), query_rows[start:start + _BATCH]] = -np.inf
        # What a stable sort of the whole row would give, at the cost of a partition: every score tied with the
        # k-th best is a candidate, and the candidates are ordered by score, then row.
        kth = np.partition(scores, -k, axis=1)[:, -k]
        for offset, (row_scores, cut) in enumerate(zip(scores, kth)):
            candidates = np.flatnonzero(row_scores >= cut)
            found[start + offset] = candidates[np.lexsort((candidates, -row_scores[candidates]))][:k]
    return found


@dataclass(frozen=True, eq=False)
class _Space:
    """A setting's stored vectors and how it searches them.

    Attributes:
        database: (n, d') the vectors as the compressed index scores them (truncated and re-normalised, decoded,
            or signs), so that a pair's score is the dot product of its two rows.
        full: (n, d) the float32 unit vectors (what rescoring reads).
        cut: the dimensions a query keeps (truncation), or None.
        binary: the query is reduced to signs as well; ``rescore``: then its top candidates are re-ranked by
            the full vectors.
    """

    database: np.ndarray
    full: np.ndarray
    cut: int | None = None
    binary: bool = False
    rescore: bool = False

    def search(self, query_vectors: np.ndarray, k: int, *, own_rows: np.ndarray | None = None) -> np.ndarray:
        """(q, k) rows found for float32 unit queries (``own_rows``: the corpus rows they are, left out)."""
        if self.cut is not None:
            return _top_k(unit_rows(query_vectors[:, : self.cut]), self.database, own_rows, k)
        if not self.binary:
            return _top_k(query_vectors, self.database, own_rows, k)
        signs = np.where(query_vectors > 0, 1.0, -1.0).astype(np.float32)
        if not self.rescore:
            return _top_k(signs, self.database, own_rows, k)
        candidates = _top_k(signs, self.database, own_rows, min(RESCORE_DEPTH * k, len(self.database)))
        rescored = np.einsum("qd,qcd->qc", query_vectors, self.full[candidates])
        order = np.argsort(-rescored, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(candidates, order, axis=1)


@dataclass(frozen=True)
class _Setting:
    name: str
    method: str
    dims: int
    bytes_per_vector: float
    code: int = 0
    """The method's parameter: dimensions kept, PQ subquantizers."""

    def space(self, full: np.ndarray, seed: int) -> _Space:
        if self.method in ("float32", "truncate"):
            return _Space(unit_rows(full[:, : self.dims]), full, cut=self.dims)
        if self.method in ("int8", "pq"):
            return _Space(_faiss_round_trip(full, self.method, self.code, seed), full)
        signs = np.where(full > 0, 1.0, -1.0).astype(np.float32)  # one bit a dimension
        return _Space(signs, full, binary=True, rescore=self.method == "binary+rescore")


def _settings(dim: int, n: int) -> list[_Setting]:
    settings = [_Setting(f"float32 ({dim} dims)", "float32", dim, 4.0 * dim, dim)]
    settings += [_Setting(f"first {cut} dims, float32", "truncate", cut, 4.0 * cut, cut)
                 for cut in TRUNCATIONS if cut < dim]
    settings.append(_Setting("8-bit scalar", "int8", dim, float(dim)))
    settings.append(_Setting("binary", "binary", dim, dim / 8))
    settings.append(_Setting(f"binary, top {RESCORE_DEPTH}k rescored", "binary+rescore", dim, dim / 8))
    bits = pq_bits(n)
    for share in (8, 16):
        subquantizers = dim // share
        if bits and subquantizers >= 2 and dim % subquantizers == 0:
            size = subquantizers * bits / 8
            settings.append(_Setting(f"PQ, {subquantizers} x {bits} bits", "pq", dim, size, subquantizers))
    return settings


def pq_bits(n: int) -> int:
    """Bits per PQ subquantizer: 8 (256 centroids) when there are the 39 training points per centroid FAISS asks
    for, fewer for smaller corpora, none (no PQ) below 16 centroids."""
    bits = int(min(8, np.floor(np.log2(max(n, 1) / 39))))
    return bits if bits >= 4 else 0


def _faiss_round_trip(full: np.ndarray, method: str, subquantizers: int, seed: int) -> np.ndarray:
    """The vectors as the compressed index stores them, decoded (trained on a seeded sample of at most 20,000)."""
    import faiss

    dim = full.shape[1]
    if method == "int8":
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexPQ(dim, subquantizers, pq_bits(len(full)), faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.seed = seed
        index.pq.cp.verbose = False
    sample = np.random.default_rng(seed).choice(len(full), size=min(len(full), 20_000), replace=False)
    index.train(np.ascontiguousarray(full[np.sort(sample)]))
    return index.sa_decode(index.sa_encode(np.ascontiguousarray(full)))


def workspace_compression(workspace, *, k: int = DEFAULT_K, seed: int = 0, queries: pd.DataFrame | None = None,
                          encoder=None, cache_dir=None) -> CompressionAudit:
    """The audit of a workspace's vectors, saying whether its model was trained for truncation; with labelled
    ``queries`` (``query_id, query, relevant_doc_id``, the ids the workspace's), embedded by ``encoder`` (the
    workspace's model), also each setting's recall@10 and MRR@10 by document."""
    from explorer.embedding.encoders import MODELS

    spec = MODELS.get(workspace.manifest.model)
    labelled = None if queries is None else labelled_queries(workspace.points(), queries, encoder,
                                                              cache_dir=cache_dir)
    return compression_audit(workspace.embeddings().vectors, k=k, seed=seed,
                             matryoshka=None if spec is None else spec.matryoshka, labelled=labelled)


def labelled_queries(points: pd.DataFrame, queries: pd.DataFrame, encoder, *, cache_dir=None) -> LabelledQueries:
    """The queries read against the workspace's documents (a split document is one document) and embedded."""
    from explorer.embedding.embed import embed_texts

    data, document_of_row = labelled_set(points, queries)
    vectors = embed_texts(list(data.query_texts), encoder, cache_dir=cache_dir, queries=True).vectors
    return LabelledQueries(vectors, data.relevant, document_of_row)


def labelled_set(points: pd.DataFrame, queries: pd.DataFrame) -> tuple[RetrievalSet, np.ndarray]:
    """The queries validated against the workspace's documents, and each point's document position."""
    ids = points["id"].astype(str)
    documents = pd.DataFrame({"doc_id": pd.unique(ids)})
    documents["text"] = points.groupby(ids, sort=False)["text"].first().loc[documents["doc_id"]].to_numpy()
    return read_retrieval(documents, queries), pd.Index(documents["doc_id"]).get_indexer(ids)


def matryoshka_sentence(model_id: str, matryoshka: bool | None) -> str:
    if matryoshka is None:
        return ("The vectors were uploaded, so whether their model was trained for cutting dimensions (Matryoshka) "
                "is unknown.")
    if matryoshka:
        return (f"{model_id} was trained so that its first dimensions stand alone (Matryoshka representation "
                "learning): keeping the first dimensions is how it is meant to be shrunk.")
    return (f"{model_id} was not trained for cutting dimensions (no Matryoshka training): its information is "
            "spread over all of them, so keeping the first ones loses more than quantising.")
