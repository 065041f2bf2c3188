"""Retrieval evaluation through our own FAISS index: recall@1/5/10, MRR@10 and nDCG@10 for labelled queries,
and the failures (queries whose relevant document missed the top k, with what outranked it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.embedding.embed import embed_texts
from explorer.embedding.encoders import Encoder, Progress
from explorer.errors import InputError
from explorer.ingest.corpus import clean_text
from explorer.mapping.index import VectorIndex

CUTOFFS = (1, 5, 10)
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
MIN_JOINED = 0.5
"""Below this share of relevant ids found among the corpus's ids, the queries are refused: the ids name another
corpus or another column, and recall would measure the join, not the model."""


@dataclass(frozen=True)
class IdJoin:
    """How many of the queries' relevant ids one column of document ids holds."""

    column: str | None
    n_relevant: int
    n_found: int

    @property
    def share(self) -> float:
        return self.n_found / self.n_relevant if self.n_relevant else 0.0

    def sentence(self) -> str:
        where = f"column '{self.column}'" if self.column else "the row numbers"
        return f"{self.n_found:,} of {self.n_relevant:,} distinct relevant ids ({self.share:.0%}) are in {where}"


def id_join(doc_ids: pd.Series, relevant_ids: pd.Series, *, column: str | None = None) -> IdJoin:
    """The join of the queries' ``relevant_ids`` to ``doc_ids``, both compared as trimmed text."""
    wanted = pd.unique(relevant_ids.astype(str).str.strip())
    known = set(doc_ids.astype(str).str.strip())
    return IdJoin(column, len(wanted), sum(1 for doc_id in wanted if doc_id in known))


def check_id_join(join: IdJoin) -> IdJoin:
    """Refuse a join that finds fewer than :data:`MIN_JOINED` of the relevant ids, with the counts."""
    if join.share < MIN_JOINED:
        raise InputError(f"Only {join.sentence()}: the queries' relevant_doc_id do not name these documents. "
                         "Choose the id column that holds them (or the matching corpus); nothing was embedded.")
    return join


def relevant_ids(queries: pd.DataFrame) -> pd.Series:
    """The ``relevant_doc_id`` column of a queries table (refused with the columns found when it has none)."""
    return queries[_columns(queries, ("relevant_doc_id",), "queries")["relevant_doc_id"]]


def best_id_column(table: pd.DataFrame, relevant_ids: pd.Series, *, candidates: list[str] | None = None) -> IdJoin:
    """The column of ``table`` (or the row numbers, ``column=None``) that holds the most relevant ids: the id
    column a person would pick once they saw the queries."""
    joins = [id_join(pd.Series(range(len(table))), relevant_ids)]
    for column in candidates if candidates is not None else [str(name) for name in table.columns]:
        joins.append(id_join(table[column], relevant_ids, column=column))
    return max(joins, key=lambda join: join.n_found)


@dataclass(frozen=True, eq=False)
class RetrievalSet:
    """A corpus and labelled queries.

    Attributes:
        doc_ids: (n,) the corpus's document ids (as given).
        relevant: per query, the corpus rows of its relevant documents (at least one).
        notes: what was left out and why (empty texts, relevant ids missing from the corpus).
    """

    doc_ids: np.ndarray
    doc_texts: list[str]
    query_ids: np.ndarray
    query_texts: list[str]
    relevant: list[np.ndarray]
    notes: tuple[str, ...] = ()


def _columns(table: pd.DataFrame, needed: tuple[str, ...], what: str) -> dict[str, str]:
    found = {str(column).strip().lower(): column for column in table.columns}
    missing = [name for name in needed if name not in found]
    if missing:
        raise InputError(f"The {what} file needs columns {', '.join(needed)}; missing: {', '.join(missing)} "
                         f"(found: {', '.join(map(str, table.columns))}).")
    return {name: found[name] for name in needed}


