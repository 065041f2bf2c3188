"""Compression audit on real MiniLM vectors of tweets, against plain numpy and scipy computations."""

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from explorer import cli
from explorer.analysis.similarity import random_pairs
from explorer.audits.compression import compression_audit, pq_bits


@pytest.fixture(scope="module")
def audit(tweet_vectors):
    return compression_audit(tweet_vectors.vectors, k=10, n_queries=200, n_pairs=5000, seed=3, matryoshka=False)


def _numpy_overlap(full_scores, other_scores, queries, k):
    """Mean share of each query's k best rows under ``other_scores`` that are among its k best under the full."""
    shares = []
    for row, query in enumerate(queries):
        first, second = full_scores[row].copy(), other_scores[row].copy()
        first[query] = second[query] = -np.inf
        best = np.argsort(-first, kind="stable")[:k]
        found = np.argsort(-second, kind="stable")[:k]
        shares.append(len(set(best) & set(found)) / k)
    return np.array(shares)


def _sample(n, seed, n_queries, n_pairs):
    rng = np.random.default_rng(seed)
    queries = np.sort(rng.choice(n, size=min(n_queries, n), replace=False))
    return queries, random_pairs(n, n_pairs, rng)


def test_truncation_and_binary_figures_match_numpy(tweet_vectors, audit):
    vectors = tweet_vectors.vectors.astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    queries, (first, second) = _sample(len(unit), 3, 200, 5000)
    full_scores = unit[queries] @ unit.T
    table = audit.table.set_index("setting")
    assert table.loc["float32 (384 dims)", "overlap_mean"] == 1.0

    cut = unit[:, :64] / np.linalg.norm(unit[:, :64], axis=1, keepdims=True)
    expected = _numpy_overlap(full_scores, cut[queries] @ cut.T, queries, 10)
    assert table.loc["first 64 dims, float32", "overlap_mean"] == pytest.approx(expected.mean())
    assert table.loc["first 64 dims, float32", "overlap_p05"] == pytest.approx(np.quantile(expected, 0.05))
    rho = spearmanr(np.sum(unit[first] * unit[second], 1), np.sum(cut[first] * cut[second], 1)).statistic
    assert table.loc["first 64 dims, float32", "spearman"] == pytest.approx(rho, abs=1e-6)

    bits = np.packbits(unit > 0, axis=1)  # Hamming distance by popcount, independent of the ±1 products
    hamming = np.unpackbits(bits[queries][:, None, :] ^ bits[None, :, :], axis=2).sum(axis=2)
    expected = _numpy_overlap(full_scores, -hamming.astype(np.float64), queries, 10)
    assert table.loc["binary", "overlap_mean"] == pytest.approx(expected.mean())
    assert table.loc["binary", "bytes_per_vector"] == 48 and table.loc["8-bit scalar", "bytes_per_vector"] == 384


def test_rescoring_and_8_bits_keep_more_than_one_bit(audit):
    table = audit.table.set_index("setting")
    assert table.loc["binary, top 4k rescored", "overlap_mean"] > table.loc["binary", "overlap_mean"]
    assert table.loc["8-bit scalar", "overlap_mean"] > 0.95
    assert audit.cheapest_keeping()["setting"] == "8-bit scalar"  # MiniLM's 8 bits keep its neighbours
    assert "4x smaller" in audit.sentence()
    assert (audit.table["index_mb"] == (audit.table["bytes_per_vector"] * 400 / 1e6).round(3)).all()


def test_product_quantisation_uses_the_bits_its_training_points_support():
    assert pq_bits(400) == 0 and pq_bits(3008) == 6 and pq_bits(100_000) == 8


def test_cli_compress_audit_json(small_workspace, capsys):
    assert cli.main(["compress-audit", str(small_workspace.path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["matryoshka"] is False and printed["cheapest_keeping_95"] == "8-bit scalar"
    assert [row["setting"] for row in printed["settings"]][0] == "float32 (384 dims)"


@pytest.fixture(scope="module")
def chunked_news(tmp_path_factory):
    """A TF-IDF workspace of 80 real news articles split into 128-token chunks, and their titles as queries."""
    from explorer.build.pipeline import build_workspace
    from explorer.build.sample import news_retrieval_example
    from explorer.config import BuildConfig
    from explorer.ingest.chunk import ChunkConfig
    from explorer.ingest.corpus import IngestConfig

    corpus, queries = news_retrieval_example("title")
    corpus = corpus.head(80)
    config = BuildConfig(IngestConfig("text", "doc_id"), model_id="tfidf-svd",
                         chunk=ChunkConfig(max_tokens=128, overlap=16))
    workspace = build_workspace(corpus, config, tmp_path_factory.mktemp("ws") / "news", source="test")
    return workspace, queries[queries["relevant_doc_id"].isin(corpus["doc_id"])]


def test_labelled_queries_score_each_setting_by_document(chunked_news):
    from explorer.analysis.search import query_encoder
    from explorer.audits.compression import workspace_compression

    workspace, queries = chunked_news
    points = workspace.points()
    assert workspace.manifest.n_chunked and len(points) > 200
    encoder = query_encoder(workspace)
    audit = workspace_compression(workspace, queries=queries, encoder=encoder)
    table = audit.table.set_index("setting")
    full = workspace.embeddings().vectors.astype(np.float64)
    query_vectors = encoder.encode_queries(queries["query"].tolist()).astype(np.float64)
    documents = points["id"].astype(str).to_numpy()
    order = list(dict.fromkeys(documents))
    wanted = np.array([order.index(str(doc)) for doc in queries["relevant_doc_id"]])
    for setting, dims in (("first 64 dims, float32", 64), (table.index[0], full.shape[1])):
        cut = full[:, :dims] / np.linalg.norm(full[:, :dims], axis=1, keepdims=True)
        asked = query_vectors[:, :dims] / np.linalg.norm(query_vectors[:, :dims], axis=1, keepdims=True)
        scores = asked @ cut.T
        best = np.stack([scores[:, documents == doc].max(axis=1) for doc in order], axis=1)
        rank = (best > best[np.arange(len(wanted)), wanted][:, None]).sum(axis=1) + 1
        assert table.loc[setting, "recall@10"] == pytest.approx((rank <= 10).mean())
        assert table.loc[setting, "mrr@10"] == pytest.approx(np.where(rank <= 10, 1 / rank, 0).mean())
    assert table.iloc[0]["recall@10"] > 0.9  # titles find their articles
    assert audit.n_labelled == len(queries) and "labelled queries, recall@10" in audit.sentence()


def test_cli_compress_audit_with_queries(chunked_news, tmp_path, capsys):
    workspace, queries = chunked_news
    file = tmp_path / "queries.csv"
    queries.to_csv(file, index=False)
    assert cli.main(["compress-audit", str(workspace.path), "--queries", str(file), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n_labelled_queries"] == len(queries) and "recall@10" in printed["settings"][0]
    file.write_text("query_id,query\n1,nothing relevant\n")
    assert cli.main(["compress-audit", str(workspace.path), "--queries", str(file)]) == 2
    assert "relevant_doc_id" in capsys.readouterr().err
