"""Cluster keywords by class-based TF-IDF (BERTopic's c-TF-IDF): words frequent in one cluster, rare elsewhere."""

from __future__ import annotations

import re

import numpy as np

from explorer.types import ClusterKeywords

_URL = re.compile(r"https?://\S+|www\.\S+")
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
# Social-media and HTML residue that says nothing about a cluster's topic.
_NOISE_WORDS = frozenset({"rt", "via", "amp", "http", "https", "www", "com"})


def cluster_keywords(texts: list[str], labels: np.ndarray, *, n_words: int = 8) -> ClusterKeywords:
    """Top ``n_words`` keywords for each cluster id in ``labels`` (noise, -1, included).

    Args:
        texts: (n,) the documents.
        labels: (n,) int cluster id per document.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    clusters = sorted(set(labels.tolist()))
    joined = [" ".join(_URL.sub(" ", texts[i]) for i in np.flatnonzero(labels == c)) for c in clusters]
    vectorizer = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | _NOISE_WORDS), token_pattern=_TOKEN_PATTERN,
                                 lowercase=True)
    try:
        counts = vectorizer.fit_transform(joined).toarray().astype(np.float64)
    except ValueError:  # every word was a stop word: no vocabulary
        return ClusterKeywords({c: [] for c in clusters})
    scores = class_tfidf(counts)
    words = vectorizer.get_feature_names_out()
    keywords = {}
    for row, cluster in enumerate(clusters):
        order = np.argsort(-scores[row], kind="stable")[:n_words]
        keywords[int(cluster)] = [str(words[j]) for j in order if scores[row, j] > 0]
    return ClusterKeywords(keywords)


def class_tfidf(counts: np.ndarray) -> np.ndarray:
    """c-TF-IDF weights for a (classes, words) count matrix: tf per class x log(1 + A / word frequency)."""
    term_frequency = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    average_words = counts.sum() / max(len(counts), 1)
    idf = np.log(1 + average_words / np.maximum(counts.sum(axis=0), 1))
    return term_frequency * idf
