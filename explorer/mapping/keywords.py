"""Cluster keywords by class-based TF-IDF (BERTopic's c-TF-IDF): words frequent in one cluster, rare elsewhere.

Word counts per document come first (:func:`document_terms`, the slow part, independent of the clusters, so
a build counts them while the layouts are optimised); keywords are then a sparse sum of those counts per cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from explorer.types import ClusterKeywords

_URL = re.compile(r"https?://\S+|www\.\S+")
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
# Social-media and HTML residue, and the halves of contractions the tokenizer leaves ("aren't" -> "aren"):
# they say nothing about a cluster's topic.
_NOISE_WORDS = frozenset({"rt", "via", "amp", "http", "https", "www", "com",
                          "aren", "isn", "wasn", "weren", "don", "doesn", "didn", "won", "wouldn", "shouldn", "couldn",
                          "can", "haven", "hasn", "hadn", "ll", "ve", "re"})


@dataclass(frozen=True, eq=False)
class DocumentTerms:
    """Word counts of each document, URLs, English stop words and social-media residue left out.

    Attributes:
        counts: sparse (n, v) counts of the v vocabulary words in the n documents.
        words: (v,) the vocabulary, in column order.
    """

    counts: object
    words: np.ndarray


def document_terms(texts: list[str]) -> DocumentTerms:
    """Count the words of each of the n ``texts``; an empty vocabulary (only stop words) gives v = 0."""
    import scipy.sparse
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    vectorizer = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | _NOISE_WORDS), token_pattern=_TOKEN_PATTERN,
                                 lowercase=True)
    try:
        counts = vectorizer.fit_transform([_URL.sub(" ", text) for text in texts])
    except ValueError:  # every word was a stop word: no vocabulary
        return DocumentTerms(scipy.sparse.csr_matrix((len(texts), 0), dtype=np.int64), np.array([], dtype=object))
    return DocumentTerms(counts.tocsr(), vectorizer.get_feature_names_out())


def cluster_keywords(terms: DocumentTerms, labels: np.ndarray, *, n_words: int = 8) -> ClusterKeywords:
    """Top ``n_words`` keywords for each cluster id in ``labels`` (noise, -1, included).

    Args:
        terms: word counts of the n documents.
        labels: (n,) int cluster id per document.

    Ties are broken by vocabulary order, so the keywords are deterministic.
    """
    import scipy.sparse

    clusters, rows = np.unique(labels, return_inverse=True)
    membership = scipy.sparse.csr_matrix((np.ones(len(labels)), (rows.ravel(), np.arange(len(labels)))),
                                         shape=(len(clusters), len(labels)))
    scores = class_tfidf(membership @ terms.counts)
    keywords = {}
    for row, cluster in enumerate(clusters.tolist()):
        begin, end = scores.indptr[row], scores.indptr[row + 1]
        columns, values = scores.indices[begin:end], scores.data[begin:end]
        best = np.lexsort((columns, -values))[:n_words]
        keywords[int(cluster)] = [str(terms.words[columns[j]]) for j in best if values[j] > 0]
    return ClusterKeywords(keywords)


def class_tfidf(counts) -> object:
    """c-TF-IDF weights for a (classes, words) count matrix, dense or sparse: tf per class x
    log(1 + A / word frequency), A the average number of words per class. Returns a sparse CSR matrix."""
    import scipy.sparse

    counts = scipy.sparse.csr_matrix(counts, dtype=np.float64)
    average_words = counts.sum() / max(counts.shape[0], 1)
    idf = np.log(1 + average_words / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    per_class = np.maximum(np.asarray(counts.sum(axis=1)).ravel(), 1)
    return (scipy.sparse.diags(1.0 / per_class) @ counts @ scipy.sparse.diags(idf)).tocsr()
