import numpy as np
import pytest

from explorer.encoders import MODELS, get_spec, load_encoder
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


@pytest.mark.parametrize("model_id", ["all-MiniLM-L6-v2", "wordllama-l2", "tfidf-svd"])
def test_encoders_return_unit_float32_rows(model_id, tweets, minilm):
    encoder = minilm if model_id == "all-MiniLM-L6-v2" else load_encoder(model_id)
    texts = tweets["text"].head(40).tolist()
    calls = []
    vectors = encoder.encode(texts, batch_size=8, progress=lambda done, total: calls.append((done, total)))
    assert vectors.dtype == np.float32 and vectors.shape[0] == 40
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert calls[-1] == (40, 40)


def test_minilm_ranks_a_paraphrase_above_an_unrelated_text(minilm):
    query, paraphrase, other = minilm.encode(["best laptop for programming", "top computer for coding",
                                              "measles outbreak in California"])
    assert query @ paraphrase > query @ other + 0.2