def read_retrieval(corpus: pd.DataFrame, queries: pd.DataFrame) -> RetrievalSet:
    """Validate ``corpus`` (``doc_id, text``) and ``queries`` (``query_id, query, relevant_doc_id``, one row per
    relevant document)."""
    corpus_columns = _columns(corpus, ("doc_id", "text"), "corpus")
    query_columns = _columns(queries, ("query_id", "query", "relevant_doc_id"), "queries")
    doc_ids = corpus[corpus_columns["doc_id"]].astype(str).str.strip()
    duplicated = doc_ids[doc_ids.duplicated()].unique()
    if len(duplicated):
        raise InputError(f"{len(duplicated)} doc_id(s) appear more than once in the corpus (e.g. "
                         f"{', '.join(map(str, duplicated[:3]))}); each document needs its own id.")
    texts = corpus[corpus_columns["text"]].astype("string").fillna("").map(clean_text)
    notes = []
    empty = texts == ""
    if empty.any():
        notes.append(f"{int(empty.sum())} corpus document(s) with no text were left out.")
    doc_ids, texts = doc_ids[~empty].to_numpy(), texts[~empty].tolist()
    if len(doc_ids) < 2:
        raise InputError("The corpus needs at least 2 documents with text.")
    row_of = {doc_id: row for row, doc_id in enumerate(doc_ids)}
    frame = pd.DataFrame({"query_id": queries[query_columns["query_id"]].astype(str).str.strip(),
                          "query": queries[query_columns["query"]].astype("string").fillna("").map(clean_text),
                          "relevant": queries[query_columns["relevant_doc_id"]].astype(str).str.strip()})
    check_id_join(id_join(pd.Series(doc_ids), frame["relevant"], column=str(corpus_columns["doc_id"])))
    unknown = frame[~frame["relevant"].isin(row_of)]
    if len(unknown):
        notes.append(f"{len(unknown)} relevant_doc_id(s) are not in the corpus (e.g. "
                     f"{', '.join(map(str, unknown['relevant'].unique()[:3]))}); those labels were left out.")
    query_ids, query_texts, relevant, dropped = [], [], [], []
    for query_id, rows in frame.groupby("query_id", sort=False):
        known = sorted({row_of[doc] for doc in rows["relevant"] if doc in row_of})
        text = rows["query"].iloc[0]
        if not known or not text:
            dropped.append(query_id)
            continue
        query_ids.append(query_id)
        query_texts.append(text)
        relevant.append(np.array(known, dtype=np.int64))
    if dropped:
        notes.append(f"{len(dropped)} quer(ies) without text or without any relevant document in the corpus were "
                     f"left out (e.g. {', '.join(dropped[:3])}).")
    if not query_ids:
        raise InputError("No query has both text and a relevant document in the corpus.")
    return RetrievalSet(doc_ids, texts, np.array(query_ids), query_texts, relevant, tuple(notes))


def retrieval_metrics(ranked: np.ndarray, relevant: list[np.ndarray]) -> dict[str, float]:
    """recall@1/5/10, MRR@10 and nDCG@10 (binary gains) averaged over queries.

    Args:
        ranked: (q, >=10) corpus rows per query, best first.
        relevant: per query, its relevant rows.
    """
    per_query = query_metrics(ranked, relevant)
    return {name: float(per_query[name].mean()) for name in METRICS}


def document_ranking(chunk_rows: np.ndarray, document_of_chunk: np.ndarray, *, width: int = 10) -> np.ndarray:
    """(q, >= width) document rows per query, best first: each document at the rank of its best chunk, -1 where
    fewer documents were found."""
    ranked = []
    for found in chunk_rows:
        documents = document_of_chunk[found[found >= 0]]
        ranked.append(pd.unique(documents))
    depth = max(width, max(map(len, ranked), default=0))
    return np.array([np.pad(row, (0, depth - len(row)), constant_values=-1) for row in ranked], dtype=np.int64)


