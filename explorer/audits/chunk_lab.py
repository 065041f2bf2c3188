"""Chunking lab: two to four chunking settings of one corpus of long documents, side by side.

Each setting is chunked as a build would chunk it and embedded once (the embeddings cache keeps the vectors), then
mapped as a workspace would be: vectors, share the model truncates, near-duplicate pairs, clusters and noise, and,
with labelled queries, recall@1/5/10 and MRR@10 counted by document (a document is found where any of its chunks
is, at the rank of its best chunk).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.analysis.flags import DEFAULT_THRESHOLD, near_duplicates
from explorer.audits.retrieval import document_ranking, read_retrieval, retrieval_metrics
from explorer.embedding.embed import embed_texts
from explorer.embedding.encoders import Encoder
from explorer.errors import InputError
from explorer.ingest.chunk import SPAN_BATCH, ChunkConfig, chunk_corpus
from explorer.ingest.corpus import IngestConfig, build_corpus
from explorer.mapping.building import build_map
from explorer.types import ID, Corpus, IngestReport

LAB_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10")
MAX_SETTINGS = 4
SEARCH_DEPTH = 200
"""Chunks searched per query before they are merged into documents."""
SettingProgress = Callable[[str, int, int], None]
"""(setting name, texts embedded, texts in all)."""


@dataclass(frozen=True)
class ChunkSetting:
    """One setting: ``tokens`` per chunk sharing ``overlap`` with the next, or whole texts when ``tokens`` is None."""

    tokens: int | None
    overlap: int = 0

    def __post_init__(self) -> None:
        self.config()  # validates: the overlap must be smaller than the chunk

    @property
    def name(self) -> str:
        return "whole texts" if self.tokens is None else f"{self.tokens} tokens, {self.overlap} overlap"

    def config(self) -> ChunkConfig:
        if self.tokens is None:
            return ChunkConfig(enabled=False)
        return ChunkConfig(max_tokens=self.tokens, overlap=self.overlap)


def parse_settings(text: str) -> list[ChunkSetting]:
    """``off,128:16,256:32`` -> settings; ``off`` keeps texts whole. Two to four distinct settings."""
    settings = []
    for part in (piece.strip() for piece in text.split(",") if piece.strip()):
        if part.lower() == "off":
            settings.append(ChunkSetting(None))
            continue
        tokens, _, overlap = part.partition(":")
        if not tokens.isdigit() or (overlap and not overlap.isdigit()):
            raise InputError(f"'{part}' is not a chunk setting: write TOKENS:OVERLAP (e.g. 256:32), or off.")
        settings.append(ChunkSetting(int(tokens), int(overlap or 0)))
    if len(set(settings)) != len(settings):
        raise InputError("The same chunk setting is given twice.")
    if not 2 <= len(settings) <= MAX_SETTINGS:
        raise InputError(f"Compare two to {MAX_SETTINGS} chunk settings; {len(settings)} given.")
    return settings


def setting_corpus(documents: Corpus, setting: ChunkSetting, encoder: Encoder) -> Corpus:
    """The documents as a build with this setting would embed them: whole, or split into chunks."""
    corpus, _ = chunk_corpus(documents, IngestReport(len(documents)), encoder.token_spans,
                             model_limit=encoder.token_limit, config=setting.config())
    return corpus


@dataclass(frozen=True, eq=False)
class ChunkLab:
    """Attributes:
        table: one row per setting: setting, tokens, overlap, vectors, truncated (the share of vectors whose text
            the model cuts), tokens_unread (the share of all tokens past the model's limit, which it never
            reads), duplicate_pairs, clusters, noise, and with queries recall@1/5/10 and mrr@10.
        model, threshold: the model and the near-duplicate cosine threshold.
        token_limit: the tokens the model reads of each text (None: all).
        n_documents, n_queries: the corpus's documents and the labelled queries (0 without).
    """

    table: pd.DataFrame
    model: str
    threshold: float
    n_documents: int
    n_queries: int
    token_limit: int | None

    def recommendation(self) -> str:
        table = self.table
        cheapest = table.sort_values(["vectors", "truncated"], kind="stable").iloc[0]
        if not self.n_queries:
            whole = table[table["truncated"] == 0].sort_values("vectors", kind="stable")
            if whole.empty:
                return ("Every setting leaves texts the model cuts short: try smaller chunks. Give labelled "
                        "queries to see which setting finds the most relevant documents.")
            fit = whole.iloc[0]
            return (f"{fit['setting']} is the cheapest setting whose texts the model reads whole ({fit['vectors']:,} "
                    "vectors). Give labelled queries to see which setting finds the most relevant documents.")
        best = table.sort_values(["recall@10", "mrr@10", "vectors"], ascending=[False, False, True],
                                 kind="stable").iloc[0]
        said = (f"{best['setting']} found the most relevant documents: recall@10 {best['recall@10']:.3f}, "
                f"MRR@10 {best['mrr@10']:.3f}")
        if best["setting"] == cheapest["setting"]:
            return said + f", with the fewest vectors ({best['vectors']:,})."
        return (said + f". It costs {best['vectors'] - cheapest['vectors']:,} more vectors than {cheapest['setting']} "
                f"({cheapest['vectors']:,} vectors, recall@10 {cheapest['recall@10']:.3f}).")

    def summary(self) -> dict:
        return {"model": self.model, "token_limit": self.token_limit, "threshold": self.threshold,
                "n_documents": self.n_documents,
                "n_queries": self.n_queries, "recommendation": self.recommendation(),
                "settings": self.table.to_dict("records")}


def read_documents(table: pd.DataFrame, *, text_column: str, id_column: str | None) -> Corpus:
    corpus, _ = build_corpus(table, IngestConfig(text_column, id_column))
    if len(corpus) < 2:
        raise InputError("The chunking lab needs at least two documents with text.")
    return corpus


def chunk_lab(documents: Corpus, settings: list[ChunkSetting], encoder: Encoder, *,
              queries: pd.DataFrame | None = None, threshold: float = DEFAULT_THRESHOLD,
              cache_dir: Path | None = None, progress: SettingProgress | None = None) -> ChunkLab:
    """Chunk, embed and map ``documents`` under each setting; score the labelled ``queries`` (``query_id, query,
    relevant_doc_id``) by document when given."""
    labelled = None
    if queries is not None:
        labelled = read_retrieval(pd.DataFrame({"doc_id": documents.points[ID].astype(str), "text": documents.texts}),
                                  queries)
    rows = [_setting_row(documents, setting, encoder, labelled, threshold, cache_dir, progress)
            for setting in settings]
    return ChunkLab(pd.DataFrame(rows), encoder.spec.id, threshold, len(documents),
                    0 if labelled is None else len(labelled.query_texts), encoder.token_limit)


def _setting_row(documents: Corpus, setting: ChunkSetting, encoder: Encoder, labelled, threshold: float,
                 cache_dir: Path | None, progress: SettingProgress | None) -> dict:
    corpus = setting_corpus(documents, setting, encoder)
    texts = corpus.texts
    fitted = encoder.fit_on(texts)
    embeddings = embed_texts(texts, fitted, cache_dir=cache_dir,
                             progress=progress and (lambda done, total: progress(setting.name, done, total)))
    built = build_map(texts, embeddings)
    tokens = token_totals(texts, encoder)
    limit = encoder.token_limit or int(tokens.max(initial=0))
    row = {"setting": setting.name, "tokens": setting.tokens, "overlap": setting.overlap if setting.tokens else None,
           "vectors": len(texts),
           "truncated": float((tokens > limit).mean()),
           "tokens_unread": float(np.maximum(tokens - limit, 0).sum() / max(tokens.sum(), 1)),
           "duplicate_pairs": near_duplicates(embeddings, built.knn, threshold).n_pairs,
           "clusters": built.clustering.n_clusters, "noise": built.clustering.noise_fraction}
    if labelled is not None:
        query_vectors = embed_texts(list(labelled.query_texts), fitted, cache_dir=cache_dir, queries=True)
        found = built.index.search(query_vectors, min(SEARCH_DEPTH, len(texts)))
        document_of_chunk = pd.Index(documents.points[ID]).get_indexer(corpus.points[ID])
        row |= retrieval_metrics(document_ranking(found.indices, document_of_chunk), labelled.relevant)
        row = {name: value for name, value in row.items() if name != "ndcg@10"}
    return row


def token_totals(texts: list[str], encoder: Encoder) -> np.ndarray:
    """(n,) each text's token count under the model's tokenizer, tokenised in batches."""
    counts = [len(spans) for start in range(0, len(texts), SPAN_BATCH)
              for spans in encoder.token_spans(texts[start:start + SPAN_BATCH])]
    return np.array(counts, dtype=np.int64)
