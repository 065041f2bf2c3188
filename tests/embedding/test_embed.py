import io
import pickle

import numpy as np
import pandas as pd
import pytest

from explorer.embedding.embed import embed_texts, precomputed_embeddings, read_vectors
from explorer.errors import InputError


class CountingEncoder:
    """Wraps the real model and counts how many texts it was asked to encode."""

    def __init__(self, inner):
        self.inner, self.spec, self.fingerprint, self.encoded = inner, inner.spec, inner.fingerprint, 0

    def encode(self, texts, **kwargs):
        self.encoded += len(texts)
        return self.inner.encode(texts, **kwargs)


@pytest.mark.slow
def test_second_embedding_of_the_same_texts_comes_from_disk(tweets, minilm, tmp_path):
    texts = tweets["text"].head(30).tolist()
    encoder = CountingEncoder(minilm)
    first = embed_texts(texts, encoder, cache_dir=tmp_path)
    second = embed_texts(texts, encoder, cache_dir=tmp_path)
    assert encoder.encoded == 30
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert second.fingerprint == minilm.fingerprint and second.normalized
    embed_texts(texts[:29], encoder, cache_dir=tmp_path)
    assert encoder.encoded == 59  # other texts, other cache entry


def test_reads_vectors_from_npy_parquet_and_csv():
    vectors = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    npy = io.BytesIO()
    np.save(npy, vectors)
    np.testing.assert_allclose(read_vectors(npy.getvalue(), "v.npy"), vectors)
    frame = pd.DataFrame({"vec": list(vectors)})
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    np.testing.assert_allclose(read_vectors(parquet.getvalue(), "v.parquet", column="vec"), vectors)
    csv = pd.DataFrame({"vec": [str(list(map(float, row))) for row in vectors]}).to_csv(index=False).encode()
    np.testing.assert_allclose(read_vectors(csv, "v.csv", column="vec"), vectors, rtol=1e-6)


def test_bad_vectors_are_refused():
    pickled = io.BytesIO()  # an object-dtype .npy: its payload is a pickle, which we must never load
    np.lib.format.write_array_header_1_0(pickled, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    pickle.dump([{"a": 1}], pickled, protocol=3)
    with pytest.raises(InputError, match="plain numeric"):
        read_vectors(pickled.getvalue(), "v.npy")
    nan = io.BytesIO()
    np.save(nan, np.array([[1.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(InputError, match="NaN"):
        read_vectors(nan.getvalue(), "v.npy")
    ragged = pd.DataFrame({"vec": ["[1, 2]", "[1, 2, 3]", "[4, 5]"]}).to_csv(index=False).encode()
    with pytest.raises(InputError, match=r"different lengths \(2, 3\): row 1 has 3 numbers where most have 2\.$"):
        read_vectors(ragged, "v.csv", column="vec")  # plain numbers, never NumPy's reprs
    flat = io.BytesIO()
    np.save(flat, np.arange(5.0))
    with pytest.raises(InputError, match="2-D"):
        read_vectors(flat.getvalue(), "v.npy")


def test_precomputed_embeddings_follow_kept_rows():
    vectors = np.eye(4, dtype=np.float32)
    embeddings = precomputed_embeddings(vectors, np.array([0, 2, 3]), source="v.npy")
    np.testing.assert_array_equal(embeddings.vectors, vectors[[0, 2, 3]])
    assert embeddings.normalized and embeddings.fingerprint.startswith("precomputed:v.npy:")
    with pytest.raises(InputError, match="all zeros"):
        precomputed_embeddings(np.zeros((2, 3), np.float32), np.array([0, 1]), source="v.npy")


def _fitted_tfidf(texts):
    from explorer.embedding.loading import load_encoder

    return load_encoder("tfidf-svd").fit_on(texts)


def test_embedding_progress_starts_at_zero_and_a_cached_result_reports_only_its_end(tweets, tmp_path):
    texts = tweets["text"].head(300).tolist() + tweets["text"].head(20).tolist()  # 20 copies
    encoder = _fitted_tfidf(texts)
    heard = []
    first = embed_texts(texts, encoder, cache_dir=tmp_path, progress=lambda *call: heard.append(call))
    assert heard[0] == (0, 320) and heard[-1] == (320, 320)  # copies counted as texts, though embedded once
    heard.clear()
    second = embed_texts(texts, encoder, cache_dir=tmp_path, progress=lambda *call: heard.append(call))
    assert heard == [(320, 320)]
    np.testing.assert_array_equal(first.vectors, second.vectors)
    np.testing.assert_array_equal(first.vectors[300:], first.vectors[:20])


def test_queries_are_cached_apart_from_documents(tweets, tmp_path):
    """A query-marker model (e5) embeds "query: …" differently from "passage: …": one text, two cache entries."""
    texts = tweets["text"].head(50).tolist()
    encoder = _fitted_tfidf(texts)
    documents = embed_texts(texts, encoder, cache_dir=tmp_path)
    queries = embed_texts(texts, encoder, cache_dir=tmp_path, queries=True)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    np.testing.assert_allclose(queries.vectors, encoder.encode_queries(texts), atol=1e-6)
    np.testing.assert_allclose(documents.vectors, encoder.encode(texts), atol=1e-6)
