"""Seconds to find the near-duplicates of N real texts at a cosine threshold, and to score their outliers.

    python benchmarks/duplicates.py --n 100000 [--threshold 0.95] [--model all-MiniLM-L6-v2] [--json results.json]

The corpus is the one of ``benchmarks/search.py`` (real tweets topped up with real news sentences); its
vectors come from the on-disk embeddings cache when that benchmark ran first. Timed separately: the FAISS index
and 30-NN graph (which every workspace build computes anyway), the pair search read off that graph (rows whose
30 neighbours are all above the threshold searched deeper), the groups, and the three outlier scores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    from benchmarks.search import load_corpus_and_queries
    from explorer.analysis.flags import exact_duplicate_groups, near_duplicates, outlier_scores
    from explorer.embedding.embed import embed_texts
    from explorer.embedding.loading import load_encoder
    from explorer.mapping.building import KNN_K
    from explorer.mapping.index import VectorIndex
    from explorer.workspace import embeddings_cache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    texts, _ = load_corpus_and_queries(args.n, 1)
    embeddings = embed_texts(texts, load_encoder(args.model), cache_dir=embeddings_cache())
    stages, clock = {}, time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[stage], clock = now - clock, now

    index = VectorIndex.build(embeddings)
    knn = index.knn_graph(embeddings, KNN_K)
    lap("index + 30-NN graph")
    pairs = near_duplicates(embeddings, knn, args.threshold, index=index)
    lap("pairs + groups")
    exact = exact_duplicate_groups(texts)
    lap("exact duplicates")
    outlier_scores(knn, np.zeros(len(texts)))
    lap("outlier scores (kNN distance, LOF)")
    report = {"n": len(texts), "model": args.model, "index": index.kind, "threshold": args.threshold,
              "n_pairs": int(len(pairs.a)), "n_groups": pairs.n_groups, "n_exact_groups": len(exact),
              "n_chained_groups": len(pairs.chained_groups()), "seconds": stages,
              "total_s": sum(stages.values())}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