def query_metrics(ranked: np.ndarray, relevant: list[np.ndarray]) -> pd.DataFrame:
    """The same figures per query, plus the rank of its first relevant document (0 = not in the ranking)."""
    rows = []
    discounts = 1.0 / np.log2(np.arange(2, 12))
    for found, wanted in zip(ranked, relevant):
        hits = np.isin(found[:10], wanted)
        first = int(np.argmax(np.isin(found, wanted))) + 1 if np.isin(found, wanted).any() else 0
        ideal = discounts[: min(len(wanted), 10)].sum()
        row = {f"recall@{cut}": np.isin(wanted, found[:cut]).mean() for cut in CUTOFFS}
        row.update({"mrr@10": 1.0 / first if 0 < first <= 10 else 0.0,
                    "ndcg@10": float((hits * discounts[: len(hits)]).sum() / ideal), "first_relevant_rank": first})
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class RetrievalReport:
    """Attributes:
        metrics: recall@1, recall@5, recall@10, mrr@10, ndcg@10.
        per_query: one row per query (id, text, its figures, first relevant rank).
        ranked, scores: (q, depth) the index's results per query, best first.
        doc_vectors: (n, d) the corpus embedding (for a map of the failures).
    """

    model: str
    k: int
    metrics: dict[str, float]
    per_query: pd.DataFrame
    ranked: np.ndarray
    scores: np.ndarray
    doc_vectors: np.ndarray
    index_kind: str

    def summary(self) -> dict:
        return {"model": self.model, "n_queries": int(len(self.per_query)), **self.metrics}

    def recall_at_k(self) -> float:
        return float(self.per_query[f"recall@{self.k}"].mean())

    def failures(self, data: RetrievalSet) -> pd.DataFrame:
        """Queries whose relevant documents are not all in the top k: what they wanted, and what outranked it."""
        rows = []
        for number, (wanted, found, scores) in enumerate(zip(data.relevant, self.ranked, self.scores)):
            missed = np.setdiff1d(wanted, found[: self.k])
            if not len(missed):
                continue
            first = int(self.per_query["first_relevant_rank"].iloc[number])
            above = found[: (first - 1) if first else self.k]
            above = above[above >= 0]
            rows.append({"query_id": data.query_ids[number], "query": data.query_texts[number],
                         "missed_doc_ids": ", ".join(data.doc_ids[missed]),
                         "first_relevant_rank": first or None,
                         "first_relevant_score": float(scores[first - 1]) if first else None,
                         "outranked_by": " | ".join(f"{data.doc_ids[row]} ({score:.3f}): {data.doc_texts[row][:80]}"
                                                    for row, score in zip(above[:3], scores[: len(above[:3])]))})
        return pd.DataFrame(rows, columns=["query_id", "query", "missed_doc_ids", "first_relevant_rank",
                                           "first_relevant_score", "outranked_by"])


def evaluate(data: RetrievalSet, encoder: Encoder, *, k: int = 10, depth: int = 100, cache_dir: Path | None = None,
             progress: Progress | None = None) -> RetrievalReport:
    """Embed the corpus and queries (cached in ``cache_dir`` when given; ``progress`` hears texts done of the
    corpus and queries together), index the corpus in FAISS (cosine), rank ``depth`` documents per query."""
    if k < 1:
        raise InputError("k must be at least 1.")
    # A model fitted on the corpus it embeds (TF-IDF) is fitted on the documents once, so that the queries land in
    # the documents' space rather than in a space of their own.
    encoder = encoder.fit_on(list(data.doc_texts))
    n_docs, n_texts = len(data.doc_texts), len(data.doc_texts) + len(data.query_texts)

    def documents_progress(done: int, total: int) -> None:
        if done < total:  # the documents' end is the queries' start, which the queries report
            progress(done, n_texts)

    documents = embed_texts(list(data.doc_texts), encoder, cache_dir=cache_dir,
                            progress=documents_progress if progress else None)
    index = VectorIndex.build(documents)
    queries = embed_texts(list(data.query_texts), encoder, cache_dir=cache_dir, queries=True,
                          progress=None if progress is None else lambda done, total: progress(n_docs + done, n_texts))
    found = index.search(queries, min(max(depth, k, 10), len(index)))
    ranked = found.indices
    if ranked.shape[1] < 10:  # tiny corpora: pad so that the @10 figures are defined
        ranked = np.hstack([ranked, np.full((len(ranked), 10 - ranked.shape[1]), -1)])
    per_query = query_metrics(ranked, data.relevant)
    if f"recall@{k}" not in per_query:
        per_query[f"recall@{k}"] = [np.isin(wanted, found[:k]).mean() for wanted, found in zip(data.relevant, ranked)]
    per_query.insert(0, "query", data.query_texts)
    per_query.insert(0, "query_id", data.query_ids)
    metrics = {name: float(per_query[name].mean()) for name in METRICS}
    return RetrievalReport(encoder.spec.id, k, metrics, per_query, ranked, found.scores, documents.vectors,
                           index.kind)
